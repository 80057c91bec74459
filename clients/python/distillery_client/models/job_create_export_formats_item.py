from enum import StrEnum

class JobCreateExportFormatsItem(StrEnum):
    EXPORTED_PROGRAM = "exported_program"
    ONNX = "onnx"
    SAFETENSORS = "safetensors"
    TORCHSCRIPT = "torchscript"

    def __str__(self) -> str:
        return str(self.value)
