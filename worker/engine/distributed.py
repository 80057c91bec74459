"""One run trained on several devices at once (``hyperparameters.devices``): DistributedDataParallel over N
processes, NCCL on GPUs and gloo on the CPU.

The calling process is rank 0 and keeps the caller's hooks: it alone records epochs, writes checkpoints and
reads the cancel flag. Ranks 1..N-1 are fresh interpreters (``python -m worker.engine.distributed``) rather
than forks or ``multiprocessing`` children: a Celery pool process is daemonic, and multiprocessing refuses
children to those, and a fork of a process that holds CUDA or OpenMP threads is unsafe. They read what to
train from one file that rank 0 writes once — the splits with the teacher's outputs already computed (or read
from the cache), the config, the checkpoint to resume from — and memory-map it, so the teacher runs once per
job, never per rank, and the ranks share one copy of the data in the page cache.

Every rank trains one student's step (``RankStep``: ``loop.SingleStep`` with the model wrapped in DDP) in the
one epoch skeleton (``trainer.run``) on its own shard of each epoch (``shard``: DistributedSampler's rule), from
the same initialisation; DDP averages the gradients, so the replicas stay equal and each computes the same
validation metrics. Epoch losses are summed over the ranks before rank 0 records them.

A child that dies does not leave rank 0 waiting: gloo's collectives fail as soon as a peer's connection
closes, and rank 0 then raises :class:`RankLost` (the job goes back to the queue and resumes from its last
checkpoint) or, when the child failed with an error of its own, :class:`RankFailed` with that error. A rank
that stops without dying (SIGSTOP) is ended by the collective timeout. Children die with their parent
(``PR_SET_PDEATHSIG``) and are killed when rank 0 leaves for any reason, cancellation included.
"""

import ctypes
import logging
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from worker.engine.loop import SingleStep
from worker.engine.trainer import run
from worker.engine.training import Cancelled, Split, TrainingDiverged, TrainResult, resolve_device

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
# Only a rank that is alive but stuck (stopped, swapping) waits this long: a dead one is noticed at once. Rank 0
# writes a checkpoint between epochs while the others wait for it, so this also bounds a checkpoint's write.
COLLECTIVE_TIMEOUT = timedelta(minutes=10)
PAYLOAD = "run.pt"
PR_SET_PDEATHSIG = 1


class RankLost(Exception):
    """A rank's process died (a signal: SIGKILL, the OOM killer): no fault of the job, which should go on
    from its last checkpoint in a new attempt."""


class RankFailed(RuntimeError):
    """A rank other than 0 failed with an error of its own (its message is the job's reason)."""


class DevicesUnavailable(RuntimeError):
    """The job asks for more devices than this worker has."""


@dataclass(frozen=True)
class Rank:
    """This process's place in a distributed run, and the collectives the training loop needs."""

    rank: int
    world: int
    device: torch.device

    def shard(self, n: int, epoch: int, seed: int) -> torch.Tensor:
        return shard(n, epoch, seed, self.rank, self.world)

    def samples(self, n: int) -> int:
        """Samples each rank trains on per epoch (the split, padded to a multiple of the ranks)."""
        return math.ceil(n / self.world)

    def wrap(self, module: nn.Module) -> nn.Module:
        ids = [torch.cuda.current_device()] if self.device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids)

    def average(self, grads: tuple) -> tuple:
        """Gradients computed on this rank's batch alone (``autograd.grad``, which DDP does not reduce),
        averaged over the ranks as DDP averages ``.grad``, so that per-term norms describe one gradient."""
        out = []
        for g in grads:
            if g is not None:
                g = g.clone()
                dist.all_reduce(g)
                g /= self.world
            out.append(g)
        return tuple(out)

    def epoch_means(self, seen: dict[str, list[torch.Tensor]], sizes: list[int], fused) -> dict[str, float]:
        """The epoch's mean of each loss term over every rank's samples (the padding's repeats included)."""
        if fused is not None:
            sums = torch.stack(seen["sums"]).sum(0).float()
            dist.all_reduce(sums)
            return fused.epoch_terms(sums)
        names = list(seen)
        weights = torch.tensor(sizes, dtype=torch.float32, device=seen[names[0]][0].device)
        local = torch.stack([(torch.stack(seen[k]).float() * weights).sum() for k in names] + [weights.sum()])
        dist.all_reduce(local)
        return {k: float(local[i] / local[-1]) for i, k in enumerate(names)}

    def agree(self, flag: bool) -> bool:
        """Rank 0's decision, on every rank (early stopping must end all of them at the same epoch)."""
        t = torch.tensor([float(flag)], device=self.device)
        dist.broadcast(t, 0)
        return bool(t.item())


