"""temperature "auto" by the teacher's soft targets: the paper's advice, raise T until the teacher gives a
suitable set of soft targets, read off the teacher's cached outputs before any student trains.

"Suitable" is a target share of probability off the teacher's top class: the mean, over the transfer set's
training part, of 1 − max_c q_c(T), where q(T) is the softened (ensembled) teacher distribution the loss
would train on. Each grid temperature is scored by how far its share lies from the target, on a log scale
(0.1 against 0.2 is as far off as 0.2 against 0.4), and the nearest wins. No candidate trains: the choice
costs one softmax over the cached logits per temperature, and the job then trains exactly one run.

Why not a short search on validation loss: low temperatures converge faster early, while high ones win
at the full horizon, so a search judged after a few epochs prefers the temperature that loses in the end
(issue 29); and a small validation split cannot tell apart runs that differ by a few samples.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from models.distill_config import DistillConfig
from worker.engine.losses import ensemble_log_probs, standardize


@dataclass
class SoftTargetChoice:
    chosen: float
    rows: list[dict]  # one per grid temperature, in the grid's order
    margin: float | None  # the runner-up's distance from the target less the winner's


def off_top_mass(teacher_logits: torch.Tensor, temperature: float, cfg: DistillConfig) -> tuple[float, float]:
    """(mean probability off the top class, mean entropy / log(classes)) of the soft targets at
    ``temperature``; ``teacher_logits`` is [members, N, classes], as the loss sees them."""
    logits = teacher_logits.float()
    if getattr(cfg, "logit_standardization", False):
        logits = standardize(logits)
    log_q = ensemble_log_probs(logits, temperature, cfg.ensemble)
    q = log_q.exp()
    entropy = -(q * log_q.clamp_min(-1e4)).sum(-1).mean() / math.log(q.shape[-1])
    return float(1.0 - q.max(-1).values.mean()), float(entropy)


def choose_temperature(teacher_logits: torch.Tensor, cfg: DistillConfig) -> SoftTargetChoice:
    """The grid temperature whose soft targets hold the share ``cfg.soft_target_mass`` off the top class
    most nearly; ties go to the lower temperature (the first in sorted order)."""
    target = cfg.soft_target_mass
    rows = []
    for t in cfg.temperature_grid:
        mass, entropy = off_top_mass(teacher_logits, t, cfg)
        distance = abs(math.log(max(mass, 1e-12) / target))
        rows.append({"name": f"T={t:g}", "temperature": t, "off_top_mass": mass, "normalized_entropy": entropy,
                     "score": distance, "epochs": 0, "status": "candidate"})
    ranked = sorted(rows, key=lambda r: (r["score"], r["temperature"]))
    ranked[0]["status"] = "chosen"
    margin = ranked[1]["score"] - ranked[0]["score"] if len(ranked) > 1 else None
    return SoftTargetChoice(ranked[0]["temperature"], rows, margin)


def soft_target_search(teacher_logits: torch.Tensor, cfg: DistillConfig,
                       event: Callable[[str, str, dict], None]) -> tuple[DistillConfig, dict]:
    """``cfg`` at the chosen temperature, and what a job's result reports as its ``temperature_search``
    (its cost, in epochs, is filled in once the run has trained)."""
    started = time.perf_counter()
    found = choose_temperature(teacher_logits, cfg)
    search = {"chosen": found.chosen, "margin": found.margin, "chosen_on": "off_top_mass",
              "method": cfg.temperature_method, "target_off_top_mass": cfg.soft_target_mass,
              "candidates": found.rows, "epochs_trained": 0, "epochs_in_runs": 0.0,
              "seconds": time.perf_counter() - started}
    shares = ", ".join(f"T={r['temperature']:g}: {r['off_top_mass']:.3f}" for r in found.rows)
    event("temperature_chosen", f"T={found.chosen:g} chosen before training: its soft targets put the share "
          f"nearest {cfg.soft_target_mass:g} off the teacher's top class ({shares})",
          {"temperature": found.chosen, "margin": found.margin, "method": "soft_targets", "candidates": found.rows})
    return cfg.model_copy(update={"temperature": found.chosen}), search
