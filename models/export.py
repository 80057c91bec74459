"""Exporting a trained student with a plain softmax at T = 1, in four formats (and INT8 ONNX, models/int8.py).

Training used softmax at temperature T; the deployed student must not. Every exported file returns
probabilities: ``softmax(student(x) + logit_bias)``, where ``logit_bias`` is zero except for classes
raised by bias correction. For safetensors, the JSON config in the file's metadata says so and
:func:`load_safetensors_student` applies it.
"""

import contextlib
import io
import json
import warnings
from pathlib import Path

import torch
from torch import nn

from models.zoo import build_student

ONNX_OPSET = 18
EXPORT_FORMATS = {  # format -> file extension
    "torchscript": "pt",
    "exported_program": "pt2",
    "onnx": "onnx",
    "safetensors": "safetensors",
    "onnx_int8": "int8.onnx",  # made from the onnx file by models/int8.py, calibrated on the transfer set
    "huggingface": "zip",  # a transformer text student's save_pretrained folder (models/text/exports.py)
}
CONFIG_KEY = "distillery"


class PlainSoftmax(nn.Module):
    def __init__(self, student: nn.Module, num_classes: int, logit_bias: torch.Tensor | None = None,
                 input_dtype: str = "float32"):
        super().__init__()
        self.student = student
        self.input_dtype = input_dtype  # the teacher's: every export takes inputs of this dtype
        bias = torch.zeros(num_classes) if logit_bias is None else logit_bias.detach().float().clone()
        self.register_buffer("logit_bias", bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.student(x) + self.logit_bias, dim=-1)


def _example(input_shape, model: nn.Module | None = None) -> torch.Tensor:
    from models.input_dtypes import torch_dtype

    return torch.zeros((2, *input_shape), dtype=torch_dtype(getattr(model, "input_dtype", "float32")))


def _batch_dynamic():
    return ({0: torch.export.Dim("batch", min=1, max=1 << 20)},)


METADATA_FILE = "distillery.json"  # TorchScript extra file / torch.export extra file / ONNX metadata key


def scripted(model: PlainSoftmax, input_shape) -> torch.jit.ScriptModule:
    """The student as its TorchScript file holds it (the deployment report times it so beside a TorchScript
    teacher)."""
    model = model.eval().cpu()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch 2.14 deprecates TorchScript
        try:
            return torch.jit.script(model)
        except Exception:
            # Some torchvision networks script poorly; with no data-dependent control flow a trace is exact.
            return torch.jit.trace(model, _example(input_shape, model))


def export_torchscript(model: PlainSoftmax, input_shape, path: Path, metadata: dict | None = None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.save(scripted(model, input_shape), str(path),
                       _extra_files={METADATA_FILE: json.dumps(metadata or {})})


def exported(model: PlainSoftmax, input_shape) -> torch.export.ExportedProgram:
    """The student as its torch.export file holds it, batch dimension dynamic."""
    return torch.export.export(model.eval().cpu(), (_example(input_shape, model),), dynamic_shapes=_batch_dynamic())


def export_exported_program(model: PlainSoftmax, input_shape, path: Path, metadata: dict | None = None) -> None:
    torch.export.save(exported(model, input_shape), str(path), extra_files={METADATA_FILE: json.dumps(metadata or {})})


def export_onnx(model: PlainSoftmax, input_shape, path: Path, metadata: dict | None = None) -> None:
    # The exporter reports progress on stdout; a worker's log does not need it.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            # The TorchScript-based exporter takes a fifth of a second for a small student where the
            # dynamo exporter takes seconds, and a job is not `succeeded` before its exports are made.
            torch.onnx.export(
                model.eval().cpu(), (_example(input_shape, model),), str(path), input_names=["input"],
                output_names=["probabilities"], dynamic_axes={"input": {0: "batch"}, "probabilities": {0: "batch"}},
                opset_version=ONNX_OPSET, dynamo=False,
            )
        except Exception:  # an operator only the dynamo exporter knows
            torch.onnx.export(
                model.eval().cpu(), (_example(input_shape, model),), str(path), input_names=["input"],
                output_names=["probabilities"], dynamic_shapes=_batch_dynamic(), opset_version=ONNX_OPSET,
                dynamo=True, external_data=False,
            )
    if metadata:
        import onnx

        proto = onnx.load(str(path))
        onnx.helper.set_model_props(proto, {METADATA_FILE: json.dumps(metadata)})
        onnx.save(proto, str(path))


def export_safetensors(model: PlainSoftmax, input_shape, path: Path, *, student_spec: dict,
                       metadata: dict | None = None) -> None:
    from safetensors.torch import save_file

    config = {
        "student": student_spec,
        "input_shape": list(input_shape),
        "num_classes": int(model.logit_bias.numel()),
        "output": "softmax",  # the rebuilt module applies softmax(logits + logit_bias) at T = 1
        "temperature": 1.0,
        "input_dtype": getattr(model, "input_dtype", "float32"),
        **(metadata or {}),
    }
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={CONFIG_KEY: json.dumps(config)})


def load_safetensors_student(path: Path) -> PlainSoftmax:
    """Rebuild a downloaded safetensors student, plain softmax included, from the file alone."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), framework="pt") as f:
        config = json.loads(f.metadata()[CONFIG_KEY])
    dtype = config.get("input_dtype", "float32")
    net = build_student(config["student"], config["input_shape"], config["num_classes"], dtype,
                        text=config.get("text"))  # a text student: the teacher's vocabulary, as exported
    model = PlainSoftmax(net, config["num_classes"], input_dtype=dtype)
    model.load_state_dict(load_file(str(path)))
    return model.eval()


def export(fmt: str, model: PlainSoftmax, input_shape, path: Path, *, student_spec: dict,
           metadata: dict | None = None) -> None:
    """``metadata`` (e.g. ``{"class_names": [...]}``) travels inside the file: a ``distillery.json`` extra
    file (TorchScript, torch.export), a model property (ONNX), or the config (safetensors)."""
    if fmt == "onnx_int8":
        raise ValueError("the INT8 student needs calibration samples: models/int8.py makes it from the ONNX one")
    if fmt == "huggingface":
        raise ValueError("the huggingface export needs the teacher's tokenizer: worker/jobs/text_exports.py makes it")
    if fmt == "safetensors":
        export_safetensors(model, input_shape, path, student_spec=student_spec, metadata=metadata)
    else:
        {"torchscript": export_torchscript, "exported_program": export_exported_program,
         "onnx": export_onnx}[fmt](model, input_shape, path, metadata)
