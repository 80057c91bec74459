"""Sweep members trained together as one batched model.

The members of a sweep share the student's architecture, its initial weights (the same seed), the data
and the order of batches; they differ only in the loss settings (temperature, term weights). So their
parameters can be stacked along a member axis (``torch.func.stack_module_state``) and run as one model
under ``vmap``: one forward, one backward and one optimizer step a batch for all of them, each member
with its own stacked targets and temperature. SGD, Adam and AdamW update every element on its own, so one
optimizer over the stacked parameters is the members' own optimizers side by side; gradient clipping
is done per member. Each member reports its own epochs, keeps its own best epoch and stops early on its
own; training ends when every member has. The epochs, checks, optimizer steps, validation and early stopping
are the skeleton's (``trainer.run``), the same that trains one student; ``MembersStep`` is what differs.

Whether it pays depends on the device: ``bench/batched_members.py`` measures it.
"""

import copy
from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from models.distill_config import DistillConfig
from models.lazy_inputs import is_lazy
from worker.engine.losses import LOSSES, make_loss
from worker.engine.trainer import run
from worker.engine.training import (
    FUSED_TARGETS_MAX_BYTES,
    Split,
    TrainResult,
    autocast,
    fetcher,
    fits,
    flush_denormals,
    fuse,
    resolve_device,
    seed_everything,
)

# What members may differ in; everything else is one training run.
MEMBER_FIELDS = ("temperature", "soft_weight", "hard_weight")


def why_not_batched(cfgs: list[DistillConfig], train: Split | None = None, student=None) -> str | None:
    """None when these members can train as one batched model; otherwise the reason they cannot. Without
    ``train``, what the configurations alone decide. ``student``: the student, or its spec; one whose class
    says ``BATCHES_MEMBERS = False`` (the BiLSTM: packed sequences) trains one member at a time."""
    if len(cfgs) < 2:
        return "a single member"
    if not getattr(student, "BATCHES_MEMBERS", True):
        return "this student's architecture trains one member at a time"
    shared = [c.model_dump(exclude=set(MEMBER_FIELDS)) for c in cfgs]
    if any(s != shared[0] for s in shared[1:]):
        return "the members differ in more than temperature and term weights"
    cfg = cfgs[0]
    if cfg.compile or cfg.augmenting or cfg.precision == "fp16" or not LOSSES[cfg.loss].BATCHES_MEMBERS or \
            cfg.logit_standardization:
        batched = ", ".join(name for name, loss in LOSSES.items() if loss.BATCHES_MEMBERS)
        return (f"compile, augmentation, fp16, logit standardisation and losses other than {batched} train one "
                "member at a time")
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


