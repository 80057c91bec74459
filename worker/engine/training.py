"""What every training run is made of, whichever step it takes: the data split, the best epoch, the
result; the device, seed, optimizer, schedule and precision from a configuration; the finite check; the
epoch's reported metrics and the validation metrics; stacked loss targets.

The epoch skeleton (``trainer.py``) and both steps (``loop.py``: one student; ``members.py``: sweep
members batched) take these from here; none of them imports another module's private names.
"""

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from models.distill_config import DistillConfig
from models.lazy_inputs import is_lazy
from worker.engine.evaluate import expected_calibration_error


class TrainingDiverged(RuntimeError):
    pass


class Cancelled(Exception):
    pass


@dataclass
class Split:
    x: torch.Tensor
    y: torch.Tensor | None = None
    teacher_logits: torch.Tensor | None = None  # [members, N, classes]

    def __len__(self) -> int:
        return len(self.x)

    def subset(self, idx: torch.Tensor) -> "Split":
        return Split(
            self.x[idx],
            None if self.y is None else self.y[idx],
            None if self.teacher_logits is None else self.teacher_logits[:, idx],
        )

    def to(self, device) -> "Split":
        def move(t):
            return None if t is None else t.to(device, non_blocking=True)

        return Split(move(self.x), move(self.y), move(self.teacher_logits))


@dataclass
class Best:
    """The best validation epoch so far, and whether early stopping's patience has run out."""

    patience: int
    score: float = -math.inf
    epoch: int = 0
    state: dict | None = None
    since: int = 0

    def update(self, epoch: int, metrics: dict[str, float], state: Callable[[], dict]) -> bool:
        """Record an epoch's metrics (``state`` is called when it is the best); True: stop early."""
        score = metrics.get("val_accuracy", metrics.get("val_teacher_agreement"))
        if score is None or score > self.score:
            self.score = -math.inf if score is None else score
            self.epoch, self.since, self.state = epoch, 0, state()
        else:
            self.since += 1
        return bool(self.patience and self.since >= self.patience)


@dataclass
class TrainResult:
    model: nn.Module
    best_epoch: int
    epochs_run: int
    history: list[dict] = field(default_factory=list)
    stopped_early: bool = False


def fits(split: Split, device: torch.device, budget: int | None, extra: int = 0) -> bool:
    """Whether ``split`` (and ``extra`` bytes more) may be held on ``device`` within ``budget``."""
    if is_lazy(split.x):
        return False  # streamed inputs stay where they are read
    if device.type == "cpu" or budget is None:
        return True
    size = sum(t.numel() * t.element_size() for t in (split.x, split.y, split.teacher_logits) if t is not None)
    return size + extra <= budget


def fetcher(data_device: torch.device, device: torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
    """How a batch gets from where the data is held to the training device. Each copy costs as much as a
    small kernel, so one that would be a no-op is not made at all."""
    if data_device == device:
        return lambda t: t
    return lambda t: t.to(device, non_blocking=True)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for, but this worker has no CUDA device; use 'auto' or 'cpu'")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)


def flush_denormals() -> None:
    """Treat subnormal floats as zero on the CPU. A confident teacher at T = 1 drives the student's
    probabilities, and then its gradients and momentum, below float32's smallest normal number, where every
    operation is dozens of times slower: a digits student at T = 1 took 2.0 s for three epochs and 0.07 s
    with subnormals flushed (T = 2: 0.06 s). Values under 1e-38 change no result that is reported."""
    torch.set_flush_denormal(True)


FUSED_OPTIMIZER_DEVICES = ("cpu", "cuda")


def make_optimizer(params, cfg: DistillConfig) -> torch.optim.Optimizer:
    """The configured optimizer, fused (one kernel per parameter) where this torch has a fused form for the
    parameters' device: on the CPU the default, a loop of separate updates per parameter, took a tenth of a
    small student's step at batch 64 (bench/batch_sizes.py; docs/benchmarks.md)."""
    params = list(params)
    fusable = bool(params) and all(p.device.type in FUSED_OPTIMIZER_DEVICES and p.is_floating_point()
                                   for p in params)
    fused = {"fused": True} if fusable else {}
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.learning_rate, momentum=cfg.momentum,
                               nesterov=cfg.nesterov and cfg.momentum > 0, weight_decay=cfg.weight_decay, **fused)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay, **fused)
    return torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay, **fused)


