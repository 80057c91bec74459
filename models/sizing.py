"""A network's size computed from its spec, before anything is built: parameters, and the activations
one sample needs in a training forward pass (every layer's output, which backward keeps).

Pure arithmetic on Python integers (no torch), so ``hidden_sizes: [65536] * 16`` is refused in
microseconds with no memory spent, where building it would try to allocate 275 GB. Students and
safetensors teachers come from the same zoo, so the same numbers bound both.
"""

import math
from dataclasses import dataclass

from pydantic import TypeAdapter

from models.specs import AnySpec, CNNSpec, EmbeddingBagSpec, MLPSpec, StudentSpec, TorchvisionSpec

BYTES_PER_ELEMENT = 4  # float32; bf16/fp16 training keeps float32 master weights, so this bounds it too

# Defaults of the limits (the API passes its DISTILLERY_* settings instead).
MAX_STUDENT_PARAMETERS = 100_000_000
MAX_STUDENT_ACTIVATION_BYTES = 512 * 1024**2
MAX_NUM_CLASSES = 100_000
MAX_INPUT_ELEMENTS = 16 * 1024**2


@dataclass(frozen=True)
class _TorchvisionShape:
    """What a torchvision classifier's size depends on: measured once on torchvision's own builds
    (parameters at 3 input channels and 1000 classes, split into the parts that change)."""

    body_parameters: int  # everything but the first convolution and the last linear layer
    first_conv_per_channel: int  # weights of the first convolution per input channel (it has no bias)
    head_features: int  # inputs of the last linear layer
    activations_per_pixel: int  # output elements of every layer per input pixel (H × W), rounded up
    activations_fixed: int  # and those that do not grow with the input (heads, squeeze-excitation)


TORCHVISION_SHAPES = {
    "resnet18": _TorchvisionShape(11_167_104, 3_136, 512, 150, 1_600),
    "resnet34": _TorchvisionShape(21_275_264, 3_136, 512, 225, 1_600),
    "mobilenet_v3_small": _TorchvisionShape(1_517_424, 144, 1024, 82, 12_700),
    "efficientnet_b0": _TorchvisionShape(4_006_684, 288, 1280, 396, 31_000),
}


