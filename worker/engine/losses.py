"""Distillation methods, each a named ``nn.Module`` in a small registry.

A method declares the names of its distillation terms (``TERMS``), validates its own parameters (its
class in ``models.distill_config``) and returns its terms unweighted and by name, plus ``hard`` for the
labels' cross-entropy, so each can be logged and its gradient measured separately; :meth:`weights`
gives each term's weight and :func:`combine` applies them. The training loop knows no method by name.
"""

import math
from collections.abc import Callable
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from models.distill_config import DistillConfig

LOSSES: dict[str, type["DistillationLoss"]] = {}
# soft_weight "auto" stays below this: a student that already matches its teacher has a vanishing
# distillation gradient, and dividing by it would make the next steps all distillation.
AUTO_SOFT_WEIGHT_MAX = 1e4


def grad_norm(tensors) -> float:
    """The L2 norm of a list of gradients (None for a parameter the term does not reach)."""
    return math.sqrt(sum(float(t.float().pow(2).sum()) for t in tensors if t is not None))


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
             batch_size: int) -> "StackedCrossEntropy | None":
        """The same objective over a whole split of fixed per-sample targets, as one stacked computation;
        None where this loss has no such form."""
        return None


@register("kd")
class KnowledgeDistillation(DistillationLoss):
    """KL(q ‖ p) at temperature T: the cross-entropy with soft targets less the teacher's entropy,
    so it reaches 0 when the student matches; gradients equal the cross-entropy's. With
    ``logit_standardization`` both sides' logits are z-scored per sample first."""

    def targets(self, teacher_logits):
        if self.config.logit_standardization:
            teacher_logits = standardize(teacher_logits)
        return ensemble_log_probs(teacher_logits, self.config.temperature, self.config.ensemble)  # log q

    def distill(self, student_logits, targets, labels):
        return {"soft": self.soft(student_logits, targets)}

    def soft(self, student_logits, targets):
        if self.config.logit_standardization:
            student_logits = standardize(student_logits)
        log_p = F.log_softmax(student_logits / self.config.temperature, dim=-1)
        return F.kl_div(log_p, targets, log_target=True, reduction="batchmean")

    def fuse(self, targets, labels, batch_size):
        if self.config.logit_standardization:
            return None  # a z-score is no fixed scale of the logits
        parts = {}
        if self.config.auto_soft_weight:
            return None  # the stacked targets carry fixed weights
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
        return self.t2


@register("logit_matching")
class LogitMatching(DistillationLoss):
    """Caruana's logit regression: mean squared error between student and (mean) teacher logits, each
    sample's logits zero-meaned first (as Hinton et al. state the limit). Softmax ignores a constant per
    sample, so the loss does too, and a teacher's log-probabilities match as its logits would."""

    def targets(self, teacher_logits):
        return _centred(teacher_logits.float().mean(dim=0))

    def distill(self, student_logits, targets, labels):
        return {"soft": F.mse_loss(_centred(student_logits), targets)}


def _centred(logits: torch.Tensor) -> torch.Tensor:
    return logits - logits.mean(-1, keepdim=True)


def dkd_terms(log_p: torch.Tensor, log_q: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample TCKD and NCKD (Zhao et al. 2022) from the student's and teacher's log-probabilities at T.

    TCKD = KL(b_q ‖ b_p) over the binary split [target, rest]; NCKD = KL(q̂ ‖ p̂) over the non-target classes
    renormalised. Their sum weighted as KL(q ‖ p) = TCKD + (1 − q_target)·NCKD is the KD loss. Computed from
    log-probabilities (logsumexp over the non-target classes), not by masking logits with −1000."""
    gt = F.one_hot(target, log_p.shape[-1]).bool()
    lp_t, lq_t = log_p.gather(-1, target[:, None]).squeeze(-1), log_q.gather(-1, target[:, None]).squeeze(-1)
    lp_o = torch.logsumexp(log_p.masked_fill(gt, float("-inf")), -1)  # log(1 − p_target)
    lq_o = torch.logsumexp(log_q.masked_fill(gt, float("-inf")), -1)
    tckd = lq_t.exp() * (lq_t - lp_t) + lq_o.exp() * (lq_o - lp_o)
    lp_hat, lq_hat = log_p - lp_o[:, None], log_q - lq_o[:, None]
    nckd = torch.where(gt, 0.0, lq_hat.exp() * (lq_hat - lp_hat)).sum(-1)
    return tckd, nckd


@register("dkd")
class DecoupledKD(DistillationLoss):
    """Decoupled KD: the target-class term TCKD at weight ``alpha`` and the non-target term NCKD at ``beta``,
    both at T² and warmed up over the first epochs as in mdistiller. The target class is the label, or on
    unlabelled data the teacher's top class."""

    TERMS = ("tckd", "nckd")

    def targets(self, teacher_logits):
        if self.config.logit_standardization:
            teacher_logits = standardize(teacher_logits)
        return ensemble_log_probs(teacher_logits, self.config.temperature, self.config.ensemble)

    def distill(self, student_logits, targets, labels):
        if self.config.logit_standardization:
            student_logits = standardize(student_logits)
        log_p = F.log_softmax(student_logits / self.config.temperature, dim=-1)
        target = targets.argmax(-1) if labels is None else labels
        tckd, nckd = dkd_terms(log_p, targets, target)
        weights = self.term_weights(None)
        return {k: v.mean() for k, v in (("tckd", tckd), ("nckd", nckd)) if weights[k] > 0}

    def term_weights(self, epoch):
        warmup = self.config.warmup
        ramp = 1.0 if epoch is None or not warmup else min(epoch / warmup, 1.0)
        return {"tckd": self.config.alpha * self.t2 * ramp, "nckd": self.config.beta * self.t2 * ramp}


def pearson(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Pearson correlation of each row of ``a`` with the same row of ``b`` (torchdistill's form, with ``eps``
    added to the product of the norms)."""
    a, b = a - a.mean(-1, keepdim=True), b - b.mean(-1, keepdim=True)
    return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1) + eps)


@register("dist")
class DIST(DistillationLoss):
    """DIST: the inter-class relation, 1 − the mean over samples of the Pearson correlation between the
    student's and the teacher's class probabilities, and the intra-class relation, the same over classes
    of the probabilities across the batch, at weights ``inter_weight`` (β) and ``intra_weight`` (γ) and T².
    The intra-class term depends on the batch: a batch of one sample has nothing to correlate (its
    correlation is 0)."""

    TERMS = ("inter", "intra")

    def targets(self, teacher_logits):
        return ensemble_log_probs(teacher_logits, self.config.temperature, self.config.ensemble)

    def distill(self, student_logits, targets, labels):
        y_s = F.softmax(student_logits / self.config.temperature, dim=-1)
        y_t = targets.exp()
        terms = {"inter": 1 - pearson(y_s, y_t).mean(), "intra": 1 - pearson(y_s.T, y_t.T).mean()}
        weights = self.term_weights(None)
        return {k: v for k, v in terms.items() if weights[k] > 0}

    def term_weights(self, epoch):
        return {"inter": self.config.inter_weight * self.t2, "intra": self.config.intra_weight * self.t2}


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
