from enum import StrEnum

class TextTransformerSpecInit(StrEnum):
    RANDOM = "random"
    TEACHER = "teacher"

    def __str__(self) -> str:
        return str(self.value)