class NetworkTooLarge(ValueError):
    """A size over a limit; ``field`` names what to change (``student.hidden_sizes``, ``input_shape``,
    ``num_classes``, ...) and the message says by how much."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class NetworkSize:
    parameters: int
    activation_elements: int  # per sample

    @property
    def activation_bytes(self) -> int:
        return self.activation_elements * BYTES_PER_ELEMENT


_SPEC = TypeAdapter(StudentSpec)


def network_size(spec: dict | AnySpec, input_shape, num_classes: int) -> NetworkSize:
    """Raises ValueError when the architecture cannot take this input at all (a cnn on flat inputs)."""
    parsed = spec if isinstance(spec, AnySpec) else _SPEC.validate_python(spec)
    shape = tuple(int(d) for d in input_shape)
    if isinstance(parsed, MLPSpec):
        return _mlp(parsed, shape, num_classes)
    if isinstance(parsed, CNNSpec):
        return _cnn(parsed, shape, num_classes)
    if isinstance(parsed, EmbeddingBagSpec):
        return _embedding_bag(parsed, shape, num_classes)
    return _torchvision(parsed, shape, num_classes)


def _embedding_bag(spec: EmbeddingBagSpec, shape: tuple[int, ...], num_classes: int) -> NetworkSize:
    length = math.prod(shape)
    head = _mlp(MLPSpec(arch="mlp", hidden_sizes=spec.hidden_sizes, dropout=spec.dropout), (spec.embedding_dim,),
                num_classes)
    # the embedding table, and each id's embedding before pooling
    return NetworkSize(spec.num_embeddings * spec.embedding_dim + head.parameters,
                       length * spec.embedding_dim + head.activation_elements)


def _mlp(spec: MLPSpec, shape: tuple[int, ...], num_classes: int) -> NetworkSize:
    width = math.prod(shape)
    parameters, activations = 0, width  # the flattened input
    per_layer = 3 if spec.dropout else 2  # linear, activation, dropout outputs
    for hidden in spec.hidden_sizes:
        parameters += width * hidden + hidden
        activations += per_layer * hidden
        width = hidden
    parameters += width * num_classes + num_classes
    return NetworkSize(parameters, activations + num_classes)


def _image(arch: str, shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ValueError(f"arch {arch!r} needs inputs shaped [channels, height, width], got {list(shape)}")
    return shape  # type: ignore[return-value]


def _cnn(spec: CNNSpec, shape: tuple[int, ...], num_classes: int) -> NetworkSize:
    channels, height, width = _image("cnn", shape)
    k = spec.kernel_size
    parameters, activations = 0, channels * height * width
    for out in spec.channels:
        # conv (padding k // 2, no bias) + batch norm (weight, bias) + activation, then a 2×2 max pool.
        height, width = height + 2 * (k // 2) - k + 1, width + 2 * (k // 2) - k + 1
        parameters += channels * out * k * k + 2 * out
        activations += 3 * out * height * width
        height, width = math.ceil(height / 2), math.ceil(width / 2)
        activations += out * height * width
        channels = out
    activations += 2 * channels + (channels if spec.dropout else 0)  # average pool, flatten, dropout
    parameters += channels * num_classes + num_classes
    return NetworkSize(parameters, activations + num_classes)


def _torchvision(spec: TorchvisionSpec, shape: tuple[int, ...], num_classes: int) -> NetworkSize:
    channels, height, width = _image(spec.arch, shape)
    t = TORCHVISION_SHAPES[spec.arch]
    parameters = t.body_parameters + t.first_conv_per_channel * channels + t.head_features * num_classes + num_classes
    # Within 25% of what torchvision builds from 28×28 up (small inputs round up at every halving).
    activations = t.activations_per_pixel * height * width + t.activations_fixed
    return NetworkSize(parameters, channels * height * width + activations + num_classes)


def _limit(settings, name: str, default: int) -> int:
    return int(getattr(settings, name, None) or default)


def check_input(input_shape, num_classes: int | None, settings=None) -> None:
    """Bounds on what a network takes and gives, whatever its architecture."""
    max_classes = _limit(settings, "max_num_classes", MAX_NUM_CLASSES)
    if num_classes is not None and num_classes > max_classes:
        raise NetworkTooLarge(f"{num_classes} classes is more than the limit of {max_classes} "
                              "(DISTILLERY_MAX_NUM_CLASSES)", "num_classes")
    max_elements = _limit(settings, "max_input_elements", MAX_INPUT_ELEMENTS)
    elements = math.prod(int(d) for d in input_shape)
    if elements > max_elements:
        raise NetworkTooLarge(f"inputs shaped {list(input_shape)} have {elements} elements per sample, more than "
                              f"the limit of {max_elements} (DISTILLERY_MAX_INPUT_ELEMENTS)", "input_shape")


def check_network_size(spec: dict | AnySpec, input_shape, num_classes: int, settings=None,
                       *, field: str = "student") -> NetworkSize:
    """The network's size, or :class:`NetworkTooLarge` naming the field to change. ``settings`` is any
    object with the ``max_*`` attributes of the API's settings (None: the defaults above). ``field`` is
    where the spec sits in the request (``student`` in a job, ``arch_config`` for a teacher)."""
    check_input(input_shape, num_classes, settings)
    parsed = spec if isinstance(spec, AnySpec) else _SPEC.validate_python(spec)
    size = network_size(parsed, input_shape, num_classes)
    knob = {"mlp": "hidden_sizes", "cnn": "channels", "embedding_bag": "num_embeddings"}.get(parsed.arch, "arch")
    what = f"{field}.{knob}"
    smaller = f"make {knob} smaller" if knob != "arch" else "pick a smaller arch"
    max_parameters = _limit(settings, "max_student_parameters", MAX_STUDENT_PARAMETERS)
    if size.parameters > max_parameters:
        raise NetworkTooLarge(f"this {parsed.arch} would have {size.parameters:,} parameters for inputs shaped "
                              f"{list(input_shape)} and {num_classes} classes, more than the limit of "
                              f"{max_parameters:,} (DISTILLERY_MAX_STUDENT_PARAMETERS); {smaller}", what)
    max_bytes = _limit(settings, "max_student_activation_bytes", MAX_STUDENT_ACTIVATION_BYTES)
    if size.activation_bytes > max_bytes:
        raise NetworkTooLarge(f"this {parsed.arch} would need about {size.activation_bytes:,} bytes of activations "
                              f"per sample for inputs shaped {list(input_shape)}, more than the limit of "
                              f"{max_bytes:,} (DISTILLERY_MAX_STUDENT_ACTIVATION_BYTES); {smaller}, or use "
                              "smaller inputs", what)
    return size
