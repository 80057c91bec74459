"""The student zoo: builders from a spec, an input shape and a number of classes."""

from collections.abc import Callable

import torch
from pydantic import TypeAdapter
from torch import nn

from models.specs import CNNSpec, MLPSpec, StudentSpec

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
}


def _mlp(spec: MLPSpec, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    layers: list[nn.Module] = [nn.Flatten()]
    width = int(torch.Size(input_shape).numel())
    for hidden in spec.hidden_sizes:
        layers += [nn.Linear(width, hidden), _ACTIVATIONS[spec.activation]()]
        if spec.dropout:
            layers.append(nn.Dropout(spec.dropout))
        width = hidden
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


def _cnn(spec: CNNSpec, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    if len(input_shape) != 3:
        raise ValueError(f"arch 'cnn' needs inputs shaped [channels, height, width], got {list(input_shape)}")
    in_ch = input_shape[0]
    layers: list[nn.Module] = []
    for out_ch in spec.channels:
        layers += [
            nn.Conv2d(in_ch, out_ch, spec.kernel_size, padding=spec.kernel_size // 2, bias=False),
            nn.BatchNorm2d(out_ch),
            _ACTIVATIONS[spec.activation](),
        ]
        in_ch = out_ch
        layers.append(nn.MaxPool2d(2, ceil_mode=True))
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    if spec.dropout:
        layers.append(nn.Dropout(spec.dropout))
    layers.append(nn.Linear(in_ch, num_classes))
    return nn.Sequential(*layers)


_BUILDERS: dict[type, Callable[..., nn.Module]] = {MLPSpec: _mlp, CNNSpec: _cnn}
_SPEC_ADAPTER = TypeAdapter(StudentSpec)


def parse_spec(spec: dict | MLPSpec | CNNSpec) -> MLPSpec | CNNSpec:
    return spec if isinstance(spec, MLPSpec | CNNSpec) else _SPEC_ADAPTER.validate_python(spec)


def build_student(spec, input_shape, num_classes: int) -> nn.Module:
    parsed = parse_spec(spec)
    return _BUILDERS[type(parsed)](parsed, tuple(input_shape), num_classes)
