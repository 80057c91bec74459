from enum import StrEnum

class CreateTransferSetFilesBodyKind(StrEnum):
    IMAGE_ARCHIVE = "image_archive"
    NPZ = "npz"

    def __str__(self) -> str:
        return str(self.value)
