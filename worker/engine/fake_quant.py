"""Fake quantization that mirrors what ONNX Runtime's static quantization (models/int8.py) will do to the
exported student, so that quantization-aware fine-tuning trains against the rounding the INT8 file will have.

models/int8.py quantizes in QDQ format: the input of every Linear, Conv and average pool is int8 affine
with its range observed on the calibration samples (min and max, widened to hold 0), every weight int8
symmetric per tensor (scale max|w| / 127), biases and the layers' outputs stay float (a MaxPool's output is
quantized too: it is the next layer's input). Each ``FakeQuantized`` layer does exactly that around its
float layer; the rounding passes gradients straight through (the estimator of Bengio et al. 2013, as
``torch.fake_quantize_per_tensor_affine`` defines it: zero outside the range).

Batch norms after convolutions are folded into them first, as the ONNX export does, so that the weights
quantized here are the weights the INT8 file holds. tests/unit/test_quantization_aware.py checks that a
zoo MLP and CNN fake-quantized here answer as their INT8 files run as written (ORT's optimized session
fuses the QDQ pairs into integer kernels whose rounding differs slightly).
"""

import copy

import torch
from torch import nn

QMIN, QMAX = -128, 127  # int8 activations
WEIGHT_QMAX = 127  # int8 symmetric weights: [-127, 127], zero point 0, as ORT's symmetric QInt8
_EPS = 1e-12


def activation_qparams(lo: float, hi: float) -> tuple[float, int]:
    """ORT's asymmetric int8 parameters for an observed range: the range always holds 0."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / (QMAX - QMIN)
    if scale <= _EPS:
        return 1.0, 0
    zero_point = int(round(QMIN - lo / scale))
    return scale, max(QMIN, min(QMAX, zero_point))


def fake_quantize_weight(w: torch.Tensor) -> torch.Tensor:
    scale = float(w.detach().abs().max()) / WEIGHT_QMAX
    if scale <= _EPS:
        return w
    return torch.fake_quantize_per_tensor_affine(w, scale, 0, -WEIGHT_QMAX, WEIGHT_QMAX)


# The layers whose inputs ORT quantizes (models/int8.QUANTIZED_OPS less the activations and MaxPool, whose
# input here is a float activation's output)
WEIGHTED = (nn.Linear, nn.Conv2d)
POOLS = (nn.AdaptiveAvgPool2d, nn.AvgPool2d)


class FakeQuantized(nn.Module):
    """A Linear or Conv2d whose input and weight are rounded as the INT8 file will round them (an average
    pool: its input).

    While ``observing``, forward calls widen the input's observed range (and run the float layer); otherwise
    the range stays as observed. ``inner`` keeps the float weights the rounding is computed from: they are
    what the export writes, and ORT rounds them the same way again.
    """

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner
        self.observing = False
        self.register_buffer("lo", torch.tensor(float("inf")))
        self.register_buffer("hi", torch.tensor(float("-inf")))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.observing:
            self.lo = torch.minimum(self.lo, x.detach().min().float())
            self.hi = torch.maximum(self.hi, x.detach().max().float())
            return self.inner(x)
        if torch.isfinite(self.lo):
            scale, zero_point = activation_qparams(float(self.lo), float(self.hi))
            x = torch.fake_quantize_per_tensor_affine(x.float(), scale, zero_point, QMIN, QMAX)
        if not isinstance(self.inner, WEIGHTED):
            return self.inner(x)
        weight = fake_quantize_weight(self.inner.weight)
        if isinstance(self.inner, nn.Linear):
            return nn.functional.linear(x, weight, self.inner.bias)
        return self.inner._conv_forward(x, weight, self.inner.bias)


def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """The convolution that computes conv then bn (with its running statistics), as the export folds them."""
    folded = copy.deepcopy(conv)
    with torch.no_grad():
        std = torch.sqrt(bn.running_var + bn.eps)
        gamma = bn.weight if bn.affine else torch.ones_like(std)
        beta = bn.bias if bn.affine else torch.zeros_like(std)
        folded.weight.copy_(conv.weight * (gamma / std).reshape(-1, 1, 1, 1))
        bias = conv.bias if conv.bias is not None else torch.zeros_like(std)
        folded.bias = nn.Parameter((bias - bn.running_mean) * gamma / std + beta)
    return folded


def _fold_batch_norms(module: nn.Module) -> None:
    for child in module.children():
        _fold_batch_norms(child)
    if isinstance(module, nn.Sequential):
        names = list(module._modules)
        for a, b in zip(names, names[1:], strict=False):
            conv, bn = module._modules[a], module._modules[b]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                module._modules[a], module._modules[b] = _fold(conv, bn), nn.Identity()


def unsupported(model: nn.Module) -> str | None:
    """Why ``prepare`` cannot mirror this network's quantization (a batch norm it cannot fold), or None."""
    probe = copy.deepcopy(model)
    _fold_batch_norms(probe)
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in probe.modules()):
        return "it has batch norms that do not directly follow a convolution in a Sequential"
    return None


def _wrap(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, WEIGHTED + POOLS):
            module._modules[name] = FakeQuantized(child)
        else:
            _wrap(child)


def prepare(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with its batch norms folded and every Linear, Conv2d and average pool
    fake-quantized."""
    model = copy.deepcopy(model).cpu().eval()
    reason = unsupported(model)
    if reason:
        raise ValueError(f"quantization-aware training cannot mirror this student: {reason}")
    _fold_batch_norms(model)
    _wrap(model)
    return model


def layers(model: nn.Module) -> list[FakeQuantized]:
    return [m for m in model.modules() if isinstance(m, FakeQuantized)]


@torch.no_grad()
def calibrate(model: nn.Module, samples: torch.Tensor, batch: int = 32) -> None:
    """Observe every input range afresh on ``samples``, in batches, as ORT's MinMax calibration does: on the
    float network (it runs the fp32 file with every tensor's min and max as extra outputs)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    quantized = layers(model)
    for layer in quantized:
        layer.lo.fill_(float("inf"))
        layer.hi.fill_(float("-inf"))
        layer.observing = True
    try:
        for i in range(0, len(samples), batch):
            model(samples[i:i + batch].to(device))
    finally:
        for layer in quantized:
            layer.observing = False
        model.train(was_training)


def strip(model: nn.Module) -> nn.Module:
    """The float network under the fake quantization: what is exported, and quantized by ORT."""
    model = copy.deepcopy(model)

    def unwrap(module: nn.Module) -> None:
        for name, child in module.named_children():
            if isinstance(child, FakeQuantized):
                module._modules[name] = child.inner
            else:
                unwrap(child)

    unwrap(model)
    return model
