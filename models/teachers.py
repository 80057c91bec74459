"""Loading teachers from the formats users upload, and checking they can run.

For TorchScript, ``.pt2`` and ONNX files these loaders run only inside the sandbox
(``models.sandbox``), after ``models.inspection`` has checked the file's bytes; state dicts come as
safetensors, which hold tensors and nothing else, and are built from the zoo in-process.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import torch
from pydantic import ValidationError
from torch import nn

from models.failure_text import describe_failure
from models.sandbox.jail import SUFFIXES
from models.specs import ARCHS
from models.zoo import build_student

FORMATS = ("torchscript", "exported_program", "onnx", "safetensors", "huggingface")
TEACHER_SUFFIXES = {**SUFFIXES, "safetensors": ".safetensors"}  # what each format's file is called
PROBE_BATCHES = (2, 3)  # two sizes, so a graph frozen to one batch size is caught at upload
MAX_CLASSES = 100_000


class TeacherInvalid(ValueError):
    """The file is not a usable teacher; the message says why, for the user, and ``field`` which upload field
    to change (None: the file itself)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class OnnxModule(nn.Module):
    """An ONNX model run by onnxruntime, behind the ``nn.Module`` interface the engine expects."""

    def __init__(self, path: Path):
        super().__init__()
        import onnxruntime as ort

        providers = ["CPUExecutionProvider"]
        if torch.cuda.is_available() and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        self.session = ort.InferenceSession(str(path), providers=providers)
        first = self.session.get_inputs()[0]
        self.input_name = first.name
        # What the graph itself takes (skl2onnx may declare doubles); the service sends its input dtype.
        self.input_type = _ONNX_INPUT_TYPES.get(first.type, np.float32)
        self.output_names = [o.name for o in self.session.get_outputs()]

    def forward(self, x: torch.Tensor):
        feed = x.detach().cpu().numpy().astype(self.input_type, copy=False)
        outs = [_onnx_value(o, x.device) for o in self.session.run(None, {self.input_name: feed})]
        return outs[0] if len(outs) == 1 else tuple(outs)


_ONNX_INPUT_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
                     "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(bool)": np.bool_}


def _onnx_value(value, device):
    """An onnxruntime output as a tensor where it is numeric. skl2onnx's default ZipMap output (a list of
    {class: probability} dicts) becomes [batch, classes] in the classes' order."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        value = np.array([list(v.values()) for v in value], dtype=np.float32)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return torch.from_numpy(np.ascontiguousarray(value)).to(device)
    return value


class FrozenModule(nn.Module):
    """Holds a module whose train/eval mode was fixed when it was exported (``torch.export`` graphs
    refuse ``.eval()``), so the engine can treat it like any other teacher."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def train(self, mode: bool = True) -> "FrozenModule":
        self.training = mode
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x)


def parse_arch_config(raw: str | None) -> dict:
    if raw is None or raw.strip() == "":
        return {}
    try:
        config = json.loads(raw)
    except json.JSONDecodeError:
        config = None
    if not isinstance(config, dict):
        raise TeacherInvalid(f'arch_config must be a JSON object, e.g. {{"num_classes": 10}}; got {raw!r}')
    return config


def build_from_arch(arch: str, config: dict, input_shape, input_dtype: str = "float32") -> nn.Module:
    if arch not in ARCHS:
        raise TeacherInvalid(f"unknown arch {arch!r}; the zoo has: {', '.join(ARCHS)}")
    config = dict(config)
    if "arch" in config:
        raise TeacherInvalid("arch_config must not name an 'arch': the architecture comes from the 'arch' field "
                             "alone")
    num_classes = config.pop("num_classes", 1000 if arch not in ("mlp", "cnn") else None)
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or not 2 <= num_classes <= MAX_CLASSES:
        raise TeacherInvalid(f'arch_config needs "num_classes": an integer from 2 to {MAX_CLASSES}')
    try:
        return build_student({"arch": arch, **config}, input_shape, num_classes, input_dtype)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:])) or 'arch_config'}: {e['msg']}" for e in exc.errors())
        raise TeacherInvalid(f"arch_config does not fit arch {arch!r}: {problems}") from None
    except ValueError as exc:
        raise TeacherInvalid(str(exc)) from None


