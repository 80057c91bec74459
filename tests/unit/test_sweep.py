"""Sweeps in-process: members share the cached teacher outputs and the best one becomes the student."""

import pytest
import torch

from models.distill_config import DistillConfig, SweepSpec
from models.transfer_sets import load_builtin
from tests.unit.test_teacher_cache import events_of, upload
from worker.jobs.lifecycle import execute


def test_members_are_the_grid():
    members = SweepSpec(temperature=[1, 4], soft_weight=[0.5, 0.9]).members(DistillConfig(hard_weight=0.5))
    assert [n for n, _ in members] == ["sweep T=1 soft_weight=0.5", "sweep T=1 soft_weight=0.9",
                                       "sweep T=4 soft_weight=0.5", "sweep T=4 soft_weight=0.9"]
    assert members[3][1].temperature == 4 and members[3][1].soft_weight == 0.9 and members[3][1].hard_weight == 0.5


def test_sweep_limits_and_invalid_members():
    with pytest.raises(ValueError, match="at least one"):
        SweepSpec()
    with pytest.raises(ValueError, match="at most 32"):
        SweepSpec(temperature=list(range(1, 10)), soft_weight=[0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="both 0"):
        SweepSpec(soft_weight=[0.0]).members(DistillConfig(hard_weight=0.0, soft_weight=1.0))


def test_sweep_job_picks_the_best_member(client, teacher_file):
    teacher = upload(client, teacher_file)
    ts = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
    r = client.post("/v1/jobs", json={"teacher_ids": [teacher], "transfer_set_id": ts,
                                      "student": {"arch": "mlp", "hidden_sizes": [32]},
                                      "hyperparameters": {"epochs": 3}, "baseline": True,
                                      "sweep": {"temperature": [1, 4, 20]}})
    assert r.status_code == 202, r.text
    assert r.json()["progress"]["total_epochs"] == 12
    execute(r.json()["id"])
    job = client.get(f"/v1/jobs/{r.json()['id']}").json()
    assert job["status"] == "succeeded", job["error"]
    sweep = job["result"]["sweep"]
    assert [m["temperature"] for m in sweep] == [1, 4, 20] and all(m["status"] == "succeeded" for m in sweep)
    # The winner has the lowest validation cross-entropy (finer than accuracy); the margin is the runner-up's.
    ranked = sorted(sweep, key=lambda m: m["val_cross_entropy"])
    best = ranked[0]
    assert job["result"]["best_member"] == best["name"]
    assert job["result"]["best_member_margin"] == pytest.approx(ranked[1]["val_cross_entropy"]
                                                                - best["val_cross_entropy"])
    assert job["result"]["best_member_margin"] > 0
    assert job["result"]["student"]["test_errors"] == best["test_errors"]
    assert job["result"]["student"]["temperature"] == best["temperature"]
    assert "baseline" in job["result"] and job["progress"]["epoch"] == 12
    types = events_of(client, job["id"])
    assert types.count("cache_built") == 1 and types.count("cache_hit") == 4  # 3 members + baseline
    metrics = client.get(f"/v1/jobs/{job['id']}/metrics").json()["runs"]
    assert sorted(m["name"] for m in metrics) == sorted([m["name"] for m in sweep] + ["baseline"])
    assert all([p["step"] for p in m["metrics"]["total_loss"]] == [1, 2, 3] for m in metrics)
    d = load_builtin("digits")
    student = torch.jit.load(__import__("io").BytesIO(client.get(f"/v1/jobs/{job['id']}/student").content))
    errors = int((student(torch.from_numpy(d.x_test)).argmax(1).numpy() != d.y_test).sum())
    assert errors == best["test_errors"]


def test_invalid_sweep_is_a_422(client, teacher_file):
    teacher = upload(client, teacher_file)
    ts = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
    body = {"teacher_ids": [teacher], "transfer_set_id": ts, "student": {"arch": "mlp"}}
    for sweep, words in (({"temperature": [0]}, "sweep"), ({"temperature": []}, "sweep.temperature"),
                         ({"soft_weight": [0]}, "both 0"), ({"learning_rate": [1]}, "sweep.learning_rate")):
        hp = {"hard_weight": 0, "soft_weight": 1} if words == "both 0" else {}
        r = client.post("/v1/jobs", json={**body, "sweep": sweep, "hyperparameters": hp})
        assert r.status_code == 422 and words in r.text, (sweep, r.text)


def sweep_job(client, teacher_file, temperatures=(1, 4, 20)):
    teacher = upload(client, teacher_file)
    ts = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
    r = client.post("/v1/jobs", json={"teacher_ids": [teacher], "transfer_set_id": ts,
                                      "student": {"arch": "mlp", "hidden_sizes": [32]},
                                      "hyperparameters": {"epochs": 3}, "baseline": True,
                                      "sweep": {"temperature": list(temperatures)}})
    assert r.status_code == 202, r.text
    execute(r.json()["id"])
    return client.get(f"/v1/jobs/{r.json()['id']}").json()


def test_a_worker_may_train_the_sweeps_members_together(client, teacher_file, monkeypatch):
    from core.config import get_settings

    monkeypatch.setenv("DISTILLERY_BATCH_SWEEP_MEMBERS", "always")
    get_settings.cache_clear()
    job = sweep_job(client, teacher_file)
    assert job["status"] == "succeeded", job["error"]
    types = events_of(client, job["id"])
    assert types.count("members_batched") == 1 and "members_unbatched" not in types
    # one teacher pass; the batched members read it once, the baseline once more
    assert types.count("cache_built") == 1 and types.count("cache_hit") == 2
    sweep = job["result"]["sweep"]
    assert [m["temperature"] for m in sweep] == [1, 4, 20] and all(m["status"] == "succeeded" for m in sweep)
    assert len({m["test_errors"] for m in sweep} | {m["val_accuracy"] for m in sweep}) > 2  # distinct students
    best = min(sweep, key=lambda m: m["val_cross_entropy"])
    assert job["result"]["best_member"] == best["name"]
    assert job["result"]["student"]["test_errors"] == best["test_errors"]
    assert job["progress"]["epoch"] == 12
    runs = client.get(f"/v1/jobs/{job['id']}/metrics").json()["runs"]
    assert all([p["step"] for p in r["metrics"]["total_loss"]] == [1, 2, 3] for r in runs)
    d = load_builtin("digits")
    student = torch.jit.load(__import__("io").BytesIO(client.get(f"/v1/jobs/{job['id']}/student").content))
    assert int((student(torch.from_numpy(d.x_test)).argmax(1).numpy() != d.y_test).sum()) == best["test_errors"]


def test_members_that_fail_together_are_trained_one_at_a_time(client, teacher_file, monkeypatch):
    import worker.jobs.member_training as training
    from core.config import get_settings

    monkeypatch.setenv("DISTILLERY_BATCH_SWEEP_MEMBERS", "always")
    get_settings.cache_clear()

    def fail_after_an_epoch(experiment, configs, hooks):
        hooks[0].run_started("distilled")
        hooks[0].epoch_done("distilled", 1, {"total_loss": 1.0})
        raise RuntimeError("vmap has no batching rule for this layer")

    monkeypatch.setattr(training, "run_members", fail_after_an_epoch)
    job = sweep_job(client, teacher_file)
    assert job["status"] == "succeeded", job["error"]
    types = events_of(client, job["id"])
    assert "members_unbatched" in types and all(m["status"] == "succeeded" for m in job["result"]["sweep"])
    assert job["progress"]["epoch"] == 12  # the failed attempt's epoch is not counted twice
    runs = client.get(f"/v1/jobs/{job['id']}/metrics").json()["runs"]
    assert all([p["step"] for p in r["metrics"]["total_loss"]] == [1, 2, 3] for r in runs)


def test_workers_batch_members_only_where_their_setting_says(client, teacher_file, monkeypatch):
    from core.config import get_settings

    monkeypatch.setenv("DISTILLERY_BATCH_SWEEP_MEMBERS", "cuda")  # this machine has no CUDA device
    get_settings.cache_clear()
    job = sweep_job(client, teacher_file, temperatures=(1, 4))
    assert job["status"] == "succeeded"
    assert "members_batched" not in events_of(client, job["id"])


def test_a_sweeps_baseline_member_searches_no_temperature():
    """Base temperature "auto" with a sweep over temperature: the members have theirs; the baseline, trained on
    labels alone, must not run a temperature search of its own."""
    from models.job_spec import JobSpec
    from worker.jobs.member_training import BASELINE, member_update

    hyper = {"temperature": "auto", "epochs": 20}
    stored = {"student": {"arch": "mlp"}, "hyperparameters": hyper, "sweep": {"temperature": [2.0, 5.0]}}
    job = JobSpec.from_stored(stored, teacher_ids=["tch_1"], transfer_set_id="ts_1")
    update = member_update(BASELINE, job)
    baseline = DistillConfig.model_validate(hyper).model_copy(update=update)
    assert not baseline.auto_temperature and baseline.soft_weight == 0.0 and baseline.hard_weight == 1.0
    assert member_update("sweep T=5", job)["temperature"] == 5.0
