"""Training one student: its step, which the epoch skeleton (``trainer.run``) drives. It knows losses only
by their named terms and data only as tensors.

Inputs, labels and the teacher's logits are held as tensors on the training device and batched
by index; the teacher's logits are computed once, before the first epoch, since the transfer set
is fed without random augmentation.
"""

import copy
from collections.abc import Callable

import torch
from torch import nn

from models.distill_config import DistillConfig
from models.lazy_inputs import is_lazy
from worker.engine.augment import augment
from worker.engine.evaluate import predict_logits
from worker.engine.losses import combine, grad_norm, make_loss
from worker.engine.trainer import GRAD_NORM_INTERVAL, run
from worker.engine.training import (
    Cancelled,
    Split,
    TrainingDiverged,
    TrainResult,
    autocast,
    fetcher,
    fits,
    flush_denormals,
    fuse,
    resolve_device,
    seed_everything,
)

# What callers take from here: the entry point, its data and result types, its errors.
__all__ = ["GRAD_NORM_INTERVAL", "Cancelled", "SingleStep", "Split", "TrainResult", "TrainingDiverged",
           "resolve_device", "teacher_logits", "train_student", "validation_split"]


def validation_split(n: int, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = int(round(n * fraction))
    if fraction > 0 and n - n_val < 1:
        n_val = n - 1
    return order[n_val:], order[:n_val]


@torch.no_grad()
def teacher_logits(teachers: list[nn.Module], x: torch.Tensor, *, device, batch_size: int = 1024) -> torch.Tensor:
    """All members' logits on ``x``: [members, N, classes]."""
    return torch.stack([predict_logits(t.to(device), x, batch_size=batch_size, device=device) for t in teachers])


def _term_grad_norms(names, params: list[torch.Tensor], partial: dict[str, tuple] | None) -> dict[str, float]:
    """Each weighted term's share of the gradient. The total's gradient is already in ``.grad``; every term
    but the last has had its own backward pass (``partial``), and the last one's gradient is the difference."""
    total = [p.grad for p in params]
    names = list(names)
    if not partial:  # a single term: its gradient is the total
        (name,) = names
        return {f"grad_norm_{name}": grad_norm(total)}
    rest = list(total)
    for grads in partial.values():
        rest = [None if t is None else t - (0 if g is None else g) for t, g in zip(rest, grads, strict=True)]
    (last,) = [n for n in names if n not in partial]
    return {**{f"grad_norm_{n}": grad_norm(g) for n, g in partial.items()}, f"grad_norm_{last}": grad_norm(rest)}


class SingleStep:
    """One student's step (``trainer.Step``, one reporter): its loss's terms, separate or stacked, against
    cached, online or streamed targets; augmentation, channels-last, compile; the automatic soft weight."""

    reporters = 1

    def __init__(self, make_student: Callable[[], nn.Module], train: Split, cfg: DistillConfig, *,
                 teachers: list[nn.Module] | None, max_device_bytes: int | None):
        self.cfg = cfg
        self.device = device = resolve_device(cfg.device)
        flush_denormals()
        seed_everything(cfg.seed)
        student = make_student().to(device)
        if cfg.channels_last and any(isinstance(m, nn.Conv2d) for m in student.modules()):
            student = student.to(memory_format=torch.channels_last)
        self.student = self.forward = student
        if cfg.compile:
            # Per-term gradient norms backpropagate each term with retain_graph, which compiled backward
            # graphs refuse while they donate their buffers.
            import torch._functorch.config as functorch_config

            functorch_config.donated_buffer = False
            self.forward = torch.compile(student)
        self.online = train.teacher_logits is None and bool(teachers)
        self.teachers = [t.to(device).eval() for t in teachers] if self.online else None
        if cfg.augmenting and train.x.dim() != 4:
            raise ValueError(f"augmentation needs image inputs [C, H, W]; these samples are {list(train.x.shape[1:])}")
        self.loss_fn = make_loss(cfg)
        # Cached teacher logits become soft targets once, here, rather than on every batch; where the loss
        # has a stacked form, targets and labels become that form's per-sample weights instead.
        self.fused = None
        if train.teacher_logits is not None:
            targets = self.loss_fn.targets(train.teacher_logits.to(device)).cpu()
            self.fused = fuse(self.loss_fn, targets, train.y, cfg.batch_size)
            train = Split(train.x, train.y, None if self.fused is not None else targets[None])
        # Data stays on the training device when it fits the budget; otherwise batches are copied over.
        fit = fits(train, device, max_device_bytes, 0 if self.fused is None else self.fused.nbytes())
        self.data_device = device if fit else torch.device("cpu")
        train = train.to(self.data_device)
        if self.fused is not None:
            self.fused.place(self.data_device, device)
        self.lazy = is_lazy(train.x)
        if self.data_device.type == "cpu" and device.type == "cuda" and not self.lazy:
            train = Split(*(None if t is None else t.pin_memory() for t in (train.x, train.y, train.teacher_logits)))
        self.train, self.samples = train, len(train)
        self.fetch = fetcher(self.data_device, device)
        self.params = [p for p in student.parameters() if p.requires_grad]

    def begin_epoch(self, epoch: int, order: torch.Tensor, gen: torch.Generator) -> None:
        self.student.train()
        self.weights = self.loss_fn.weights(epoch)
        self.gen = gen
        # Per-batch losses stay on the device, detached, and are summed once the epoch ends.
        self.seen: dict[str, list[torch.Tensor]] = {}
        self.sizes: list[int] = []
        self.streamed = (self.train.x.batches(list(order.split(self.cfg.batch_size)),
                                              pin_memory=self.device.type == "cuda") if self.lazy else None)

    def loss(self, epoch: int, idx: torch.Tensor) -> torch.Tensor:
        cfg, train, fetch, fused = self.cfg, self.train, self.fetch, self.fused
        # index_select, not x[idx]: the same rows, at a fifth of the cost of advanced indexing's dispatch
        x = fetch(next(self.streamed) if self.lazy else train.x.index_select(0, idx))  # streamed: on the host
        y = None if train.y is None or fused is not None else fetch(train.y.index_select(0, idx))
        targets = None if train.teacher_logits is None else fetch(train.teacher_logits[0].index_select(0, idx))
        stacked = None if fused is None else fetch(fused.batch(idx))
        if cfg.augmenting:
            x = augment(x, cfg.augmentation, self.gen)
        if cfg.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast(cfg, self.device):
            if self.online:
                with torch.no_grad():
                    targets = self.loss_fn.targets(torch.stack([t(x).float() for t in self.teachers]))
            logits = self.forward(x)
        self.size = len(idx)
        if fused is not None:
            self.sums = fused(logits, stacked)
            self.names = fused.names
            return fused.loss(self.sums, self.size)
        self.terms = self.loss_fn(logits, targets, y)
        self.names = list(self.terms)
        return combine(self.terms, self.weights)

    def before_backward(self, total: torch.Tensor, epoch: int, measure: bool) -> torch.Tensor:
        fused = self.fused
        if fused is not None:
            record = (("sums", self.sums),)
        else:
            if measure and self.cfg.auto_soft_weight:
                chosen = self.loss_fn.auto_soft_weight(self.terms, self.params)
                if chosen is not None:  # from this step on, until the next measurement
                    self.loss_fn.soft_weight = chosen
                    self.weights = self.loss_fn.weights(epoch)
                    total = combine(self.terms, self.weights)
            record = (*self.terms.items(), ("total", total))
        self.partial = None
        if measure and len(self.names) > 1:
            self.partial = {}
            for k, name in enumerate(self.names[:-1]):
                weighted = (fused.loss(self.sums[k:k + 1], self.size) if fused is not None
                            else self.weights[name] * self.terms[name])
                self.partial[name] = torch.autograd.grad(weighted, self.params, retain_graph=True, allow_unused=True)
        self.sizes.append(self.size)
        for name, value in record:
            self.seen.setdefault(name, []).append(value.detach())
        return total

    def grad_norms(self) -> list[dict[str, float]]:
        return [_term_grad_norms(self.names, self.params, self.partial)]

    def clip(self, max_norm: float) -> None:
        nn.utils.clip_grad_norm_(self.params, max_norm)

    def epoch_losses(self) -> list[dict[str, float]]:
        seen = self.seen
        if self.fused is not None:
            return [self.fused.epoch_terms(torch.stack(seen["sums"]).sum(0))]
        weights_n = torch.tensor(self.sizes, dtype=torch.float32, device=self.device)
        return [{k: float((torch.stack(v).float() * weights_n).sum()) / self.samples for k, v in seen.items()}]

    def epoch_extras(self, reporter: int) -> dict[str, float]:
        # The latest soft weight chosen, in force as the epoch ended.
        return {"soft_weight": self.loss_fn.soft_weight} if self.cfg.auto_soft_weight else {}

    def val_logits(self, val: Split) -> torch.Tensor:
        return predict_logits(self.student, val.x, batch_size=max(self.cfg.batch_size, 1024), device=self.device)[None]

    def best_state(self, reporter: int) -> dict:
        return copy.deepcopy(self.student.state_dict())

    def model(self, reporter: int, state: dict) -> nn.Module:
        self.student.load_state_dict(state)
        return self.student.eval()

    def state_dict(self) -> dict:
        return {"student": self.student.state_dict(), "soft_weight": self.loss_fn.soft_weight}

    def load_state_dict(self, state: dict) -> None:
        self.student.load_state_dict(state["student"])
        self.loss_fn.soft_weight = state.get("soft_weight", self.loss_fn.soft_weight)


def train_student(
    make_student: Callable[[], nn.Module],
    train: Split,
    val: Split | None,
    cfg: DistillConfig,
    *,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    on_step: Callable[[int, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    teachers: list[nn.Module] | None = None,
    max_device_bytes: int | None = None,
    on_checkpoint: Callable[[dict], None] | None = None,
    resume: dict | None = None,
) -> TrainResult:
    """Train a student; return it with the weights of its best validation epoch loaded.

    The teacher's logits come with ``train`` (precomputed: no augmentation) or, when ``train`` has
    none and ``teachers`` are given, are computed online on each (augmented) batch.

    ``on_checkpoint`` receives, after every epoch, everything needed to go on exactly where the run
    stands (weights, optimizer, schedule, random state, best epoch so far); passing that back as
    ``resume`` continues the run as if it had never stopped.
    """
    step = SingleStep(make_student, train, cfg, teachers=teachers, max_device_bytes=max_device_bytes)
    report = None if on_epoch is None else (lambda reporter, epoch, metrics: on_epoch(epoch, metrics))
    (result,) = run(step, cfg, val, on_epoch=report, on_step=on_step, should_stop=should_stop,
                    on_checkpoint=on_checkpoint, resume=resume)
    return result
