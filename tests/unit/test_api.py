"""The HTTP edge in-process, on the embedded SQLite database (no worker is needed for these).

Each refusal must be a problem+json 4xx that says what to fix and leave no row and no file behind.
"""

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.main import create_app
from core.config import get_settings
from core.db import SchemaBehind, get_engine
from core.tables import Artifact, Event, Job, Teacher, TransferSet


def counts() -> dict[str, int]:
    from sqlalchemy.orm import Session

    with Session(get_engine()) as s:
        return {t.__tablename__: s.scalar(select(func.count()).select_from(t))
                for t in (Teacher, TransferSet, Job, Artifact, Event)}


def stored_files() -> list[str]:
    root = get_settings().resolved_artifact_dir
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def assert_problem(r, status: int, *words: str, field: str | None = None):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["type"].startswith("https://") and body["title"]
    for w in words:
        assert w in body["detail"], (w, body["detail"])
    if field:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


def upload_teacher(client, path, **fields):
    data = {"name": "digits", "input_shape": "[64]", "format": "torchscript", **fields}
    with open(path, "rb") as f:
        return client.post("/v1/teachers", files={"file": ("t.pt", f)}, data=data)


@pytest.fixture
def teacher_id(client, teacher_file):
    r = upload_teacher(client, teacher_file)
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.fixture
def digits_id(client):
    r = client.post("/v1/transfer-sets", json={"name": "digits", "builtin": "digits"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    assert client.get("/readyz").status_code == 200


def test_teacher_upload_records_classes_and_hash(client, teacher_file):
    import hashlib

    r = upload_teacher(client, teacher_file)
    assert r.status_code == 201
    body = r.json()
    assert body["id"].startswith("tch_") and body["num_classes"] == 10 and body["input_shape"] == [64]
    assert body["sha256"] == hashlib.sha256(teacher_file.read_bytes()).hexdigest()
    assert stored_files() == [f"teachers/{body['id']}.pt"]  # the format's own suffix
    assert client.get(f"/v1/teachers/{body['id']}").json() == body
    assert client.get("/v1/teachers").json() == {"data": [body], "count": 1}
    assert client.delete(f"/v1/teachers/{body['id']}").status_code == 204
    assert stored_files() == [] and counts()["artifacts"] == 0


def test_file_that_is_not_a_model_is_refused_and_nothing_kept(client, tmp_path):
    bad = tmp_path / "notes.pt"
    bad.write_text("these are my notes, not a network")
    before = counts()
    body = assert_problem(upload_teacher(client, bad), 422, "not a loadable torchscript model", field="file")
    assert body["type"].endswith("/invalid-teacher")
    assert counts() == before and stored_files() == []


def test_teacher_forward_failure_includes_underlying_error(client, teacher_file):
    assert_problem(upload_teacher(client, teacher_file, input_shape="[3, 8, 8]"), 422, "forward pass failed",
                   "mat1 and mat2", field="file")
    assert counts()["teachers"] == 0 and stored_files() == []


@pytest.mark.parametrize("missing", ["file", "name", "input_shape"])
def test_missing_teacher_field_is_named(client, teacher_file, missing):
    data = {"name": "t", "input_shape": "[64]"}
    files = {"file": ("t.pt", teacher_file.read_bytes())}
    if missing == "file":
        files = None
    else:
        del data[missing]
    assert_problem(client.post("/v1/teachers", files=files, data=data), 422, missing, field=missing)
    assert counts()["teachers"] == 0 and stored_files() == []


@pytest.mark.parametrize("shape", ["64", "[]", "[0]", "[-1]", "[1.5]", "not json", "[1,2,3,4,5]"])
def test_bad_input_shape_is_refused(client, teacher_file, shape):
    assert_problem(upload_teacher(client, teacher_file, input_shape=shape), 422, "input_shape", field="input_shape")


def test_unknown_teacher_format_is_refused(client, teacher_file):
    assert_problem(upload_teacher(client, teacher_file, format="keras"), 422, "keras", field="format")


def test_upload_over_the_size_limit_is_413_and_nothing_kept(client, teacher_file, monkeypatch):
    monkeypatch.setenv("DISTILLERY_MAX_UPLOAD_BYTES", "1000")
    get_settings.cache_clear()
    assert_problem(upload_teacher(client, teacher_file), 413, "1000 bytes")
    assert counts()["teachers"] == 0 and stored_files() == []


def test_builtin_transfer_set(client):
    r = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"})
    assert r.status_code == 201
    b = r.json()
    assert (b["kind"], b["num_samples"], b["num_test"], b["sample_shape"], b["num_classes"], b["labelled"]) == (
        "builtin", 1437, 360, [64], 10, True)


def test_unknown_builtin_and_missing_name(client):
    assert_problem(client.post("/v1/transfer-sets", json={"name": "x", "builtin": "mnist"}), 422, "builtin")
    assert_problem(client.post("/v1/transfer-sets", json={"builtin": "digits"}), 422, "name", field="name")
    assert_problem(client.post("/v1/transfer-sets", content=b"x=1",
                               headers={"content-type": "text/plain"}), 415, "application/json")
    assert counts()["transfer_sets"] == 0


def test_npz_transfer_set_upload(client):
    data = npz_bytes(x=np.random.rand(30, 64).astype(np.float32), y=np.arange(30) % 10)
    r = client.post("/v1/transfer-sets", files={"file": ("s.npz", data)}, data={"name": "mine"})
    assert r.status_code == 201, r.text
    b = r.json()
    assert (b["kind"], b["num_samples"], b["num_test"], b["labelled"]) == ("npz", 24, 6, True)
    assert stored_files() == [f"transfer_sets/{b['id']}.npz"]


def test_bad_npz_is_refused_and_nothing_kept(client):
    r = client.post("/v1/transfer-sets", files={"file": ("s.npz", npz_bytes(y=np.arange(3)))}, data={"name": "m"})
    assert_problem(r, 422, "'x'", field="file")
    r = client.post("/v1/transfer-sets", files={"file": ("s.npz", b"junk")})
    assert_problem(r, 422, "name", field="name")
    assert counts()["transfer_sets"] == 0 and stored_files() == []


def job_body(teacher_id, ts_id, **kw):
    body = {"teacher_ids": [teacher_id], "transfer_set_id": ts_id,
            "student": {"arch": "mlp", "hidden_sizes": [32]}, "hyperparameters": {"epochs": 2}}
    body.update(kw)
    return body


def test_unknown_teacher_id_is_refused_and_no_job_kept(client, digits_id):
    r = client.post("/v1/jobs", json=job_body("tch_nope", digits_id))
    assert_problem(r, 422, "tch_nope", "does not exist", field="teacher_ids.0")
    assert counts()["jobs"] == 0 and counts()["events"] == 0


def test_unknown_transfer_set_is_refused(client, teacher_id):
    assert_problem(client.post("/v1/jobs", json=job_body(teacher_id, "ts_nope")), 422, "ts_nope",
                   field="transfer_set_id")


def test_labels_beyond_the_teachers_classes_are_refused(client, teacher_id):
    data = npz_bytes(x=np.random.rand(30, 64).astype(np.float32), y=np.arange(30) % 12)
    ts = client.post("/v1/transfer-sets", files={"file": ("s.npz", data)}, data={"name": "12 classes"}).json()
    r = client.post("/v1/jobs", json=job_body(teacher_id, ts["id"]))
    assert_problem(r, 422, "labels up to 11", "only 10 classes", field="transfer_set_id")
    assert counts()["jobs"] == 0


def test_sample_shape_mismatch_is_refused(client, teacher_id):
    data = npz_bytes(x=np.random.rand(10, 8, 8).astype(np.float32), y=np.arange(10))
    ts = client.post("/v1/transfer-sets", files={"file": ("s.npz", data)}, data={"name": "8x8"}).json()
    assert_problem(client.post("/v1/jobs", json=job_body(teacher_id, ts["id"])), 422, "[8, 8]", "[64]")


def test_missing_job_field_is_named(client, teacher_id, digits_id):
    body = job_body(teacher_id, digits_id)
    del body["student"]
    assert_problem(client.post("/v1/jobs", json=body), 422, "student", field="student")


@pytest.mark.parametrize(
    "hp, field",
    [
        ({"temperature": 0}, "hyperparameters.temperature"),
        ({"temperature": -2}, "hyperparameters.temperature"),
        ({"soft_weight": -1}, "hyperparameters.soft_weight"),
        ({"hard_weight": -1}, "hyperparameters.hard_weight"),
        ({"soft_weight": 0, "hard_weight": 0}, "hyperparameters"),
        ({"optimizer": "rmsprop"}, "hyperparameters.optimizer"),
        ({"schedule": "linear"}, "hyperparameters.schedule"),
        ({"epochs": 0}, "hyperparameters.epochs"),
        ({"learning_rate": 0}, "hyperparameters.learning_rate"),
        ({"tempreature": 2}, "hyperparameters.tempreature"),
        ({"devices": 0}, "hyperparameters.devices"),
        ({"devices": 65}, "hyperparameters.devices"),
        ({"devices": 2, "compile": True}, "hyperparameters"),
    ],
)
def test_invalid_hyperparameters_get_422_naming_the_field(client, teacher_id, digits_id, hp, field):
    r = client.post("/v1/jobs", json=job_body(teacher_id, digits_id, hyperparameters=hp))
    body = assert_problem(r, 422, field=field)
    if field == "hyperparameters":
        assert ("soft_weight and hard_weight are both 0" in body["detail"]
                or "devices 2 does not combine with compile: set devices to 1" in body["detail"]), body
    assert counts()["jobs"] == 0


def test_unknown_arch_is_refused(client, teacher_id, digits_id):
    r = client.post("/v1/jobs", json=job_body(teacher_id, digits_id, student={"arch": "vit"}))
    assert_problem(r, 422, "vit", "mlp", field="student")


def test_incompatible_arch_is_refused(client, teacher_id, digits_id):
    r = client.post("/v1/jobs", json=job_body(teacher_id, digits_id, student={"arch": "cnn"}))
    assert_problem(r, 422, "[channels, height, width]", field="student")


def test_unlabelled_set_needs_zero_hard_weight_and_no_baseline(client, teacher_id):
    data = npz_bytes(x=np.random.rand(10, 64).astype(np.float32))
    ts = client.post("/v1/transfer-sets", files={"file": ("u.npz", data)}, data={"name": "unl"}).json()
    assert ts["labelled"] is False
    assert_problem(client.post("/v1/jobs", json=job_body(teacher_id, ts["id"])), 422, "no labels",
                   field="hyperparameters.hard_weight")
    hp = {"hard_weight": 0, "soft_weight": 1, "epochs": 1}
    assert_problem(client.post("/v1/jobs", json=job_body(teacher_id, ts["id"], hyperparameters=hp, baseline=True)),
                   422, "baseline", field="baseline")


def test_omit_classes_are_checked(client, teacher_id, digits_id):
    assert_problem(client.post("/v1/jobs", json=job_body(teacher_id, digits_id, omit_classes=[12])), 422, "[12]",
                   field="omit_classes")
    assert_problem(client.post("/v1/jobs", json=job_body(teacher_id, digits_id, bias_correction=True)), 422,
                   "omit_classes", field="bias_correction")


def test_validation_folds_are_checked(client, teacher_id, digits_id):
    hp = {"epochs": 10, "validation_folds": 3}
    assert_problem(client.post("/v1/jobs", json=job_body(teacher_id, digits_id, hyperparameters=hp)), 422,
                   'temperature to "auto"', field="hyperparameters")
    hp.update(temperature="auto", temperature_method="halving")
    body = job_body(teacher_id, digits_id, hyperparameters=hp, validation_transfer_set_id=digits_id)
    assert_problem(client.post("/v1/jobs", json=body), 422, "brings its own validation set",
                   field="hyperparameters.validation_folds")
    assert client.get("/v1/jobs").json()["data"] == []


def test_broker_down_is_503_and_creates_nothing(client, teacher_id, digits_id, monkeypatch):
    from core import queue

    monkeypatch.setenv("DISTILLERY_BROKER_URL", "redis://127.0.0.1:1/0")
    get_settings.cache_clear()
    queue._sender.cache_clear()
    r = client.post("/v1/jobs", json=job_body(teacher_id, digits_id))
    assert_problem(r, 503, "broker is unreachable", "submit the job again")
    assert client.get("/v1/jobs").json()["count"] == 0
    assert counts()["jobs"] == 0 and counts()["events"] == 0


def test_unknown_job_is_404_problem(client):
    for path in ("/v1/jobs/job_x", "/v1/jobs/job_x/metrics", "/v1/jobs/job_x/events", "/v1/jobs/job_x/student"):
        assert_problem(client.get(path), 404, "job_x")
    assert_problem(client.post("/v1/jobs/job_x/cancel"), 404, "job_x")


def test_operation_ids_are_route_names(client):
    ops = {op["operationId"] for path in client.get("/openapi.json").json()["paths"].values() for op in path.values()}
    assert {"create_teacher", "create_transfer_set", "create_job", "get_job", "download_student",
            "list_jobs", "cancel_job", "get_job_metrics", "list_job_events", "healthz"} <= ops


def test_app_refuses_a_database_whose_schema_is_behind(embedded_env):
    with pytest.raises(SchemaBehind, match="make migrate"), TestClient(create_app()):
        pass


def test_pickle_upload_is_refused_and_never_unpickled(client, tmp_path):
    from tests.unit.test_formats import pickle_payloads

    marker = tmp_path / "pwned"
    for payload in pickle_payloads(tmp_path, marker):
        for fmt in ("torchscript", "exported_program"):  # said to be a pickle, with what to save instead
            assert_problem(upload_teacher(client, payload, format=fmt), 422, "pickle")
        assert_problem(upload_teacher(client, payload, format="onnx"), 422, "not a loadable onnx model")
        r = upload_teacher(client, payload, format="safetensors", arch="mlp", arch_config='{"num_classes": 2}')
        assert_problem(r, 422, "not a safetensors state dict")
    assert not marker.exists()
    assert counts()["teachers"] == 0 and stored_files() == []


def test_safetensors_teacher_needs_a_known_arch(client, tmp_path):
    from safetensors.torch import save_file

    from models.zoo import build_student

    net = build_student({"arch": "mlp", "hidden_sizes": [8]}, [64], 10)
    save_file(net.state_dict(), str(tmp_path / "t.safetensors"))
    path = tmp_path / "t.safetensors"
    assert_problem(upload_teacher(client, path, format="safetensors"), 422, "arch", field="arch")
    assert_problem(upload_teacher(client, path, format="safetensors", arch="llama"), 422, "unknown arch 'llama'",
                   field="arch")
    assert_problem(upload_teacher(client, path, format="safetensors", arch="mlp", arch_config="[1]"), 422,
                   "JSON object", field="arch_config")
    r = upload_teacher(client, path, format="safetensors", arch="mlp",
                       arch_config='{"hidden_sizes": [8], "num_classes": 10}')
    assert r.status_code == 201, r.text
    assert r.json()["arch"] == "mlp" and r.json()["arch_config"] == {"hidden_sizes": [8], "num_classes": 10}


def test_arch_is_only_for_state_dicts(client, teacher_file):
    assert_problem(upload_teacher(client, teacher_file, arch="mlp"), 422, "safetensors", field="arch")


def test_unknown_student_format_is_refused(client):
    assert_problem(client.get("/v1/jobs/job_x/student", params={"format": "tflite"}), 404)


def test_transfer_set_upload_over_the_size_limit_is_413_and_nothing_kept(client, monkeypatch):
    monkeypatch.setenv("DISTILLERY_MAX_UPLOAD_BYTES", "1000")
    get_settings.cache_clear()
    data = npz_bytes(x=np.random.rand(100, 64).astype(np.float32))
    for name in ("big.npz", "big.zip"):
        r = client.post("/v1/transfer-sets", files={"file": (name, data)}, data={"name": "big"})
        assert_problem(r, 413, "1000 bytes", "DISTILLERY_MAX_UPLOAD_BYTES")
    assert counts()["transfer_sets"] == 0 and stored_files() == []
