from enum import StrEnum

class PreprocessingColorType0(StrEnum):
    GRAYSCALE = "grayscale"
    RGB = "rgb"

    def __str__(self) -> str:
        return str(self.value)
