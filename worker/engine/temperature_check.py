"""temperature_method 'soft_targets_checked': the teacher's soft targets suggest a temperature; a second full
run at the grid's coolest temperature checks it, and validation accuracy at the best epoch decides (validation
cross-entropy breaks a tie).

Why a check at all: the soft-target rule reads the teacher alone, and a student too small to follow the
teacher's whole distribution can do better on nearly one-hot targets (noisy16's 8-unit student does).
Why at the full horizon: judged after a few epochs, cool temperatures lead and then fall behind (issue 29).
Why the coolest: it is the other end of what the rule can be wrong about, and two runs keep the cost at 2x.
Why accuracy before cross-entropy: across temperatures, cross-entropy rewards the softer outputs a hot run
learns, not fewer errors (noisy16's T = 5 student scored the lower cross-entropy with half again as many
errors as its T = 1 run); within one temperature, as in a sweep, that bias is the same for every member.
"""

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from models.distill_config import DistillConfig
from worker.engine.loop import Split, TrainResult, train_student
from worker.engine.search import score


def rank(metrics: dict) -> tuple[float, float]:
    """Lower is better: the validation error rate (or disagreement with the teacher, without labels), then
    the shared :func:`~worker.engine.search.score` to break a tie."""
    for key in ("val_accuracy", "val_teacher_agreement"):
        if metrics.get(key) is not None:
            return 1.0 - metrics[key], score(metrics)
    return score(metrics), score(metrics)


@dataclass
class Check:
    chosen: float
    rows: list[dict]  # the two full runs: temperature, role, the best epoch's scores, status
    margin: float  # the loser's score less the winner's
    epochs_trained: int  # both runs together
    outcome: TrainResult


def check_against_coolest(make_student: Callable[[], nn.Module], train: Split, val: Split | None,
                          cfg: DistillConfig, suggested: float, *, on_epoch: Callable[[int, dict], None],
                          should_stop: Callable[[], bool] | None = None, **train_kw) -> Check:
    """Train ``suggested`` and the grid's coolest temperature to the end from the same initialisation; keep
    the better on validation by :func:`rank` (a full tie keeps ``suggested``). The winner's epochs are
    reported once it is known, as the run's own."""
    coolest = min(cfg.temperature_grid)
    runs = {t: train_student(make_student, train, val, cfg.model_copy(update={"temperature": t}),
                             should_stop=should_stop, **train_kw) for t in (suggested, coolest)}
    ranks = {t: rank(r.history[r.best_epoch - 1]) for t, r in runs.items()}
    chosen = min(runs, key=lambda t: (*ranks[t], t != suggested))
    loser = coolest if chosen == suggested else suggested
    rows = [{"name": f"full run T={t:g}", "temperature": t, "role": role, "epochs": runs[t].epochs_run,
             "best_epoch": runs[t].best_epoch, "score": ranks[t][0], "tie_break": ranks[t][1],
             **{k: runs[t].history[runs[t].best_epoch - 1].get(k) for k in ("val_cross_entropy", "val_accuracy")},
             "status": "chosen" if t == chosen else "dropped"}
            for t, role in ((suggested, "soft targets"), (coolest, "coolest"))]
    for h in runs[chosen].history:
        on_epoch(h["epoch"], {k: v for k, v in h.items() if k != "epoch"})
    return Check(chosen, rows, ranks[loser][0] - ranks[chosen][0], sum(r.epochs_run for r in runs.values()),
                 runs[chosen])


def check_into(search: dict, make_student: Callable[[], nn.Module], train: Split, val: Split | None,
               cfg: DistillConfig, *, event: Callable[[str, str, dict], None], **kw) -> TrainResult:
    """:func:`check_against_coolest` of ``cfg``'s temperature, recorded into the job's ``search`` (from
    ``soft_targets.soft_target_search``) and told as an event; the kept run's outcome."""
    found = check_against_coolest(make_student, train, val, cfg, cfg.temperature, **kw)
    search.update(method="soft_targets_checked", suggested=cfg.temperature, chosen=found.chosen,
                  rule_margin=search["margin"], margin=found.margin, checked=found.rows,
                  chosen_on="val_accuracy of two full runs, then val_cross_entropy",
                  epochs_checked=found.epochs_trained - found.outcome.epochs_run)
    event("temperature_checked", f"T={found.chosen:g} kept: the full runs at T={cfg.temperature:g} (soft targets) "
          f"and T={min(cfg.temperature_grid):g} (coolest) scored "
          + " and ".join(f"{r['score']:.4g}" for r in found.rows) + " validation error rate",
          {"temperature": found.chosen, "margin": found.margin, "runs": found.rows})
    return found.outcome
