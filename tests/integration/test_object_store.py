"""The service with its artifact store in a bucket of a real S3-compatible server (moto, on loopback), the
API and the worker each with their own local directory: the essential end-to-end and sweep tests run on it,
and what only an object store can get wrong is checked here (the kill -9 resume is in test_faults.py)."""

import hashlib
import time

import httpx
import pytest
from sqlalchemy import create_engine, select

from core.tables import Artifact
from tests.integration import test_end_to_end as e2e  # a module, so that its tests are not collected here too
from tests.integration.cutting_proxy import CuttingProxy
from tests.integration.stack import S3_CACHE_BYTES, running_stack
from tests.integration.test_end_to_end import submit_digits_job

pytestmark = pytest.mark.slow

PREFIX = "distillery/"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack("s3", tmp_path_factory.mktemp("s3")) as s:
        yield s


def bucket(stack) -> dict[str, bytes]:
    return {k.removeprefix(PREFIX): v for k, v in stack.s3.keys(stack.bucket).items()}


def rows(stack) -> dict[str, str]:
    engine = create_engine(stack.env["DISTILLERY_DATABASE_URL"])
    try:
        with engine.connect() as c:
            return dict(c.execute(select(Artifact.key, Artifact.sha256)).all())
    finally:
        engine.dispose()


def assert_everything_in_the_bucket(stack) -> None:
    """Every artifact row's bytes are in the bucket and hash to its sha256; no process keeps an artifact on
    its local disk: its staging area is empty and only its bounded local cache holds copies."""
    stored = bucket(stack)
    for key, sha in rows(stack).items():
        assert hashlib.sha256(stored[key]).hexdigest() == sha, key
    assert not [k for k in stored if k.startswith(("checkpoints/", ".staging"))], sorted(stored)
    for local in stack.var.glob("local-*"):
        files = [p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()]
        # sandbox-slots/ holds the upload checks' lock files (app/check_slots.py): counters, not artifacts
        assert [f for f in files if not f.startswith(("cache/", "sandbox-slots/"))] == [], (local.name, files)
        for part in ("files", "teacher_outputs"):
            cached = sum(p.stat().st_size for p in (local / "cache" / part).rglob("*") if p.is_file())
            assert cached <= S3_CACHE_BYTES, (local.name, part, cached)
        assert not (local / "artifacts").exists()


def test_end_to_end_with_every_artifact_in_the_bucket(stack, teacher_file, tmp_path):
    e2e.test_distil_digits_end_to_end(stack, teacher_file, tmp_path)
    assert_everything_in_the_bucket(stack)
    assert any(k.startswith("students/") for k in bucket(stack))
    assert any(k.startswith("cache/teacher_outputs/") for k in bucket(stack))  # shared by every worker


def test_a_sweep_on_two_workers_that_share_only_the_bucket(stack, teacher_file, tmp_path):
    e2e.test_sweep_runs_members_on_several_workers_and_keeps_the_best(stack, teacher_file, tmp_path)
    assert_everything_in_the_bucket(stack)


def test_a_changed_object_is_refused_on_read(stack, teacher_file):
    with stack.client() as client:
        job_id = submit_digits_job(client, teacher_file, hyperparameters={"epochs": 2})
        job = stack.wait_for_job(client, job_id)
        assert job["status"] == "succeeded", job["error"]
        key = next(k for k in bucket(stack) if k.startswith(f"students/{job_id}/") and k.endswith(".onnx"))
        stack.s3.client().put_object(Bucket=stack.bucket, Key=PREFIX + key, Body=b"not the student")
        r = client.get(f"/v1/jobs/{job_id}/student", params={"format": "onnx"})
        assert r.status_code == 409 and r.json()["type"].endswith("artifact-corrupt"), r.text
        assert "does not match the sha256" in r.json()["detail"] and str(stack.var) not in r.text

        # a teacher changed in the bucket before any worker read it: the job that reads it fails saying so
        with open(teacher_file, "rb") as f:
            r = client.post("/v1/teachers", files={"file": ("teacher.pt", f)},
                            data={"name": "to tamper with", "input_shape": "[64]"})
        assert r.status_code == 201, r.text
        teacher = r.json()["id"]
        key = next(k for k in bucket(stack) if k.startswith(f"teachers/{teacher}"))
        stack.s3.client().put_object(Bucket=stack.bucket, Key=PREFIX + key, Body=b"a tampered teacher")
        r = client.post("/v1/jobs", json={"teacher_ids": [teacher], "transfer_set_id": job["transfer_set_id"],
                                          "student": {"arch": "mlp", "hidden_sizes": [8]},
                                          "hyperparameters": {"epochs": 1}})
        assert r.status_code == 202, r.text
        failed = stack.wait_for_job(client, r.json()["id"])
        assert failed["status"] == "failed" and "does not match the sha256" in failed["error"], failed
        assert str(stack.var) not in failed["error"]


def test_an_upload_cut_mid_way_leaves_no_object_and_no_row(stack, teacher_file):
    before_rows, before_objects = rows(stack), set(bucket(stack))
    proxy = CuttingProxy(stack.port, cut_after=0.5, paths=(b"/v1/teachers",))

    def slow_body():
        yield (b"--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\ncut\r\n"
               b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.pt\"\r\n\r\n")
        for _ in range(40):
            yield b"x" * 65536
            time.sleep(0.05)
        yield b"\r\n--b--\r\n"

    try:
        with pytest.raises(httpx.TransportError):
            httpx.post(f"http://127.0.0.1:{proxy.port}/v1/teachers", content=slow_body(), timeout=30,
                       headers={"Content-Type": "multipart/form-data; boundary=b"})
        assert proxy.cuts == 1
    finally:
        proxy.close()
    time.sleep(1)  # the API notices the broken connection
    assert rows(stack) == before_rows and set(bucket(stack)) == before_objects
    staging = stack.local_dir("api") / "staging"  # made with the API's store, which a refused upload may precede
    assert not staging.exists() or not list(staging.iterdir())
