"""Each distillation method as a job through a real API server and a real Celery worker (PostgreSQL and
Redis), and a sweep over DKD's beta: the method's terms reach the metrics API by name."""

import pytest

from tests.integration.stack import running_stack

pytestmark = pytest.mark.slow

EPOCHS = 3
SMALL = {"epochs": EPOCHS, "batch_size": 64}
# DKD's defaults weigh NCKD at beta·T² = 128: a smaller step than KD's 0.1.
METHODS = [
    ({"loss": "dkd", "learning_rate": 0.01, "distillation_warmup_epochs": 2}, ("tckd", "nckd", "hard")),
    ({"loss": "dist", "learning_rate": 0.05}, ("inter", "intra", "hard")),
    ({"loss": "kd", "logit_standardization": True, "learning_rate": 0.05}, ("soft", "hard")),
    ({"loss": "dkd", "logit_standardization": True, "learning_rate": 0.01}, ("tckd", "nckd", "hard")),
    ({"loss": "kd", "soft_weight": "auto", "learning_rate": 0.05}, ("soft", "hard")),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack("postgres_redis", tmp_path_factory.mktemp("methods")) as s:
        yield s


def _submit(client, teacher, ts, hyperparameters, **extra) -> str:
    r = client.post("/v1/jobs", json={"teacher_ids": [teacher], "transfer_set_id": ts,
                                      "student": {"arch": "mlp", "hidden_sizes": [32]},
                                      "hyperparameters": {**SMALL, **hyperparameters}, **extra})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def test_a_job_with_each_method_and_a_sweep_over_dkd_beta(stack, teacher_file):
    with stack.client() as client:
        with open(teacher_file, "rb") as f:
            r = client.post("/v1/teachers", files={"file": ("teacher.pt", f)},
                            data={"name": "digits mlp", "format": "torchscript", "input_shape": "[64]"})
        teacher = r.json()["id"]
        ts = client.post("/v1/transfer-sets", json={"name": "digits", "builtin": "digits"}).json()["id"]
        jobs = [_submit(client, teacher, ts, hp) for hp, _ in METHODS]
        sweep_id = _submit(client, teacher, ts, METHODS[0][0], sweep={"beta": [1, 8]})
        auto_id = _submit(client, teacher, ts, {"temperature": "auto", "temperature_method": "halving",
                                                "soft_weight": "auto", "epochs": 4,
                                                "learning_rate": 0.05}, baseline=True)
        for job_id, (hp, names) in zip(jobs, METHODS, strict=True):
            job = stack.wait_for_job(client, job_id)
            assert job["status"] == "succeeded", f"{hp}: {job['error']}\n{stack.log('worker')}"
            assert {k: job["hyperparameters"][k] for k in hp} == hp
            assert job["result"]["student"]["test_accuracy"] >= 0.8, (hp, job["result"]["student"])
            (run,) = client.get(f"/v1/jobs/{job_id}/metrics").json()["runs"]
            for name in names:
                for key in (f"{name}_loss", f"grad_norm_{name}"):
                    assert [p["step"] for p in run["metrics"][key]] == list(range(1, EPOCHS + 1)), (hp, key)
                norms = [p["value"] for p in run["metrics"][f"grad_norm_{name}"]]
                assert len(set(norms)) == EPOCHS, (hp, name, norms)  # each epoch measures its own
            if hp.get("soft_weight") == "auto":  # the chosen weight, each epoch, as a metric and an event
                chosen = run["metrics"]["soft_weight"]
                assert [p["step"] for p in chosen] == list(range(1, EPOCHS + 1)) and all(p["value"] > 0 for p in chosen)
                events = client.get(f"/v1/jobs/{job_id}/events", params={"limit": 1000}).json()["data"]
                assert [e["data"]["soft_weight"] for e in events if e["type"] == "soft_weight_chosen"] == [
                    p["value"] for p in chosen]
            else:
                assert "soft_weight" not in run["metrics"]
            other = {"soft", "tckd", "nckd", "inter", "intra"} - set(names)
            assert not any(f"{n}_loss" in run["metrics"] for n in other), (hp, sorted(run["metrics"]))

        job = stack.wait_for_job(client, sweep_id)
        assert job["status"] == "succeeded", f"{job['error']}\n{stack.log('worker')}"
        sweep = job["result"]["sweep"]
        assert [(m["name"], m["beta"], m["status"]) for m in sweep] == [
            ("sweep beta=1", 1, "succeeded"), ("sweep beta=8", 8, "succeeded")]
        assert job["result"]["best_member"] in ("sweep beta=1", "sweep beta=8")
        assert job["result"]["student"]["beta"] == next(m["beta"] for m in sweep
                                                       if m["name"] == job["result"]["best_member"])
        runs = client.get(f"/v1/jobs/{sweep_id}/metrics").json()["runs"]
        assert sorted(r["name"] for r in runs) == ["sweep beta=1", "sweep beta=8"]
        # The two members differ only in beta, NCKD's weight: the heavier one's total is the larger.
        by = {r["name"]: r["metrics"] for r in runs}
        assert by["sweep beta=1"]["total_loss"][0]["value"] < by["sweep beta=8"]["total_loss"][0]["value"]
        for r in runs:
            assert {"tckd_loss", "nckd_loss", "grad_norm_tckd", "grad_norm_nckd", "grad_norm_hard"} <= set(r["metrics"])

        # Both automatic settings at once: the rounds of the temperature search, then the chosen weight.
        job = stack.wait_for_job(client, auto_id)
        assert job["status"] == "succeeded", f"{job['error']}\n{stack.log('worker')}"
        result = job["result"]
        search = result["temperature_search"]
        assert search["chosen"] in (1, 2, 5, 10, 20) and result["student"]["temperature"] == search["chosen"]
        assert [(r["round"], r["status"]) for r in result["sweep"]] == [
            (1, "continues"), (1, "continues"), (1, "dropped"), (1, "dropped"), (1, "dropped"),
            (2, "chosen"), (2, "dropped")]
        assert result["sweep"][5]["temperature"] == search["chosen"] and search["margin"] >= 0
        assert result["best_member"] == f"round 2 T={search['chosen']:g}" == result["sweep"][5]["name"]
        assert search["epochs_trained"] == 4 + 4 + 1 and search["epochs_in_runs"] <= 2.5
        assert result["student"]["test_accuracy"] >= 0.8 and "baseline" in result
        types = [e["type"] for e in client.get(f"/v1/jobs/{auto_id}/events", params={"limit": 1000}).json()["data"]]
        assert types.count("temperature_round") == 2 and types.count("temperature_chosen") == 1
        assert types.count("soft_weight_chosen") == 4
        runs = {r["name"]: r["metrics"] for r in client.get(f"/v1/jobs/{auto_id}/metrics").json()["runs"]}
        assert [p["step"] for p in runs["distilled"]["soft_weight"]] == [1, 2, 3, 4]
        assert [p["step"] for p in runs["distilled"]["val_cross_entropy"]] == [1, 2, 3, 4]
