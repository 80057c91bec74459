from enum import StrEnum

class DKDConfigSoftWeightType1(StrEnum):
    AUTO = "auto"

    def __str__(self) -> str:
        return str(self.value)
