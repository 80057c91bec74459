"""Sweep members trained together as one batched model.

The members of a sweep share the student's architecture, its initial weights (the same seed), the data
and the order of batches; they differ only in the loss settings (temperature, term weights). So their
parameters can be stacked along a member axis (``torch.func.stack_module_state``) and run as one model
under ``vmap``: one forward, one backward and one optimizer step a batch for all of them, each member
with its own stacked targets and temperature. SGD, Adam and AdamW update every element on its own, so one
optimizer over the stacked parameters is the members' own optimizers side by side; gradient clipping
is done per member. Each member reports its own epochs, keeps its own best epoch and stops early on its
own; training ends when every member has.

Whether it pays depends on the device: ``bench/batched_members.py`` measures it.
"""

import copy
import math
import time
from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from models.distill_config import DistillConfig
from models.lazy_inputs import is_lazy
from worker.engine import loop
from worker.engine.loop import (
    CANCEL_CHECK_EVERY,
    FINITE_CHECK_EVERY_CUDA,
    FUSED_TARGETS_MAX_BYTES,
    Best,
    Cancelled,
    Split,
    TrainResult,
    _autocast,
    _check_finite,
    _copier,
    _fits,
    _fuse,
    _identity,
    _optimizer,
    _scheduler,
    epoch_metrics,
    resolve_device,
    seed_everything,
    validation_metrics,
)
from worker.engine.losses import make_loss

# What members may differ in; everything else is one training run.
MEMBER_FIELDS = ("temperature", "soft_weight", "hard_weight")


def why_not_batched(cfgs: list[DistillConfig], train: Split | None = None) -> str | None:
    """None when these members can train as one batched model; otherwise the reason they cannot. Without
    ``train``, what the configurations alone decide."""
    if len(cfgs) < 2:
        return "a single member"
    shared = [c.model_dump(exclude=set(MEMBER_FIELDS)) for c in cfgs]
    if any(s != shared[0] for s in shared[1:]):
        return "the members differ in more than temperature and term weights"
    cfg = cfgs[0]
    if cfg.compile or cfg.augmenting or cfg.precision == "fp16" or cfg.loss != "kd" or cfg.logit_standardization:
        return "compile, augmentation, fp16, logit standardisation and losses other than kd train one member at a time"
    if any(c.auto_soft_weight for c in cfgs):
        return "soft_weight \"auto\" trains one member at a time"
    if any(c.soft_weight == 0 for c in cfgs):
        return "a member without the soft term trains on its own"
    if len({c.hard_weight > 0 for c in cfgs}) > 1:
        return "the members do not all have the same loss terms (a weight of 0 drops a term)"
    if train is not None and (train.teacher_logits is None or is_lazy(train.x)):
        return "batched members need cached teacher outputs and data held in memory"
    if train is not None:
        terms = 1 + (train.y is not None and cfg.hard_weight > 0)
        if len(cfgs) * terms * train.teacher_logits.shape[1] * train.teacher_logits.shape[2] * 4 > \
                FUSED_TARGETS_MAX_BYTES:
            return "the members' stacked targets would pass 1 GiB"
    return None


def _slice(stacked: dict[str, torch.Tensor], m: int) -> dict[str, torch.Tensor]:
    return {k: v[m].detach().clone() for k, v in stacked.items()}


def _member_norms(grads, members: int) -> torch.Tensor:
    """Each member's gradient norm over all its parameters: [members]."""
    squares = [g.detach().float().reshape(members, -1).pow(2).sum(1) for g in grads if g is not None]
    return torch.stack(squares).sum(0).sqrt()


