"""REST conventions: problem details for every error, pagination, idempotency, ETags, progress."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from tests.unit.test_api import assert_problem, job_body, upload_teacher
from worker.jobs.lifecycle import execute


@pytest.fixture
def ids(client, teacher_file):
    teacher = upload_teacher(client, teacher_file).json()["id"]
    ts = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
    return teacher, ts


def finished_job(client, ids) -> dict:
    r = client.post("/v1/jobs", json=job_body(*ids, hyperparameters={"epochs": 1}))
    execute(r.json()["id"])
    job = client.get(f"/v1/jobs/{r.json()['id']}").json()
    assert job["status"] == "succeeded", job["error"]
    return job


def test_problem_details_for_404_405_409_and_422(client, ids):
    assert_problem(client.get("/v1/teachers/tch_missing"), 404, "tch_missing")
    assert_problem(client.get("/v1/nothing-here"), 404)
    body = assert_problem(client.put("/v1/jobs"), 405)
    assert body["type"].endswith("/method-not-allowed")
    job = finished_job(client, ids)
    body = assert_problem(client.post(f"/v1/jobs/{job['id']}/cancel"), 409, "already ended")
    assert body["type"].endswith("/job-finished")
    assert_problem(client.delete(f"/v1/teachers/{ids[0]}"), 409, "used by jobs")
    assert_problem(client.get("/v1/jobs", params={"limit": 0}), 422, field="limit")
    assert_problem(client.get("/v1/jobs", params={"status": "sleeping"}), 422, field="status")


def test_pagination_has_no_duplicates_or_gaps(client, ids):
    created = {client.post("/v1/jobs", json=job_body(*ids)).json()["id"] for _ in range(7)}
    seen: list[str] = []
    offset = 0
    while True:
        page = client.get("/v1/jobs", params={"limit": 3, "offset": offset}).json()
        assert page["count"] == 7
        if not page["data"]:
            break
        seen += [j["id"] for j in page["data"]]
        offset += 3
    assert len(seen) == len(set(seen)) == 7 and set(seen) == created
    assert client.get("/v1/jobs", params={"status": "queued"}).json()["count"] == 7
    assert client.get("/v1/jobs", params={"status": "running"}).json() == {"data": [], "count": 0}


def test_same_idempotency_key_and_body_give_the_same_job(client, ids):
    headers = {"Idempotency-Key": "order-42"}
    first = client.post("/v1/jobs", json=job_body(*ids), headers=headers)
    again = client.post("/v1/jobs", json=job_body(*ids), headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"] and again.headers["location"] == first.headers["location"]
    assert client.get("/v1/jobs").json()["count"] == 1
    other = client.post("/v1/jobs", json=job_body(*ids, hyperparameters={"epochs": 3}), headers=headers)
    body = assert_problem(other, 409, "order-42", "different body")
    assert body["type"].endswith("/idempotency-key-reused")
    assert client.post("/v1/jobs", json=job_body(*ids)).json()["id"] != first.json()["id"]  # no key: new job


def test_download_etag_and_if_none_match(client, ids):
    job = finished_job(client, ids)
    r = client.get(f"/v1/jobs/{job['id']}/student")
    etag = r.headers["etag"]
    assert r.status_code == 200 and etag == f'"{job["result"]["exports"]["torchscript"]["sha256"]}"'
    cached = client.get(f"/v1/jobs/{job['id']}/student", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b"" and cached.headers["etag"] == etag
    stale = client.get(f"/v1/jobs/{job['id']}/student", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.content == r.content
    onnx = client.get(f"/v1/jobs/{job['id']}/student", params={"format": "onnx"}, headers={"If-None-Match": etag})
    assert onnx.status_code == 200 and onnx.headers["etag"] != etag


def test_finished_job_progress_and_events(client, ids):
    job = finished_job(client, ids)
    assert job["progress"]["epoch"] == job["progress"]["total_epochs"] == 1
    assert job["progress"]["eta_seconds"] is None
    events = client.get(f"/v1/jobs/{job['id']}/events").json()
    types = [e["type"] for e in events["data"]]
    assert types[0] == "queued" and "exported" in types and types[-1] == "succeeded"
    later = client.get(f"/v1/jobs/{job['id']}/events", params={"after": events["data"][2]["id"]}).json()
    assert [e["id"] for e in later["data"]] == [e["id"] for e in events["data"][3:]]


def test_eta_comes_from_elapsed_time_per_epoch():
    from app.routes.jobs import _progress

    started = datetime.now(UTC) - timedelta(seconds=30)
    running = SimpleNamespace(status="running", started_at=started, epoch=3, step=0, steps_per_epoch=10,
                              total_epochs=10)
    assert _progress(running).eta_seconds == pytest.approx(70, abs=2)  # 10 s an epoch, 7 to go
    halfway = SimpleNamespace(**{**vars(running), "step": 5})
    assert _progress(halfway).eta_seconds == pytest.approx(30 / 3.5 * 6.5, abs=2)
    first_epoch = SimpleNamespace(**{**vars(running), "epoch": 0, "step": 4})
    assert _progress(first_epoch).eta_seconds is None  # not before an epoch has finished


def test_every_operation_has_one_tag_and_declares_its_errors(client):
    schema = client.get("/openapi.json").json()
    ids = []
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            ids.append(op["operationId"])
            assert len(op["tags"]) == 1, (method, path)
            if path.startswith("/v1/"):
                assert "422" in op["responses"], (method, path)
                if "{" in path:
                    assert "404" in op["responses"], (method, path)
    assert len(ids) == len(set(ids))
    assert all(i.isidentifier() and i == i.lower() for i in ids)


def test_export_formats_can_be_chosen(client, ids):
    r = client.post("/v1/jobs", json=job_body(*ids, hyperparameters={"epochs": 1}, export_formats=["onnx"]))
    execute(r.json()["id"])
    job = client.get(f"/v1/jobs/{r.json()['id']}").json()
    assert job["student_formats"] == ["onnx"] and job["export_formats"] == ["onnx"]
    assert client.get(f"/v1/jobs/{job['id']}/student", params={"format": "onnx"}).status_code == 200
    assert_problem(client.get(f"/v1/jobs/{job['id']}/student"), 409, "no torchscript student", "available: onnx")
    assert_problem(client.post("/v1/jobs", json=job_body(*ids, export_formats=["tflite"])), 422,
                   field="export_formats.0")
