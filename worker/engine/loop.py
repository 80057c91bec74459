"""The training loop. It knows losses only by their named terms and data only as tensors.

Inputs, labels and the teacher's logits are held as tensors on the training device and batched
by index; the teacher's logits are computed once, before the first epoch, since the transfer set
is fed without random augmentation.
"""

import contextlib
import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from models.distill_config import DistillConfig
from models.lazy_inputs import is_lazy
from worker.engine.augment import augment
from worker.engine.distributed import Rank
from worker.engine.evaluate import expected_calibration_error, predict_logits
from worker.engine.losses import combine, grad_norm, make_loss

# Each term's gradient norm costs one extra backward pass, so it is measured on each epoch's first batch
# and every GRAD_NORM_INTERVAL steps after it (about 1% extra work); an epoch reports the latest
# measurement taken in that epoch, never one carried over from an earlier epoch.
GRAD_NORM_INTERVAL = 100


def measures_grad_norms(epoch: int, batch: int) -> bool:
    """Whether batch ``batch`` (from 0) of ``epoch`` measures the per-term gradient norms."""
    return batch % GRAD_NORM_INTERVAL == 0
CANCEL_CHECK_EVERY = 20  # steps between checks of the cancel flag
FINITE_CHECK_EVERY_CUDA = 25  # reading the loss forces a device sync; on the CPU it is checked every step


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


def _fits(split: Split, device: torch.device, budget: int | None, extra: int = 0) -> bool:
    if is_lazy(split.x):
        return False  # streamed inputs stay where they are read
    if device.type == "cpu" or budget is None:
        return True
    size = sum(t.numel() * t.element_size() for t in (split.x, split.y, split.teacher_logits) if t is not None)
    return size + extra <= budget


def _identity(t: torch.Tensor) -> torch.Tensor:
    return t


def _copier(device: torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
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


def _optimizer(params, cfg: DistillConfig) -> torch.optim.Optimizer:
    """The configured optimizer, fused (one kernel per parameter) where this torch has a fused form for the
    parameters' device: on the CPU the default, a loop of separate updates per parameter, took a tenth of a
    small student's step at batch 64 (bench/batch_sizes.py; README, Measured results)."""
    params = list(params)
    fused = {"fused": True} if _fusable(params) else {}
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.learning_rate, momentum=cfg.momentum,
                               nesterov=cfg.nesterov and cfg.momentum > 0, weight_decay=cfg.weight_decay, **fused)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay, **fused)
    return torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay, **fused)


FUSED_OPTIMIZER_DEVICES = ("cpu", "cuda")


def _fusable(params: list[torch.Tensor]) -> bool:
    return bool(params) and all(p.device.type in FUSED_OPTIMIZER_DEVICES and p.is_floating_point() for p in params)


def _scheduler(opt, cfg: DistillConfig, steps_per_epoch: int):
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


def _autocast(cfg: DistillConfig, device: torch.device):
    if cfg.precision == "fp32":
        return contextlib.nullcontext()  # entering a disabled autocast costs as much as a small kernel
    if cfg.precision == "fp16" and device.type != "cuda":
        raise RuntimeError("precision 'fp16' needs a CUDA device; use 'bf16' or 'fp32' on the CPU")
    dtype = torch.bfloat16 if cfg.precision == "bf16" else torch.float16
    return torch.autocast(device.type, dtype=dtype)


def _check_finite(loss: torch.Tensor, epoch: int, step: int) -> None:
    value = float(loss.detach())
    if not math.isfinite(value):
        raise TrainingDiverged(
            f"the loss became {value} in epoch {epoch}, by step {step}; "
            "lower learning_rate, set grad_clip, or use precision 'fp32'"
        )


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


def epoch_metrics(losses: dict[str, float], norms: dict[str, float], learning_rate: float, samples: int,
                  elapsed: float, epoch: int, steps: int) -> dict[str, float]:
    """An epoch's reported metrics from its mean losses (``total`` included); fails a diverged run."""
    _check_finite(torch.tensor(losses["total"]), epoch, steps)
    return {**{f"{k}_loss": v for k, v in losses.items()}, **norms, "learning_rate": learning_rate,
            "samples_per_second": samples / elapsed if elapsed > 0 else float("nan")}


@torch.no_grad()
def _validate(model: nn.Module, val: Split, batch_size: int, device) -> dict[str, float]:
    return validation_metrics(predict_logits(model, val.x, batch_size=max(batch_size, 1024), device=device), val)


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


