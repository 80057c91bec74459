"""The automatic choice of temperature against the fixed grid, found in hindsight: kd (a = b = 0.5) at each
grid temperature, ``temperature: "auto"`` by the teacher's soft targets (``temperature_method:
"soft_targets"``), the same checked by a full run at the coolest grid temperature (``"soft_targets_checked"``;
read off the fixed rows, whose runs are its two runs, unless ``--run-checked``) and, with ``--halving``, the
older successive-halving search, over seeds, on three sets. An experiment script, not a test.

    .venv/bin/python bench/auto_temperature.py [--seeds 3] [--epochs 30] [--tasks digits noisy16 shifted_digits]

Sets: ``digits`` and ``noisy16`` as in ``bench/methods_table.py``; ``shifted_digits``, the digits split with
every image also shifted by one pixel down and one right (4,311 to train on, 1,080 to test), with
digits' teacher and student. By default the methods table's training: SGD at 0.1, momentum 0.9, batch 64,
30 epochs, a = b = 0.5.
Each row: test errors (mean ± std over seeds), the share of the scratch–teacher gap closed, and how many
errors the row makes above the grid temperature that was best on the means in hindsight. Each seed also
records the teacher's share of probability off its top class at every grid temperature, so that another target
share can be read off the same runs (``--json``).
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.methods_table import digits_task, mean_std, run, train_teacher  # noqa: E402
from models.distill_config import DistillConfig  # noqa: E402
from models.transfer_sets import TransferData, load_builtin  # noqa: E402
from worker.engine.soft_targets import off_top_mass  # noqa: E402
from worker.engine.temperature_check import rank  # noqa: E402

GRID = (1.0, 2.0, 5.0, 10.0, 20.0)
KD = {"loss": "kd", "soft_weight": 0.5, "hard_weight": 0.5}
# (teacher hidden width, student hidden sizes) per set
SIZES = {"digits": (256, [32]), "noisy16": (512, [8]), "shifted_digits": (256, [32])}


def shifted_digits_task() -> tuple[TransferData, int]:
    """The digits split, each image also shifted by one pixel down and one right (the empty edge zero):
    4,311 images to train on and 1,080 to test, every test image from the 360 test digits."""
    data = load_builtin("digits")

    def five(x, y):
        images = x.reshape(-1, 8, 8)
        out = [images]
        for axis, step in ((1, 1), (2, 1)):
            moved = np.roll(images, step, axis=axis)
            edge = [slice(None)] * 3
            edge[axis] = 0 if step == 1 else -1
            moved[tuple(edge)] = 0
            out.append(moved)
        return np.concatenate(out).reshape(-1, 64).astype(np.float32), np.tile(y, len(out))

    return TransferData(*five(data.x_train, data.y_train), *five(data.x_test, data.y_test)), 64


def task_data(task: str, seed: int) -> tuple[TransferData, int]:
    return shifted_digits_task() if task == "shifted_digits" else digits_task(task == "noisy16", seed)


def errors(result: dict | None) -> int | None:
    return result and result["student"]["test_errors"]


def check(fixed: dict, suggested: float) -> float | None:
    """What soft_targets_checked keeps, from the fixed runs (its two runs): the suggested temperature or the
    coolest, by the engine's own rank of their best epochs (a tie keeps the suggested one)."""
    coolest = min(GRID)
    if fixed[suggested] is None or fixed[coolest] is None:
        return None
    ranks = {t: rank(fixed[t]["student"]) for t in (suggested, coolest)}
    return min(ranks, key=lambda t: (*ranks[t], t != suggested))


def new_task(task: str) -> dict:
    teacher_hidden, student_hidden = SIZES[task]
    return {"rows": {"teacher": [], "student from scratch": []}, "seeds": [], "seconds": 0.0,
            "teacher_hidden": teacher_hidden, "student_hidden": student_hidden}


