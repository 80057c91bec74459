"""Loading teachers from the formats users upload, and checking they can run.

Nothing uploaded is loaded with full pickle: TorchScript archives are read by the TorchScript
loader, which restores code and tensors but runs no arbitrary pickled objects.
"""

from pathlib import Path

import torch
from torch import nn

FORMATS = ("torchscript",)


class TeacherInvalid(ValueError):
    """The file is not a usable teacher; the message says why, for the user."""


def load_teacher(path: Path, fmt: str) -> nn.Module:
    if fmt not in FORMATS:
        raise TeacherInvalid(f"unknown teacher format {fmt!r}; supported: {', '.join(FORMATS)}")
    try:
        model = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:  # the loader raises many types for a bad file
        raise TeacherInvalid(
            f"the file is not a loadable TorchScript model ({type(exc).__name__}: {_first_line(exc)}); "
            "save it with torch.jit.save(torch.jit.script(model), path)"
        ) from None
    return model.eval()


def probe_teacher(model: nn.Module, input_shape: list[int]) -> int:
    """Run one forward pass on a zero batch and return the number of classes."""
    batch = torch.zeros((2, *input_shape))
    try:
        with torch.no_grad():
            out = model(batch)
    except Exception as exc:
        raise TeacherInvalid(
            f"the teacher's forward pass failed on a zero batch shaped {list(batch.shape)} "
            f"(input_shape {list(input_shape)} plus a batch dimension): {type(exc).__name__}: {_first_line(exc)}"
        ) from None
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[0] != 2:
        shape = list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise TeacherInvalid(f"the teacher must return logits shaped [batch, classes]; it returned {shape}")
    if out.shape[1] < 2:
        raise TeacherInvalid(f"the teacher returns {out.shape[1]} class; distillation needs at least 2")
    return int(out.shape[1])


def _first_line(exc: Exception) -> str:
    """The informative part of an error: TorchScript puts the real cause on the last line, after a
    traceback of the scripted code; other loaders put it on the first."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return ""
    text = lines[-1] if "TorchScript interpreter" in lines[0] else lines[0].split(". ")[0]
    return text[:300]
