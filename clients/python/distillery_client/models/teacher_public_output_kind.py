from enum import StrEnum

class TeacherPublicOutputKind(StrEnum):
    LOGITS = "logits"
    LOG_PROBABILITIES = "log_probabilities"
    PROBABILITIES = "probabilities"

    def __str__(self) -> str:
        return str(self.value)
