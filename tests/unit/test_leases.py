"""Leases, the reaper and resuming: a job whose worker dies is started again and goes on from its last
checkpoint; a live job is never run twice; a job that keeps losing its worker ends failed."""

from datetime import UTC, datetime, timedelta

import pytest
import torch
from safetensors.torch import load
from sqlalchemy import select, update

from app.reaper import reap
from core.config import get_settings
from core.db import session_scope
from core.tables import Job, Run
from tests.unit.test_api import job_body, upload_teacher
from worker.jobs import hooks, sweeps
from worker.jobs.lifecycle import execute
from worker.leases import claim


class WorkerDied(BaseException):
    """Escapes every `except Exception`, as a killed process would: nothing gets to clean up."""


@pytest.fixture
def ids(client, teacher_file):
    teacher = upload_teacher(client, teacher_file).json()["id"]
    ts = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
    return teacher, ts


def expire_lease(job_id):
    with session_scope() as s:
        s.execute(update(Job).where(Job.id == job_id).values(lease_expires_at=datetime.now(UTC) - timedelta(1)))


def submit(client, ids, **kw):
    return client.post("/v1/jobs", json=job_body(*ids, **kw)).json()["id"]


def student_weights(client, job_id):
    return load(client.get(f"/v1/jobs/{job_id}/student", params={"format": "safetensors"}).content)


def test_a_job_whose_worker_died_resumes_from_its_checkpoint(client, ids, monkeypatch):
    hp = {"epochs": 5, "seed": 3}
    reference = submit(client, ids, hyperparameters=hp, baseline=True)
    execute(reference)

    job_id = submit(client, ids, hyperparameters=hp, baseline=True)
    real_epoch_done = hooks.RunHooks.epoch_done

    def dies_in_the_baseline_run(self, name, epoch, metrics):
        real_epoch_done(self, name, epoch, metrics)
        if name == "baseline" and epoch == 2:
            raise WorkerDied()

    monkeypatch.setattr(hooks.RunHooks, "epoch_done", dies_in_the_baseline_run)
    with pytest.raises(WorkerDied):
        execute(job_id)
    monkeypatch.setattr(hooks.RunHooks, "epoch_done", real_epoch_done)
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "running" and job["progress"]["epoch"] == 7

    execute(job_id)  # a redelivered task while the lease is alive leaves the job alone
    assert client.get(f"/v1/jobs/{job_id}").json()["progress"]["epoch"] == 7
    expire_lease(job_id)
    assert reap() == [job_id]
    assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"
    execute(job_id)

    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "succeeded", job["error"]
    events = [e for e in client.get(f"/v1/jobs/{job_id}/events", params={"limit": 1000}).json()["data"]]
    types = [e["type"] for e in events]
    assert "requeued" in types and "resumed" in types
    resumed = next(e for e in events if e["type"] == "resumed")
    assert resumed["data"] == {"run": "baseline", "epoch": 2}  # the distilled run was not trained again
    for run in client.get(f"/v1/jobs/{job_id}/metrics").json()["runs"]:
        assert [p["step"] for p in run["metrics"]["total_loss"]] == [1, 2, 3, 4, 5], run["name"]
    expected, got = student_weights(client, reference), student_weights(client, job_id)
    for k in expected:
        assert torch.equal(expected[k], got[k]), k
    assert job["result"]["baseline"]["test_errors"] == client.get(
        f"/v1/jobs/{reference}").json()["result"]["baseline"]["test_errors"]


def test_a_live_lease_is_not_taken(client, ids):
    job_id = submit(client, ids)
    assert claim(Job, job_id, "worker-a", 60)
    assert not claim(Job, job_id, "worker-b", 60)
    expire_lease(job_id)
    assert claim(Job, job_id, "worker-b", 60)


def test_a_job_that_keeps_losing_its_worker_fails_with_a_reason(client, ids, monkeypatch):
    monkeypatch.setenv("DISTILLERY_MAX_ATTEMPTS", "2")
    get_settings.cache_clear()
    job_id = submit(client, ids)
    for _ in range(2):
        assert claim(Job, job_id, "doomed", 60)
        expire_lease(job_id)
        reap()
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "failed" and "stopped responding 2 times" in job["error"]


