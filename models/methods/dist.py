"""DIST (Huang et al. 2022): a·T²·(inter_weight·inter + intra_weight·intra) + b·CE, each relation 1 − a
Pearson correlation, as torchdistill's DISTLoss."""

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator

from models.methods.loss import DistillationLoss, ensemble_log_probs
from models.methods.registry import register
from models.methods.settings import DistillConfig, TemperatureOrAuto, WeightOrAuto


class DISTConfig(DistillConfig):
    """Defaults from torchdistill's DISTLoss and the paper's ImageNet setting: T = 1, both relations at
    weight 1. The paper's beta and gamma are ``inter_weight`` and ``intra_weight`` here: ``gamma`` already
    names the step schedule's decay."""

    loss: Literal["dist"] = "dist"
    temperature: TemperatureOrAuto = Field(
        1.0, description="Softmax temperature T of both relations, or \"auto\".")
    soft_weight: WeightOrAuto = Field(
        1.0, description="Weight a of the distillation part (both relations), or \"auto\" (see kd).")
    hard_weight: float = Field(1.0, ge=0, description="Weight b of the hard-label term.")
    inter_weight: float = Field(1.0, ge=0, le=1000, description="The paper's beta: weight of the inter-class "
                                "relation, 1 − Pearson correlation of each sample's class probabilities.")
    intra_weight: float = Field(1.0, ge=0, le=1000, description="The paper's gamma: weight of the intra-class "
                                "relation, 1 − Pearson correlation of each class's probabilities over the batch.")

    @model_validator(mode="after")
    def _dist(self) -> "DISTConfig":
        if self.inter_weight == 0 and self.intra_weight == 0 and self.soft_weight != 0:
            raise ValueError("inter_weight and intra_weight are both 0: the distillation part would be empty; "
                             "set soft_weight to 0 instead")
        return self


def pearson(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Pearson correlation of each row of ``a`` with the same row of ``b`` (torchdistill's form, with ``eps``
    added to the product of the norms)."""
    a, b = a - a.mean(-1, keepdim=True), b - b.mean(-1, keepdim=True)
    return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1) + eps)


@register(DISTConfig)
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
