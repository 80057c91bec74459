"""A job reserves the bytes its students and checkpoints may take when it is submitted: the reservation counts
against its tenant's byte quota while it is queued or running, and once it has ended its kept students count
instead (its checkpoints are gone). Jobs submitted under the quota can no longer finish far past it."""

from sqlalchemy import func, select

from app.quotas import stored_items
from core.config import get_settings
from core.db import session_scope
from core.tables import Artifact, Job, StudentExport
from tests.unit.test_api import assert_problem, job_body
from tests.unit.test_quotas import setup_job, two_tenants  # noqa: F401 (fixture)
from worker.jobs.lifecycle import execute


def _reserved(job_id: str) -> int:
    with session_scope() as s:
        return s.get(Job, job_id).reserved_bytes


def test_a_job_reserves_its_output_until_it_ends_then_its_students_count(two_tenants, teacher_file,  # noqa: F811
                                                                          monkeypatch):
    client, h = two_tenants
    base = setup_job(client, teacher_file, h["alpha"])
    body = job_body(base["teacher_ids"][0], base["transfer_set_id"], hyperparameters={"epochs": 1},
                    student={"arch": "mlp", "hidden_sizes": [16]}, export_formats=["safetensors", "onnx"])
    first = client.post("/v1/jobs", json=body, headers=h["alpha"])
    assert first.status_code == 202, first.text
    first = first.json()["id"]
    reserved = _reserved(first)
    params = 64 * 16 + 16 + 16 * 10 + 10
    assert reserved >= (2 + 4) * params * 4  # two students, and a run's weights and checkpoint
    teacher_bytes = teacher_file.stat().st_size
    # Room for the teacher and one job's reservation, not two.
    monkeypatch.setattr(get_settings(), "max_stored_bytes", teacher_bytes + reserved + reserved // 2)
    r = client.post("/v1/jobs", json=body, headers=h["alpha"])
    assert_problem(r, 413, f"this needs {reserved} more bytes", f"job {first}'s expected students and checkpoints",
                   f"POST /v1/jobs/{first}/cancel")
    assert client.get("/v1/jobs", headers=h["alpha"]).json()["count"] == 1

    execute(first)
    assert client.get(f"/v1/jobs/{first}", headers=h["alpha"]).json()["status"] == "succeeded"
    with session_scope() as s:
        kept = s.scalar(select(func.sum(Artifact.size_bytes)).join(StudentExport, StudentExport.artifact_id ==
                                                                   Artifact.id).where(StudentExport.job_id == first))
        items = dict(stored_items(s, s.get(Job, first).tenant_id))
    assert 0 < kept <= reserved  # the estimate bounded what the job kept
    assert items[f"job {first}'s students (DELETE /v1/jobs/{first})"] == kept
    assert not [what for what in items if "expected" in what]  # an ended job reserves nothing more

    second = client.post("/v1/jobs", json=body, headers=h["alpha"])  # now there is room
    assert second.status_code == 202, second.text
    assert_problem(client.post("/v1/jobs", json=body, headers=h["alpha"]), 413, "expected students")
    # A cancelled job gives its reservation back.
    assert client.post(f"/v1/jobs/{second.json()['id']}/cancel", headers=h["alpha"]).status_code == 200
    assert client.post("/v1/jobs", json=body, headers=h["alpha"]).status_code == 202
