"""Exporting a trained student with a plain softmax at T = 1.

Training used softmax at temperature T; the deployed student must not. The exported module
returns probabilities: ``softmax(student(x) + logit_bias)``. ``logit_bias`` is zero except
where bias correction raised omitted classes.
"""

from pathlib import Path

import torch
from torch import nn


class PlainSoftmax(nn.Module):
    def __init__(self, student: nn.Module, num_classes: int, logit_bias: torch.Tensor | None = None):
        super().__init__()
        self.student = student
        bias = torch.zeros(num_classes) if logit_bias is None else logit_bias.detach().float().clone()
        self.register_buffer("logit_bias", bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.student(x) + self.logit_bias, dim=-1)


def export_torchscript(model: PlainSoftmax, input_shape, path: Path) -> None:
    model = model.eval().cpu()
    try:
        scripted = torch.jit.script(model)
    except Exception:
        # Some torchvision networks script poorly; with no data-dependent control flow a trace is exact.
        scripted = torch.jit.trace(model, torch.zeros((2, *input_shape)))
    torch.jit.save(scripted, str(path))
