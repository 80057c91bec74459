"""`jobs show`'s "what the student buys" table: the deployment report of a succeeded job, on stderr, so that
stdout stays the job's JSON for scripts (``distillery jobs show JOB | jq``)."""

from rich.console import Console
from rich.table import Table

ROWS = (("teacher", "teacher"), ("student", "student"), ("student_torch", "student (torch)"),
        ("student_int8", "student INT8"))


def _size(n) -> str:
    if n is None:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return ""


def _num(value, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


def deployment_table(job: dict) -> Table | None:
    """The table for a job's dict (``JobPublic.to_dict()``), or None when it has no report."""
    result = job.get("result") or {}
    report = result.get("deployment") or {}
    if not any(report.get(key) for key, _ in ROWS):
        return None
    table = Table(title="what the student buys", title_justify="left")
    for column in ("", "parameters", "size", "p50 ms", "p90 ms", "samples/s", "test acc", "runtime"):
        table.add_column(column, justify="left" if column in ("", "runtime") else "right")
    accuracy = {"teacher": (result.get("teacher") or {}).get("test_accuracy"),
                "student": (result.get("student") or {}).get("test_accuracy")}
    for key, label in ROWS:
        row = report.get(key)
        if not row:
            continue
        acc = row.get("test_accuracy", accuracy.get(key))
        table.add_row(label, _num(row.get("parameters"), ","), _size(row.get("size_bytes")),
                      _num(row.get("latency_ms_p50"), ".3f"), _num(row.get("latency_ms_p90"), ".3f"),
                      _num(row.get("samples_per_second"), ",.0f"), _num(acc, ".4f"),
                      f"{row.get('runtime', '')}, {row.get('threads', '?')} thread(s)")
    ratios = [f"{name} {report[key]:.1f}x" for key, name in (("speedup", "speedup"), ("compression", "compression"),
                                                            ("speedup_int8", "INT8 speedup"),
                                                            ("compression_int8", "INT8 compression"))
              if report.get(key)]
    if ratios:
        table.caption = ", ".join(ratios) + " (the teacher's over the student's)"
        table.caption_justify = "left"
    return table


def print_deployment(job: dict, console: Console) -> None:
    table = deployment_table(job)
    if table is not None:
        console.print(table)
        report = (job.get("result") or {}).get("deployment") or {}
        if not report.get("student_int8") and report.get("student_int8_error"):  # a text job's, for one
            console.print(f"no INT8 student: {report['student_int8_error']}", highlight=False)
