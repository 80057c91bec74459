"""Engine throughput over batch sizes, in process and through the service, against the student trained alone.

    .venv/bin/python bench/batch_sizes.py [--batch-sizes 32,64,128,256] [--samples 16384] [--epochs 4]
                                          [--rounds 3] [--case mlp|cnn] [--no-service] [--json out.json]
                                          [--compare-root DIR] [--profile BATCH]

For each batch size it measures, in rounds so that a slow spell of a shared machine hits every variant alike:
  student alone   a hand-written loop training the student on labels, no teacher (bench/engine.py's
                  hand_loop), in this process
  engine          worker.engine.loop.train_student with the teacher's logits cached, in this process, with
                  the per-step callbacks a job has (on_step writing progress at most once a second,
                  should_stop polled at most once a second, as worker/jobs/hooks.py's hooks do)
  service         a real job through the API and one Celery worker on the embedded defaults
                  (tests/integration/stack.py), its samples/s read from GET /v1/jobs/{id}/metrics
  before          with --compare-root DIR: the same job on an API and worker run from another checkout (the
                  engine before a change), interleaved with the others
Samples/s is the median over epochs after the first; each figure is the median over the rounds, and each
ratio the median of the rounds' ratios (with their range). The teacher's outputs are cached (one warm-up job
fills the cache before the rounds). A benchmark: it asserts nothing about time.

The worker gets the environment tests/integration/stack.py gives it (OMP_NUM_THREADS=1) plus any
--worker-env KEY=VALUE; the intra-op thread count its pool process reports is printed.
"""

import argparse
import io
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.engine import LR, A, B, T, hand_loop, steady  # noqa: E402
from models.distill_config import DistillConfig  # noqa: E402
from models.zoo import build_student  # noqa: E402
from tests.integration.stack import TERMINAL  # noqa: E402
from worker.engine.loop import Split, teacher_logits, train_student  # noqa: E402

CPU = torch.device("cpu")
CASES = {
    # name: (sample shape, teacher spec, student spec)
    "mlp": ([784], {"arch": "mlp", "hidden_sizes": [1200, 1200]}, {"arch": "mlp", "hidden_sizes": [128, 128]}),
    "cnn": ([3, 32, 32], {"arch": "cnn", "channels": [64, 128]}, {"arch": "cnn", "channels": [16, 32]}),
}


class JobLikeHooks:
    """The per-step callbacks of worker/jobs/hooks.py's JobHooks, without the database: progress is
    "written" at most once a second and the cancel flag "read" at most once a second."""

    def __init__(self):
        self.written = self.polled = 0.0
        self.writes = 0

    def on_step(self, epoch, step, steps_per_epoch):
        if time.monotonic() - self.written < 1.0:
            return
        self.written = time.monotonic()
        self.writes += 1

    def should_stop(self):
        if time.monotonic() - self.polled >= 1.0:
            self.polled = time.monotonic()
        return False


def make_data(case: str, n: int, seed: int = 0):
    shape = CASES[case][0]
    gen = torch.Generator().manual_seed(seed)
    return torch.rand((n, *shape), generator=gen), torch.randint(0, 10, (n,), generator=gen)


def make_inputs(case: str, n: int, device=CPU):
    """The case's data and its teacher's logits on it (on the CPU, as a job's cache holds them)."""
    x, y = make_data(case, n)
    return x, y, teacher_logits([make_teacher(case)], x, device=device)[0].cpu()


def make_teacher(case: str):
    torch.manual_seed(0)
    shape, spec, _ = CASES[case]
    return build_student(spec, shape, 10).eval()


def make_student(case: str):
    shape, _, spec = CASES[case]
    return build_student(spec, shape, 10)


def fresh_student(case: str):
    torch.manual_seed(0)
    return make_student(case)


