"""The one epoch and step skeleton that trains one student (``loop.py``) and sweep members batched
(``members.py``).

The skeleton owns what both share: the shuffled order of every epoch, the optimizer, its schedule and
the fp16 loss scaler; each step's finite check, gradient-norm cadence, backward pass, clipping call,
optimizer and schedule steps, cancel check; each epoch's metrics and validation, every reporter's best
epoch and early stopping, the checkpoint and resume. A ``Step`` says only what differs: how a batch's
loss is computed (forward, targets), what is measured before the backward pass, how gradients are
measured and clipped, and how many runs report (one student, or each member).
"""

import math
import time
from collections.abc import Callable
from typing import Protocol

import torch
from torch import nn

from models.distill_config import DistillConfig
from worker.engine.training import (
    Best,
    Cancelled,
    Split,
    TrainResult,
    check_finite,
    epoch_metrics,
    make_optimizer,
    make_scheduler,
    validation_metrics,
)

# Each term's gradient norm costs one extra backward pass, so it is measured on each epoch's first batch
# and every GRAD_NORM_INTERVAL steps after it (about 1% extra work); an epoch reports the latest
# measurement taken in that epoch, never one carried over from an earlier epoch.
GRAD_NORM_INTERVAL = 100
CANCEL_CHECK_EVERY = 20  # steps between checks of the cancel flag
FINITE_CHECK_EVERY_CUDA = 25  # reading the loss forces a device sync; on the CPU it is checked every step


def measures_grad_norms(epoch: int, batch: int) -> bool:
    """Whether batch ``batch`` (from 0) of ``epoch`` measures the per-term gradient norms."""
    return batch % GRAD_NORM_INTERVAL == 0


class Step(Protocol):
    """What one kind of training does in a step and reports at an epoch's end; the skeleton does the rest.
    Runs with ``reporters`` > 1 (members) neither checkpoint nor resume."""

    reporters: int  # the runs that report epochs: 1, or one per member
    device: torch.device  # where the student trains
    data_device: torch.device  # where the training data is held: batches are indexed there
    params: list[torch.Tensor]  # what the optimizer updates
    samples: int  # training samples an epoch

    def begin_epoch(self, epoch: int, order: torch.Tensor, gen: torch.Generator) -> None:
        """Train mode and the epoch's loss weights; ``order`` is the epoch's shuffled sample order, ``gen``
        the run's generator (for augmentation)."""

    def loss(self, epoch: int, idx: torch.Tensor) -> torch.Tensor:
        """The batch ``idx``'s loss: the forward pass and the targets."""

    def before_backward(self, total: torch.Tensor, epoch: int, measure: bool) -> torch.Tensor:
        """Record the batch's losses; where ``measure``, whatever needs the graph before the backward pass
        (a term's own gradients, the automatic soft weight). Returns the loss to backpropagate."""

    def grad_norms(self) -> list[dict[str, float]]:
        """Each reporter's per-term gradient norms, after the backward pass of a measuring step."""

    def clip(self, max_norm: float) -> None:
        """Clip each reporter's gradient to ``max_norm``."""

    def epoch_losses(self) -> list[dict[str, float]]:
        """Each reporter's mean losses over the epoch, ``total`` included."""

    def epoch_extras(self, reporter: int) -> dict[str, float]:
        """Metrics a reporter adds to its epoch, before validation."""

    def val_logits(self, val: Split) -> torch.Tensor:
        """Every reporter's logits on the validation split: [reporters, N, classes]."""

    def best_state(self, reporter: int) -> dict:
        """A copy of the reporter's weights, kept as its best epoch."""

    def model(self, reporter: int, state: dict) -> nn.Module:
        """The reporter's student with the weights ``state``, ready to evaluate."""

    def state_dict(self) -> dict:
        """The step's own part of a checkpoint (one reporter only)."""

    def load_state_dict(self, state: dict) -> None:
        """Resume the step's own part of a checkpoint."""


class Shards(Protocol):
    """One process of several training the same run (``distributed.Rank``): its shard of each epoch, and the
    early-stopping decision every process must share."""

    def samples(self, n: int) -> int:
        """Samples this process trains on per epoch, of a split of ``n``."""

    def shard(self, n: int, epoch: int, seed: int) -> torch.Tensor:
        """This process's sample order in ``epoch``."""

    def agree(self, flag: bool) -> bool:
        """Rank 0's ``flag``, on every process."""


