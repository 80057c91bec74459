from enum import StrEnum

class KDConfigTemperatureMethod(StrEnum):
    HALVING = "halving"
    SOFT_TARGETS = "soft_targets"
    SOFT_TARGETS_CHECKED = "soft_targets_checked"

    def __str__(self) -> str:
        return str(self.value)
