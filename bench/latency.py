"""Small-job latency through the real processes: how long a tiny job waits to start, and how long after its
last epoch it is `succeeded` and its student can be downloaded.

    .venv/bin/python bench/latency.py [--jobs 5] [--epochs 3] [--stack embedded|postgres_redis|both]

It starts the API and one worker (tests/integration/stack.py), uploads a digits teacher and the built-in
digits set, warms the worker with one job, then submits jobs one at a time to the idle worker. Per job:

- pickup: from the client's POST /v1/jobs to the job's `started` event;
- to succeeded: from the last `epoch` event to the `succeeded` event;
- to download: from the last `epoch` event to the first 200 of GET /v1/jobs/{id}/student (polled every 20 ms
  from the moment the client sees `succeeded`).

Server event times and client times come from the same machine's clock. Medians over the jobs are printed.
A benchmark: it asserts nothing about time.
"""

import argparse
import json
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration.stack import running_stack  # noqa: E402


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def one_job(client: httpx.Client, body: dict) -> dict:
    posted = time.time()
    job_id = client.post("/v1/jobs", json=body).json()["id"]
    while client.get(f"/v1/jobs/{job_id}").json()["status"] not in ("succeeded", "failed", "cancelled"):
        time.sleep(0.02)
    while client.get(f"/v1/jobs/{job_id}/student").status_code != 200:
        time.sleep(0.02)
    downloaded = time.time()
    events = client.get(f"/v1/jobs/{job_id}/events", params={"limit": 1000}).json()["data"]
    at = {}
    for e in events:
        at.setdefault(e["type"], []).append(_ts(e["created_at"]))
    last_epoch = max(at["epoch"])
    return {"pickup": at["started"][0] - posted, "to_succeeded": at["succeeded"][0] - last_epoch,
            "to_download": downloaded - last_epoch}


def measure(stack_kind: str, jobs: int, epochs: int, tmp: Path) -> dict:
    from models.examples import digits_teacher, save_torchscript

    with running_stack(stack_kind, tmp / stack_kind) as stack:
        save_torchscript(digits_teacher(epochs=5), tmp / "t.pt")
        with stack.client() as c:
            with open(tmp / "t.pt", "rb") as f:
                teacher = c.post("/v1/teachers", files={"file": ("t.pt", f)},
                                 data={"name": "t", "input_shape": "[64]"}).json()["id"]
            ts = c.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
            body = {"teacher_ids": [teacher], "transfer_set_id": ts,
                    "student": {"arch": "mlp", "hidden_sizes": [64, 64]}, "hyperparameters": {"epochs": epochs}}
            one_job(c, body)  # warms the worker (imports, the teacher-output cache)
            time.sleep(2)
            runs = []
            for _ in range(jobs):
                runs.append(one_job(c, body))
                time.sleep(1)  # the worker is idle again when the next job arrives
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]} | {"jobs": jobs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--stack", choices=["embedded", "postgres_redis", "both"], default="both")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    import tempfile

    kinds = ["embedded", "postgres_redis"] if args.stack == "both" else [args.stack]
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            report[kind] = measure(kind, args.jobs, args.epochs, Path(tmp))
    print(json.dumps(report, indent=2))
    print("\n| stack | pickup (s) | last epoch → succeeded (s) | last epoch → first download (s) |\n|---|---|---|---|")
    for kind, r in report.items():
        print(f"| {kind} | {r['pickup']:.2f} | {r['to_succeeded']:.2f} | {r['to_download']:.2f} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
