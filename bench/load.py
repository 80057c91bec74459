"""A bounded load run against the real processes: N small jobs from C concurrent clients.

    .venv/bin/python bench/load.py [--jobs 200] [--clients 20] [--workers 2] [--stack postgres_redis]

It starts the API and the workers (tests/integration/stack.py), uploads one teacher and one transfer
set, and has each client submit its share of jobs and poll them, timing every GET /v1/jobs/{id}. It
checks that exactly N jobs end in a terminal state, each with exactly one terminal event, and prints
p50/p99 of the GET latency while the workers are busy. A benchmark: it asserts nothing about time.
"""

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration.stack import running_stack  # noqa: E402

TERMINAL = {"succeeded", "failed", "cancelled"}


def client_run(url: str, body: dict, count: int, latencies: list[float], job_ids: list[str], deadline: float):
    with httpx.Client(base_url=url, timeout=60) as client:
        mine = []
        for _ in range(count):
            r = client.post("/v1/jobs", json=body)
            r.raise_for_status()
            mine.append(r.json()["id"])
        job_ids.extend(mine)
        pending = set(mine)
        while pending and time.monotonic() < deadline:
            for job_id in list(pending):
                start = time.perf_counter()
                status = client.get(f"/v1/jobs/{job_id}").json()["status"]
                latencies.append(time.perf_counter() - start)
                if status in TERMINAL:
                    pending.discard(job_id)
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stack", choices=["embedded", "postgres_redis"], default="postgres_redis")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import tempfile

    from models.examples import digits_teacher, save_torchscript

    with tempfile.TemporaryDirectory() as tmp, running_stack(
            args.stack, Path(tmp) / "var",
            # every job is queued at once on purpose: the per-tenant quota would answer 429 past its default
            {"DISTILLERY_MAX_ACTIVE_JOBS": str(args.jobs)}) as stack:
        for i in range(1, args.workers):
            stack.start_worker(f"worker{i + 1}")
        save_torchscript(digits_teacher(epochs=5), Path(tmp) / "t.pt")
        with stack.client() as c, open(Path(tmp) / "t.pt", "rb") as f:
            teacher = c.post("/v1/teachers", files={"file": ("t.pt", f)},
                             data={"name": "t", "input_shape": "[64]"}).json()["id"]
            ts = c.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
        body = {"teacher_ids": [teacher], "transfer_set_id": ts, "student": {"arch": "mlp", "hidden_sizes": [16]},
                "hyperparameters": {"epochs": 1}, "export_formats": ["safetensors"]}
        latencies: list[float] = []
        job_ids: list[str] = []
        deadline = time.monotonic() + args.timeout
        shares = [args.jobs // args.clients + (1 if i < args.jobs % args.clients else 0) for i in range(args.clients)]
        started = time.monotonic()
        threads = [threading.Thread(target=client_run, args=(stack.url, body, n, latencies, job_ids, deadline))
                   for n in shares]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - started
        with stack.client() as c:
            statuses, terminal_events = {}, {}
            for job_id in job_ids:
                statuses[job_id] = c.get(f"/v1/jobs/{job_id}").json()["status"]
                events = c.get(f"/v1/jobs/{job_id}/events", params={"limit": 1000}).json()["data"]
                terminal_events[job_id] = sum(e["type"] in TERMINAL for e in events)
    ended = sum(s in TERMINAL for s in statuses.values())
    twice = [j for j, n in terminal_events.items() if n != 1]
    quantiles = statistics.quantiles(latencies, n=100)
    report = {
        "stack": args.stack, "jobs": args.jobs, "clients": args.clients, "workers": args.workers,
        "submitted": len(job_ids), "distinct": len(set(job_ids)), "ended": ended,
        "by_status": {s: list(statuses.values()).count(s) for s in set(statuses.values())},
        "not_exactly_one_terminal_event": twice, "wall_seconds": wall, "jobs_per_second": len(job_ids) / wall,
        "get_job_latency_ms": {"p50": quantiles[49] * 1000, "p99": quantiles[98] * 1000, "samples": len(latencies)},
    }
    print(json.dumps(report, indent=2))
    ok = report["distinct"] == report["ended"] == args.jobs and not twice
    print(f"\n{'OK' if ok else 'PROBLEM'}: {ended} of {args.jobs} jobs ended, each with exactly one terminal event: "
          f"{not twice}; GET /v1/jobs/{{id}} p50 {report['get_job_latency_ms']['p50']:.1f} ms, "
          f"p99 {report['get_job_latency_ms']['p99']:.1f} ms over {len(latencies)} requests; "
          f"{report['jobs_per_second']:.2f} jobs/s with {args.workers} workers")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
