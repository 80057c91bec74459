"""The sandbox layer on its own, in a real API server and a real Celery worker: with the static checks
switched off (a test-only setting), a teacher that reads a server file or opens a socket still cannot."""

import io
import json

import numpy as np
import pytest

from models.sandbox.jail import sandbox_problem
from tests import hostile_models as hostile
from tests.integration.stack import running_stack
from tests.unit.test_untrusted_models import SECRET, Listener

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sandbox_problem() is not None, reason="needs bubblewrap")]


@pytest.fixture(scope="module")
def unchecked_stack(tmp_path_factory):
    var = tmp_path_factory.mktemp("unchecked")
    with running_stack("embedded", var, {"DISTILLERY_UNSAFE_SKIP_MODEL_CHECKS": "true"}) as stack:
        yield stack


def _four_feature_set(client) -> str:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    np.savez(buf, x=rng.normal(size=(200, 4)).astype(np.float32), y=rng.integers(0, 3, 200))
    r = client.post("/v1/transfer-sets", files={"file": ("four.npz", buf.getvalue())}, data={"name": "four"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _job(client, teacher: str, transfer_set: str) -> str:
    r = client.post("/v1/jobs", json={"teacher_ids": [teacher], "transfer_set_id": transfer_set,
                                      "student": {"arch": "mlp", "hidden_sizes": [8]},
                                      "hyperparameters": {"epochs": 2}})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def _upload(client, path, fmt):
    with open(path, "rb") as f:
        return client.post("/v1/teachers", files={"file": (path.name, f)},
                           data={"name": path.stem, "format": fmt, "input_shape": "[4]"})


def test_a_worker_runs_a_teacher_that_reads_a_server_file_without_reading_it(unchecked_stack, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(SECRET)
    # Reads only on batches larger than the upload's probe batches, so that it reaches the worker.
    path = hostile.torchscript(hostile.ReadsFile(str(secret), min_batch=3), tmp_path / "reads.pt")
    with unchecked_stack.client() as client:
        r = _upload(client, path, "torchscript")
        assert r.status_code == 201, r.text
        job_id = _job(client, r.json()["id"], _four_feature_set(client))
        job = unchecked_stack.wait_for_job(client, job_id)
        assert job["status"] == "failed", job
        assert "aten::from_file" in job["error"] and "not shown" in job["error"]  # the model's text never is
        events = client.get(f"/v1/jobs/{job_id}/events", params={"limit": 1000}).json()["data"]
        # What the events say, not when: a timestamp's digits can hold the 2-digit number looked for below.
        seen = job["error"] + " ".join(e["message"] + json.dumps(e.get("data")) for e in events)
        assert SECRET.decode() not in seen and str(2 + SECRET[0]) not in seen
    assert "run in a bubblewrap sandbox" in unchecked_stack.log_since_start("worker")


def test_a_worker_runs_a_teacher_that_opens_a_socket_without_a_connection(unchecked_stack, tmp_path):
    listener = Listener()
    marker = tmp_path / "marker"
    path = hostile.pt2_with_pickled_weight(tmp_path, marker, port=listener.port)
    try:
        with unchecked_stack.client() as client:
            r = _upload(client, path, "exported_program")
            assert r.status_code == 201, r.text  # the API's sandbox ran the pickle; it could not connect
            assert not listener.connected()
            job_id = _job(client, r.json()["id"], _four_feature_set(client))
            job = unchecked_stack.wait_for_job(client, job_id)
            assert job["status"] == "succeeded", f"{job['error']}\n{unchecked_stack.log('worker')}"
            types = [e["type"] for e in client.get(f"/v1/jobs/{job_id}/events").json()["data"]]
            assert "cache_built" in types  # the teacher ran in the worker, where the pickle ran again
        assert not listener.connected()
        assert not marker.exists()
    finally:
        listener.server.close()
