from enum import StrEnum

class EmbeddingBagSpecActivation(StrEnum):
    GELU = "gelu"
    RELU = "relu"
    SILU = "silu"
    TANH = "tanh"

    def __str__(self) -> str:
        return str(self.value)
