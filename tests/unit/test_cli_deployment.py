"""`distillery jobs show` prints what the student buys from the job's deployment report."""

from distillery_cli.deployment_table import deployment_table, print_deployment
from rich.console import Console

REPORT = {
    "threads": 1,
    "teacher": {"parameters": 85002, "size_bytes": 342_000, "latency_ms_p50": 0.5, "latency_ms_p90": 0.75,
                "samples_per_second": 12000.0, "runtime": "torch 2.14.1", "threads": 1},
    "student": {"parameters": 8970, "size_bytes": 37_260, "latency_ms_p50": 0.0126, "latency_ms_p90": 0.02,
                "samples_per_second": 1_500_000.0, "runtime": "onnxruntime 1.32.0", "threads": 1},
    "student_int8": {"parameters": 8970, "size_bytes": 14_012, "latency_ms_p50": 0.014, "latency_ms_p90": 0.016,
                     "samples_per_second": 2_000_000.0, "runtime": "onnxruntime 1.32.0", "threads": 1,
                     "test_accuracy": 0.9611},
    "speedup": 40.0, "compression": 9.18,
}


def _text(job: dict) -> str:
    console = Console(record=True, width=160)
    print_deployment(job, console)
    return console.export_text()


def test_the_table_shows_every_network_and_the_ratios():
    text = _text({"result": {"student": {"test_accuracy": 0.9667}, "teacher": {"test_accuracy": 0.98},
                             "deployment": REPORT}})
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in text.splitlines() if "│" in line]
    lines = {cells[0]: " ".join(cells) for cells in rows}
    assert set(lines) == {"teacher", "student", "student INT8"}
    assert "85,002" in lines["teacher"] and "342.0 KB" in lines["teacher"] and "0.9800" in lines["teacher"]
    assert "8,970" in lines["student"] and "37.3 KB" in lines["student"] and "0.013" in lines["student"]
    assert "14.0 KB" in lines["student INT8"] and "0.9611" in lines["student INT8"]
    assert "speedup 40.0x" in text and "compression 9.2x" in text


def test_a_job_without_a_report_prints_nothing():
    assert deployment_table({"result": None}) is None
    assert _text({"result": {"deployment": {"error": "RuntimeError: no"}}}) == ""


def test_a_text_jobs_report_prints_its_networks_and_why_there_is_no_int8_student():
    """A text job's report: a Hugging Face teacher, the ONNX student, the student in torch, no INT8 row and no
    test accuracy in the result's teacher part."""
    report = {"threads": 1, "sequence_length": 16,
              "teacher": {**REPORT["teacher"], "format": "huggingface", "runtime": "torch 2.14.1"},
              "student": {**REPORT["student"], "inputs": ["input_ids", "attention_mask"]},
              "student_torch": {"parameters": 8970, "mode": "eager", "latency_ms_p50": 0.2, "runtime": "torch 2.14.1",
                                "threads": 1},
              "speedup": 2.5, "compression": 9.18,
              "student_int8_error": "the INT8 student is not made for text students"}
    text = _text({"result": {"student": {"test_accuracy": 0.9}, "deployment": report}})
    rows = {line.split("│")[1].strip() for line in text.splitlines() if line.count("│") > 2}
    assert {"teacher", "student", "student (torch)"} <= rows and "student INT8" not in rows
    assert "speedup 2.5x" in text and "no INT8 student: the INT8 student is not made for text students" in text
