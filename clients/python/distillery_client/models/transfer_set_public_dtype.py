from enum import StrEnum

class TransferSetPublicDtype(StrEnum):
    BOOL = "bool"
    FLOAT16 = "float16"
    FLOAT32 = "float32"
    INT32 = "int32"
    INT64 = "int64"
    TEXT = "text"

    def __str__(self) -> str:
        return str(self.value)
