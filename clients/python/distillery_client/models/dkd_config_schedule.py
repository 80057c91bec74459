from enum import StrEnum

class DKDConfigSchedule(StrEnum):
    CONSTANT = "constant"
    COSINE = "cosine"
    ONECYCLE = "onecycle"
    STEP = "step"

    def __str__(self) -> str:
        return str(self.value)
