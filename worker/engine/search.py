"""temperature "auto": successive halving over a grid of temperatures.

Every candidate starts from the same initialisation (the same seed) on the same cached teacher outputs.
Each round trains the candidates still in for a few more epochs, going on from where they stopped (the
loop's checkpoints resume a run exactly); the better half by validation cross-entropy goes on, and the
last one left trains to the end. A candidate is the full-length run it would be alone, paused: its
schedule and early stopping are those of ``epochs``.

With ``validation_folds`` k > 1 each temperature is k candidates, one per fold (trained on the rest, scored on
that fold), and a temperature's score is the mean of its folds'. On a small transfer set a single validation
split holds few samples, and the ranking of close temperatures is then mostly noise. The winner's first fold
goes on to the end: its split is the run's.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from models.distill_config import DistillConfig
from worker.engine.loop import Split, TrainResult, train_student


def score(metrics: dict) -> float:
    """Lower is better; the one rule that ranks sweep members (their best epoch's result) and temperature
    candidates (their latest epoch). Validation cross-entropy against the labels first: accuracy moves in
    steps of one sample, and close runs tie. Without labels, the share of validation samples where the
    student disagrees with the teacher."""
    for key, value in (("val_cross_entropy", lambda v: v), ("val_accuracy", lambda v: 1.0 - v),
                       ("val_teacher_agreement", lambda v: 1.0 - v)):
        if metrics.get(key) is not None:
            return value(metrics[key])
    return math.inf


class _Pause(Exception):
    pass


def fold_indices(n: int, folds: int, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(train, validation) indices of ``folds`` splits: one seeded order cut into ``folds`` parts, each held
    back once."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    parts = torch.tensor_split(order, folds)
    return [(torch.cat([p for j, p in enumerate(parts) if j != i]), held) for i, held in enumerate(parts)]


@dataclass
class _Candidate:
    temperature: float
    fold: int = 0
    state: dict | None = None  # the latest checkpoint
    result: TrainResult | None = None  # set when the run ended by itself (early stopping)
    history: list[dict] = field(default_factory=list)
    epochs: int = 0


@dataclass
class Search:
    chosen: float
    rounds: list[dict]  # one row per candidate per round
    margin: float | None  # runner-up's score less the winner's, in the last round
    epochs_trained: int  # over every candidate, the winner's whole run included
    outcome: TrainResult


def search_temperature(make_student: Callable[[], nn.Module], folds: list[tuple[Split, Split | None]],
                       cfg: DistillConfig, *, event: Callable[[str, str, dict], None],
                       on_epoch: Callable[[int, dict], None], should_stop: Callable[[], bool] | None = None,
                       **train_kw) -> Search:
    """``folds``: the (train, validation) splits each temperature is scored on; the first is the run's own."""
    per_round, sizes = cfg.temperature_search()
    grid = list(cfg.temperature_grid)
    candidates = {t: [_Candidate(t, fold) for fold in range(len(folds))] for t in grid}
    alive = list(grid)
    rows: list[dict] = []
    margin = None

    def mean(t: float, key) -> float | None:
        values = [key(c.history[-1]) for c in candidates[t]]
        return None if any(v is None for v in values) else sum(values) / len(values)

    for number, size in enumerate(sizes, start=1):
        assert len(alive) == size
        stop_at = per_round * number
        for t in alive:
            for c in candidates[t]:
                train, val = folds[c.fold]
                _advance(make_student, train, val, cfg, c, stop_at, should_stop, train_kw)
        ranked = sorted(alive, key=lambda t: (mean(t, score), grid.index(t)))
        keep = max(1, size // 2)
        for rank, t in enumerate(ranked):
            rows.append({"name": f"round {number} T={t:g}", "round": number, "temperature": t,
                         "epochs": candidates[t][0].epochs,
                         "val_cross_entropy": mean(t, lambda h: h.get("val_cross_entropy")),
                         "val_accuracy": mean(t, lambda h: h.get("val_accuracy")),
                         "score": mean(t, score), "folds": len(folds),
                         "status": "continues" if rank < keep else "dropped"})
        if len(ranked) > 1:
            margin = mean(ranked[1], score) - mean(ranked[0], score)
        alive = ranked[:keep]
        event("temperature_round", f"round {number}: {size} temperatures trained to epoch {stop_at}"
              + (f" on each of {len(folds)} folds" if len(folds) > 1 else "")
              + f"; {', '.join(f'T={t:g}' for t in alive)} go on",
              {"round": number, "epochs": stop_at, "rows": rows[-size:]})
    (chosen,) = alive
    winner = candidates[chosen][0]
    for row in rows:
        if row["round"] == len(sizes) and row["temperature"] == chosen:
            row["status"] = "chosen"
    event("temperature_chosen", f"T={chosen:g} chosen on validation cross-entropy"
          + (f" (mean of {len(folds)} folds)" if len(folds) > 1 else "")
          + (f", {margin:.4g} ahead of the runner-up" if margin is not None else ""),
          {"temperature": chosen, "margin": margin, "folds": len(folds)})
    # The winner's epochs so far are the run's first epochs: reported now, then the rest as they come.
    for h in winner.history:
        on_epoch(h["epoch"], {k: v for k, v in h.items() if k != "epoch"})
    if winner.result is None:
        train, val = folds[0]
        winner.result = train_student(make_student, train, val, cfg.model_copy(update={"temperature": chosen}),
                                      resume=winner.state, on_epoch=on_epoch, should_stop=should_stop, **train_kw)
    epochs = sum(c.epochs for cs in candidates.values() for c in cs if c is not winner) + winner.result.epochs_run
    return Search(chosen, rows, margin, epochs, winner.result)


def _advance(make_student, train, val, cfg, c: _Candidate, stop_at: int, should_stop, train_kw) -> None:
    """Train candidate ``c`` on until epoch ``stop_at`` (or until it stops early)."""
    if c.result is not None or c.epochs >= stop_at:
        return

    def keep(state):
        c.state = state

    def pause(epoch, metrics):
        c.history.append({"epoch": epoch, **metrics})
        c.epochs = epoch
        if stop_at <= epoch < cfg.epochs:  # at the last epoch the run ends by itself, with its result
            raise _Pause()

    try:
        c.result = train_student(make_student, train, val, cfg.model_copy(update={"temperature": c.temperature}),
                                 on_epoch=pause, on_checkpoint=keep, resume=c.state, should_stop=should_stop,
                                 **train_kw)
    except _Pause:
        pass
