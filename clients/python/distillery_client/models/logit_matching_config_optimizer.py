from enum import StrEnum

class LogitMatchingConfigOptimizer(StrEnum):
    ADAM = "adam"
    ADAMW = "adamw"
    SGD = "sgd"

    def __str__(self) -> str:
        return str(self.value)
