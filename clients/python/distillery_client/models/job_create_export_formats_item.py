from enum import StrEnum

class JobCreateExportFormatsItem(StrEnum):
    EXPORTED_PROGRAM = "exported_program"
    HUGGINGFACE = "huggingface"
    ONNX = "onnx"
    ONNX_INT8 = "onnx_int8"
    SAFETENSORS = "safetensors"
    TORCHSCRIPT = "torchscript"

    def __str__(self) -> str:
        return str(self.value)
