from enum import StrEnum

class LogitMatchingConfigTemperatureType1(StrEnum):
    AUTO = "auto"

    def __str__(self) -> str:
        return str(self.value)
