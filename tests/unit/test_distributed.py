"""One run on two CPU processes (gloo): shards, reduced metrics recorded once, a killed rank, cancellation."""

import copy
import functools
import math
import os
import signal
import time
from pathlib import Path

import pytest
import torch
from pydantic import ValidationError

from models.distill_config import DistillConfig, SweepSpec
from models.transfer_sets import load_builtin
from tests.ddp_students import FailsOnRank1, RecordingStudent, mlp
from worker.engine.distributed import DevicesUnavailable, RankFailed, RankLost, shard, train_distributed
from worker.engine.loop import Cancelled, Split, teacher_logits, train_student, validation_split


@pytest.fixture(autouse=True, scope="module")
def one_thread_per_rank():
    """Ranks are processes of their own on a 2-core machine: one intra-op thread each (the children take this
    process's count). Restored after, so that the rest of the session keeps its own."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def rank_pids() -> list[int]:
    """This process's rank children, found in /proc as an operator would."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
        if ppid == os.getpid() and b"worker.engine.distributed" in cmdline:
            pids.append(int(entry.name))
    return pids


@pytest.fixture(scope="module")
def data(teacher_file):
    """Digits with each sample's index as a 65th input column (RecordingStudent learns from the other 64)."""
    digits = load_builtin("digits")
    teacher = torch.jit.load(str(teacher_file))
    x, y = torch.from_numpy(digits.x_train), torch.from_numpy(digits.y_train)
    indexed = torch.cat([x, torch.arange(len(x), dtype=x.dtype)[:, None]], 1)
    full = Split(indexed, y, teacher_logits([teacher], x, device="cpu"))
    tr, va = validation_split(len(x), 0.1, 0)
    x_test = torch.from_numpy(digits.x_test)
    test = (torch.cat([x_test, torch.zeros(len(x_test), 1)], 1), torch.from_numpy(digits.y_test))
    return full.subset(tr), full.subset(va), tr, test


def plain(split: Split) -> Split:
    return Split(split.x[:, :-1], split.y, split.teacher_logits)


def accuracy(model, test) -> float:
    with torch.no_grad():
        return float((model.eval()(test[0]).argmax(1) == test[1]).float().mean())


@pytest.mark.parametrize("world", [2, 3, 4])
@pytest.mark.parametrize("n", [1, 5, 1293])
def test_shards_follow_distributed_sampler(n, world):
    for epoch in (1, 2):
        shards = [shard(n, epoch, 0, r, world) for r in range(world)]
        assert len({len(s) for s in shards}) == 1, "every rank takes the same number of samples"
        together = torch.cat(shards)
        assert set(together.tolist()) == set(range(n)), "together they cover the split"
        assert len(together) - len(set(together.tolist())) == len(together) - n, "repeats are the padding alone"
    assert not torch.equal(shard(n, 1, 0, 0, world), shard(n, 2, 0, 0, world)) or n < 3


# Two ranks at batch 64 take the steps of one device at batch 128, each on the mean gradient of 128 samples: the
# same run but for the order of the samples (and a repeated one in the padding). Measured on digits after
# 8 epochs, seeds 0, 1, 2: 2 devices × 64 reach 0.936, 0.947, 0.958 test accuracy, 1 × 128 0.942, 0.947,
# 0.953 (within 0.006; 1 × 128 alone spreads 0.011 over the seeds), and the same job on 1 device at
# batch 64 — twice the steps — 0.961, 0.956, 0.956 (within 0.025). The tolerances leave a little room
# over those and are small next to what a broken reduction or a rank on the wrong data costs (a run
# that learns nothing scores 0.1; summed instead of averaged gradients, twice the learning rate).
SAME_STEPS_TOLERANCE = 0.02  # against 1 device at batch 128
SAME_JOB_TOLERANCE = 0.03  # against the same job on 1 device (batch 64)


def test_two_ranks_train_disjoint_shards_and_record_each_epoch_once(data, tmp_path):
    train, val, train_indices, test = data
    cfg = DistillConfig(epochs=8, devices=2)
    record = tmp_path / "ranks"
    record.mkdir()
    recorded = []
    out = train_distributed(functools.partial(RecordingStudent, str(record)), train, val, cfg,
                            on_epoch=lambda e, m: recorded.append((e, m)))
    assert [e for e, _ in recorded] == list(range(1, 9)), "each epoch recorded once, by rank 0"
    assert out.epochs_run == 8 and len(out.history) == 8
    per_rank = math.ceil(len(train) / 2)
    steps = math.ceil(per_rank / cfg.batch_size)
    lines = {r: (record / f"rank{r}.txt").read_text().splitlines() for r in (0, 1)}
    assert len(lines[0]) == len(lines[1]) == 8 * steps
    for epoch in range(8):
        seen = {r: [int(i) for line in lines[r][epoch * steps:(epoch + 1) * steps] for i in line.split()]
                for r in (0, 1)}
        assert len(seen[0]) == len(seen[1]) == per_rank
        assert set(seen[0]) | set(seen[1]) == set(train_indices.tolist())
        overlap = set(seen[0]) & set(seen[1])
        assert len(overlap) <= len(train) % 2, "the shards are disjoint but for the padding"
    metrics = recorded[-1][1]
    assert metrics["samples_per_second"] > 0 and metrics["total_loss"] < recorded[0][1]["total_loss"]
    two = accuracy(out.model, test)
    student = functools.partial(RecordingStudent, str(tmp_path))
    same_steps = accuracy(train_student(student, train, val, cfg.model_copy(update={"devices": 1,
                                                                                     "batch_size": 128})).model, test)
    same_job = accuracy(train_student(student, train, val, cfg.model_copy(update={"devices": 1})).model, test)
    assert two == pytest.approx(same_steps, abs=SAME_STEPS_TOLERANCE), (two, same_steps)
    assert two == pytest.approx(same_job, abs=SAME_JOB_TOLERANCE), (two, same_job)
    assert two > 0.9
    assert not rank_pids(), "no rank outlives the run"