class MembersStep:
    """The members' step (``trainer.Step``, one reporter a member): one vmapped forward of the stacked
    students, each member's loss against its own stacked targets, per-member gradient norms and clipping."""

    def __init__(self, make_student: Callable[[], nn.Module], train: Split, cfgs: list[DistillConfig], *,
                 max_device_bytes: int | None):
        cfg, members = cfgs[0], len(cfgs)
        self.cfg, self.reporters, self.make_student = cfg, members, make_student
        self.device = device = resolve_device(cfg.device)
        flush_denormals()
        students = []
        for c in cfgs:  # every member starts where train_student would start it
            seed_everything(c.seed)
            students.append(make_student().to(device))
        if cfg.channels_last and any(isinstance(m, nn.Conv2d) for m in students[0].modules()):
            students = [s.to(memory_format=torch.channels_last) for s in students]
        self.stacked, self.buffers = stack_module_state(students)
        # non-persistent buffers (a Hugging Face encoder's position_ids) are stacked for the forward but are not
        # part of a state dict
        self.state_keys = set(students[0].state_dict())
        self.template = template = copy.deepcopy(students[0]).to("meta")
        self.forward = vmap(lambda p, b, x: functional_call(template, (p, b), (x,)), in_dims=(0, 0, None),
                            randomness="different")

        objectives = []
        teacher = train.teacher_logits.to(device)
        for c in cfgs:
            loss_fn = make_loss(c)
            objectives.append(fuse(loss_fn, loss_fn.targets(teacher).cpu(), train.y, c.batch_size))
        if any(o is None for o in objectives):
            raise ValueError("these members cannot train as one batched model: their stacked targets are too large")
        w = torch.stack([o.w for o in objectives])  # [members, terms, N, classes]
        for m, o in enumerate(objectives):
            o.w = w[m]  # a view: the members' targets are held once
        self.objectives = objectives
        fit = fits(Split(train.x, train.y), device, max_device_bytes, w.numel() * w.element_size())
        self.data_device = device if fit else torch.device("cpu")
        self.x, self.w = train.x.to(self.data_device), w.to(self.data_device)
        self.fetch = fetcher(self.data_device, device)
        self.scales = torch.stack([o.scales for o in objectives]).to(device)  # [members, terms, 1, 1]
        self.params = list(self.stacked.values())
        self.samples = len(train)

    def begin_epoch(self, epoch: int, order: torch.Tensor, gen: torch.Generator) -> None:
        self.template.train()
        self.seen: list[torch.Tensor] = []

    def loss(self, epoch: int, idx: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        x = self.fetch(self.x[idx])
        wb = self.fetch(self.w[:, :, idx])
        if cfg.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast(cfg, self.device):
            logits = self.forward(self.stacked, self.buffers, x)  # [members, batch, classes]
        log_p = torch.log_softmax(logits.float().unsqueeze(1) * self.scales, dim=-1)
        self.sums = (wb * log_p).sum((2, 3))  # [members, terms]; a member's loss reaches only its weights
        self.scale = 1.0 if len(idx) == cfg.batch_size else cfg.batch_size / len(idx)
        return self.sums.sum() * self.scale

    def before_backward(self, total: torch.Tensor, epoch: int, measure: bool) -> torch.Tensor:
        self.soft_grads = None
        if measure and self.sums.shape[1] > 1:
            self.soft_grads = torch.autograd.grad(self.sums[:, 0].sum() * self.scale, self.params, retain_graph=True)
        self.seen.append(self.sums.detach())
        return total

    def grad_norms(self) -> list[dict[str, float]]:
        grads, members = [p.grad for p in self.params], self.reporters
        if self.soft_grads is None:
            per = {f"grad_norm_{self.objectives[0].names[0]}": _member_norms(grads, members)}
        else:
            per = {"grad_norm_soft": _member_norms(self.soft_grads, members),
                   "grad_norm_hard": _member_norms([g - s for g, s in zip(grads, self.soft_grads, strict=True)],
                                                   members)}
        return [{k: float(v[m]) for k, v in per.items()} for m in range(members)]

    def clip(self, max_norm: float) -> None:
        coef = (max_norm / (_member_norms([p.grad for p in self.params], self.reporters) + 1e-6)).clamp(max=1.0)
        for p in self.params:
            p.grad.mul_(coef.view(-1, *([1] * (p.dim() - 1))))

    def epoch_losses(self) -> list[dict[str, float]]:
        sums = torch.stack(self.seen).sum(0)
        return [o.epoch_terms(sums[m]) for m, o in enumerate(self.objectives)]

    def epoch_extras(self, reporter: int) -> dict[str, float]:
        return {}

    @torch.no_grad()
    def val_logits(self, val: Split) -> torch.Tensor:
        """Every member's logits on the validation split: [members, N, classes], on the CPU."""
        self.template.eval()
        size = max(self.cfg.batch_size, 1024)
        out = []
        for i in range(0, len(val), size):
            x = val.x[i:i + size].to(self.device)
            if self.cfg.channels_last and x.dim() == 4:
                x = x.contiguous(memory_format=torch.channels_last)
            out.append(self.forward(self.stacked, self.buffers, x).float().cpu())
        self.template.train()
        return torch.cat(out, dim=1)

    def best_state(self, reporter: int) -> dict:
        state = {**_slice(self.stacked, reporter), **_slice(self.buffers, reporter)}
        return {k: v for k, v in state.items() if k in self.state_keys}

    def model(self, reporter: int, state: dict) -> nn.Module:
        student = self.make_student()
        student.load_state_dict(state)
        return student.to(self.device).eval()


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
    reason = why_not_batched(cfgs, train, make_student())
    if reason is not None:
        raise ValueError(f"these members cannot train as one batched model: {reason}")
    step = MembersStep(make_student, train, cfgs, max_device_bytes=max_device_bytes)
    return run(step, cfgs[0], val, on_epoch=on_epoch, should_stop=should_stop)
