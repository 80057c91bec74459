"""Upload → transfer set → job → poll → download, through real processes, on both stacks."""

import pytest
import torch

from models.transfer_sets import load_builtin

pytestmark = pytest.mark.slow

EPOCHS = 30


def submit_digits_job(client, teacher_file, hyperparameters=None, **extra) -> str:
    with open(teacher_file, "rb") as f:
        r = client.post("/v1/teachers", files={"file": ("teacher.pt", f)},
                        data={"name": "digits mlp", "format": "torchscript", "input_shape": "[64]"})
    assert r.status_code == 201, r.text
    teacher = r.json()
    r = client.post("/v1/transfer-sets", json={"name": "digits", "builtin": "digits"})
    assert r.status_code == 201, r.text
    body = {
        "teacher_ids": [teacher["id"]],
        "transfer_set_id": r.json()["id"],
        "student": {"arch": "mlp", "hidden_sizes": [64, 64]},
        "hyperparameters": {"temperature": 2.0, "soft_weight": 0.5, "hard_weight": 0.5, "epochs": EPOCHS,
                            "batch_size": 64, "learning_rate": 0.1, **(hyperparameters or {})},
        **extra,
    }
    r = client.post("/v1/jobs", json=body)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] == "queued" and r.headers["location"] == f"/v1/jobs/{job['id']}"
    return job["id"]


def test_distil_digits_end_to_end(stack, teacher_file, tmp_path):
    with stack.client() as client:
        job_id = submit_digits_job(client, teacher_file, baseline=True)
        job = stack.wait_for_job(client, job_id)
        assert job["status"] == "succeeded", f"{job['error']}\n{stack.log('worker')}"
        progress = job["progress"]
        assert (progress["epoch"], progress["total_epochs"], progress["eta_seconds"]) == (2 * EPOCHS, 2 * EPOCHS, None)
        result = job["result"]
        for who in ("teacher", "student", "baseline"):
            assert result[who]["test_errors"] == round((1 - result[who]["test_accuracy"]) * 360)
        assert result["student"]["test_accuracy"] >= 0.90

        r = client.get(f"/v1/jobs/{job_id}/student")
        assert r.status_code == 200 and r.headers["etag"]
        path = tmp_path / "student.pt"
        path.write_bytes(r.content)

        metrics = client.get(f"/v1/jobs/{job_id}/metrics").json()
        assert [run["name"] for run in metrics["runs"]] == ["distilled", "baseline"]
        distilled = metrics["runs"][0]["metrics"]
        for key in ("soft_loss", "hard_loss", "total_loss", "val_accuracy", "grad_norm_soft"):
            assert [p["step"] for p in distilled[key]] == list(range(1, EPOCHS + 1)), key
        assert "soft_loss" not in metrics["runs"][1]["metrics"]

        types = [e["type"] for e in client.get(f"/v1/jobs/{job_id}/events", params={"limit": 1000}).json()["data"]]
        assert types[:2] == ["queued", "started"] and types[-2:] == ["exported", "succeeded"]
        assert types.count("epoch") == 2 * EPOCHS

    student = torch.jit.load(str(path))
    digits = load_builtin("digits")
    with torch.no_grad():
        probs = student(torch.from_numpy(digits.x_test))
    torch.testing.assert_close(probs.sum(1), torch.ones(len(probs)), atol=1e-5, rtol=0)
    accuracy = (probs.argmax(1).numpy() == digits.y_test).mean()
    assert accuracy >= 0.90
    assert accuracy == pytest.approx(result["student"]["test_accuracy"], abs=1e-6)


def test_cancel_a_queued_job_and_a_finished_one(stack, teacher_file):
    with stack.client() as client:
        job_id = submit_digits_job(client, teacher_file)
        r = client.post(f"/v1/jobs/{job_id}/cancel")
        assert r.status_code == 200
        # Either it is still queued and ends at once, or the worker took it and stops on the flag.
        job = stack.wait_for_job(client, job_id)
        assert job["status"] == "cancelled", job
        r = client.post(f"/v1/jobs/{job_id}/cancel")
        assert r.status_code == 409 and "already ended" in r.json()["detail"]
        assert client.get(f"/v1/jobs/{job_id}/student").status_code == 409


def read_sse(response):
    """Parse a text/event-stream body into events as they arrive."""
    import json

    current: dict = {}
    for line in response.iter_lines():
        if line == "":
            if current:
                yield current
            current = {}
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(": ")
            current[field] = json.loads(value) if field == "data" else value


