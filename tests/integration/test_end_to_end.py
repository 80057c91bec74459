"""Upload → transfer set → job → poll → download, through real processes, on both stacks."""

import pytest
import torch

from models.transfer_sets import load_builtin

pytestmark = pytest.mark.slow

EPOCHS = 30


def submit_digits_job(client, teacher_file, **extra) -> str:
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
                            "batch_size": 64, "learning_rate": 0.1},
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
        assert job["progress"] == {"epoch": 2 * EPOCHS, "total_epochs": 2 * EPOCHS}
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
