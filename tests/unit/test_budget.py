"""The best student under a budget: the request's rules (422s), the rule that picks the winner, and each
member's measurement (the latency path included, which the integration test leaves to parameters)."""

import math

import pytest
from pydantic import ValidationError

from models.budget import Budget, choose
from models.job_spec import JobSpec
from tests.unit.test_teacher_cache import upload

MLP = [{"arch": "mlp", "hidden_sizes": [h]} for h in (4, 16, 64)]


def spec(**fields) -> JobSpec:
    return JobSpec.model_validate({"teacher_ids": ["t"], "transfer_set_id": "s", **fields})


def test_members_cross_students_with_the_loss_axes_and_say_which_student():
    job = spec(sweep={"students": MLP[:2], "temperature": [2, 4]})
    assert job.members() == ["sweep student=mlp 4 T=2", "sweep student=mlp 4 T=4",
                             "sweep student=mlp 16 T=2", "sweep student=mlp 16 T=4"]
    assert job.student == job.sweep.students[0]  # left out: the first student stands for it
    assert job.member_spec("sweep student=mlp 16 T=4").student.hidden_sizes == [16]
    assert job.member_spec("baseline").student.hidden_sizes == [4]
    alone = spec(sweep={"students": [{"arch": "cnn", "channels": [8]}, {"arch": "resnet18"}]})
    assert alone.members() == ["sweep student=cnn 8 k3", "sweep student=resnet18"]
    same_label = spec(sweep={"students": [MLP[0], {**MLP[0], "activation": "gelu"}]})
    assert same_label.members() == ["sweep student=mlp 4 #1", "sweep student=mlp 4 #2"]
    deep = spec(sweep={"students": [MLP[0], {"arch": "mlp", "hidden_sizes": [1000] * 8}]})
    assert deep.members() == ["sweep student=mlp 4", "sweep student=mlp #2"]
    assert JobSpec.from_stored(job.stored(), teacher_ids=["t"], transfer_set_id="s") == job


@pytest.mark.parametrize(("fields", "words"), [
    ({"student": MLP[0], "budget": {"parameters": 100}}, "add sweep.students"),
    ({"sweep": {"students": MLP}, "budget": {}}, "at least one bound"),
    ({"sweep": {"students": MLP}, "budget": {"parameters": 0}}, "greater than 0"),
    ({"sweep": {"students": MLP}, "budget": {"latency_ms_p50": -1}}, "greater than 0"),
    ({"sweep": {"students": MLP}, "budget": {"size_bytes": 1e400}}, "finite"),
    ({"sweep": {"students": MLP}, "budget": {"flops": 3}}, "Extra inputs"),
    ({"sweep": {"students": MLP[:1]}}, "at least 2"),
    ({"sweep": {"students": MLP * 3}}, "at most 8"),
    ({"sweep": {"students": [MLP[0], MLP[0]]}}, "same student"),
    ({"sweep": {"students": MLP, "temperature": list(range(1, 12))}}, "33 members; at most 32"),
    ({"student": MLP[2], "sweep": {"students": MLP[:2]}}, "not one of sweep.students"),
    ({"sweep": {"students": MLP}, "student_init_weights": "w"}, "student_init_weights"),
    ({}, "student\n  Field required"),
])
def test_invalid_budget_sweeps_are_refused(fields, words):
    with pytest.raises(ValidationError, match=words):
        spec(**fields)


def test_invalid_budget_sweeps_are_a_422_saying_what_to_fix(client, teacher_file):
    teacher = upload(client, teacher_file)
    ts = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
    body = {"teacher_ids": [teacher], "transfer_set_id": ts}
    for fields, words in (({"student": MLP[0], "budget": {"parameters": 100}}, "add sweep.students"),
                          ({"sweep": {"students": MLP}, "budget": {"latency_ms_p50": 0}}, "budget.latency_ms_p50"),
                          ({"sweep": {"students": [MLP[0], {"arch": "mlp", "hidden_sizes": [65536] * 16}]}},
                           "sweep.students.1")):
        r = client.post("/v1/jobs", json={**body, **fields})
        assert r.status_code == 422 and words in r.text, (fields, r.text)
    ok = client.post("/v1/jobs", json={**body, "sweep": {"students": MLP}, "budget": {"parameters": 5000}})
    assert ok.status_code == 202, ok.text
    job = ok.json()
    assert job["student"]["hidden_sizes"] == [4] and job["budget"]["parameters"] == 5000
    assert job["progress"]["total_epochs"] == 3 * job["hyperparameters"]["epochs"]


def member(name, accuracy, cross_entropy=1.0, **figures):
    return {"name": name, "val_accuracy": accuracy, "val_cross_entropy": cross_entropy, **figures}


def test_the_winner_is_the_most_accurate_within_budget():
    members = [member("small", 0.80, parameters=100, latency_ms_p50=0.1),
               member("medium", 0.90, parameters=1000, latency_ms_p50=0.2),
               member("medium tie", 0.90, 0.5, parameters=900, latency_ms_p50=0.2),
               member("large", 0.95, parameters=10_000, latency_ms_p50=1.0)]
    outcome = choose(members, Budget(parameters=1000))
    assert outcome["winner"] == "medium tie" and outcome["within_budget"] is True  # ties: lower cross-entropy
    assert outcome["nearest"] is None and outcome["bounds"] == {"parameters": 1000}
    assert "over budget: large" in outcome["reason"]
    assert choose(members, Budget(parameters=10**6))["winner"] == "large"
    # Latency bounds the same way, and every bound given must hold.
    assert choose(members, Budget(latency_ms_p50=0.5))["winner"] == "medium tie"
    assert choose(members, Budget(latency_ms_p50=0.5, parameters=500))["winner"] == "small"