def test_a_two_rank_run_resumed_from_its_checkpoint_on_streamed_inputs_trains_the_same_student(data):
    """Resuming, and streamed sets (read batch by batch through a DataLoader, which travel to the other ranks
    as the dataset itself), in one: the resumed half streams, and still ends where the whole run did."""
    from torch.utils.data import TensorDataset

    from models.lazy_inputs import LazyInputs

    train, val = plain(data[0]), plain(data[1])
    cfg = DistillConfig(epochs=3, devices=2, schedule="cosine")
    saved = []
    # A checkpoint holds the live tensors (the job's hooks write it to a file at once): copied as it was.
    whole = train_distributed(mlp, train, val, cfg, on_checkpoint=lambda c: saved.append(copy.deepcopy(c)))
    assert [c["epoch"] for c in saved] == [1, 2]
    streamed = Split(LazyInputs(TensorDataset(train.x), workers=0), train.y, train.teacher_logits)
    resumed = train_distributed(mlp, streamed, val, cfg, resume=saved[0])
    for key, value in whole.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    assert [h["total_loss"] for h in resumed.history] == [h["total_loss"] for h in whole.history]


def test_early_stopping_ends_every_rank_at_rank_0s_epoch(data):
    train, val = plain(data[0]), plain(data[1])
    out = train_distributed(mlp, train, val, DistillConfig(epochs=30, devices=2, early_stopping_patience=1))
    assert out.stopped_early and out.epochs_run < 30  # and no rank was left waiting in a collective
    assert not rank_pids()


def test_a_killed_rank_ends_the_run_promptly_as_rank_lost(data):
    train, val = plain(data[0]), plain(data[1])
    killed = {}

    def kill_a_rank(epoch, metrics):
        if epoch == 1:
            (pid,) = rank_pids()
            os.kill(pid, signal.SIGKILL)
            killed["at"] = time.monotonic()

    with pytest.raises(RankLost, match="killed by signal SIGKILL"):
        train_distributed(mlp, train, val, DistillConfig(epochs=20, devices=2), on_epoch=kill_a_rank)
    assert time.monotonic() - killed["at"] < 10, "rank 0 noticed at once, not after the collective timeout"
    assert not rank_pids()


def test_a_rank_that_fails_fails_the_run_with_its_own_error(data):
    train, val = plain(data[0]), plain(data[1])
    with pytest.raises(RankFailed, match="rank 1 of 2 failed: the student broke on rank 1"):
        train_distributed(FailsOnRank1, train, val, DistillConfig(epochs=2, devices=2))
    assert not rank_pids()


def test_cancelling_rank_0_stops_every_rank(data):
    train, val = plain(data[0]), plain(data[1])
    with pytest.raises(Cancelled):
        train_distributed(mlp, train, val, DistillConfig(epochs=20, devices=2), should_stop=lambda: True)
    assert not rank_pids()


def test_more_devices_than_the_worker_allows_fail_saying_what_to_change(data):
    train, val = plain(data[0]), plain(data[1])
    with pytest.raises(DevicesUnavailable, match="ask for at most 2") as err:
        train_distributed(mlp, train, val, DistillConfig(epochs=1, devices=3), max_cpu_processes=2)
    assert "DISTILLERY_MAX_DEVICES_PER_JOB" in str(err.value)


def test_devices_are_validated():
    for bad in (0, 65, 1.5):
        with pytest.raises(ValidationError, match="devices"):
            DistillConfig(devices=bad)
    for setting in ({"temperature": "auto"}, {"soft_weight": "auto"}, {"compile": True},
                    {"augmentation": {"horizontal_flip": True}}):
        with pytest.raises(ValidationError, match="set devices to 1"):
            DistillConfig(devices=2, **setting)
    with pytest.raises(ValueError, match="set hyperparameters.devices to 1"):
        SweepSpec.model_validate({"temperature": [1, 2]}).members(DistillConfig(devices=2))


def test_multi_device_jobs_go_to_their_own_queue_only_when_one_is_set(embedded_env, monkeypatch):
    from core.queue import job_queue
    from tests.conftest import clear_caches

    monkeypatch.setenv("DISTILLERY_QUEUE", "gpu")
    clear_caches()
    assert (job_queue(1), job_queue(2)) == ("gpu", "gpu")
    monkeypatch.setenv("DISTILLERY_MULTI_DEVICE_QUEUE", "gpu-hosts")
    clear_caches()
    assert (job_queue(1), job_queue(2), job_queue(8)) == ("gpu", "gpu-hosts", "gpu-hosts")


def test_a_rank_killed_by_a_signal_is_the_cause_even_when_a_peer_failed_first_in_rank_order(tmp_path):
    """With three ranks, rank 2's death by SIGKILL makes rank 1 fail on the broken connection; the run is a lost
    rank (queued again to resume), not rank 1's failure (which would fail the job for good)."""
    import subprocess
    import sys

    from worker.engine.distributed import _fate

    peer = subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])
    killed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    peer.wait()
    (tmp_path / "rank1.error").write_text("Connection closed by peer")
    fate = _fate([peer, killed], str(tmp_path), wait=0)
    assert isinstance(fate, RankLost) and "rank 2 of 3" in str(fate) and "SIGKILL" in str(fate)
    assert "rank 1 of 2 failed: Connection closed by peer" in str(_fate([peer], str(tmp_path), wait=0))
