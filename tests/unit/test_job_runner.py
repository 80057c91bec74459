"""The worker's job runner, called directly (no Celery, no HTTP server) on a real SQLite database:
what each job option does to the result, and that every failure ends the job with a reason."""

import io

import numpy as np
import torch
from sqlalchemy import update

from core.db import session_scope
from core.tables import Job
from models.transfer_sets import load_builtin
from worker.jobs.lifecycle import execute


def upload_teacher(client, path) -> str:
    with open(path, "rb") as f:
        r = client.post("/v1/teachers", files={"file": ("t.pt", f)}, data={"name": "t", "input_shape": "[64]"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def digits_set(client) -> str:
    return client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]


def npz_set(client, **arrays) -> str:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    r = client.post("/v1/transfer-sets", files={"file": ("s.npz", buf.getvalue())}, data={"name": "n"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def run_job(client, **body) -> dict:
    body.setdefault("student", {"arch": "mlp", "hidden_sizes": [64]})
    r = client.post("/v1/jobs", json=body)
    assert r.status_code == 202, r.text
    execute(r.json()["id"])
    return client.get(f"/v1/jobs/{r.json()['id']}").json()


def test_omitted_class_is_learned_from_soft_targets_and_bias_correction(client, teacher_file):
    job = run_job(client, teacher_ids=[upload_teacher(client, teacher_file)], transfer_set_id=digits_set(client),
                  hyperparameters={"epochs": 20, "temperature": 8.0, "soft_weight": 0.9, "hard_weight": 0.1},
                  omit_classes=[3], bias_correction=True, baseline=True)
    assert job["status"] == "succeeded", job["error"]
    res = job["result"]
    threes = int((load_builtin("digits").y_test == 3).sum())
    # From scratch, a class never seen is never predicted; distilled, it is mostly right.
    assert res["baseline"]["omitted_class_errors"] == threes
    assert res["student"]["omitted_class_errors"] < threes / 2
    assert res["student"]["bias_correction"] >= 0 and "bias_correction" not in res["baseline"]
    for who in ("teacher", "student", "baseline"):
        assert set(res[who]["per_class_errors"]) == {str(c) for c in range(10)}
        assert sum(res[who]["per_class_errors"].values()) == res[who]["test_errors"]
    assert 0 <= res["student"]["teacher_agreement"] <= 1


def test_geometric_ensemble_of_two_teachers(client, teacher_file, tmp_path):
    from models.examples import digits_teacher, save_torchscript

    second = tmp_path / "second.pt"
    save_torchscript(digits_teacher(epochs=5, hidden=64, seed=1), second)
    ids = [upload_teacher(client, teacher_file), upload_teacher(client, second)]
    job = run_job(client, teacher_ids=ids, transfer_set_id=digits_set(client),
                  hyperparameters={"epochs": 5, "ensemble": "geometric"})
    assert job["status"] == "succeeded", job["error"]
    assert job["teacher_ids"] == ids and job["result"]["student"]["test_accuracy"] > 0.85


def test_ensemble_members_must_agree(client, teacher_file, tmp_path):
    class Eleven(torch.nn.Module):
        def forward(self, x):
            return torch.zeros(x.shape[0], 11)

    path = tmp_path / "eleven.pt"
    torch.jit.save(torch.jit.script(Eleven()), str(path))
    r = client.post("/v1/jobs", json={"teacher_ids": [upload_teacher(client, teacher_file),
                                                      upload_teacher(client, path)],
                                      "transfer_set_id": digits_set(client), "student": {"arch": "mlp"}})
    assert r.status_code == 422 and "must agree" in r.json()["detail"]


def test_unlabelled_transfer_set_trains_on_soft_targets_alone(client, teacher_file):
    d = load_builtin("digits")
    ts = npz_set(client, x=d.x_train, x_test=d.x_test, y_test=d.y_test)
    job = run_job(client, teacher_ids=[upload_teacher(client, teacher_file)], transfer_set_id=ts,
                  hyperparameters={"epochs": 15, "hard_weight": 0, "soft_weight": 1})
    assert job["status"] == "succeeded", job["error"]
    assert job["result"]["student"]["test_accuracy"] > 0.85
    metrics = client.get(f"/v1/jobs/{job['id']}/metrics").json()["runs"][0]["metrics"]
    assert "soft_loss" in metrics and "hard_loss" not in metrics and "val_accuracy" not in metrics
    assert "val_teacher_agreement" in metrics


def test_separate_validation_set(client, teacher_file):
    d = load_builtin("digits")
    val = npz_set(client, x=d.x_train[:200], y=d.y_train[:200])
    job = run_job(client, teacher_ids=[upload_teacher(client, teacher_file)], transfer_set_id=digits_set(client),
                  validation_transfer_set_id=val, hyperparameters={"epochs": 3})
    assert job["status"] == "succeeded", job["error"]
    assert job["validation_transfer_set_id"] == val


def test_logit_matching_job(client, teacher_file):
    job = run_job(client, teacher_ids=[upload_teacher(client, teacher_file)], transfer_set_id=digits_set(client),
                  hyperparameters={"epochs": 5, "loss": "logit_matching", "learning_rate": 0.01})
    assert job["status"] == "succeeded", job["error"]
    assert job["result"]["student"]["test_accuracy"] > 0.8


def test_teacher_that_fails_on_real_data_fails_the_job_with_its_reason(client, tmp_path):
    class Picky(torch.nn.Module):
        def forward(self, x):
            if bool(x.sum() > 0):
                raise RuntimeError("picky teacher: only zeros, please")
            return torch.zeros(x.shape[0], 10)

    path = tmp_path / "picky.pt"
    torch.jit.save(torch.jit.script(Picky()), str(path))
    job = run_job(client, teacher_ids=[upload_teacher(client, path)], transfer_set_id=digits_set(client),
                  hyperparameters={"epochs": 2})
    # The reason is the kind of failure and its operator; the teacher's own text is never echoed (issue 25).
    assert job["status"] == "failed" and "forward pass failed" in job["error"], job["error"]
    assert "prim::RaiseException" in job["error"] and "only zeros" not in job["error"], job["error"]
    events = client.get(f"/v1/jobs/{job['id']}/events").json()["data"]
    assert events[-1]["type"] == "failed" and "only zeros" not in events[-1]["message"]
    assert client.get(f"/v1/jobs/{job['id']}/student").status_code == 409


def test_running_job_stops_on_the_cancel_flag(client, teacher_file):
    r = client.post("/v1/jobs", json={"teacher_ids": [upload_teacher(client, teacher_file)],
                                      "transfer_set_id": digits_set(client), "student": {"arch": "mlp"},
                                      "hyperparameters": {"epochs": 500}})
    job_id = r.json()["id"]
    with session_scope() as s:  # as if the cancel arrived just after a worker claimed it
        s.execute(update(Job).where(Job.id == job_id).values(cancel_requested=True))
    execute(job_id)
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "cancelled" and job["progress"]["epoch"] < 500


def test_second_delivery_of_a_finished_job_does_nothing(client, teacher_file):
    job = run_job(client, teacher_ids=[upload_teacher(client, teacher_file)], transfer_set_id=digits_set(client),
                  hyperparameters={"epochs": 1})
    events_before = client.get(f"/v1/jobs/{job['id']}/events").json()["count"]
    execute(job["id"])
    assert client.get(f"/v1/jobs/{job['id']}").json() == job
    assert client.get(f"/v1/jobs/{job['id']}/events").json()["count"] == events_before


def test_student_starts_from_uploaded_initial_weights(client, teacher_file, tmp_path):
    from safetensors.torch import save_file

    from models.zoo import build_student

    spec = {"arch": "mlp", "hidden_sizes": [64]}
    torch.manual_seed(123)
    init = build_student(spec, [64], 10)
    save_file(init.state_dict(), str(tmp_path / "init.safetensors"))
    with open(tmp_path / "init.safetensors", "rb") as f:
        r = client.post("/v1/teachers", files={"file": ("init.safetensors", f)},
                        data={"name": "init", "input_shape": "[64]", "format": "safetensors", "arch": "mlp",
                              "arch_config": '{"hidden_sizes": [64], "num_classes": 10}'})
    init_id = r.json()["id"]
    teacher = upload_teacher(client, teacher_file)
    ts = digits_set(client)
    # lr 0: the student cannot move, so what is measured is the initial network itself
    hp = {"epochs": 1, "learning_rate": 1e-12, "momentum": 0}
    job = run_job(client, teacher_ids=[teacher], transfer_set_id=ts, student=spec, hyperparameters=hp,
                  student_init_weights=init_id)
    assert job["status"] == "succeeded", job["error"]
    d = load_builtin("digits")
    with torch.no_grad():
        expected = int((init(torch.from_numpy(d.x_test)).argmax(1).numpy() != d.y_test).sum())
    assert job["result"]["student"]["test_errors"] == expected

    r = client.post("/v1/jobs", json={"teacher_ids": [teacher], "transfer_set_id": ts,
                                      "student": {"arch": "mlp", "hidden_sizes": [32]},
                                      "student_init_weights": init_id})
    assert r.status_code == 422 and "do not fit the student" in r.json()["detail"]
    r = client.post("/v1/jobs", json={"teacher_ids": [teacher], "transfer_set_id": ts, "student": spec,
                                      "student_init_weights": teacher})
    assert r.status_code == 422 and "safetensors" in r.json()["detail"]


def test_cancel_mid_run_keeps_the_metrics_so_far(client, teacher_file):
    import threading
    import time

    r = client.post("/v1/jobs", json={"teacher_ids": [upload_teacher(client, teacher_file)],
                                      "transfer_set_id": digits_set(client), "student": {"arch": "mlp"},
                                      "hyperparameters": {"epochs": 2000}})
    job_id = r.json()["id"]
    worker = threading.Thread(target=execute, args=(job_id,))
    worker.start()
    deadline = time.monotonic() + 60
    while client.get(f"/v1/jobs/{job_id}").json()["progress"]["epoch"] < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.post(f"/v1/jobs/{job_id}/cancel").json()["cancel_requested"] is True
    worker.join(timeout=60)
    assert not worker.is_alive()
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "cancelled" and 3 <= job["progress"]["epoch"] < 2000
    run = client.get(f"/v1/jobs/{job_id}/metrics").json()["runs"][0]
    assert run["status"] == "cancelled"
    steps = [p["step"] for p in run["metrics"]["total_loss"]]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) >= 3
    types = [e["type"] for e in client.get(f"/v1/jobs/{job_id}/events", params={"limit": 1000}).json()["data"]]
    assert "cancel_requested" in types and types[-1] == "cancelled"


def test_out_of_memory_gets_advice(client, teacher_file, monkeypatch):
    from worker.jobs import lifecycle

    def out_of_memory(*_args, **_kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(lifecycle, "run_experiment", out_of_memory)
    job = run_job(client, teacher_ids=[upload_teacher(client, teacher_file)], transfer_set_id=digits_set(client))
    assert job["status"] == "failed"
    assert "ran out of memory" in job["error"] and "lower batch_size" in job["error"]


def test_a_failed_jobs_reason_shows_no_server_path(embedded_env):
    """A job's error is read by its tenant: an OSError's path, and this host's directories in any message
    (a rank's error, a library's), are cut out, and the rest of the message is kept."""
    import tempfile

    from core.config import get_settings
    from worker.jobs.ending import reason

    cache = get_settings().resolved_local_cache_dir / "files" / "abc-teacher.pt2"
    gone = reason(FileNotFoundError(2, "No such file or directory", str(cache)))
    assert gone == "FileNotFoundError: No such file or directory"
    rank = reason(RuntimeError(f"rank 1 of 2 failed: cannot open '{tempfile.gettempdir()}/distillery-ranks-x/p'"))
    assert rank == "rank 1 of 2 failed: cannot open '<server path>'"
    other = reason(ValueError(f"bad shape in {embedded_env.resolve()}/artifacts/teachers/t.pt: [3, 4]"))
    assert other == "ValueError: bad shape in <server path>: [3, 4]"
    assert reason(ValueError("learning_rate too large")) == "ValueError: learning_rate too large"
