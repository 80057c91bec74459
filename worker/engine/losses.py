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

    def fuse(self, targets: torch.Tensor | None, labels: torch.Tensor | None,
             batch_size: int) -> "StackedCrossEntropy | None":
        """The same objective over a whole split of fixed per-sample targets, as one stacked computation;
        None where this loss has no such form."""
        return None


@register("kd")
class KnowledgeDistillation(DistillationLoss):
    """KL(q ‖ p) at temperature T: the cross-entropy with soft targets less the teacher's entropy,
    so it reaches 0 when the student matches; gradients equal the cross-entropy's."""

    def targets(self, teacher_logits):
        return ensemble_log_probs(teacher_logits, self.config.temperature, self.config.ensemble)  # log q

    def soft(self, student_logits, targets):
        log_p = F.log_softmax(student_logits / self.config.temperature, dim=-1)
        return F.kl_div(log_p, targets, log_target=True, reduction="batchmean")

    def fuse(self, targets, labels, batch_size):
        parts = {}
        if targets is not None and self.config.soft_weight > 0:
            parts["soft"] = (targets, 1.0 / self.config.temperature)
        if labels is not None and self.config.hard_weight > 0:
            num_classes = parts["soft"][0].shape[-1] if parts else None
            if num_classes is None:
                return None  # labels alone: plain cross-entropy is already one kernel
            parts["hard"] = (F.one_hot(labels, num_classes).float().log(), 1.0)
        if not parts:
            return None
        return StackedCrossEntropy(parts, self.weights(), batch_size)

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


class StackedCrossEntropy:
    """Weighted cross-entropies of the student's logits, each at its own scale, against fixed per-sample
    distributions, computed for all terms at once.

    KD's two terms are both of this kind: the soft term compares softmax(z/T) with the teacher's q, the
    hard term softmax(z) with the one-hot label, and KL(q || p) = CE(q, p) - H(q) with H(q) fixed per
    sample. Stacking the weighted targets once per run as ``w`` [terms, N, classes] makes a training step
    four kernels (scale, log-softmax, multiply, sum) where the separate terms take a dozen; for a small
    student on the CPU that is a tenth of the step. ``w`` is divided by the batch size too, so that a full
    batch's terms add up to its loss with no further kernel. Gradients are the separate terms' own; the
    per-epoch KL is recovered from the summed cross-entropies and the summed teacher entropy.
    """

    def __init__(self, parts: dict[str, tuple[torch.Tensor, float]], weights: dict[str, float], batch_size: int):
        self.names = list(parts)
        self.weights = {name: weights[name] for name in self.names}
        self.batch_size = batch_size
        log_targets = [parts[name][0].float() for name in self.names]
        probs = [lt.exp() for lt in log_targets]
        self.w = torch.stack([(-self.weights[name] / batch_size) * p
                              for name, p in zip(self.names, probs, strict=True)])
        self.scales = torch.tensor([parts[name][1] for name in self.names]).view(-1, 1, 1)
        # Σ_c q log q per sample; 0 log 0 = 0 for one-hot labels and underflowed probabilities.
        self.neg_entropy = torch.stack([torch.where(p > 0, p * lt, 0).sum(-1) for p, lt in zip(probs, log_targets,
                                                                                               strict=True)])

    def __len__(self) -> int:
        return self.w.shape[1]

    def nbytes(self) -> int:
        return self.w.numel() * self.w.element_size()

    def place(self, data_device, device) -> "StackedCrossEntropy":
        """Per-sample targets where the data is held; the scales where the student's logits are."""
        self.w, self.neg_entropy = self.w.to(data_device), self.neg_entropy.to(data_device)
        self.scales = self.scales.to(device)
        return self

    def batch(self, idx: torch.Tensor) -> torch.Tensor:
        return self.w.index_select(1, idx)

    def __call__(self, student_logits: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Each term's weighted cross-entropy summed over the batch and divided by the batch size: [terms]."""
        log_p = torch.log_softmax(student_logits.float().unsqueeze(0) * self.scales, dim=-1)
        return (w * log_p).sum((1, 2))  # a multiply and a sum cost a third of one batched matmul here

    def loss(self, terms: torch.Tensor, n: int) -> torch.Tensor:
        """The batch's mean loss from its terms; ``n`` samples, fewer than the batch size in a last batch."""
        total = terms.sum()
        return total if n == self.batch_size else total * (self.batch_size / n)

    def epoch_terms(self, sums: torch.Tensor) -> dict[str, float]:
        """Each term's unweighted mean over an epoch, from the sum of every batch's terms, and the weighted
        ``total``."""
        n = self.neg_entropy.shape[1]
        means = {name: (float(s) * self.batch_size / self.weights[name] + float(h)) / n
                 for name, s, h in zip(self.names, sums, self.neg_entropy.sum(1), strict=True)}
        return {**means, "total": sum(self.weights[k] * v for k, v in means.items())}


def make_loss(config: DistillConfig) -> DistillationLoss:
    return LOSSES[config.loss](config)


def combine(terms: dict[str, torch.Tensor], weights: dict[str, float]) -> torch.Tensor:
    return sum(weights[name] * value for name, value in terms.items())
