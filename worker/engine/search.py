"""temperature "auto": successive halving over a grid of temperatures.

Every candidate starts from the same initialisation (the same seed) on the same cached teacher outputs.
Each round trains the candidates still in for a few more epochs, going on from where they stopped (the
loop's checkpoints resume a run exactly); the better half by validation cross-entropy goes on, and the
last one left trains to the end. A candidate is the full-length run it would be alone, paused: its
schedule and early stopping are those of ``epochs``.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn

from models.distill_config import DistillConfig
from worker.engine.loop import Split, TrainResult, train_student


def score(metrics: dict[str, float]) -> float:
    """Lower is better: validation cross-entropy against the labels, or on an unlabelled set the share of
    validation samples where the student disagrees with the teacher."""
    if "val_cross_entropy" in metrics:
        return metrics["val_cross_entropy"]
    return 1.0 - metrics.get("val_teacher_agreement", math.nan)


class _Pause(Exception):
    pass


@dataclass
class _Candidate:
    temperature: float
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


def search_temperature(make_student: Callable[[], nn.Module], train: Split, val: Split | None, cfg: DistillConfig,
                       *, event: Callable[[str, str, dict], None], on_epoch: Callable[[int, dict], None],
                       should_stop: Callable[[], bool] | None = None, **train_kw) -> Search:
    per_round, sizes = cfg.temperature_search()
    candidates = [_Candidate(t) for t in cfg.temperature_grid]
    alive = list(candidates)
    rows: list[dict] = []
    margin = None
    for number, size in enumerate(sizes, start=1):
        assert len(alive) == size
        stop_at = per_round * number
        for c in alive:
            _advance(make_student, train, val, cfg, c, stop_at, should_stop, train_kw)
        ranked = sorted(alive, key=lambda c: (score(c.history[-1]), candidates.index(c)))
        keep = max(1, size // 2)
        for rank, c in enumerate(ranked):
            last = c.history[-1]
            rows.append({"name": f"round {number} T={c.temperature:g}", "round": number,
                         "temperature": c.temperature, "epochs": c.epochs,
                         "val_cross_entropy": last.get("val_cross_entropy"), "val_accuracy": last.get("val_accuracy"),
                         "score": score(last), "status": "continues" if rank < keep else "dropped"})
        if len(ranked) > 1:
            margin = score(ranked[1].history[-1]) - score(ranked[0].history[-1])
        alive = ranked[:keep]
        event("temperature_round", f"round {number}: {size} temperatures trained to epoch {stop_at}; "
              f"{', '.join(f'T={c.temperature:g}' for c in alive)} go on",
              {"round": number, "epochs": stop_at, "rows": rows[-size:]})
    (winner,) = alive
    for row in rows:
        if row["round"] == len(sizes) and row["temperature"] == winner.temperature:
            row["status"] = "chosen"
    event("temperature_chosen", f"T={winner.temperature:g} chosen on validation cross-entropy"
          + (f", {margin:.4g} ahead of the runner-up" if margin is not None else ""),
          {"temperature": winner.temperature, "margin": margin})
    # The winner's epochs so far are the run's first epochs: reported now, then the rest as they come.
    for h in winner.history:
        on_epoch(h["epoch"], {k: v for k, v in h.items() if k != "epoch"})
    if winner.result is None:
        winner.result = train_student(make_student, train, val,
                                      cfg.model_copy(update={"temperature": winner.temperature}),
                                      resume=winner.state, on_epoch=on_epoch, should_stop=should_stop, **train_kw)
    epochs = sum(c.epochs for c in candidates if c is not winner) + winner.result.epochs_run
    return Search(winner.temperature, rows, margin, epochs, winner.result)


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
