from enum import StrEnum

class DistillConfigLoss(StrEnum):
    KD = "kd"
    LOGIT_MATCHING = "logit_matching"

    def __str__(self) -> str:
        return str(self.value)