def make_scheduler(opt, cfg: DistillConfig, steps_per_epoch: int):
    """The configured schedule, stepped once a batch; None for a constant rate without warm-up."""
    if cfg.schedule == "constant" and not cfg.warmup_epochs:
        return None
    total = cfg.epochs * steps_per_epoch
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.learning_rate, total_steps=total)
    warmup = cfg.warmup_epochs * steps_per_epoch

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if cfg.schedule == "step":
            return cfg.gamma ** ((step // steps_per_epoch) // cfg.step_size)
        if cfg.schedule == "cosine":
            progress = (step - warmup) / max(1, total - warmup)
            return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
        return 1.0

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def autocast(cfg: DistillConfig, device: torch.device):
    if cfg.precision == "fp32":
        return contextlib.nullcontext()  # entering a disabled autocast costs as much as a small kernel
    if cfg.precision == "fp16" and device.type != "cuda":
        raise RuntimeError("precision 'fp16' needs a CUDA device; use 'bf16' or 'fp32' on the CPU")
    dtype = torch.bfloat16 if cfg.precision == "bf16" else torch.float16
    return torch.autocast(device.type, dtype=dtype)


def check_finite(loss: torch.Tensor, epoch: int, step: int) -> None:
    value = float(loss.detach())
    if not math.isfinite(value):
        raise TrainingDiverged(
            f"the loss became {value} in epoch {epoch}, by step {step}; "
            "lower learning_rate, set grad_clip, or use precision 'fp32'"
        )


def epoch_metrics(losses: dict[str, float], norms: dict[str, float], learning_rate: float, samples: int,
                  elapsed: float, epoch: int, steps: int) -> dict[str, float]:
    """An epoch's reported metrics from its mean losses (``total`` included); fails a diverged run."""
    check_finite(torch.tensor(losses["total"]), epoch, steps)
    return {**{f"{k}_loss": v for k, v in losses.items()}, **norms, "learning_rate": learning_rate,
            "samples_per_second": samples / elapsed if elapsed > 0 else float("nan")}


def validation_metrics(logits: torch.Tensor, val: Split) -> dict[str, float]:
    probs = logits.float().cpu().softmax(dim=1)
    pred = probs.argmax(dim=1)
    out: dict[str, float] = {}
    if val.y is not None:
        y = val.y.cpu()
        out["val_accuracy"] = float((pred == y).float().mean())
        # Finer than accuracy, which moves in steps of one sample: what sweeps and searches choose on.
        out["val_cross_entropy"] = float(torch.nn.functional.cross_entropy(logits.float().cpu(), y))
        out["val_ece"] = expected_calibration_error(probs, y)
    if val.teacher_logits is not None:
        teacher_pred = val.teacher_logits.float().softmax(-1).mean(0).argmax(-1).cpu()
        out["val_teacher_agreement"] = float((pred == teacher_pred).float().mean())
    return out


# Stacked targets hold a row per class for every sample and term; above this size the terms are
# computed apart, from the soft targets alone, rather than spend host or device memory on one-hot rows.
FUSED_TARGETS_MAX_BYTES = 1 << 30


def fuse(loss_fn, targets: torch.Tensor, labels: torch.Tensor | None, batch_size: int):
    """The loss's stacked form over fixed targets (``StackedCrossEntropy``); None where it has none or
    where it would pass ``FUSED_TARGETS_MAX_BYTES``."""
    size = (1 if labels is None else 2) * targets.shape[0] * targets.shape[-1] * 4
    if size > FUSED_TARGETS_MAX_BYTES:
        return None
    return loss_fn.fuse(targets, None if labels is None else labels.to(targets.device), batch_size)