def _load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise TeacherInvalid(f"the file is not a safetensors state dict ({_first_line(exc)})") from None


def load_teacher(path: Path, fmt: str, *, arch: str | None = None, arch_config: dict | None = None,
                 input_shape=None, input_dtype: str = "float32") -> nn.Module:
    if fmt not in FORMATS:
        raise TeacherInvalid(f"unknown teacher format {fmt!r}; supported: {', '.join(FORMATS)}")
    if fmt == "huggingface":
        raise TeacherInvalid("a Hugging Face teacher runs in the sandbox only (models.sandbox.remote)")
    if fmt == "safetensors":
        if not arch:
            raise TeacherInvalid("a safetensors teacher needs 'arch' (a name from the zoo) and 'arch_config'")
        model = build_from_arch(arch, arch_config or {}, input_shape, input_dtype)
        state = _load_state_dict(path)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise TeacherInvalid(f"the state dict does not fit arch {arch!r} with this arch_config: "
                                 f"{_key_mismatch(exc)}") from None
        return model.eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch 2.14 deprecates torch.jit.load
            if fmt == "torchscript":
                model = torch.jit.load(str(path), map_location="cpu")
            elif fmt == "exported_program":
                return FrozenModule(torch.export.load(str(path)).module())
            else:
                return OnnxModule(path)
    except Exception as exc:  # each loader raises its own types for a file of the wrong kind
        hint = {
            "torchscript": "save it with torch.jit.save(torch.jit.script(model), path)",
            "exported_program": "save it with torch.export.save(torch.export.export(model, args), path)",
            "onnx": "export it with torch.onnx.export, or from your framework's ONNX exporter",
        }[fmt]
        if fmt == "onnx" and "external data" in str(exc).lower():
            raise TeacherInvalid(
                "the ONNX model keeps its weights in separate external-data files, which an upload cannot "
                "carry; export it with all weights inside the .onnx file (torch.onnx.export(..., "
                "external_data=False), or onnx.save(model, path, save_as_external_data=False))"
            ) from None
        raise TeacherInvalid(
            f"the file does not match its declared format {fmt!r}: it is not a loadable {fmt} model "
            f"({describe_failure(exc)}); {hint}"
        ) from None
    return model.eval()


def probe_teacher(model: nn.Module, input_shape: list[int], dtype: str = "float32",
                  seen: list[torch.Tensor] | None = None) -> int:
    """Run forward passes on zero batches and return the number of classes; ``seen`` collects the outputs."""
    from models.input_dtypes import torch_dtype

    classes = None
    for n in PROBE_BATCHES:
        batch = torch.zeros((n, *input_shape), dtype=torch_dtype(dtype))
        try:
            with torch.no_grad():
                out = model(batch)
        except TeacherInvalid:
            raise
        except Exception as exc:
            raise TeacherInvalid(
                f"the teacher's forward pass failed on a zero batch shaped {list(batch.shape)} (input_shape "
                f"{list(input_shape)} plus a batch dimension; the batch dimension must be dynamic): "
                f"{describe_failure(exc)}"
            ) from None
        if isinstance(out, tuple | list) and len(out) == 1:
            out = out[0]
        if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[0] != n:
            shape = list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise TeacherInvalid(f"the teacher must return logits shaped [batch, classes]; it returned {shape}")
        if seen is not None:
            seen.append(out.detach().float().cpu())
        classes = int(out.shape[1])
    if classes < 2:
        raise TeacherInvalid(f"the teacher returns {classes} class; distillation needs at least 2")
    return classes


def _key_mismatch(exc: RuntimeError) -> str:
    text = " ".join(str(exc).split())
    return text.removeprefix("Error(s) in loading state_dict for Sequential: ")[:500]


def _first_line(exc: Exception) -> str:
    """The informative part of an error: TorchScript puts the real cause on the last line, after a
    traceback of the scripted code; other loaders put it on the first."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return ""
    text = lines[-1] if "TorchScript interpreter" in lines[0] else lines[0].split(". ")[0]
    return text[:300]
