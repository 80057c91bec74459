from enum import StrEnum

class EmbeddingBagSpecMode(StrEnum):
    MAX = "max"
    MEAN = "mean"
    SUM = "sum"

    def __str__(self) -> str:
        return str(self.value)
