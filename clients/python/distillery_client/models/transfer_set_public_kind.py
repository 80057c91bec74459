from enum import StrEnum

class TransferSetPublicKind(StrEnum):
    BUILTIN = "builtin"
    NPZ = "npz"

    def __str__(self) -> str:
        return str(self.value)
