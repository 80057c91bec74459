"""Logit matching (Caruana; the high-temperature limit of Hinton et al.): a·MSE(z, v) + b·CE."""

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import model_validator

from models.methods.loss import DistillationLoss
from models.methods.registry import register
from models.methods.settings import DistillConfig


class LogitMatchingConfig(DistillConfig):
    loss: Literal["logit_matching"] = "logit_matching"

    @model_validator(mode="after")
    def _no_temperature(self) -> "LogitMatchingConfig":
        if self.temperature == "auto":
            raise ValueError("logit_matching compares logits, with no temperature to search: give temperature a "
                             "number, or choose another loss")
        return self


@register(LogitMatchingConfig)
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
