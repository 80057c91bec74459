"""Deleting jobs and sweeping orphans: exactly a job's own files go with it, a running job is a 409, and the
sweep removes only old files that no row names."""

import os
import threading
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.deps import get_store
from app.retention import sweep_orphans
from core.config import get_settings
from core.db import get_engine
from core.tables import Event, Job, Metric, Run
from tests.unit.test_api import assert_problem, job_body, stored_files, upload_teacher
from worker.jobs.lifecycle import execute
from worker.leases import claim


def rows_of(job_id: str) -> dict[str, int]:
    with Session(get_engine()) as s:
        runs = list(s.scalars(select(Run.id).where(Run.job_id == job_id)))
        return {"jobs": s.scalar(select(func.count()).select_from(Job).where(Job.id == job_id)),
                "runs": len(runs),
                "metrics": s.scalar(select(func.count()).select_from(Metric).where(Metric.run_id.in_(runs or [""]))),
                "events": s.scalar(select(func.count()).select_from(Event).where(Event.job_id == job_id))}


def cancelled_after_a_checkpoint(client, body) -> str:
    """A job cancelled once it has written a checkpoint (which its end then removes: it never resumes)."""
    job = client.post("/v1/jobs", json={**body, "hyperparameters": {"epochs": 200}}).json()["id"]
    worker = threading.Thread(target=execute, args=(job,))
    worker.start()
    deadline = time.monotonic() + 120
    while not any(f.startswith(f"checkpoints/{job}/") for f in stored_files()):
        assert time.monotonic() < deadline, "no checkpoint was written"
        time.sleep(0.05)
    assert client.post(f"/v1/jobs/{job}/cancel").status_code == 200
    worker.join(120)
    assert client.get(f"/v1/jobs/{job}").json()["status"] == "cancelled"
    return job


def test_delete_removes_exactly_the_jobs_files_and_rows(client, teacher_file):
    teacher = upload_teacher(client, teacher_file).json()["id"]
    ts = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
    one_epoch = job_body(teacher, ts, hyperparameters={"epochs": 1})
    sweep = client.post("/v1/jobs", json={**one_epoch, "sweep": {"temperature": [1, 4]}}).json()["id"]
    kept = client.post("/v1/jobs", json={**one_epoch, "baseline": True}).json()["id"]
    execute(sweep)
    execute(kept)
    cancelled = cancelled_after_a_checkpoint(client, one_epoch)

    # An ended job keeps only its students: its checkpoints and its sweep members' weights went when it ended,
    # so nothing of it lies in the store uncounted by its tenant's quota.
    for job, folders in ((sweep, ("students",)), (cancelled, ())):
        before = stored_files()
        own = {f for f in before if f.split("/")[1:2] == [job]}
        assert {f.split("/")[0] for f in own} == set(folders), own
        assert rows_of(job)["metrics"] > 0 and rows_of(job)["events"] > 0
        assert client.delete(f"/v1/jobs/{job}").status_code == 204
        assert set(stored_files()) == set(before) - own  # exactly its files, nothing else
        assert rows_of(job) == {"jobs": 0, "runs": 0, "metrics": 0, "events": 0}
        assert_problem(client.get(f"/v1/jobs/{job}"), 404, job)
        assert_problem(client.delete(f"/v1/jobs/{job}"), 404, job)
    # The other job, its teacher and transfer set are untouched, and its student still downloads.
    assert client.get(f"/v1/jobs/{kept}/student").status_code == 200
    assert rows_of(kept)["metrics"] > 0
    assert any(f.startswith(f"students/{kept}/") for f in stored_files())
    # A teacher whose jobs are all deleted can be deleted too.
    assert client.delete(f"/v1/jobs/{kept}").status_code == 204
    assert client.delete(f"/v1/teachers/{teacher}").status_code == 204


def test_a_queued_or_running_job_is_409(client, teacher_file):
    teacher = upload_teacher(client, teacher_file).json()["id"]
    ts = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
    job = client.post("/v1/jobs", json=job_body(teacher, ts)).json()["id"]
    assert_problem(client.delete(f"/v1/jobs/{job}"), 409, "queued", "cancel")
    assert claim(Job, job, "test-worker", 60) is not None  # as a worker takes it
    body = assert_problem(client.delete(f"/v1/jobs/{job}"), 409, "running", f"/v1/jobs/{job}/cancel")
    assert body["type"].endswith("/job-not-ended")
    assert client.get(f"/v1/jobs/{job}").json()["status"] == "running"


def _file(root, key: str, age_seconds: float) -> str:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    then = time.time() - age_seconds
    os.utime(path, (then, then))
    return key


def test_the_orphan_sweep_removes_only_old_files_no_row_names(client, teacher_file):
    teacher = upload_teacher(client, teacher_file).json()["id"]
    ts = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
    running = client.post("/v1/jobs", json=job_body(teacher, ts)).json()["id"]
    claim(Job, running, "test-worker", 60)
    store = get_store()
    grace = get_settings().staging_grace_seconds
    old, young = grace + 60, grace - 60
    for key in stored_files():  # what the rows name is old as well
        os.utime(store.root / key, (time.time() - old, time.time() - old))
    orphans = {_file(store.root, "students/job_gone/tok/student.pt", old),
               _file(store.root, "checkpoints/job_gone/distilled.tok.3.pt", old),
               _file(store.root, "teachers/tch_gone.pt", old),
               _file(store.root, ".staging/tmpabc.npz", old)}
    spared = {_file(store.root, "students/job_young/tok/student.pt", young),  # its row may be about to commit
              _file(store.root, ".staging/tmpnew.pt", young),
              _file(store.root, f"checkpoints/{running}/distilled.tok.1.pt", old),  # its job still runs
              _file(store.root, "cache/teacher_outputs/ab/abcd.safetensors", old)}  # bounded by its own limit
    named = set(stored_files()) - orphans - spared
    assert any(f.startswith("teachers/") for f in named)

    with Session(get_engine()) as s:
        removed = sweep_orphans(s, store, grace_seconds=grace)
    assert set(removed) == orphans
    assert set(stored_files()) == named | spared
    assert (store.root / ".staging").is_dir() and not (store.root / "students" / "job_gone").exists()
    assert client.get(f"/v1/teachers/{teacher}").status_code == 200