def shard(n: int, epoch: int, seed: int, rank: int, world: int) -> torch.Tensor:
    """DistributedSampler's rule: one permutation per epoch seeded by seed + epoch, the same on every rank, padded
    by repeating its start to a multiple of ``world`` so that every rank takes the same number of steps, then
    every ``world``-th position from ``rank``. The shards are disjoint but for the padding and cover the split."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch))
    total = math.ceil(n / world) * world
    if total > n:
        order = order.repeat(math.ceil(total / n))[:total]
    return order[rank:total:world]


class RankStep(SingleStep):
    """One student's step on one rank: the model wrapped in DDP, a measured term's own gradient averaged over
    the ranks as DDP averages the total's, and the epoch's losses reduced over the ranks."""

    def __init__(self, rank: Rank, make_student: Callable[[], nn.Module], train: Split, cfg, *,
                 max_device_bytes: int | None):
        super().__init__(make_student, train, cfg, teachers=None, max_device_bytes=max_device_bytes)
        self.rank = rank
        self.forward = rank.wrap(self.student)  # ``student`` stays the plain module: checkpoints, export

    def before_backward(self, total: torch.Tensor, epoch: int, measure: bool) -> torch.Tensor:
        total = super().before_backward(total, epoch, measure)
        if self.partial:
            self.partial = {name: self.rank.average(grads) for name, grads in self.partial.items()}
        return total

    def epoch_losses(self) -> list[dict[str, float]]:
        return [self.rank.epoch_means(self.seen, self.sizes, self.fused)]


def train_rank(rank: Rank, make_student: Callable[[], nn.Module], train: Split, val: Split | None, cfg, *,
               on_epoch=None, on_step=None, should_stop=None, teachers=None, max_device_bytes=None,
               on_checkpoint=None, resume=None) -> TrainResult:
    """``loop.train_student``'s run as one rank of several; ``teachers`` go unused (the outputs come with
    ``train``)."""
    step = RankStep(rank, make_student, train, cfg, max_device_bytes=max_device_bytes)
    report = None if on_epoch is None else (lambda reporter, epoch, metrics: on_epoch(epoch, metrics))
    (result,) = run(step, cfg, val, on_epoch=report, on_step=on_step, should_stop=should_stop,
                    on_checkpoint=on_checkpoint, resume=resume, rank=rank)
    return result


def backend_for(device: torch.device) -> str:
    return "nccl" if device.type == "cuda" else "gloo"


def rank_device(device: torch.device, rank: int) -> torch.device:
    return torch.device("cuda", rank) if device.type == "cuda" else device


def check_capacity(world: int, device: torch.device, max_cpu_processes: int | None) -> None:
    """Fail at once, saying what to change, where this worker cannot give the job its devices."""
    if device.type == "cuda":
        have = torch.cuda.device_count()
        if world > have:
            raise DevicesUnavailable(
                f"the job asks for devices: {world}, and this worker has {have} GPU(s); ask for at most {have}, "
                "or send multi-device jobs to workers with enough GPUs (see Scaling out in docs/operations.md)")
    elif max_cpu_processes is not None and world > max_cpu_processes:
        raise DevicesUnavailable(
            f"the job asks for devices: {world}, and this CPU worker trains one job on at most {max_cpu_processes} "
            f"processes (DISTILLERY_MAX_DEVICES_PER_JOB); ask for at most {max_cpu_processes}")


def train_distributed(make_student: Callable[[], nn.Module], train, val, cfg, *, max_cpu_processes: int | None = None,
                      **kwargs):
    """``train_student`` over ``cfg.devices`` processes, this one rank 0 with ``kwargs``' hooks; returns rank 0's
    TrainResult. ``make_student`` must pickle (a module-level function or a ``functools.partial`` of one)."""
    world = cfg.devices
    device = resolve_device(cfg.device)
    check_capacity(world, device, max_cpu_processes)
    if kwargs.get("teachers") and train.teacher_logits is None:
        raise ValueError("devices > 1 trains on the teacher's precomputed outputs; this run has none")
    with tempfile.TemporaryDirectory(prefix="distillery-ranks-") as tmp:
        torch.save({"make_student": make_student, "train": train.to("cpu"),
                    "val": None if val is None else val.to("cpu"), "cfg": cfg, "resume": kwargs.get("resume"),
                    "max_device_bytes": kwargs.get("max_device_bytes")}, Path(tmp) / PAYLOAD)
        store = dist.TCPStore("127.0.0.1", 0, world, is_master=True, timeout=COLLECTIVE_TIMEOUT,
                              wait_for_workers=False)
        children: list[subprocess.Popen] = []
        try:
            for r in range(1, world):  # one by one: if a start fails, those already started are killed below
                children.append(_start_rank(r, world, store.port, tmp))
            _await_ranks(store, children, tmp)
            here = rank_device(device, 0)
            if here.type == "cuda":
                torch.cuda.set_device(here)
            dist.init_process_group(backend_for(here), store=store, rank=0, world_size=world,
                                    timeout=COLLECTIVE_TIMEOUT)
            try:
                result = train_rank(Rank(0, world, here), make_student, train, val, cfg, **kwargs)
            except (Cancelled, TrainingDiverged):
                raise  # rank 0's own decision or failure; the children are killed below
            except Exception as exc:
                fate = _fate(children, tmp, wait=2.0)
                if fate is not None:
                    raise fate from exc
                raise
            _join(children, tmp)
            return result
        finally:
            _kill(children)
            if dist.is_initialized():
                dist.destroy_process_group()
            del store


def _start_rank(rank: int, world: int, port: int, tmp: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.Popen([sys.executable, "-m", "worker.engine.distributed", tmp, str(rank), str(world),
                             str(port), str(torch.get_num_threads()), str(os.getpid())], env=env)
    # The pid in the log: an operator (or a test) can tell a rank from the worker's other processes.
    log.info("rank %d of %d started: pid %d", rank, world, proc.pid)
    return proc


def _await_ranks(store, children: list[subprocess.Popen], tmp: str) -> None:
    """Wait for every child to reach the store, failing at once if one exits first (an import error, say)."""
    keys = [f"joined/{r}" for r in range(1, len(children) + 1)]
    deadline = time.monotonic() + COLLECTIVE_TIMEOUT.total_seconds()
    while not store.check(keys):
        fate = _fate(children, tmp, wait=0)
        if fate is not None:
            raise fate
        if time.monotonic() > deadline:
            raise RuntimeError(f"the job's {len(children)} other rank(s) did not start within "
                               f"{COLLECTIVE_TIMEOUT.total_seconds():.0f} s")
        time.sleep(0.1)


def _fate(children: list[subprocess.Popen], tmp: str, wait: float) -> Exception | None:
    """Why a child ended, if one did (waiting up to ``wait`` seconds for a dying one's exit status). A rank
    killed by a signal comes first: when one dies, its peers fail on the broken connection, and those
    failures are its consequence, not the cause."""
    deadline = time.monotonic() + wait
    while True:
        ended = [(rank, proc, proc.poll()) for rank, proc in enumerate(children, start=1)]
        for rank, proc, code in ended:
            if code is not None and code < 0:
                return RankLost(f"rank {rank} of {len(children) + 1} (pid {proc.pid}) was killed by signal "
                                f"{signal.Signals(-code).name}")
        for rank, _proc, code in ended:
            if code is not None and code > 0:
                error = Path(tmp) / f"rank{rank}.error"
                message = error.read_text() if error.exists() else f"exit status {code}"
                return RankFailed(f"rank {rank} of {len(children) + 1} failed: {message}")
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


def _join(children: list[subprocess.Popen], tmp: str) -> None:
    """The children end once their last collective is done; one that failed after it still fails the run."""
    for proc in children:
        try:
            proc.wait(timeout=COLLECTIVE_TIMEOUT.total_seconds())
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"rank pid {proc.pid} did not exit after training") from None
    fate = _fate(children, tmp, wait=0)
    if fate is not None:
        raise fate


def _kill(children: list[subprocess.Popen]) -> None:
    for proc in children:
        if proc.poll() is None:
            proc.kill()
    for proc in children:
        proc.wait()


def _die_with(parent: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies, so that no rank outlives a killed worker."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # it died before the request above took effect
        os._exit(1)


def _child(argv: list[str]) -> int:
    tmp, rank, world, port, threads, parent = argv[0], *map(int, argv[1:])
    _die_with(parent)
    torch.set_num_threads(threads)
    try:
        # Full pickle, of a file rank 0 wrote a moment ago into its own private (0700) directory: the student's
        # factory and the config are code and objects. Nothing a tenant uploaded is in it but tensors.
        job = torch.load(Path(tmp) / PAYLOAD, weights_only=False, mmap=True)
        cfg = job["cfg"]
        device = rank_device(resolve_device(cfg.device), rank)
        if device.type == "cuda":
            torch.cuda.set_device(device)
        store = dist.TCPStore("127.0.0.1", port, world, is_master=False, timeout=COLLECTIVE_TIMEOUT)
        store.set(f"joined/{rank}", "1")
        dist.init_process_group(backend_for(device), store=store, rank=rank, world_size=world,
                                timeout=COLLECTIVE_TIMEOUT)
        train_rank(Rank(rank, world, device), job["make_student"], job["train"], job["val"], cfg,
                   max_device_bytes=job["max_device_bytes"], resume=job["resume"])
        dist.destroy_process_group()
        return 0
    except BaseException as exc:  # noqa: BLE001 - whatever it was, rank 0 must read it
        (Path(tmp) / f"rank{rank}.error").write_text(str(exc) if isinstance(exc, RuntimeError)
                                                     else f"{type(exc).__name__}: {exc}")
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    code = _child(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # Past its last collective a rank has nothing left to do, but the interpreter's teardown can destroy a
    # gloo thread that is still joinable, and std::terminate aborts the rank (SIGABRT) that trained fine.
    os._exit(code)
