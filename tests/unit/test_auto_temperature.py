"""temperature "auto" by the teacher's soft targets (temperature_method 'soft_targets'): the rule itself, its
cost against one run, its reproducibility, and what a job's result reports of it."""

import math

import pytest
import torch
from pydantic import ValidationError

from models.distill_config import DistillConfig
from models.transfer_sets import load_builtin
from models.zoo import build_student
from worker.engine.pipeline import Experiment, Hooks, run_experiment
from worker.engine.soft_targets import choose_temperature, off_top_mass


def test_off_top_mass_grows_with_temperature_and_the_nearest_grid_point_wins():
    logits = torch.randn(1, 200, 10, generator=torch.Generator().manual_seed(0)) * 8
    cfg = DistillConfig(temperature="auto")
    masses = [off_top_mass(logits, t, cfg)[0] for t in cfg.temperature_grid]
    assert masses == sorted(masses) and 0 < masses[0] < masses[-1] < 0.9
    for target in (masses[1] * 1.01, masses[3] * 0.99, 1e-4, 0.95):
        found = choose_temperature(logits, cfg.model_copy(update={"soft_target_mass": target}))
        nearest = min(range(len(masses)), key=lambda i: abs(math.log(masses[i] / target)))
        assert found.chosen == cfg.temperature_grid[nearest], target
        assert [r["temperature"] for r in found.rows] == cfg.temperature_grid
        assert [r["status"] for r in found.rows].count("chosen") == 1
        scores = sorted(r["score"] for r in found.rows)
        assert found.margin == pytest.approx(scores[1] - scores[0]) and found.margin >= 0


def test_logit_standardization_is_scored_on_the_logits_the_loss_softens():
    """z-scored logits ignore the teacher's scale: a teacher 10x as confident gets the same temperature."""
    logits = torch.randn(1, 100, 10, generator=torch.Generator().manual_seed(1))
    cfg = DistillConfig(temperature="auto", logit_standardization=True)
    assert off_top_mass(logits, 2.0, cfg) == pytest.approx(off_top_mass(logits * 10, 2.0, cfg), rel=1e-4)
    plain = DistillConfig(temperature="auto")
    assert off_top_mass(logits * 10, 2.0, plain)[0] < off_top_mass(logits, 2.0, plain)[0]


def test_soft_targets_is_what_auto_does_unless_halving_is_asked_for():
    cfg = DistillConfig(temperature="auto", epochs=3)  # too short for halving's rounds, fine for one run
    assert cfg.auto_temperature and not cfg.halving
    with pytest.raises(ValidationError, match="more than 2.5× epochs"):
        DistillConfig(temperature="auto", temperature_method="halving", epochs=3)
    with pytest.raises(ValidationError, match="temperature_method to 'halving'"):
        DistillConfig(temperature="auto", validation_folds=3)
    with pytest.raises(ValidationError, match="repeats"):
        DistillConfig(temperature="auto", temperature_grid=[1, 2, 2])
    with pytest.raises(ValidationError, match="soft_target_mass"):
        DistillConfig(temperature="auto", soft_target_mass=1.0)


class Counting(Hooks):
    def __init__(self):
        self.epochs = 0
        self.events = []

    def epoch_done(self, name, epoch, metrics):
        self.epochs += name == "distilled"

    def event(self, type_, message, data=None):
        self.events.append((type_, message, data))


class CountingStudent(torch.nn.Module):
    """The test's student, counting the samples it is trained on: the compute a choice spends."""

    trained = 0

    def __init__(self):
        super().__init__()
        self.net = build_student({"arch": "mlp", "hidden_sizes": [32]}, [64], 10)

    def forward(self, x):
        if self.training and torch.is_grad_enabled():
            CountingStudent.trained += len(x)
        return self.net(x)


def _job(teacher, **hp) -> tuple[dict, torch.nn.Module, Counting, int]:
    hooks = Counting()
    CountingStudent.trained = 0
    exp = Experiment(teachers=[teacher], data=load_builtin("digits"), num_classes=10, make_student=CountingStudent,
                     config=DistillConfig(epochs=4, learning_rate=0.05, seed=3, device="cpu", **hp))
    out = run_experiment(exp, hooks)
    return out.results, out.students["distilled"], hooks, CountingStudent.trained