def task_seed(task: str, seed: int, out: dict, args) -> None:
    """One seed of one set, appended to ``out`` (from :func:`new_task`)."""
    teacher_hidden, student_hidden = SIZES[task]
    rows, seeds = out["rows"], out["seeds"]
    started = time.time()
    data, inputs = task_data(task, seed)
    teacher = train_teacher(data, inputs, teacher_hidden, seed)
    base = {"epochs": args.epochs, "batch_size": args.batch_size, "seed": seed, "device": args.device,
            "optimizer": args.optimizer, "learning_rate": args.lr}
    scratch = run(teacher, data, inputs, student_hidden, {**base, "soft_weight": 0, "hard_weight": 1})
    rows["teacher"].append(scratch["teacher"]["test_errors"])
    rows["student from scratch"].append(errors(scratch))
    with torch.no_grad():
        logits = teacher(torch.from_numpy(data.x_train)).unsqueeze(0)
    cfg = DistillConfig.model_validate(KD)
    seeds.append({"seed": seed, "off_top_mass": {f"{t:g}": off_top_mass(logits, t, cfg)[0] for t in GRID}})
    fixed = {t: run(teacher, data, inputs, student_hidden, {**base, **KD, "temperature": t}) for t in GRID}
    for t in GRID:
        rows.setdefault(f"kd, T={t:g}", []).append(errors(fixed[t]))
    seeds[-1]["fixed_val"] = {f"{t:g}": r and {k: r["student"][k] for k in ("val_accuracy", "val_cross_entropy")}
                              for t, r in fixed.items()}
    res = run(teacher, data, inputs, student_hidden, {**base, **KD, "temperature": "auto",
                                                      "temperature_method": "soft_targets",
                                                      "soft_target_mass": args.mass})
    rows.setdefault("kd, auto T (soft targets)", []).append(errors(res))
    seeds[-1]["soft_targets"] = res and res["temperature_search"]
    # The same job at a named temperature trains bit-for-bit the same student (tests/unit/
    # test_auto_temperature.py): the soft-target row's errors must be the fixed row's at its choice.
    chosen = res and res["temperature_search"]["chosen"]
    seeds[-1]["same_as_fixed"] = chosen is not None and errors(res) == fixed[chosen]["student"]["test_errors"]
    checked = check(fixed, chosen) if chosen is not None else None
    if args.run_checked:
        res = run(teacher, data, inputs, student_hidden, {**base, **KD, "temperature": "auto",
                                                          "temperature_method": "soft_targets_checked",
                                                          "soft_target_mass": args.mass})
        checked = res and res["temperature_search"]["chosen"]
        rows.setdefault("kd, auto T (soft targets, checked)", []).append(errors(res))
    else:  # its two full runs are the fixed rows at the suggested and the coolest temperature
        rows.setdefault("kd, auto T (soft targets, checked)", []).append(
            checked and fixed[checked]["student"]["test_errors"])
    seeds[-1]["checked_chose"] = checked
    if args.halving:
        halving_seed(task, seed, out, args, teacher)
    out["seconds"] += time.time() - started
    print(f"{task}: seed {seed} done ({time.time() - started:.0f} s)", file=sys.stderr)


def halving_seed(task: str, seed: int, out: dict, args, teacher=None) -> None:
    """The successive-halving row for one seed (its teacher trained again, the same for the same seed,
    where a saved report lacks the row)."""
    teacher_hidden, student_hidden = SIZES[task]
    data, inputs = task_data(task, seed)
    teacher = teacher or train_teacher(data, inputs, teacher_hidden, seed)
    base = {"epochs": args.epochs, "batch_size": args.batch_size, "seed": seed, "device": args.device,
            "optimizer": args.optimizer, "learning_rate": args.lr}
    res = run(teacher, data, inputs, student_hidden, {**base, **KD, "temperature": "auto",
                                                      "temperature_method": "halving"})
    out["rows"].setdefault("kd, auto T (halving)", []).append(errors(res))
    out["seeds"][seed]["halving"] = res and {k: res["temperature_search"][k] for k in ("chosen", "epochs_in_runs")}


