"""The paper's comparison on digits: teacher, student from scratch, distilled student at several
temperatures, over seeds; then the omitted-class experiment. An experiment script, not a test.

    .venv/bin/python bench/paper_table.py [--seeds 3] [--epochs 30] [--json out.json]

Everything runs through the engine (``worker.engine.pipeline``) as a job would, on the CPU.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.distill_config import DistillConfig  # noqa: E402
from models.examples import digits_teacher  # noqa: E402
from models.transfer_sets import load_builtin  # noqa: E402
from models.zoo import build_student  # noqa: E402
from worker.engine.pipeline import Experiment, run_experiment  # noqa: E402

TEMPERATURES = (1, 2, 5, 10, 20)


def experiment(teacher, data, student_spec, cfg, **kw) -> dict:
    exp = Experiment(teachers=[teacher], data=data, num_classes=10, config=cfg,
                     make_student=lambda: build_student(student_spec, [64], 10), **kw)
    return run_experiment(exp).results


def mean_std(xs) -> str:
    return f"{statistics.mean(xs):6.1f} ± {statistics.stdev(xs) if len(xs) > 1 else 0.0:4.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, nargs="+", default=[32], help="student hidden sizes")
    parser.add_argument("--soft-weight", type=float, default=0.5)
    parser.add_argument("--hard-weight", type=float, default=0.5)
    parser.add_argument("--omit-temperature", type=float, default=8.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(2)
    started = time.time()

    data = load_builtin("digits")
    student = {"arch": "mlp", "hidden_sizes": args.hidden}
    base = dict(epochs=args.epochs, learning_rate=0.1, batch_size=64)
    rows: dict[str, list[int]] = {"teacher": [], "scratch": []}
    rows.update({f"T={t}": [] for t in TEMPERATURES})
    omitted: dict[str, list[int]] = {"scratch": [], "distilled": [], "distilled + bias": []}
    total_omitted: dict[str, list[int]] = {k: [] for k in omitted}
    for seed in range(args.seeds):
        teacher = digits_teacher(seed=seed)
        scratch = experiment(teacher, data, student, DistillConfig(**base, seed=seed, soft_weight=0, hard_weight=1))
        rows["teacher"].append(scratch["teacher"]["test_errors"])
        rows["scratch"].append(scratch["student"]["test_errors"])
        for t in TEMPERATURES:
            cfg = DistillConfig(**base, seed=seed, temperature=t, soft_weight=args.soft_weight,
                                hard_weight=args.hard_weight)
            rows[f"T={t}"].append(experiment(teacher, data, student, cfg)["student"]["test_errors"])
        cfg = DistillConfig(**base, seed=seed, temperature=args.omit_temperature, soft_weight=args.soft_weight,
                            hard_weight=args.hard_weight)
        plain = experiment(teacher, data, student, cfg, omit_classes=[3], baseline=True)
        biased = experiment(teacher, data, student, cfg, omit_classes=[3], bias_correction=True)
        for key, res in (("scratch", plain["baseline"]), ("distilled", plain["student"]),
                         ("distilled + bias", biased["student"])):
            omitted[key].append(res["omitted_class_errors"])
            total_omitted[key].append(res["test_errors"])
        print(f"seed {seed} done ({time.time() - started:.0f} s)", file=sys.stderr)

    threes = int((data.y_test == 3).sum())
    print(f"Digits: {len(data.x_train)} transfer images, {len(data.x_test)} test images; teacher 64-256-256-10 "
          f"(dropout 0.2), student 64-{'-'.join(map(str, args.hidden))}-10; {args.epochs} epochs, SGD lr 0.1 "
          f"momentum 0.9, a={args.soft_weight}, b={args.hard_weight}; {args.seeds} seeds.\n")
    print("| model | test errors (mean ± std) |\n|---|---|")
    for name, errs in rows.items():
        label = {"teacher": "teacher", "scratch": "student from scratch"}.get(name, f"distilled, {name}")
        print(f"| {label} | {mean_std(errs)} |")
    print(f"\nOmitted class: digit 3 left out of the transfer set ({threes} threes in the test split), "
          f"T = {args.omit_temperature:g}.\n")
    print("| student | errors on 3s | all test errors |\n|---|---|---|")
    for name in omitted:
        print(f"| {name} | {mean_std(omitted[name])} | {mean_std(total_omitted[name])} |")
    print(f"\n({time.time() - started:.0f} s on {torch.get_num_threads()} CPU threads)")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "errors": rows,
                                         "omitted_errors": omitted, "omitted_total_errors": total_omitted},
                                        indent=2))


if __name__ == "__main__":
    main()
