"""The network zoo: students (and safetensors teachers) built from a spec, an input shape and a
number of classes. Module names are the architectures' own, so a torchvision state dict loads by
its canonical keys."""

from collections.abc import Callable

import torch
from pydantic import TypeAdapter
from torch import nn

from models.specs import (
    ARCHS,
    INTEGER_INPUT_ARCHS,
    AnySpec,
    CNNSpec,
    EmbeddingBagSpec,
    MLPSpec,
    StudentSpec,
    TorchvisionSpec,
)
from models.text.students import TEXT_ARCHS

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
}


class FloatFlatten(nn.Flatten):
    """``nn.Flatten`` that also makes the inputs float32: an MLP student takes the teacher's dtype (float16,
    integers, booleans) as the teacher does. It has no weights, so state dicts are those of ``nn.Flatten``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x).float()


def _head(spec, width: int, num_classes: int) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for hidden in spec.hidden_sizes:
        layers += [nn.Linear(width, hidden), _ACTIVATIONS[spec.activation]()]
        if spec.dropout:
            layers.append(nn.Dropout(spec.dropout))
        width = hidden
    layers.append(nn.Linear(width, num_classes))
    return layers


def _mlp(spec: MLPSpec, input_shape: tuple[int, ...], num_classes: int, input_dtype: str = "float32") -> nn.Module:
    flatten = nn.Flatten() if input_dtype == "float32" else FloatFlatten()
    return nn.Sequential(flatten, *_head(spec, int(torch.Size(input_shape).numel()), num_classes))


class EmbeddingBag(nn.Module):
    """Ids [batch, length] → embeddings pooled over the row → MLP. Built from ``nn.Embedding`` and a
    reduction rather than ``nn.EmbeddingBag``, so that every export format (ONNX included) carries it as
    plain gathers and means."""

    def __init__(self, spec: EmbeddingBagSpec, num_classes: int):
        super().__init__()
        self.mode = spec.mode
        self.embedding = nn.Embedding(spec.num_embeddings, spec.embedding_dim)
        self.head = nn.Sequential(*_head(spec, spec.embedding_dim, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = self.embedding(x.long().flatten(1))
        if self.mode == "sum":
            pooled = e.sum(1)
        elif self.mode == "max":
            pooled = e.max(1).values
        else:
            pooled = e.mean(1)
        return self.head(pooled)


def _embedding_bag(spec: EmbeddingBagSpec, input_shape: tuple[int, ...], num_classes: int,
                   input_dtype: str = "int64") -> nn.Module:
    return EmbeddingBag(spec, num_classes)


def _image_shape(arch: str, input_shape: tuple[int, ...]) -> int:
    if len(input_shape) != 3:
        raise ValueError(f"arch {arch!r} needs inputs shaped [channels, height, width], got {list(input_shape)}")
    return input_shape[0]


def _cnn(spec: CNNSpec, input_shape: tuple[int, ...], num_classes: int, input_dtype: str = "float32") -> nn.Module:
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


def _torchvision(spec: TorchvisionSpec, input_shape: tuple[int, ...], num_classes: int,
                 input_dtype: str = "float32") -> nn.Module:
    import torchvision

    in_ch = _image_shape(spec.arch, input_shape)
    model = getattr(torchvision.models, spec.arch)(weights=None, num_classes=num_classes)
    if in_ch != 3:
        if spec.arch.startswith("resnet"):
            model.conv1 = _replace_first_conv(model.conv1, in_ch)
        else:  # mobilenet_v3 and efficientnet start with features[0][0]
            model.features[0][0] = _replace_first_conv(model.features[0][0], in_ch)
    return model


_BUILDERS: dict[type, Callable[..., nn.Module]] = {MLPSpec: _mlp, CNNSpec: _cnn, TorchvisionSpec: _torchvision,
                                                  EmbeddingBagSpec: _embedding_bag}
_SPEC_ADAPTER = TypeAdapter(StudentSpec)


def parse_spec(spec: dict | AnySpec) -> AnySpec:
    return spec if isinstance(spec, AnySpec) else _SPEC_ADAPTER.validate_python(spec)


def check_input_dtype(arch: str, input_dtype: str) -> None:
    """ValueError when the architecture cannot take the teacher's inputs: ids need an embedding, and an
    image network takes float32 pixels."""
    if arch in INTEGER_INPUT_ARCHS and input_dtype not in ("int64", "int32"):
        raise ValueError(f"arch {arch!r} embeds integer ids, but the teacher takes {input_dtype} inputs; use "
                         "arch 'mlp' for numbers")
    if arch not in INTEGER_INPUT_ARCHS and arch != "mlp" and input_dtype != "float32":
        raise ValueError(f"arch {arch!r} takes float32 images, but the teacher takes {input_dtype} inputs; use "
                         "arch 'mlp' (or 'embedding_bag' for ids)")


def build_student(spec, input_shape, num_classes: int, input_dtype: str = "float32", text: dict | None = None
                  ) -> nn.Module:
    """``text``: for the text archs (transformer, bilstm), the Hugging Face teacher's vocab_size, pad_token_id,
    max_position_embeddings or max_length, and class_names (its row's arch_config)."""
    parsed = parse_spec(spec)
    check_input_dtype(parsed.arch, input_dtype)
    if parsed.arch in TEXT_ARCHS:
        return _text_student(parsed, num_classes, text)
    return _BUILDERS[type(parsed)](parsed, tuple(input_shape), num_classes, input_dtype)


def _text_student(spec, num_classes: int, text: dict | None) -> nn.Module:
    from models.text.students import build_text_student

    if not text:
        raise ValueError(f"arch {spec.arch!r} is a text student: it needs a Hugging Face teacher (format "
                         "huggingface), whose tokenizer its ids come from")
    return build_text_student(spec, vocab_size=text["vocab_size"], num_labels=num_classes,
                              pad_token_id=text["pad_token_id"], max_positions=text_positions(text),
                              class_names=text.get("class_names"))


def text_positions(text: dict) -> int:
    """The student's positions: the teacher's, so exports take what the teacher took (at least max_length)."""
    return max(int(text.get("max_position_embeddings") or 0), int(text["max_length"]))


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
