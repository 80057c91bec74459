"""Distillation losses, each a named ``nn.Module`` in a small registry.

A loss returns its terms unweighted and by name (``soft``, ``hard``), so each can be logged and
its gradient measured separately; :func:`combine` applies the weights.
"""

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from worker.engine.config import DistillConfig

LOSSES: dict[str, type["DistillationLoss"]] = {}


def register(name: str) -> Callable[[type], type]:
    def deco(cls: type) -> type:
        LOSSES[name] = cls
        return cls

    return deco


def ensemble_log_probs(teacher_logits: torch.Tensor, temperature: float, mode: str) -> torch.Tensor:
    """Soft targets ``log q`` from teacher logits shaped [members, batch, classes].

    arithmetic: q = mean_k softmax(v_k / T); geometric: q ∝ exp(mean_k log softmax(v_k / T)).
    """
    if teacher_logits.shape[0] == 1:  # one teacher: both means are its own distribution
        return F.log_softmax(teacher_logits[0].float() / temperature, dim=-1)
    log_p = F.log_softmax(teacher_logits.float() / temperature, dim=-1)
    if mode == "arithmetic":
        return torch.logsumexp(log_p, dim=0) - torch.log(torch.tensor(float(log_p.shape[0])))
    if mode == "geometric":
        return F.log_softmax(log_p.mean(dim=0), dim=-1)
    raise ValueError(f"unknown ensemble mode {mode!r}")


class DistillationLoss(nn.Module):
    """A loss in two parts: ``targets`` turns the teachers' logits [members, batch, classes] into what the
    soft term compares against — once per run when the logits are cached, per batch when the teacher
    runs online — and ``forward`` computes the named terms from those targets."""

    def __init__(self, config: DistillConfig):
        super().__init__()
        self.config = config

    def targets(self, teacher_logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def soft(self, student_logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @property
    def soft_scale(self) -> float:
        return 1.0

    def forward(
        self, student_logits: torch.Tensor, targets: torch.Tensor | None, labels: torch.Tensor | None
    ) -> dict[str, torch.Tensor]:
        terms = {}
        if targets is not None and self.config.soft_weight > 0:
            terms["soft"] = self.soft(student_logits.float(), targets)
        if labels is not None and self.config.hard_weight > 0:
            terms["hard"] = F.cross_entropy(student_logits.float(), labels)
        return terms

    def weights(self) -> dict[str, float]:
        return {"soft": self.config.soft_weight * self.soft_scale, "hard": self.config.hard_weight}


@register("kd")
class KnowledgeDistillation(DistillationLoss):
    """KL(q ‖ p) at temperature T: the cross-entropy with soft targets less the teacher's entropy,
    so it reaches 0 when the student matches; gradients equal the cross-entropy's."""

    def targets(self, teacher_logits):
        return ensemble_log_probs(teacher_logits, self.config.temperature, self.config.ensemble)  # log q

    def soft(self, student_logits, targets):
        log_p = F.log_softmax(student_logits / self.config.temperature, dim=-1)
        return F.kl_div(log_p, targets, log_target=True, reduction="batchmean")

    @property
    def soft_scale(self) -> float:
        # d(KL)/dz = (p - q)/T, so soft gradients shrink as 1/T²; T² restores their size.
        return self.config.temperature**2 if self.config.scale_soft_by_t2 else 1.0


@register("logit_matching")
class LogitMatching(DistillationLoss):
    """Caruana's logit regression: mean squared error between student and (mean) teacher logits."""

    def targets(self, teacher_logits):
        return teacher_logits.float().mean(dim=0)

    def soft(self, student_logits, targets):
        return F.mse_loss(student_logits, targets)


def make_loss(config: DistillConfig) -> DistillationLoss:
    return LOSSES[config.loss](config)


def combine(terms: dict[str, torch.Tensor], weights: dict[str, float]) -> torch.Tensor:
    return sum(weights[name] * value for name, value in terms.items())
