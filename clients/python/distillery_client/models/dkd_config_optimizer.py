from enum import StrEnum

class DKDConfigOptimizer(StrEnum):
    ADAM = "adam"
    ADAMW = "adamw"
    SGD = "sgd"

    def __str__(self) -> str:
        return str(self.value)