def profile(case: str, x, y, cached, batch: int, epochs: int, device=CPU, top: int = 12) -> str:
    """torch.profiler over the engine in process (the job's callbacks included): the operators and Python
    functions with the most self CPU time, as a table."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    engine_in_process(case, x, y, cached, batch, 1, device)  # warm-up: first-call costs are not per step
    with torch_profile(activities=activities) as prof:
        engine_in_process(case, x, y, cached, batch, epochs, device)
    order = "self_device_time_total" if device.type == "cuda" else "self_cpu_time_total"
    return prof.key_averages().table(sort_by=order, row_limit=top)


def student_alone(case: str, x, y, batch: int, epochs: int, device=CPU) -> float:
    return steady(hand_loop(fresh_student(case).to(device), x.to(device), y.to(device), device, epochs,
                            batch=batch))


def engine_in_process(case: str, x, y, cached, batch: int, epochs: int, device=CPU) -> float:
    cfg = DistillConfig(epochs=epochs, batch_size=batch, learning_rate=LR, temperature=T, soft_weight=A,
                        hard_weight=B, device=device.type, validation_fraction=0)
    hooks = JobLikeHooks()
    out = train_student(lambda: fresh_student(case), Split(x, y, cached[None]), None, cfg, on_step=hooks.on_step,
                        should_stop=hooks.should_stop)
    return steady([h["samples_per_second"] for h in out.history])


class Service:
    """A real API and worker (embedded defaults) with the case's teacher and transfer set uploaded."""

    def __init__(self, case: str, x, y, tmp: Path, worker_env: dict[str, str], root: Path | None = None):
        from tests.integration.stack import ROOT, running_stack

        self.case, self.tmp = case, tmp
        self._cm = running_stack("embedded", tmp / "stack", worker_env, root=root or ROOT)
        self.stack = self._cm.__enter__()
        self.client = self.stack.client()
        try:
            self._upload(x, y)
        except BaseException:  # the stack's processes run in sessions of their own: stop them, or they outlive us
            self.close()
            raise

    def _upload(self, x, y):
        case, tmp = self.case, self.tmp
        teacher_file = tmp / "teacher.pt"
        torch.jit.save(torch.jit.script(make_teacher(case)), str(teacher_file))
        with open(teacher_file, "rb") as f:
            r = self.client.post("/v1/teachers", files={"file": ("teacher.pt", f)},
                                 data={"name": f"{case} teacher", "input_shape": json.dumps(CASES[case][0])})
        r.raise_for_status()
        self.teacher = r.json()["id"]
        buf = io.BytesIO()
        np.savez(buf, x=x.numpy(), y=y.numpy())
        r = self.client.post("/v1/transfer-sets", files={"file": ("set.npz", buf.getvalue())},
                             data={"name": f"{case} set"})
        r.raise_for_status()
        self.transfer_set = r.json()["id"]

    def job(self, batch: int, epochs: int) -> float:
        body = {"teacher_ids": [self.teacher], "transfer_set_id": self.transfer_set,
                "student": CASES[self.case][2],
                "hyperparameters": {"epochs": epochs, "batch_size": batch, "learning_rate": LR, "temperature": T,
                                    "soft_weight": A, "hard_weight": B},
                "export_formats": ["torchscript"]}
        r = self.client.post("/v1/jobs", json=body)
        r.raise_for_status()
        job_id, deadline = r.json()["id"], time.monotonic() + 1800
        # Polled every 2 s: the API answering shares this machine's cores with the job it measures.
        while (job := self.client.get(f"/v1/jobs/{job_id}").json())["status"] not in TERMINAL:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the benchmark job did not end in 30 minutes:\n{self.stack.log('worker')}")
            time.sleep(2)
        if job["status"] != "succeeded":
            raise RuntimeError(f"the benchmark job ended {job['status']}: {job.get('error')}\n"
                               f"{self.stack.log('worker')}")
        runs = self.client.get(f"/v1/jobs/{job['id']}/metrics").json()["runs"]
        points = next(r for r in runs if r["name"] == "distilled")["metrics"]["samples_per_second"]
        return steady([p["value"] for p in sorted(points, key=lambda p: p["step"])])

    def worker_threads(self) -> int | None:
        found = re.findall(r"intra-op threads: (\d+)", self.stack.log("worker"))
        return int(found[-1]) if found else None

    def close(self):
        self.client.close()
        self._cm.__exit__(None, None, None)