def summary(out: dict) -> dict:
    """Per row: mean, std, gap closed, and errors above the hindsight-best grid point (by mean)."""
    rows = out["rows"]
    scratch, teacher = statistics.mean(rows["student from scratch"]), statistics.mean(rows["teacher"])
    fixed = {k: statistics.mean(v) for k, v in rows.items() if k.startswith("kd, T=") and None not in v}
    best = min(fixed, key=fixed.get)
    table = {}
    for name, errs in rows.items():
        errs = [e for e in errs if e is not None]
        mean = statistics.mean(errs) if errs else None
        std = statistics.stdev(errs) if len(errs) > 1 else 0.0
        closed = None if mean is None or scratch <= teacher else (scratch - mean) / (scratch - teacher)
        table[name] = {"mean": mean, "std": std, "gap_closed": closed,
                       "above_best": None if mean is None else mean - fixed[best]}
    return {"best_fixed": best, "best_fixed_std": table[best]["std"], "rows": table}


def print_table(task: str, out: dict, args) -> None:
    s = summary(out)
    print(f"\n### {task}: teacher {out['teacher_hidden']}-{out['teacher_hidden']}, student "
          f"{'-'.join(map(str, out['student_hidden']))}; {args.epochs} epochs; {args.seeds} seeds\n")
    print("| model | test errors (mean ± std) | gap closed | errors above the best fixed T |\n|---|---|---|---|")
    for name, errs in out["rows"].items():
        row = s["rows"][name]
        plain = name in ("teacher", "student from scratch")
        closed = "" if plain or row["gap_closed"] is None else f"{100 * row['gap_closed']:.0f}%"
        above = "" if plain or row["above_best"] is None else f"{row['above_best']:+.1f}"
        print(f"| {name} | {mean_std(errs)} | {closed} | {above} |")
    chosen = [sd["soft_targets"] and sd["soft_targets"]["chosen"] for sd in out["seeds"]]
    print(f"\nHindsight best: {s['best_fixed']} (std {s['best_fixed_std']:.1f}). Soft targets chose T = {chosen}"
          + (f"; halving chose T = {[sd['halving'] and sd['halving']['chosen'] for sd in out['seeds']]}"
             if args.halving else "")
          + f"; the check kept T = {[sd['checked_chose'] for sd in out['seeds']]}"
          + f"; soft-target job identical to its fixed row: {[sd['same_as_fixed'] for sd in out['seeds']]}")
    print("Teacher's share off its top class, per seed: " + "; ".join(
        ", ".join(f"T={t}: {m:.3f}" for t, m in sd["off_top_mass"].items()) for sd in out["seeds"]))
    print(f"\n({out['seconds']:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--tasks", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--optimizer", default="sgd", choices=["sgd", "adam"])
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--mass", type=float, default=DistillConfig.model_fields["soft_target_mass"].default,
                        help="soft_target_mass of the soft-targets rows")
    parser.add_argument("--halving", action="store_true", help="add a row for the successive-halving search")
    parser.add_argument("--run-checked", action="store_true",
                        help="train the checked rows' job through the engine instead of reading it off the fixed runs")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    # Seed by seed across the sets, saved after each (and taken up again from --json): on a shared machine
    # a run cut short still leaves every set measured on the seeds it reached.
    report = json.loads(args.json.read_text())["tasks"] if args.json and args.json.exists() else {}
    for seed in range(args.seeds):
        for task in args.tasks:
            out = report.setdefault(task, new_task(task))
            if seed < len(out["seeds"]) and (not args.halving or "halving" in out["seeds"][seed]):
                continue
            if seed < len(out["seeds"]):
                halving_seed(task, seed, out, args)
            else:
                task_seed(task, seed, out, args)
            out["summary"] = summary(out)
            if args.json:
                args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                                 "tasks": report}, indent=2))
    for task in args.tasks:
        print_table(task, report[task], args)


if __name__ == "__main__":
    main()