def run(
    step: Step,
    cfg: DistillConfig,
    val: Split | None,
    *,
    on_epoch: Callable[[int, int, dict[str, float]], None] | None = None,
    on_step: Callable[[int, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_checkpoint: Callable[[dict], None] | None = None,
    resume: dict | None = None,
    rank: Shards | None = None,
) -> list[TrainResult]:
    """Train ``step`` for ``cfg.epochs`` epochs; one result per reporter, with its best epoch's weights.

    ``on_epoch(reporter, epoch, metrics)`` after each reporter's epoch; ``on_step(epoch, batch, batches)``
    after each step; ``should_stop`` is asked every ``CANCEL_CHECK_EVERY`` steps and after every epoch.
    ``on_checkpoint`` receives, after every epoch but the last, everything needed to go on exactly where the
    run stands; passing that back as ``resume`` continues the run as if it had never stopped.
    ``rank``: this process trains its shard of each epoch, one of several (worker/engine/distributed.py).
    """
    if step.reporters != 1 and (on_checkpoint is not None or resume is not None):
        raise ValueError("only a single run checkpoints and resumes")
    device = step.device
    val = val.to(device) if val is not None and len(val) else None
    opt = make_optimizer(step.params, cfg)
    per_epoch = step.samples if rank is None else rank.samples(step.samples)  # ddp: this process's shard
    steps_per_epoch = math.ceil(per_epoch / cfg.batch_size)
    sched = make_scheduler(opt, cfg, steps_per_epoch)
    finite_every = 1 if device.type == "cpu" else FINITE_CHECK_EVERY_CUDA
    scaler = torch.amp.GradScaler("cuda") if cfg.precision == "fp16" and device.type == "cuda" else None
    gen = torch.Generator().manual_seed(cfg.seed)

    reporters = range(step.reporters)
    bests = [Best(cfg.early_stopping_patience) for _ in reporters]
    histories: list[list[dict]] = [[] for _ in reporters]
    norms: list[dict[str, float]] = [{} for _ in reporters]
    running, stopped = list(reporters), set()
    done = 0  # optimizer steps taken
    first_epoch = 1
    if resume is not None:
        step.load_state_dict(resume)
        opt.load_state_dict(resume["optimizer"])
        if sched is not None:
            sched.load_state_dict(resume["scheduler"])
        gen.set_state(resume["generator"])
        torch.set_rng_state(resume["torch_rng"])
        bests = [Best(cfg.early_stopping_patience, resume["best_score"], resume["best_epoch"], resume["best_state"],
                      resume["since_best"])]
        histories, done, norms = [resume["history"]], resume["step"], [resume["norms"]]
        first_epoch = resume["epoch"] + 1

    for epoch in range(first_epoch, cfg.epochs + 1):
        norms = [{} for _ in reporters]
        lr_at_start = opt.param_groups[0]["lr"]
        started = time.perf_counter()
        order = (torch.randperm(step.samples, generator=gen) if rank is None
                 else rank.shard(step.samples, epoch, cfg.seed))
        step.begin_epoch(epoch, order, gen)
        for i, idx in enumerate(order.to(step.data_device).split(cfg.batch_size)):
            total = step.loss(epoch, idx)
            if (i + 1) % finite_every == 0:
                check_finite(total, epoch, i + 1)
            measure = measures_grad_norms(epoch, i)
            total = step.before_backward(total, epoch, measure)
            opt.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(total).backward()
                scaler.unscale_(opt)
            else:
                total.backward()
            if measure:
                for reporter, measured in enumerate(step.grad_norms()):
                    norms[reporter].update(measured)
            if cfg.grad_clip:
                step.clip(cfg.grad_clip)
            if scaler is not None:
                scaler.step(opt)
                scaler.update()
            else:
                opt.step()
            if sched is not None:
                sched.step()
            done += 1
            if on_step is not None:
                on_step(epoch, i + 1, steps_per_epoch)
            if should_stop is not None and done % CANCEL_CHECK_EVERY == 0 and should_stop():
                raise Cancelled()
        if device.type == "cuda":
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - started

        # Reporters still running share the wall time; each saw every sample once.
        losses = step.epoch_losses()
        reporting = list(running)
        metrics = {r: {**epoch_metrics(losses[r], norms[r], lr_at_start, step.samples, elapsed, epoch,
                                       steps_per_epoch), **step.epoch_extras(r)} for r in reporting}
        if val is not None:
            logits = step.val_logits(val)
            for r in reporting:
                metrics[r].update(validation_metrics(logits[r], val))
        for r in reporting:
            histories[r].append({"epoch": epoch, **metrics[r]})
            stop = bests[r].update(epoch, metrics[r], lambda r=r: step.best_state(r))
            if rank is not None:  # ddp: every process stops at the epoch rank 0 stops at
                stop = rank.agree(stop)
            if stop:
                running.remove(r)
                stopped.add(r)
        if on_checkpoint is not None and running and epoch < cfg.epochs:
            (best,) = bests
            on_checkpoint({
                "epoch": epoch, **step.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": None if sched is None else sched.state_dict(), "generator": gen.get_state(),
                "torch_rng": torch.get_rng_state(), "best_score": best.score, "best_epoch": best.epoch,
                "best_state": best.state, "since_best": best.since, "history": histories[0], "step": done,
                "norms": norms[0],
            })
        if on_epoch is not None:
            for r in reporting:
                on_epoch(r, epoch, metrics[r])
        if should_stop is not None and should_stop():
            raise Cancelled()
        if not running:
            break

    return [TrainResult(step.model(r, bests[r].state), bests[r].epoch, len(histories[r]), histories[r], r in stopped)
            for r in reporters]