def _fuse(loss_fn, targets: torch.Tensor, labels: torch.Tensor | None, batch_size: int):
    size = (1 if labels is None else 2) * targets.shape[0] * targets.shape[-1] * 4
    if size > FUSED_TARGETS_MAX_BYTES:
        return None
    return loss_fn.fuse(targets, None if labels is None else labels.to(targets.device), batch_size)


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
    rank: Rank | None = None,
) -> TrainResult:
    """Train a student; return it with the weights of its best validation epoch loaded.

    The teacher's logits come with ``train`` (precomputed: no augmentation) or, when ``train`` has
    none and ``teachers`` are given, are computed online on each (augmented) batch.

    ``on_checkpoint`` receives, after every epoch, everything needed to go on exactly where the run
    stands (weights, optimizer, schedule, random state, best epoch so far); passing that back as
    ``resume`` continues the run as if it had never stopped.

    ``rank``: this process is one of several training the run together (worker/engine/distributed.py);
    each trains on its shard of every epoch and the epoch's losses are summed over all of them.
    """
    device = resolve_device(cfg.device) if rank is None else rank.device
    flush_denormals()
    seed_everything(cfg.seed)
    student = make_student().to(device)
    if cfg.channels_last and any(isinstance(m, nn.Conv2d) for m in student.modules()):
        student = student.to(memory_format=torch.channels_last)
    forward = student
    if cfg.compile:
        # Per-term gradient norms backpropagate each term with retain_graph, which compiled backward
        # graphs refuse while they donate their buffers.
        import torch._functorch.config as functorch_config

        functorch_config.donated_buffer = False
        forward = torch.compile(student)
    if rank is not None:  # ddp: gradients averaged over the ranks; ``student`` stays the plain module
        forward = rank.wrap(student)
    online = train.teacher_logits is None and bool(teachers)
    if online:
        teachers = [t.to(device).eval() for t in teachers]
    if cfg.augmenting and train.x.dim() != 4:
        raise ValueError(f"augmentation needs image inputs [C, H, W]; these samples are {list(train.x.shape[1:])}")
    loss_fn = make_loss(cfg)
    # Cached teacher logits become soft targets once, here, rather than on every batch; where the loss
    # has a stacked form, targets and labels become that form's per-sample weights instead.
    fused = None
    if train.teacher_logits is not None:
        targets = loss_fn.targets(train.teacher_logits.to(device)).cpu()
        fused = _fuse(loss_fn, targets, train.y, cfg.batch_size)
        train = Split(train.x, train.y, None if fused is not None else targets[None])
    # Data stays on the training device when it fits the budget; otherwise batches are copied over.
    fits = _fits(train, device, max_device_bytes, 0 if fused is None else fused.nbytes())
    data_device = device if fits else torch.device("cpu")
    train = train.to(data_device)
    if fused is not None:
        fused.place(data_device, device)
    lazy = is_lazy(train.x)
    if data_device.type == "cpu" and device.type == "cuda" and not lazy:
        train = Split(*(None if t is None else t.pin_memory() for t in (train.x, train.y, train.teacher_logits)))
    val = val.to(device) if val is not None and len(val) else None
    params = [p for p in student.parameters() if p.requires_grad]
    opt = _optimizer(params, cfg)
    per_epoch = len(train) if rank is None else rank.samples(len(train))  # ddp: this rank's shard
    steps_per_epoch = math.ceil(per_epoch / cfg.batch_size)
    sched = None if cfg.schedule == "constant" and not cfg.warmup_epochs else _scheduler(opt, cfg, steps_per_epoch)
    finite_every = 1 if device.type == "cpu" else FINITE_CHECK_EVERY_CUDA
    scaler = torch.amp.GradScaler("cuda") if cfg.precision == "fp16" and device.type == "cuda" else None
    gen = torch.Generator().manual_seed(cfg.seed)

    best = Best(cfg.early_stopping_patience)
    history: list[dict] = []
    step = 0
    stopped_early = False
    norms: dict[str, float] = {}
    first_epoch = 1
    if resume is not None:
        student.load_state_dict(resume["student"])
        opt.load_state_dict(resume["optimizer"])
        if sched is not None:
            sched.load_state_dict(resume["scheduler"])
        gen.set_state(resume["generator"])
        torch.set_rng_state(resume["torch_rng"])
        best = Best(cfg.early_stopping_patience, resume["best_score"], resume["best_epoch"], resume["best_state"],
                    resume["since_best"])
        history, step, norms = resume["history"], resume["step"], resume["norms"]
        loss_fn.soft_weight = resume.get("soft_weight", loss_fn.soft_weight)
        first_epoch = resume["epoch"] + 1
    for epoch in range(first_epoch, cfg.epochs + 1):
        student.train()
        weights = loss_fn.weights(epoch)
        # Per-batch losses stay on the device, detached, and are summed once the epoch ends.
        seen: dict[str, list[torch.Tensor]] = {}
        norms = {}
        sizes: list[int] = []
        lr_at_start = opt.param_groups[0]["lr"]
        started = time.perf_counter()
        order = torch.randperm(len(train), generator=gen) if rank is None else rank.shard(len(train), epoch, cfg.seed)
        chunks = order.split(cfg.batch_size)
        streamed = train.x.batches(list(chunks), pin_memory=device.type == "cuda") if lazy else None
        # Each call costs as much as a small kernel, so a copy that would be a no-op is not made at all.
        fetch = _identity if data_device == device else _copier(device)
        for i, idx in enumerate(order.to(data_device).split(cfg.batch_size)):
            # index_select, not x[idx]: the same rows, at a fifth of the cost of advanced indexing's dispatch
            x = fetch(next(streamed) if lazy else train.x.index_select(0, idx))  # streamed batches: on the host
            y = None if train.y is None or fused is not None else fetch(train.y.index_select(0, idx))
            targets = None if train.teacher_logits is None else fetch(train.teacher_logits[0].index_select(0, idx))
            stacked = None if fused is None else fetch(fused.batch(idx))
            if cfg.augmenting:
                x = augment(x, cfg.augmentation, gen)
            if cfg.channels_last and x.dim() == 4:
                x = x.contiguous(memory_format=torch.channels_last)
            with _autocast(cfg, device):
                if online:
                    with torch.no_grad():
                        targets = loss_fn.targets(torch.stack([t(x).float() for t in teachers]))
                logits = forward(x)
            if fused is not None:
                sums = fused(logits, stacked)
                total = fused.loss(sums, len(idx))
                names = fused.names
                record = (("sums", sums),)
            else:
                terms = loss_fn(logits, targets, y)
                total = combine(terms, weights)
                names = list(terms)
                record = (*terms.items(), ("total", total))
            if (i + 1) % finite_every == 0:
                _check_finite(total, epoch, i + 1)
            measure = measures_grad_norms(epoch, i)
            if measure and cfg.auto_soft_weight and fused is None:
                chosen = loss_fn.auto_soft_weight(terms, params)
                if chosen is not None:  # from this step on, until the next measurement
                    loss_fn.soft_weight = chosen
                    weights = loss_fn.weights(epoch)
                    total = combine(terms, weights)
                    record = (*terms.items(), ("total", total))
            partial = None
            if measure and len(names) > 1:
                partial = {}
                for k, name in enumerate(names[:-1]):
                    weighted = fused.loss(sums[k:k + 1], len(idx)) if fused is not None else weights[name] * terms[name]
                    partial[name] = torch.autograd.grad(weighted, params, retain_graph=True, allow_unused=True)
                    if rank is not None:
                        partial[name] = rank.average(partial[name])
            opt.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(total).backward()
                scaler.unscale_(opt)
            else:
                total.backward()
            if measure:
                norms.update(_term_grad_norms(names, params, partial))
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            if scaler is not None:
                scaler.step(opt)
                scaler.update()
            else:
                opt.step()
            if sched is not None:
                sched.step()
            sizes.append(len(idx))
            for name, value in record:
                seen.setdefault(name, []).append(value.detach())
            step += 1
            if on_step is not None:
                on_step(epoch, i + 1, steps_per_epoch)
            if should_stop is not None and step % CANCEL_CHECK_EVERY == 0 and should_stop():
                raise Cancelled()
        if device.type == "cuda":
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - started
        samples = len(train)
        if rank is not None:  # ddp: every rank's sums, reduced; only rank 0 has hooks that record them
            means, samples = rank.epoch_means(seen, sizes, fused)
        elif fused is not None:
            means = fused.epoch_terms(torch.stack(seen["sums"]).sum(0))
        else:
            weights_n = torch.tensor(sizes, dtype=torch.float32, device=device)
            means = {k: float((torch.stack(v).float() * weights_n).sum()) / len(train) for k, v in seen.items()}
        metrics = epoch_metrics(means, norms, lr_at_start, samples, elapsed, epoch, steps_per_epoch)
        if cfg.auto_soft_weight:
            metrics["soft_weight"] = loss_fn.soft_weight  # the latest chosen, in force as the epoch ended
        if val is not None:
            metrics.update(_validate(student, val, cfg.batch_size, device))
        history.append({"epoch": epoch, **metrics})

        stop_now = best.update(epoch, metrics, lambda: copy.deepcopy(student.state_dict()))
        if rank is not None:
            stop_now = rank.agree(stop_now)
        if on_checkpoint is not None and not stop_now and epoch < cfg.epochs:
            on_checkpoint({
                "epoch": epoch, "student": student.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": None if sched is None else sched.state_dict(), "generator": gen.get_state(),
                "torch_rng": torch.get_rng_state(), "best_score": best.score, "best_epoch": best.epoch,
                "best_state": best.state, "since_best": best.since, "history": history, "step": step,
                "norms": norms, "soft_weight": loss_fn.soft_weight,
            })
        if on_epoch is not None:
            on_epoch(epoch, metrics)
        if should_stop is not None and should_stop():
            raise Cancelled()
        if stop_now:
            stopped_early = True
            break

    student.load_state_dict(best.state)
    return TrainResult(student.eval(), best.epoch, len(history), history, stopped_early)