def test_with_none_within_budget_the_nearest_wins_and_the_result_says_so():
    members = [member("a", 0.9, parameters=300, latency_ms_p50=0.30),
               member("b", 0.7, parameters=150, latency_ms_p50=0.12),  # 50% over parameters: nearest
               member("c", 0.8, parameters=120, latency_ms_p50=0.40)]  # 20% over, but 300% over latency
    outcome = choose(members, Budget(parameters=100, latency_ms_p50=0.1))
    assert outcome["within_budget"] is False and outcome["winner"] == outcome["nearest"] == "b"
    assert outcome["reason"].startswith("no member is within budget; the nearest is b (50% over")
    # A member that could not be measured is never nearer than one that was.
    unmeasured = member("d", 0.99, cost_error="no ONNX")
    assert Budget(parameters=100).overshoot(unmeasured) == math.inf
    assert choose([unmeasured, members[0]], Budget(parameters=100))["winner"] == "a"
    with pytest.raises(ValueError):
        choose([], Budget(parameters=1))


def test_a_member_is_measured_as_the_deployment_report_measures_the_student():
    from models.export import PlainSoftmax
    from models.specs import MLPSpec
    from models.zoo import build_student
    from worker.jobs.member_costs import measure

    small, large = (PlainSoftmax(build_student(MLPSpec(arch="mlp", hidden_sizes=[h]), [64], 10), 10).eval()
                    for h in (8, 512))
    figures = [measure(m, [64], {"class_names": [str(i) for i in range(10)]}) for m in (small, large)]
    assert [f["parameters"] for f in figures] == [64 * 8 + 8 + 8 * 10 + 10, 64 * 512 + 512 + 512 * 10 + 10]
    assert figures[1]["size_bytes"] > figures[0]["size_bytes"] > 4 * figures[0]["parameters"]
    for f in figures:
        assert 0 < f["latency_ms_p50"] <= f["latency_ms_p90"]
    # The figures the budget reads are these (no order asserted between two timings on a shared machine).
    latency = figures[0]["latency_ms_p50"]
    assert Budget(latency_ms_p50=latency).within(figures[0])
    assert not Budget(latency_ms_p50=latency / 2).within(figures[0])


def test_the_generated_client_sends_students_and_a_budget_and_reads_the_outcome():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = ("from distillery_client.models import JobCreate, JobResult\n"
            "body = {'teacher_ids': ['t'], 'transfer_set_id': 's', 'budget': {'latency_ms_p50': 0.5},\n"
            "        'sweep': {'students': [{'arch': 'mlp', 'hidden_sizes': [4]}, {'arch': 'cnn'}]}}\n"
            "sent = JobCreate.from_dict(body).to_dict()\n"
            "assert 'student' not in sent and sent['budget'] == {'latency_ms_p50': 0.5}, sent\n"
            "assert [s['arch'] for s in sent['sweep']['students']] == ['mlp', 'cnn'], sent\n"
            "result = JobResult.from_dict({'best_member': 'b', 'budget': {'bounds': {'parameters': 9}, 'winner': 'b',\n"
            "    'within_budget': False, 'nearest': 'b', 'reason': 'r'},\n"
            "    'sweep': [{'name': 'b', 'status': 'succeeded', 'parameters': 12, 'latency_ms_p50': 0.1,\n"
            "               'within_budget': False}]})\n"
            "assert result.budget.within_budget is False and result.budget.bounds.parameters == 9\n"
            "assert result.sweep[0].parameters == 12 and result.sweep[0].within_budget is False\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(root / "clients" / "python")})
    assert done.returncode == 0, done.stderr


def test_with_no_member_within_budget_the_job_succeeds_with_the_nearest(client, teacher_file):
    from worker.jobs.lifecycle import execute

    teacher = upload(client, teacher_file)
    ts = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
    # A latency bound both meet, and a parameter bound both exceed: the smaller student by 3%, the larger 16-fold.
    r = client.post("/v1/jobs", json={"teacher_ids": [teacher], "transfer_set_id": ts, "export_formats": ["onnx"],
                                      "hyperparameters": {"epochs": 1}, "sweep": {"students": [MLP[2], MLP[0]]},
                                      "budget": {"latency_ms_p50": 1000, "parameters": 300}})
    assert r.status_code == 202, r.text
    execute(r.json()["id"])
    job = client.get(f"/v1/jobs/{r.json()['id']}").json()
    assert job["status"] == "succeeded", job["error"]
    result = job["result"]
    rows = result["sweep"]
    assert [(m["student"], m["parameters"], m["within_budget"]) for m in rows] == [
        ("mlp 64", 4810, False), ("mlp 4", 310, False)]
    assert all(m["latency_ms_p50"] > 0 and m["size_bytes"] > 0 for m in rows)
    outcome = result["budget"]
    assert outcome["within_budget"] is False and outcome["winner"] == outcome["nearest"] == rows[1]["name"]
    assert outcome["reason"].startswith(f"no member is within budget; the nearest is {rows[1]['name']} (3% over")
    assert result["best_member"] == rows[1]["name"] and result["best_member_margin"] is None
    assert result["deployment"]["student"]["parameters"] == 310  # the job's student is the nearest member's