def train_members(
    make_student: Callable[[], nn.Module],
    train: Split,
    val: Split | None,
    cfgs: list[DistillConfig],
    *,
    on_epoch: Callable[[int, int, dict[str, float]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    max_device_bytes: int | None = None,
) -> list[TrainResult]:
    """Train every member at once; ``on_epoch(member, epoch, metrics)``. Each result is the member's
    student with the weights of its best validation epoch, as ``train_student`` would return it."""
    reason = why_not_batched(cfgs, train)
    if reason is not None:
        raise ValueError(f"these members cannot train as one batched model: {reason}")
    cfg, members = cfgs[0], len(cfgs)
    device = resolve_device(cfg.device)
    loop.flush_denormals()
    students = []
    for c in cfgs:  # every member starts where train_student would start it
        seed_everything(c.seed)
        students.append(make_student().to(device))
    if cfg.channels_last and any(isinstance(m, nn.Conv2d) for m in students[0].modules()):
        students = [s.to(memory_format=torch.channels_last) for s in students]
    params, buffers = stack_module_state(students)
    skeleton = copy.deepcopy(students[0]).to("meta")
    forward = vmap(lambda p, b, x: functional_call(skeleton, (p, b), (x,)), in_dims=(0, 0, None),
                   randomness="different")

    objectives = []
    teacher = train.teacher_logits.to(device)
    for c in cfgs:
        loss_fn = make_loss(c)
        objectives.append(_fuse(loss_fn, loss_fn.targets(teacher).cpu(), train.y, c.batch_size))
    if any(o is None for o in objectives):
        raise ValueError("these members cannot train as one batched model: their stacked targets are too large")
    w = torch.stack([o.w for o in objectives])  # [members, terms, N, classes]
    for m, o in enumerate(objectives):
        o.w = w[m]  # a view: the members' targets are held once
    fits = _fits(Split(train.x, train.y), device, max_device_bytes, w.numel() * w.element_size())
    data_device = device if fits else torch.device("cpu")
    x_all, w = train.x.to(data_device), w.to(data_device)
    fetch = _identity if data_device == device else _copier(device)
    scales = torch.stack([o.scales for o in objectives]).to(device)  # [members, terms, 1, 1]
    val = val.to(device) if val is not None and len(val) else None

    flat = list(params.values())
    opt = _optimizer(flat, cfg)
    steps_per_epoch = math.ceil(len(train) / cfg.batch_size)
    sched = None if cfg.schedule == "constant" and not cfg.warmup_epochs else _scheduler(opt, cfg, steps_per_epoch)
    gen = torch.Generator().manual_seed(cfg.seed)
    finite_every = 1 if device.type == "cpu" else FINITE_CHECK_EVERY_CUDA
    bests = [Best(c.early_stopping_patience) for c in cfgs]
    histories: list[list[dict]] = [[] for _ in cfgs]
    running = list(range(members))
    stopped: set[int] = set()
    norms: list[dict[str, float]] = [{} for _ in cfgs]
    step = 0
    for epoch in range(1, cfg.epochs + 1):
        skeleton.train()
        seen: list[torch.Tensor] = []
        norms = [{} for _ in cfgs]
        lr_at_start = opt.param_groups[0]["lr"]
        started = time.perf_counter()
        order = torch.randperm(len(train), generator=gen)
        for i, idx in enumerate(order.to(data_device).split(cfg.batch_size)):
            x = fetch(x_all[idx])
            wb = fetch(w[:, :, idx])
            if cfg.channels_last and x.dim() == 4:
                x = x.contiguous(memory_format=torch.channels_last)
            with _autocast(cfg, device):
                logits = forward(params, buffers, x)  # [members, batch, classes]
            log_p = torch.log_softmax(logits.float().unsqueeze(1) * scales, dim=-1)
            sums = (wb * log_p).sum((2, 3))  # [members, terms]; a member's loss reaches only its weights
            scale = 1.0 if len(idx) == cfg.batch_size else cfg.batch_size / len(idx)
            total = sums.sum() * scale
            if (i + 1) % finite_every == 0:
                _check_finite(total, epoch, i + 1)
            soft_grads = None
            measure = loop.measures_grad_norms(epoch, i)
            if measure and sums.shape[1] > 1:
                soft_grads = torch.autograd.grad(sums[:, 0].sum() * scale, flat, retain_graph=True)
            opt.zero_grad(set_to_none=True)
            total.backward()
            if measure:
                grads = [p.grad for p in flat]
                if soft_grads is None:
                    name = objectives[0].names[0]
                    per = {f"grad_norm_{name}": _member_norms(grads, members)}
                else:
                    per = {"grad_norm_soft": _member_norms(soft_grads, members),
                           "grad_norm_hard": _member_norms([g - s for g, s in zip(grads, soft_grads, strict=True)],
                                                           members)}
                for m in range(members):
                    norms[m] = {k: float(v[m]) for k, v in per.items()}
            if cfg.grad_clip:
                coef = (cfg.grad_clip / (_member_norms([p.grad for p in flat], members) + 1e-6)).clamp(max=1.0)
                for p in flat:
                    p.grad.mul_(coef.view(-1, *([1] * (p.dim() - 1))))
            opt.step()
            if sched is not None:
                sched.step()
            seen.append(sums.detach())
            step += 1
            if should_stop is not None and step % CANCEL_CHECK_EVERY == 0 and should_stop():
                raise Cancelled()
        if device.type == "cuda":
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - started
        epoch_sums = torch.stack(seen).sum(0)
        val_logits = _predict(forward, params, buffers, skeleton, val, cfg, device) if val is not None else None
        for m in list(running):
            # The members share the wall time; each saw every sample once.
            metrics = epoch_metrics(objectives[m].epoch_terms(epoch_sums[m]), norms[m], lr_at_start, len(train),
                                    elapsed, epoch, steps_per_epoch)
            if val_logits is not None:
                metrics.update(validation_metrics(val_logits[m], val))
            histories[m].append({"epoch": epoch, **metrics})
            if bests[m].update(epoch, metrics, lambda m=m: {**_slice(params, m), **_slice(buffers, m)}):
                running.remove(m)
                stopped.add(m)
            if on_epoch is not None:
                on_epoch(m, epoch, metrics)
        if should_stop is not None and should_stop():
            raise Cancelled()
        if not running:
            break

    results = []
    for m in range(members):
        student = make_student()
        student.load_state_dict(bests[m].state)
        results.append(TrainResult(student.to(device).eval(), bests[m].epoch, len(histories[m]), histories[m],
                                   m in stopped))
    return results


@torch.no_grad()
def _predict(forward, params, buffers, skeleton: nn.Module, val: Split, cfg: DistillConfig, device) -> torch.Tensor:
    """Every member's logits on the validation split: [members, N, classes], on the CPU."""
    skeleton.eval()
    size = max(cfg.batch_size, 1024)
    out = []
    for i in range(0, len(val), size):
        x = val.x[i:i + size].to(device)
        if cfg.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        out.append(forward(params, buffers, x).float().cpu())
    skeleton.train()
    return torch.cat(out, dim=1)
