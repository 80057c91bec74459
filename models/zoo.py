"""The network zoo: students (and safetensors teachers) built from a spec, an input shape and a
number of classes. Module names are the architectures' own, so a torchvision state dict loads by
its canonical keys."""

from collections.abc import Callable

import torch
from pydantic import TypeAdapter
from torch import nn

from models.specs import ARCHS, AnySpec, CNNSpec, MLPSpec, StudentSpec, TorchvisionSpec

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


def _image_shape(arch: str, input_shape: tuple[int, ...]) -> int:
    if len(input_shape) != 3:
        raise ValueError(f"arch {arch!r} needs inputs shaped [channels, height, width], got {list(input_shape)}")
    return input_shape[0]


def _cnn(spec: CNNSpec, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    in_ch = _image_shape("cnn", input_shape)
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


def _replace_first_conv(conv: nn.Conv2d, in_channels: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                     bias=conv.bias is not None)


def _torchvision(spec: TorchvisionSpec, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    import torchvision

    in_ch = _image_shape(spec.arch, input_shape)
    model = getattr(torchvision.models, spec.arch)(weights=None, num_classes=num_classes)
    if in_ch != 3:
        if spec.arch.startswith("resnet"):
            model.conv1 = _replace_first_conv(model.conv1, in_ch)
        else:  # mobilenet_v3 and efficientnet start with features[0][0]
            model.features[0][0] = _replace_first_conv(model.features[0][0], in_ch)
    return model


_BUILDERS: dict[type, Callable[..., nn.Module]] = {MLPSpec: _mlp, CNNSpec: _cnn, TorchvisionSpec: _torchvision}
_SPEC_ADAPTER = TypeAdapter(StudentSpec)


def parse_spec(spec: dict | AnySpec) -> AnySpec:
    return spec if isinstance(spec, AnySpec) else _SPEC_ADAPTER.validate_python(spec)


def build_student(spec, input_shape, num_classes: int) -> nn.Module:
    parsed = parse_spec(spec)
    return _BUILDERS[type(parsed)](parsed, tuple(input_shape), num_classes)


def known_arch(arch: str) -> bool:
    return arch in ARCHS


def load_state_dict_into(model: nn.Module, path) -> nn.Module:
    """Load a safetensors state dict strictly; ValueError says which keys or shapes differ."""
    from safetensors.torch import load_file

    try:
        model.load_state_dict(load_file(str(path)), strict=True)
    except RuntimeError as exc:
        raise ValueError(" ".join(str(exc).split())[:500]) from None
    return model
