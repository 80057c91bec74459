"""Engine throughput against hand-written PyTorch loops, in one process on one device.

    .venv/bin/python bench/engine.py [--device cpu|cuda] [--epochs 3] [--json bench/results/engine.json]

For each case it trains the same student on the same data with the same batch size and optimizer:
  bare           a hand-written distillation loop that runs the teacher on every batch (the reference)
  bare cached    the same loop reading precomputed teacher logits
  student alone  the student trained on labels with no teacher at all (the limit nothing can beat)
  engine off     worker.engine.loop.train_student with the teacher online (cache off)
  engine on      train_student with the teacher's logits precomputed (cache on)
and prints samples/s of each plus the ratios the targets are stated in. Samples/s is the median over
epochs after the first (warm-up). The one-time teacher pass that fills the cache is reported apart.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.distill_config import DistillConfig  # noqa: E402
from models.transfer_sets import TransferData  # noqa: E402
from models.zoo import build_student  # noqa: E402
from worker.engine.loop import Split, teacher_logits, train_student  # noqa: E402
from worker.engine.pipeline import Experiment, Hooks, run_experiment, run_members, teacher_outputs  # noqa: E402
from worker.engine.teacher_cache import TeacherOutputCache  # noqa: E402

T, A, B, LR, BATCH = 4.0, 0.5, 0.5, 0.05, 256


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def hand_loop(student, x, y, device, epochs, *, teacher=None, cached=None, seed=0, batch=BATCH) -> list[float]:
    """What a user would write by hand; returns samples/s per epoch."""
    opt = torch.optim.SGD(student.parameters(), lr=LR, momentum=0.9)
    gen = torch.Generator().manual_seed(seed)
    rates = []
    for _ in range(epochs):
        student.train()
        sync(device)
        start = time.perf_counter()
        for idx in torch.randperm(len(x), generator=gen).split(batch):
            idx = idx.to(device)
            xb, yb = x[idx], y[idx]
            logits = student(xb)
            loss = B * F.cross_entropy(logits, yb)
            if teacher is not None or cached is not None:
                if cached is not None:
                    t = cached[idx]
                else:
                    with torch.no_grad():
                        t = teacher(xb)
                soft = F.kl_div(F.log_softmax(logits / T, 1), F.log_softmax(t / T, 1), log_target=True,
                                reduction="batchmean")
                loss = loss + A * T * T * soft
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sync(device)
        rates.append(len(x) / (time.perf_counter() - start))
    return rates


def engine(make_student, x, y, device, epochs, *, teacher=None, cached=None) -> list[float]:
    cfg = DistillConfig(epochs=epochs, batch_size=BATCH, learning_rate=LR, temperature=T, soft_weight=A,
                        hard_weight=B, device=device.type, validation_fraction=0)
    split = Split(x, y, None if cached is None else cached[None])
    out = train_student(make_student, split, None, cfg, teachers=None if teacher is None else [teacher])
    return [h["samples_per_second"] for h in out.history]


def steady(rates: list[float]) -> float:
    return statistics.median(rates[1:] if len(rates) > 1 else rates)


def run_case(name, teacher, make_student, x, y, device, epochs, rounds) -> dict:
    """Each round runs every variant once, in turn, so that a slow spell of a shared machine hits them
    all alike; rates and ratios are medians over the rounds."""
    teacher = teacher.to(device).eval()
    x, y = x.to(device), y.to(device)
    sync(device)
    start = time.perf_counter()
    cached = teacher_logits([teacher], x, device=device)[0].to(device)
    sync(device)
    teacher_pass = time.perf_counter() - start

    def fresh():
        torch.manual_seed(0)
        return make_student().to(device)

    variants = {
        "bare": lambda: hand_loop(fresh(), x, y, device, epochs, teacher=teacher),
        "bare_cached": lambda: hand_loop(fresh(), x, y, device, epochs, cached=cached),
        "student_alone": lambda: hand_loop(fresh(), x, y, device, epochs),
        "engine_cache_off": lambda: engine(fresh, x, y, device, epochs, teacher=teacher),
        "engine_cache_on": lambda: engine(fresh, x, y, device, epochs, cached=cached),
    }
    per_round = [{k: steady(run()) for k, run in variants.items()} for _ in range(rounds)]
    rates = {k: statistics.median(r[k] for r in per_round) for k in variants}

    def ratio(a, b):
        return statistics.median(r[a] / r[b] for r in per_round)

    return {
        "case": name, "samples": len(x), "teacher_pass_seconds": teacher_pass, "samples_per_second": rates,
        "rounds": per_round,
        "ratios": {
            "engine_off / bare": ratio("engine_cache_off", "bare"),
            "engine_on / student_alone": ratio("engine_cache_on", "student_alone"),
            "engine_on / bare": ratio("engine_cache_on", "bare"),
            "bare_cached / student_alone": ratio("bare_cached", "student_alone"),
        },
    }


def cases(device, scale: float):
    gen = torch.Generator().manual_seed(0)

    def data(n, shape):
        return torch.rand((n, *shape), generator=gen), torch.randint(0, 10, (n,), generator=gen)

    for features in (64, 784):
        n = int(16384 * scale)
        teacher = build_student({"arch": "mlp", "hidden_sizes": [1200, 1200]}, [features], 10)
        yield (f"mlp {features}: 1200-1200 teacher -> 128-128 student", teacher,
               lambda f=features: build_student({"arch": "mlp", "hidden_sizes": [128, 128]}, [f], 10),
               *data(n, (features,)))
    import torchvision

    teacher = torchvision.models.resnet18(weights=None, num_classes=10)
    yield ("cnn 3x32x32: resnet18 teacher -> cnn 16-32 student", teacher,
           lambda: build_student({"arch": "cnn", "channels": [16, 32]}, [3, 32, 32], 10),
           *data(int(2048 * scale), (3, 32, 32)))


def sweep_case(device, epochs: int, scale: float, rounds: int, members: int = 5) -> dict:
    """A temperature sweep run as the worker runs it, members one after another on one worker: the
    teacher pass happens once, and every member reads the cached outputs. Each round measures the
    teacher pass, one member and the whole sweep afresh; the figures are medians over the rounds."""
    import tempfile

    import numpy as np
    import torchvision

    rng = np.random.RandomState(0)
    n = int(1024 * scale)
    data = TransferData(rng.rand(n, 3, 32, 32).astype(np.float32), rng.randint(0, 10, n),
                        rng.rand(256, 3, 32, 32).astype(np.float32), rng.randint(0, 10, 256))
    teacher = torchvision.models.resnet18(weights=None, num_classes=10).eval()

    def experiment(cache, temperature, teacher_cache=True):
        cfg = DistillConfig(epochs=epochs, batch_size=BATCH, learning_rate=LR, temperature=temperature,
                            device=device.type, teacher_cache=teacher_cache)
        return Experiment(teachers=[teacher], data=data, num_classes=10, config=cfg, cache=cache,
                          cache_keys=["resnet18-bench"],
                          make_student=lambda: build_student({"arch": "cnn", "channels": [16, 32]}, [3, 32, 32], 10))

    def timed(fn) -> float:
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        return time.perf_counter() - start

    temperatures = [1, 2, 5, 10, 20][:members]
    per_round = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = TeacherOutputCache(Path(tmp) / "warm")
        run_experiment(experiment(cache, 2.0))  # fills the cache, warms up
        for r in range(rounds):
            fresh = TeacherOutputCache(Path(tmp) / f"pass{r}")
            teacher_pass = timed(lambda c=fresh: teacher_outputs(experiment(c, 2.0), device, Hooks()))
            member = timed(lambda: run_experiment(experiment(cache, 2.0)))
            cold = TeacherOutputCache(Path(tmp) / f"cold{r}")
            sweep = timed(lambda c=cold: [run_experiment(experiment(c, t)) for t in temperatures])
            uncached_member = timed(lambda: run_experiment(experiment(None, 2.0, teacher_cache=False)))
            # the stretch: the same members trained together as one batched model (cache warm)
            exp = experiment(cache, 2.0)
            configs = [exp.config.model_copy(update={"temperature": t}) for t in temperatures]
            batched = timed(lambda e=exp, cs=configs: run_members(e, cs, [Hooks() for _ in cs]))
            bound = teacher_pass + members * member
            per_round.append({"teacher_pass_seconds": teacher_pass, "member_seconds": member,
                              "sweep_seconds": sweep, "bound_seconds": bound, "sweep_over_bound": sweep / bound,
                              "uncached_member_seconds": uncached_member, "batched_members_seconds": batched,
                              "batched_over_member": batched / member})
    out = {k: statistics.median(r[k] for r in per_round) for k in per_round[0]}
    return {"members": members, **out, "rounds": per_round}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved repetitions; medians are reported")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the number of samples")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-sweep", action="store_true", help="skip the sweep wall-time measurement")
    parser.add_argument("--only", help="run only the cases whose name contains this text")
    args = parser.parse_args()
    device = torch.device(args.device)
    machine = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    results = []
    for name, teacher, make_student, x, y in cases(device, args.scale):
        if args.only and args.only not in name:
            continue
        print(f"running {name} ...", file=sys.stderr)
        results.append(run_case(name, teacher, make_student, x, y, device, args.epochs, args.rounds))
    print(f"\nEngine benchmark on {machine}, torch {torch.__version__}, batch {BATCH}, {args.epochs} epochs "
          f"(median samples/s after the first, median over {args.rounds} interleaved rounds)\n")
    print("| case | bare | bare cached | student alone | engine, cache off | engine, cache on | "
          "off / bare | on / student alone | on / bare | bare cached / student alone | teacher pass (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        s, q = r["samples_per_second"], r["ratios"]
        print(f"| {r['case']} | {s['bare']:,.0f} | {s['bare_cached']:,.0f} | {s['student_alone']:,.0f} | "
              f"{s['engine_cache_off']:,.0f} | {s['engine_cache_on']:,.0f} | {q['engine_off / bare']:.2f} | "
              f"{q['engine_on / student_alone']:.2f} | {q['engine_on / bare']:.1f}× | "
              f"{q['bare_cached / student_alone']:.2f} | {r['teacher_pass_seconds']:.2f} |")
    sweep = None
    if not args.no_sweep:
        print("running the sweep ...", file=sys.stderr)
        sweep = sweep_case(device, args.epochs, args.scale, args.rounds)
        print(f"\n{sweep['members']}-member temperature sweep, resnet18 teacher -> cnn student, one worker: "
              f"{sweep['sweep_seconds']:.1f} s; bound (one teacher pass {sweep['teacher_pass_seconds']:.1f} s + "
              f"{sweep['members']} x one member {sweep['member_seconds']:.1f} s) = {sweep['bound_seconds']:.1f} s "
              f"-> {sweep['sweep_over_bound']:.2f} of the bound (medians over {args.rounds} rounds). One member "
              f"without the cache takes {sweep['uncached_member_seconds']:.1f} s. The {sweep['members']} members "
              f"trained together as one batched model: {sweep['batched_members_seconds']:.1f} s, "
              f"{sweep['batched_over_member']:.1f}x one member (stretch goal: at most 2x).")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": machine, "torch": torch.__version__, "results": results,
                                         "sweep": sweep}, indent=2))


if __name__ == "__main__":
    main()
