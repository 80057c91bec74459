from enum import StrEnum

class TransferSetPublicKind(StrEnum):
    BUILTIN = "builtin"
    IMAGE_ARCHIVE = "image_archive"
    IMAGE_FOLDER = "image_folder"
    NPZ = "npz"
    TABLE = "table"
    TEXT = "text"
    TORCHVISION = "torchvision"

    def __str__(self) -> str:
        return str(self.value)
