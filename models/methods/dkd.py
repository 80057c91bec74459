"""Decoupled KD (Zhao et al. 2022): a·T²·(alpha·TCKD + beta·NCKD) + b·CE, as mdistiller's DKD."""

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator

from models.methods.loss import DistillationLoss, ensemble_log_probs, standardize
from models.methods.registry import register
from models.methods.settings import DistillConfig, TemperatureOrAuto, WeightOrAuto


class DKDConfig(DistillConfig):
    """Defaults from the paper's and mdistiller's CIFAR-100 settings: T = 4, alpha = 1, beta = 8, and the
    cross-entropy and distillation parts at weight 1."""

    loss: Literal["dkd"] = "dkd"
    temperature: TemperatureOrAuto = Field(
        4.0, description="Softmax temperature T of TCKD and NCKD, or \"auto\".")
    soft_weight: WeightOrAuto = Field(
        1.0, description="Weight a of the distillation part (TCKD and NCKD), or \"auto\" (see kd).")
    hard_weight: float = Field(1.0, ge=0, description="Weight b of the hard-label term.")
    alpha: float = Field(1.0, ge=0, le=1000, description="Weight of the target-class term TCKD.")
    beta: float = Field(8.0, ge=0, le=1000, description="Weight of the non-target-class term NCKD.")
    distillation_warmup_epochs: int | None = Field(
        None, ge=0, description="The distillation part's weight grows linearly to full over this many first "
        "epochs (epoch e of W: e/W). None: the paper's share, 20 of 240 epochs (at least 1); 0: no warm-up.")
    logit_standardization: bool = Field(False, description="As for 'kd' (Sun et al. 2024).")

    @property
    def warmup(self) -> int:
        if self.distillation_warmup_epochs is not None:
            return self.distillation_warmup_epochs
        return max(1, round(self.epochs * 20 / 240))

    @model_validator(mode="after")
    def _dkd(self) -> "DKDConfig":
        if self.alpha == 0 and self.beta == 0 and self.soft_weight != 0:
            raise ValueError("alpha and beta are both 0: the distillation part would be empty; set soft_weight "
                             "to 0 instead, or give alpha or beta a weight")
        if (self.distillation_warmup_epochs or 0) > self.epochs:
            raise ValueError(f"distillation_warmup_epochs ({self.distillation_warmup_epochs}) is more than epochs "
                             f"({self.epochs}): the distillation part would never reach its full weight")
        return self


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


@register(DKDConfig)
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