def test_a_sweep_member_whose_worker_died_is_restarted_and_the_sweep_finishes_once(client, ids, monkeypatch):
    dispatched = []
    job_id = client.post("/v1/jobs", json=job_body(*ids, hyperparameters={"epochs": 2},
                                                   sweep={"temperature": [1, 4]})).json()["id"]
    execute(job_id, dispatch_members=lambda _job, run_ids: dispatched.extend(run_ids))
    first, second = dispatched
    real_epoch_done = hooks.RunHooks.epoch_done

    def dies(self, name, epoch, metrics):
        raise WorkerDied()

    monkeypatch.setattr(hooks.RunHooks, "epoch_done", dies)
    with pytest.raises(WorkerDied):
        sweeps.execute_member(job_id, first)
    monkeypatch.setattr(hooks.RunHooks, "epoch_done", real_epoch_done)
    sweeps.execute_member(job_id, second)
    assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "running"  # one member still out

    with session_scope() as s:
        s.execute(update(Run).where(Run.id == first).values(lease_expires_at=datetime.now(UTC) - timedelta(1)))
    assert reap() == [first]
    sweeps.execute_member(job_id, first)
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "succeeded", job["error"]
    assert sorted(m["temperature"] for m in job["result"]["sweep"]) == [1, 4]
    types = [e["type"] for e in client.get(f"/v1/jobs/{job_id}/events", params={"limit": 1000}).json()["data"]]
    assert types.count("succeeded") == 1 and "requeued" in types
    sweeps.execute_member(job_id, first)  # a late duplicate delivery changes nothing
    assert client.get(f"/v1/jobs/{job_id}").json() == job


def test_members_trained_together_whose_worker_died_are_each_restarted(client, ids, monkeypatch):
    monkeypatch.setenv("DISTILLERY_BATCH_SWEEP_MEMBERS", "always")
    get_settings.cache_clear()
    dispatched = []
    job_id = client.post("/v1/jobs", json=job_body(*ids, hyperparameters={"epochs": 2},
                                                   sweep={"temperature": [1, 4, 10]})).json()["id"]
    execute(job_id, dispatch_members=lambda _job, run_ids: dispatched.extend(run_ids))
    real_epoch_done = hooks.RunHooks.epoch_done

    def dies(self, name, epoch, metrics):
        raise WorkerDied()

    monkeypatch.setattr(hooks.RunHooks, "epoch_done", dies)
    with pytest.raises(WorkerDied):
        sweeps.execute_member(job_id, dispatched[0])  # takes all three, dies in their first epoch
    monkeypatch.setattr(hooks.RunHooks, "epoch_done", real_epoch_done)
    with session_scope() as s:
        assert set(s.scalars(select(Run.status).where(Run.job_id == job_id))) == {"running"}
    for run_id in dispatched[1:]:  # their own tasks arrive: the members are held, so they leave
        sweeps.execute_member(job_id, run_id)
    assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "running"

    monkeypatch.setenv("DISTILLERY_BATCH_SWEEP_MEMBERS", "never")
    get_settings.cache_clear()
    with session_scope() as s:
        s.execute(update(Run).where(Run.job_id == job_id).values(lease_expires_at=datetime.now(UTC) - timedelta(1)))
    assert sorted(reap()) == sorted(dispatched)
    for run_id in dispatched:
        sweeps.execute_member(job_id, run_id)
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "succeeded", job["error"]
    assert all(m["status"] == "succeeded" for m in job["result"]["sweep"])
    types = [e["type"] for e in client.get(f"/v1/jobs/{job_id}/events", params={"limit": 1000}).json()["data"]]
    assert types.count("members_batched") == 1 and types.count("succeeded") == 1


def test_the_reaper_expires_every_kind_of_leased_row_jobs_first():
    from typing import get_args

    from app.reaper import LEASED
    from worker.leases import Leased

    # A table that gains a lease must gain a reaper entry too, or its rows would stay running forever.
    assert {get_args(t)[0] for t in get_args(Leased)} == {kind.table for kind in LEASED}
    assert [kind.table for kind in LEASED] == [Job, Run]  # a job failed here fails its members first
