from enum import StrEnum

class LogitMatchingConfigEnsemble(StrEnum):
    ARITHMETIC = "arithmetic"
    GEOMETRIC = "geometric"

    def __str__(self) -> str:
        return str(self.value)
