"""Knowledge distillation (Hinton, Vinyals & Dean 2015): a·T²·KL(q‖p) + b·CE, optionally on z-scored
logits (Sun et al. 2024). The default method of a job that names none."""

from typing import Literal

import torch.nn.functional as F
from pydantic import Field

from models.methods.loss import DistillationLoss, ensemble_log_probs, standardize
from models.methods.registry import register
from models.methods.settings import DistillConfig
from models.methods.stacked import StackedCrossEntropy


class KDConfig(DistillConfig):
    loss: Literal["kd"] = "kd"
    logit_standardization: bool = Field(
        False, description="z-score the student's and teacher's logits per sample before the temperature "
        "softmax (Sun et al. 2024): the student matches the teacher's logit shape, not its scale.")


@register(KDConfig, default=True)
class KnowledgeDistillation(DistillationLoss):
    """KL(q ‖ p) at temperature T: the cross-entropy with soft targets less the teacher's entropy,
    so it reaches 0 when the student matches; gradients equal the cross-entropy's. With
    ``logit_standardization`` both sides' logits are z-scored per sample first."""

    BATCHES_MEMBERS = True

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
