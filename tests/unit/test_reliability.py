"""Nothing lost, nothing stuck, in-process: the reconciler re-sends queued work the broker lost, a worker
whose lease was taken writes nothing more, an epoch's metrics and checkpoint are recorded together, a
retried sweep member starts clean, and a database that fails or hangs answers 503 problem details."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from app.reaper import reap
from core import queue, testhooks
from core.config import get_settings
from core.db import session_scope
from core.tables import Event, Job, Metric, Run
from tests.unit import test_leases
from tests.unit.test_api import job_body
from tests.unit.test_leases import WorkerDied, expire_lease, submit
from worker.jobs import ending, hooks, sweeps
from worker.jobs.lifecycle import execute
from worker.leases import LeaseLost, claim, fenced

ids = test_leases.ids  # the fixture: a teacher and the digits transfer set


def broker_down(monkeypatch):
    monkeypatch.setenv("DISTILLERY_BROKER_URL", "redis://127.0.0.1:1/0")
    get_settings.cache_clear()
    queue._sender.cache_clear()


def broker_back(monkeypatch):
    monkeypatch.delenv("DISTILLERY_BROKER_URL")
    get_settings.cache_clear()
    queue._sender.cache_clear()


def job_row(job_id) -> Job:
    with session_scope() as s:
        return s.get(Job, job_id)


def types_of(client, job_id) -> list[str]:
    return [e["type"] for e in client.get(f"/v1/jobs/{job_id}/events", params={"limit": 1000}).json()["data"]]


def test_queued_work_the_broker_lost_is_sent_again_and_a_broker_outage_strands_nothing(client, ids, monkeypatch):
    monkeypatch.setenv("DISTILLERY_REQUEUE_AFTER_SECONDS", "60")
    get_settings.cache_clear()
    fresh, lost = submit(client, ids), submit(client, ids)
    with session_scope() as s:  # sent long ago and still queued: the message is gone
        s.execute(update(Job).where(Job.id == lost).values(sent_at=datetime.now(UTC) - timedelta(seconds=61)))
    assert reap() == [lost]
    assert reap() == []  # stamped when sent: not again before the threshold

    running = submit(client, ids)
    assert claim(Job, running, "gone", 60)
    expire_lease(running)
    broker_down(monkeypatch)
    assert reap() == []  # requeued, but the send failed: left for the next pass
    row = job_row(running)
    assert row.status == "queued" and row.sent_at is None and row.lease_token is None
    assert reap() == []
    broker_back(monkeypatch)
    assert reap() == [running]
    assert job_row(running).sent_at is not None
    assert job_row(fresh).status == "queued"


def test_a_worker_whose_lease_was_taken_writes_nothing_and_fails_nothing(client, ids, monkeypatch):
    job_id = submit(client, ids, hyperparameters={"epochs": 3})
    real_checkpoint = hooks.JobHooks.checkpoint

    def taken_over_at_epoch_2(self, name, state):
        if state["epoch"] == 2:  # the worker stalled past its lease; another one claimed the job
            expire_lease(job_id)
            assert claim(Job, job_id, "other-worker", 60)
        real_checkpoint(self, name, state)

    monkeypatch.setattr(hooks.JobHooks, "checkpoint", taken_over_at_epoch_2)
    execute(job_id)  # returns quietly
    job = job_row(job_id)
    assert job.status == "running" and job.lease_owner == "other-worker" and job.error is None
    types = types_of(client, job_id)
    assert "failed" not in types and types.count("epoch") == 1
    with session_scope() as s:
        assert sorted(set(s.scalars(select(Metric.step)))) == [1]


def test_fenced_writes_check_owner_and_token(client, ids):
    job_id = submit(client, ids)
    first = claim(Job, job_id, "a", 60)
    with fenced(first) as s:
        s.add(Event(job_id=job_id, type="note", message="mine"))
    expire_lease(job_id)
    second = claim(Job, job_id, "a", 60)  # the same owner claiming again gets a new token
    with pytest.raises(LeaseLost), fenced(first) as s:
        s.add(Event(job_id=job_id, type="note", message="stale"))
    with pytest.raises(LeaseLost):
        ending.finish(first, "failed", "stale")
    ending.end(first, "failed", "stale")  # quietly does nothing
    assert job_row(job_id).status == "running"
    with fenced(second) as s:
        s.add(Event(job_id=job_id, type="note", message="current"))
    assert [t for t in types_of(client, job_id) if t == "note"] == ["note", "note"]


def test_a_worker_killed_between_checkpoint_and_metrics_loses_no_epoch(client, ids, monkeypatch):
    job_id = submit(client, ids, hyperparameters={"epochs": 4})
    reached = []

    def dies_at_the_second_checkpoint(point):
        reached.append(point)
        if point == "after_checkpoint" and reached.count(point) == 2:
            raise WorkerDied()

    monkeypatch.setattr(testhooks, "pause", dies_at_the_second_checkpoint)
    with pytest.raises(WorkerDied):
        execute(job_id)
    monkeypatch.undo()
    with session_scope() as s:  # epoch 2's checkpoint file is in the store, its metrics are not recorded
        assert sorted(set(s.scalars(select(Metric.step)))) == [1]
    expire_lease(job_id)
    reap()
    execute(job_id)
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "succeeded", job["error"]
    events = client.get(f"/v1/jobs/{job_id}/events", params={"limit": 1000}).json()["data"]
    assert next(e for e in events if e["type"] == "resumed")["data"] == {"run": "distilled", "epoch": 1}
    assert [e["data"]["epoch"] for e in events if e["type"] == "epoch"] == [1, 2, 3, 4]
    run = client.get(f"/v1/jobs/{job_id}/metrics").json()["runs"][0]
    assert all([p["step"] for p in points] == [1, 2, 3, 4] for points in run["metrics"].values())


def test_a_member_retried_after_recording_epochs_starts_clean(client, ids, monkeypatch):
    dispatched = []
    job_id = client.post("/v1/jobs", json=job_body(*ids, hyperparameters={"epochs": 3},
                                                   sweep={"temperature": [1, 4]})).json()["id"]
    execute(job_id, dispatch_members=lambda _job, run_ids: dispatched.extend(run_ids))
    first, second = dispatched
    real_epoch_done = hooks.RunHooks.epoch_done

    def dies_after_epoch_2(self, name, epoch, metrics):
        real_epoch_done(self, name, epoch, metrics)
        if epoch == 2:
            raise WorkerDied()

    monkeypatch.setattr(hooks.RunHooks, "epoch_done", dies_after_epoch_2)
    with pytest.raises(WorkerDied):
        sweeps.execute_member(job_id, first)
    monkeypatch.undo()
    assert job_row(job_id).epoch == 2
    with session_scope() as s:
        s.execute(update(Run).where(Run.id == first).values(lease_expires_at=datetime.now(UTC) - timedelta(1)))
    assert reap() == [first]
    sweeps.execute_member(job_id, first)
    sweeps.execute_member(job_id, second)
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "succeeded", job["error"]
    assert all(m["status"] == "succeeded" for m in job["result"]["sweep"])
    assert job["progress"]["epoch"] == job["progress"]["total_epochs"] == 6
    for run in client.get(f"/v1/jobs/{job_id}/metrics").json()["runs"]:
        assert all([p["step"] for p in points] == [1, 2, 3] for points in run["metrics"].values()), run["name"]
    assert types_of(client, job_id).count("succeeded") == 1


def test_a_complete_sweep_nobody_finishes_is_queued_and_finished(client, ids, monkeypatch):
    dispatched = []
    job_id = client.post("/v1/jobs", json=job_body(*ids, hyperparameters={"epochs": 1},
                                                   sweep={"temperature": [1, 4]})).json()["id"]
    execute(job_id, dispatch_members=lambda _job, run_ids: dispatched.extend(run_ids))

    def dies_before_finishing(*_args):
        raise WorkerDied()

    monkeypatch.setattr(sweeps, "finish_sweep", dies_before_finishing)
    sweeps.execute_member(job_id, dispatched[0])
    with pytest.raises(WorkerDied):
        sweeps.execute_member(job_id, dispatched[1])
    monkeypatch.undo()
    with session_scope() as s:  # the last member took the job's lease to finish it, and died
        s.execute(update(Job).where(Job.id == job_id).values(lease_expires_at=datetime.now(UTC) - timedelta(1)))
    assert reap() == [job_id]
    execute(job_id)
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "succeeded", job["error"]
    assert types_of(client, job_id).count("succeeded") == 1


def test_database_errors_are_503_problems_with_retry_after(client):
    from core.db import get_db

    def broken_db():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        yield  # pragma: no cover

    client.app.dependency_overrides[get_db] = broken_db
    r = client.get("/v1/jobs")
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["retry-after"] and r.json()["type"].endswith("/database-unavailable")


def test_a_database_that_hangs_gets_answers_within_the_bounds(client, monkeypatch):
    from app.routes import health
    from core.db import get_db

    monkeypatch.setenv("DISTILLERY_REQUEST_DEADLINE_SECONDS", "0.5")
    monkeypatch.setenv("DISTILLERY_HEALTH_TIMEOUT_SECONDS", "0.5")
    get_settings.cache_clear()

    def hanging_db():
        time.sleep(3)
        yield None

    monkeypatch.setattr(health, "_ping", lambda: time.sleep(3))
    client.app.dependency_overrides[get_db] = hanging_db
    for path in ("/healthz", "/v1/jobs"):
        t = time.monotonic()
        r = client.get(path)
        assert time.monotonic() - t < 2.5, path
        assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json", (path, r.text)
        assert r.headers["retry-after"], path


def test_a_sweep_whose_last_member_the_reaper_failed_is_finished(client, ids, monkeypatch):
    monkeypatch.setenv("DISTILLERY_MAX_ATTEMPTS", "1")
    get_settings.cache_clear()
    dispatched = []
    job_id = client.post("/v1/jobs", json=job_body(*ids, hyperparameters={"epochs": 1},
                                                   sweep={"temperature": [1, 4]})).json()["id"]
    execute(job_id, dispatch_members=lambda _job, run_ids: dispatched.extend(run_ids))
    sweeps.execute_member(job_id, dispatched[0])
    assert claim(Run, dispatched[1], "doomed", 60)  # its worker vanishes
    with session_scope() as s:
        s.execute(update(Run).where(Run.id == dispatched[1]).values(lease_expires_at=datetime.now(UTC) - timedelta(1)))
    assert reap() == [job_id]  # the member failed, and the sweep nobody finishes is queued and sent
    execute(job_id)
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "succeeded", job["error"]
    assert [m["status"] for m in job["result"]["sweep"]] == ["succeeded", "failed"]
    assert types_of(client, job_id).count("succeeded") == 1