def test_event_stream_delivers_epoch_events_live_and_closes_at_the_end(stack, teacher_file):
    with stack.client() as client:
        job_id = submit_digits_job(client, teacher_file)
        seen, eta_seen = [], []
        with client.stream("GET", f"/v1/jobs/{job_id}/events/stream", timeout=120) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            for event in read_sse(r):
                seen.append(event)
                if event["event"] == "epoch" and event["data"]["data"]["epoch"] == 2:
                    job = client.get(f"/v1/jobs/{job_id}").json()
                    if job["status"] == "running":
                        eta_seen.append(job["progress"]["eta_seconds"])
        # the server closed the stream by itself once the job ended
        types = [e["event"] for e in seen]
        assert types[0] == "queued" and types[-1] == "succeeded"
        epochs = [e["data"]["data"]["epoch"] for e in seen if e["event"] == "epoch"]
        assert epochs == list(range(1, EPOCHS + 1))
        assert all("val_accuracy" in e["data"]["data"] for e in seen if e["event"] == "epoch")
        ids = [int(e["id"]) for e in seen]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert all(eta is not None and eta >= 0 for eta in eta_seen)
        # resuming after the last event id yields nothing more, and closes at once
        with client.stream("GET", f"/v1/jobs/{job_id}/events/stream", headers={"Last-Event-ID": str(ids[-1])}) as r:
            assert list(read_sse(r)) == []


def test_sweep_runs_members_on_several_workers_and_keeps_the_best(stack, teacher_file, tmp_path):
    stack.start_worker("worker2")
    stack.wait_ready("worker2")
    try:
        with stack.client() as client:
            job_id = submit_digits_job(client, teacher_file, sweep={"temperature": [1, 4, 10]},
                                       hyperparameters={"epochs": 8})
            job = stack.wait_for_job(client, job_id)
            assert job["status"] == "succeeded", f"{job['error']}\n{stack.log('worker')}\n{stack.log('worker2')}"
            sweep = job["result"]["sweep"]
            assert sorted(m["temperature"] for m in sweep) == [1, 4, 10]
            best = min(sweep, key=lambda m: m["val_cross_entropy"])
            assert job["result"]["best_member"] == best["name"]
            r = client.get(f"/v1/jobs/{job_id}/student", params={"format": "onnx"})
            (tmp_path / "s.onnx").write_bytes(r.content)
        import onnxruntime as ort

        digits = load_builtin("digits")
        session = ort.InferenceSession(str(tmp_path / "s.onnx"))
        probs = session.run(None, {"input": digits.x_test})[0]
        assert int((probs.argmax(1) != digits.y_test).sum()) == best["test_errors"]
        # both workers took members: the group ran in parallel
        for name in ("worker", "worker2"):
            assert "distillery.run_sweep_member" in stack.log(name), name
    finally:
        stack.stop("worker2")


def test_a_batching_worker_trains_the_members_together_and_their_own_tasks_leave(stack, teacher_file):
    stack.stop("worker")
    stack.start_worker("batching", env={"DISTILLERY_BATCH_SWEEP_MEMBERS": "always"})
    try:
        stack.wait_ready("batching")
        with stack.client() as client:
            job_id = submit_digits_job(client, teacher_file, sweep={"temperature": [1, 4, 10]},
                                       hyperparameters={"epochs": 4})
            job = stack.wait_for_job(client, job_id)
            assert job["status"] == "succeeded", f"{job['error']}\n{stack.log('batching')}"
            assert all(m["status"] == "succeeded" for m in job["result"]["sweep"])
            assert job["progress"]["epoch"] == job["progress"]["total_epochs"] == 12
            events = client.get(f"/v1/jobs/{job_id}/events", params={"limit": 1000}).json()["data"]
            assert [e["type"] for e in events].count("members_batched") == 1
            runs = client.get(f"/v1/jobs/{job_id}/metrics").json()["runs"]
            # each member trained once: its epochs appear once each
            assert sorted(len(r["metrics"]["total_loss"]) for r in runs) == [4, 4, 4]
        # all three member tasks were delivered; two found their member taken and left
        assert stack.log_since_start("batching").count("distillery.run_sweep_member") >= 3
    finally:
        stack.stop("batching")
        stack.start_worker("worker")
        stack.wait_ready("worker")