def spread(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def run(case: str, batch_sizes: list[int], n: int, epochs: int, rounds: int, service: bool,
        worker_env: dict[str, str], compare_root: Path | None = None, device=CPU) -> dict:
    x, y, cached = make_inputs(case, n, device)
    per_round: list[dict[int, dict[str, float]]] = []
    threads = None
    with tempfile.TemporaryDirectory() as tmp:
        svc = before = None
        try:
            if service:
                svc = Service(case, x, y, Path(tmp) / "now", worker_env)
            if compare_root is not None:
                before = Service(case, x, y, Path(tmp) / "before", worker_env, compare_root)
                print("warm-up job on the compared checkout ...", file=sys.stderr)
                before.job(max(batch_sizes), 1)
            if svc is not None:
                print("warm-up job (fills the teacher-output cache) ...", file=sys.stderr)
                svc.job(max(batch_sizes), 1)
                threads = svc.worker_threads()
            for r in range(rounds):
                row = {}
                for batch in batch_sizes:
                    print(f"round {r + 1}/{rounds}, batch {batch} ...", file=sys.stderr)
                    rates = {"student_alone": student_alone(case, x, y, batch, epochs, device),
                             "engine": engine_in_process(case, x, y, cached, batch, epochs, device)}
                    # the two services take turns going first, so that neither always follows the other
                    jobs = [("service", svc), ("service_before", before)]
                    for key, where in (jobs if r % 2 == 0 else jobs[::-1]):
                        if where is not None:
                            rates[key] = where.job(batch, epochs)
                    row[batch] = rates
                per_round.append(row)
        finally:
            for service_ in (svc, before):
                if service_ is not None:
                    service_.close()
    results = []
    for batch in batch_sizes:
        rows = [r[batch] for r in per_round]
        entry = {"batch_size": batch, "samples_per_second": {k: statistics.median(r[k] for r in rows)
                                                             for k in rows[0]},
                 "ratios": {f"{k} / student_alone": spread([r[k] / r["student_alone"] for r in rows])
                            for k in rows[0] if k != "student_alone"},
                 "rounds": rows}
        results.append(entry)
    return {"case": case, "device": device.type, "samples": n, "epochs": epochs, "rounds": rounds,
            "bench_threads": torch.get_num_threads(),
            "worker_threads": threads, "worker_env": worker_env, "results": results}


def table(report: dict) -> str:
    measured = report["results"][0]["samples_per_second"]
    service, before = "service" in measured, "service_before" in measured
    head, rule = "| batch | student alone |", "|---|---|"
    if before:
        head += " service, compared checkout | before / alone |"
        rule += "---|---|"
    head += " engine in-process | engine / alone |"
    rule += "---|---|"
    if service:
        head += " through the service | service / alone |"
        rule += "---|---|"
    lines = [head, rule]
    for e in report["results"]:
        s, q = e["samples_per_second"], e["ratios"]

        def ratio(key, q=q):
            v = q[f"{key} / student_alone"]
            return f"{v['median']:.2f} ({v['min']:.2f}–{v['max']:.2f})"

        line = f"| {e['batch_size']} | {s['student_alone']:,.0f} |"
        if before:
            line += f" {s['service_before']:,.0f} | {ratio('service_before')} |"
        line += f" {s['engine']:,.0f} | {ratio('engine')} |"
        if service:
            line += f" {s['service']:,.0f} | {ratio('service')} |"
        lines.append(line)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-sizes", default="32,64,128,256")
    parser.add_argument("--samples", type=int, default=16384)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--case", choices=sorted(CASES), default="mlp")
    parser.add_argument("--no-service", action="store_true", help="only the in-process variants")
    parser.add_argument("--worker-env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment for the worker (repeatable)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                        help="where the in-process variants train; with cuda the service is left out (its worker "
                             "would pick its own device), so pass --no-service")
    parser.add_argument("--threads", type=int, default=0,
                        help="intra-op threads of this process and (unless --worker-env sets it) of the worker's "
                             "pool process (DISTILLERY_WORKER_THREADS); 0: torch's default here, the worker's own")
    parser.add_argument("--compare-root", type=Path, metavar="DIR",
                        help="also run a job on an API and worker from another checkout (git worktree add DIR "
                             "COMMIT) each round, for before and after measured side by side")
    parser.add_argument("--profile", type=int, metavar="BATCH",
                        help="instead of measuring: profile the engine in process at this batch size with "
                             "torch.profiler and print the top entries by self CPU (on cuda: device) time")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    worker_env = dict(kv.split("=", 1) for kv in args.worker_env)
    if args.threads:
        torch.set_num_threads(args.threads)
        worker_env.setdefault("DISTILLERY_WORKER_THREADS", str(args.threads))
    device = torch.device(args.device)
    if device.type == "cuda" and not args.no_service:
        parser.error("--device cuda measures in process only: add --no-service")
    if args.compare_root is not None and args.no_service:
        parser.error("--compare-root compares jobs through the service: leave out --no-service")
    if args.profile is not None:
        x, y, cached = make_inputs(args.case, args.samples, device)
        print(profile(args.case, x, y, cached, args.profile, args.epochs, device))
        return
    report = run(args.case, [int(b) for b in args.batch_sizes.split(",")], args.samples, args.epochs, args.rounds,
                 not args.no_service, worker_env, args.compare_root, device)
    report["torch"] = torch.__version__
    print(f"\n{args.case}: {CASES[args.case][1]} teacher -> {CASES[args.case][2]} student, {args.samples} samples, "
          f"{args.epochs} epochs, {args.rounds} rounds; this process: {report['bench_threads']} intra-op threads, "
          f"the worker's pool process: {report['worker_threads']}\n")
    print(table(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
