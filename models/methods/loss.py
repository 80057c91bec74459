"""What every method's loss is: a ``nn.Module`` in two parts (targets from the teachers' logits, then the
distillation terms from them), and the pieces several methods share.

A method declares the names of its distillation terms (``TERMS``) and returns its terms unweighted and by
name, plus ``hard`` for the labels' cross-entropy, so each can be logged and its gradient measured
separately; :meth:`DistillationLoss.weights` gives each term's weight and the engine's ``combine`` applies
them. The training loop knows no method by name.
"""

import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from models.methods.settings import DistillConfig

# soft_weight "auto" stays below this: a student that already matches its teacher has a vanishing
# distillation gradient, and dividing by it would make the next steps all distillation.
AUTO_SOFT_WEIGHT_MAX = 1e4


def grad_norm(tensors) -> float:
    """The L2 norm of a list of gradients (None for a parameter the term does not reach)."""
    return math.sqrt(sum(float(t.float().pow(2).sum()) for t in tensors if t is not None))


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


def standardize(logits: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Each sample's logits z-scored over the classes (Sun et al. 2024, as in their code: the sample
    standard deviation, ``eps`` added to it), so that adding a constant or a positive scale changes nothing."""
    logits = logits.float()
    return (logits - logits.mean(-1, keepdim=True)) / (logits.std(-1, keepdim=True) + eps)


class DistillationLoss(nn.Module):
    """A method in two parts: ``targets`` turns the teachers' logits [members, batch, classes] into what the
    distillation terms compare against — once per run when the logits are cached, per batch when the
    teacher runs online — and ``distill`` computes those terms from the targets.

    ``soft_weight`` (the config's, or the one ``soft_weight: "auto"`` sets) multiplies every distillation
    term; ``TERMS`` are their names, in the order their gradients are measured."""

    TERMS: ClassVar[tuple[str, ...]] = ("soft",)
    # whether sweep members of this method may train batched as one model (worker/engine/members.py): their
    # objective must have a stacked form (``fuse``)
    BATCHES_MEMBERS: ClassVar[bool] = False

    def __init__(self, config: DistillConfig):
        super().__init__()
        self.config = config
        # "auto": the loop sets it from the first batch's gradients before any step uses it.
        self.soft_weight = 1.0 if config.auto_soft_weight else config.soft_weight

    def targets(self, teacher_logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def distill(self, student_logits: torch.Tensor, targets: torch.Tensor,
                labels: torch.Tensor | None) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def term_weights(self, epoch: int | None) -> dict[str, float]:
        """Each distillation term's weight before ``soft_weight``; ``epoch`` counts from 1, None: at full
        strength."""
        return {"soft": self.soft_scale}

    @property
    def soft_scale(self) -> float:
        return 1.0

    @property
    def t2(self) -> float:
        # d(KL)/dz = (p - q)/T, so soft gradients shrink as 1/T²; T² restores their size.
        return self.config.temperature**2 if self.config.scale_soft_by_t2 else 1.0

    def forward(
        self, student_logits: torch.Tensor, targets: torch.Tensor | None, labels: torch.Tensor | None
    ) -> dict[str, torch.Tensor]:
        terms = {}
        if targets is not None and self.config.soft_weight != 0:
            terms.update(self.distill(student_logits.float(), targets, labels))
        if labels is not None and self.config.hard_weight > 0:
            terms["hard"] = F.cross_entropy(student_logits.float(), labels)
        return terms

    def weights(self, epoch: int | None = None) -> dict[str, float]:
        return {**{k: self.soft_weight * w for k, w in self.term_weights(epoch).items()},
                "hard": self.config.hard_weight}

    def auto_soft_weight(self, terms: dict[str, torch.Tensor], params: list[torch.Tensor]) -> float | None:
        """The soft weight a that makes a·‖∇ distillation part‖ = ratio·‖∇ (b·hard)‖ on this batch, the
        distillation part at full strength (a warm-up still applies on top); None where either side is missing
        or the distillation gradient vanishes."""
        soft = [n for n in terms if n != "hard"]
        if not soft or "hard" not in terms:
            return None
        full = self.term_weights(None)
        unit = sum(full[n] * terms[n] for n in soft)
        g_soft = torch.autograd.grad(unit, params, retain_graph=True, allow_unused=True)
        g_hard = torch.autograd.grad(self.config.hard_weight * terms["hard"], params, retain_graph=True,
                                     allow_unused=True)
        n_soft, n_hard = grad_norm(g_soft), grad_norm(g_hard)
        if not n_soft > 0 or not math.isfinite(n_soft) or not math.isfinite(n_hard):
            return None
        return min(self.config.soft_to_hard_grad_ratio * n_hard / n_soft, AUTO_SOFT_WEIGHT_MAX)

    def fuse(self, targets: torch.Tensor | None, labels: torch.Tensor | None,
             batch_size: int):
        """The same objective over a whole split of fixed per-sample targets, as one stacked computation
        (``models.methods.stacked.StackedCrossEntropy``); None where this loss has no such form."""
        return None
