from enum import StrEnum

class CreateTransferSetFilesBodyKind(StrEnum):
    IMAGE_ARCHIVE = "image_archive"
    NPZ = "npz"
    TABLE = "table"
    TEXT = "text"

    def __str__(self) -> str:
        return str(self.value)
