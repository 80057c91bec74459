"""The two text students against each other: a one-layer transformer and a BiLSTM from the same BERT.

    .venv/bin/python bench/text_students.py [--json out.json]

It starts the API and one worker (tests/integration/stack.py), uploads the README's small BERT teacher and
text set (``python -m models.examples text-teacher``: 1,500 generated sentences, a fifth held out) and runs
one job per student with the README's hyperparameters. It prints each network's test accuracy and its
deployment report (parameters, ONNX file, batch-1 latency on one thread): the README's "transformer or
BiLSTM" table. A benchmark: it asserts nothing about time.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.text import examples  # noqa: E402
from tests.integration.stack import running_stack  # noqa: E402

HP = {"epochs": 6, "batch_size": 32, "learning_rate": 0.003, "optimizer": "adam"}
STUDENTS = {
    "transformer, 1 layer (init from the teacher)": {"arch": "transformer", "layers": 1, "hidden_size": 32,
                                                     "heads": 2, "intermediate_size": 64, "init": "teacher"},
    "BiLSTM": {"arch": "bilstm", "embedding_dim": 32, "hidden_size": 32},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        archive = examples.zipped(examples.train_teacher(tmp / "bert"))
        examples.write_text_set(tmp / "texts.jsonl")
        with running_stack("embedded", tmp / "stack") as stack, stack.client() as c:
            teacher = c.post("/v1/teachers", files={"file": ("bert.zip", archive)},
                             data={"name": "bert", "format": "huggingface"}).json()["id"]
            ts = c.post("/v1/transfer-sets", files={"file": ("texts.jsonl", (tmp / "texts.jsonl").read_bytes())},
                        data={"name": "texts"}).json()["id"]
            for name, student in STUDENTS.items():
                job_id = c.post("/v1/jobs", json={"teacher_ids": [teacher], "transfer_set_id": ts,
                                                  "student": student, "hyperparameters": HP}).json()["id"]
                job = stack.wait_for_job(c, job_id, timeout=1800)
                if job["status"] != "succeeded":
                    raise SystemExit(f"{name}: {job['status']}: {job['error']}")
                rows[name] = job["result"]
    print("| network | parameters | ONNX file | p50 ms, batch 1 | test accuracy |\n|---|---|---|---|---|")
    first = next(iter(rows.values()))
    report = first["deployment"]["teacher"]
    print(f"| teacher (BERT, 2 layers) | {report['parameters']:,} | — | {report['latency_ms_p50']:.3f} | "
          f"{first['teacher']['test_accuracy']:.4f} |")
    for name, result in rows.items():
        student = result["deployment"]["student"]
        print(f"| {name} | {student['parameters']:,} | {student['size_bytes'] / 1000:.1f} KB | "
              f"{student['latency_ms_p50']:.3f} | {result['student']['test_accuracy']:.4f} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