def test_the_choice_costs_one_run_is_reproducible_and_is_reported(teacher_file):
    teacher = torch.jit.load(str(teacher_file))
    results, student, hooks, trained = _job(teacher, temperature="auto")
    search = results["temperature_search"]
    chosen = search["chosen"]
    assert search["method"] == "soft_targets" and chosen in DistillConfig().temperature_grid
    assert results["student"]["temperature"] == chosen
    assert [c["temperature"] for c in search["candidates"]] == DistillConfig().temperature_grid
    assert [c["status"] for c in search["candidates"] if c["temperature"] == chosen] == ["chosen"]
    assert search["margin"] >= 0 and search["target_off_top_mass"] == DistillConfig().soft_target_mass
    assert hooks.epochs == 4 and search["epochs_trained"] == 4 and search["epochs_in_runs"] == 1.0
    chosen_events = [e for e in hooks.events if e[0] == "temperature_chosen"]
    assert len(chosen_events) == 1 and chosen_events[0][2]["temperature"] == chosen

    # The same job at the chosen temperature, named: the same student, and the same compute.
    fixed, fixed_student, _, fixed_trained = _job(teacher, temperature=chosen)
    assert trained <= 2 * fixed_trained and trained == fixed_trained
    for k, v in fixed_student.state_dict().items():
        assert torch.equal(v, student.state_dict()[k]), k
    assert "temperature_search" not in fixed

    # Reproducible: the same seed gives the same choice, scores and student.
    again, again_student, _, _ = _job(teacher, temperature="auto")
    assert again["temperature_search"]["candidates"] == search["candidates"]
    for k, v in again_student.state_dict().items():
        assert torch.equal(v, student.state_dict()[k]), k


def test_halving_stays_inside_its_own_bound_for_comparison(teacher_file):
    """The older search, asked for by name, trains more than one run but no more than 2.5 runs' samples."""
    teacher = torch.jit.load(str(teacher_file))
    results, _, _, trained = _job(teacher, temperature="auto", temperature_method="halving",
                                  temperature_grid=[1.0, 5.0])
    _, _, _, one_run = _job(teacher, temperature=results["temperature_search"]["chosen"])
    assert results["temperature_search"]["method"] == "halving"
    assert one_run < trained <= 2.5 * one_run


def test_the_checked_choice_costs_at_most_two_runs_keeps_the_better_and_is_reproducible(teacher_file):
    teacher = torch.jit.load(str(teacher_file))
    hp = {"temperature": "auto", "temperature_method": "soft_targets_checked", "temperature_grid": [1.0, 5.0],
          "soft_target_mass": 0.5}  # hot enough that the rule suggests 5, so the check runs
    results, student, hooks, trained = _job(teacher, **hp)
    search = results["temperature_search"]
    assert search["method"] == "soft_targets_checked" and search["suggested"] == 5.0
    runs = {r["temperature"]: r for r in search["checked"]}
    assert set(runs) == {1.0, 5.0} and runs[5.0]["role"] == "soft targets" and runs[1.0]["role"] == "coolest"
    best = min(runs.values(), key=lambda r: (r["score"], r["tie_break"], r["temperature"] != 5.0))
    for r in runs.values():  # validation error rate first, cross-entropy second
        assert r["score"] == pytest.approx(1 - r["val_accuracy"]) and r["tie_break"] == r["val_cross_entropy"]
    assert search["chosen"] == best["temperature"] == results["student"]["temperature"]
    assert [r["status"] for r in search["checked"]].count("chosen") == 1
    assert runs[best["temperature"]]["status"] == "chosen"
    assert search["margin"] == pytest.approx(max(r["score"] for r in runs.values()) - best["score"])
    assert hooks.epochs == 4  # the kept run's epochs, each reported once
    assert search["epochs_trained"] == 8 and search["epochs_in_runs"] == 2.0
    assert any(e[0] == "temperature_checked" for e in hooks.events)

    _, alone, _, one_run = _job(teacher, temperature=search["chosen"])
    assert trained <= 2 * one_run  # the bound: two runs' training samples, not more
    for k, v in alone.state_dict().items():  # the kept run is the run that temperature gives alone
        assert torch.equal(v, student.state_dict()[k]), k
    again, again_student, _, _ = _job(teacher, **hp)
    assert again["temperature_search"]["checked"] == search["checked"]
    for k, v in again_student.state_dict().items():
        assert torch.equal(v, student.state_dict()[k]), k
