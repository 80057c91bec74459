"""The teacher-output cache and training-time augmentation."""

import io

import numpy as np
import pytest
import torch
from torch import nn

from models.distill_config import Augmentation, DistillConfig
from models.transfer_sets import load_builtin
from models.zoo import build_student
from worker.engine.augment import augment
from worker.engine.loop import Split, train_student
from worker.engine.pipeline import Experiment, Hooks, run_experiment
from worker.engine.teacher_cache import TeacherOutputCache, cache_key
from worker.jobs.lifecycle import execute

TEACHER = {"sha256": "a" * 64, "format": "torchscript", "arch": None, "arch_config": None, "input_shape": [64]}


def test_key_changes_with_teacher_data_and_preprocessing_only():
    base = cache_key(teacher=TEACHER, data="builtin:digits:v1")
    assert base == cache_key(teacher=dict(reversed(TEACHER.items())), data="builtin:digits:v1")
    assert base != cache_key(teacher={**TEACHER, "sha256": "b" * 64}, data="builtin:digits:v1")
    assert base != cache_key(teacher={**TEACHER, "arch_config": {"num_classes": 10}}, data="builtin:digits:v1")
    assert base != cache_key(teacher=TEACHER, data="npz:" + "c" * 64)
    assert base != cache_key(teacher=TEACHER, data="builtin:digits:v1", preprocessing={"normalize": [0.5, 0.2]})


class Recorder(Hooks):
    def __init__(self):
        self.events = []

    def event(self, type_, message, data=None):
        self.events.append(type_)


def experiment(teacher, cache, keys, **cfg) -> Experiment:
    return Experiment(teachers=[teacher], data=load_builtin("digits"), num_classes=10,
                      make_student=lambda: build_student({"arch": "mlp", "hidden_sizes": [32]}, [64], 10),
                      config=DistillConfig(epochs=3, **cfg), cache=cache, cache_keys=keys)


def test_cached_and_uncached_training_give_the_same_student(teacher_file, tmp_path):
    teacher = torch.jit.load(str(teacher_file))
    cache = TeacherOutputCache(tmp_path / "cache")
    keys = [cache_key(teacher=TEACHER, data="builtin:digits:v1")]
    first, second, uncached = Recorder(), Recorder(), Recorder()
    built = run_experiment(experiment(teacher, cache, keys), first)
    hit = run_experiment(experiment(teacher, cache, keys), second)
    plain = run_experiment(experiment(teacher, None, None), uncached)
    assert "cache_built" in first.events and "cache_hit" in second.events and "teacher_outputs" in uncached.events
    for other in (hit, plain):
        a, b = built.students["distilled"].state_dict(), other.students["distilled"].state_dict()
        for k in a:
            torch.testing.assert_close(a[k], b[k], rtol=1e-6, atol=1e-7)
    assert built.results["student"]["test_errors"] == plain.results["student"]["test_errors"]


def test_cache_off_in_config_is_respected(teacher_file, tmp_path):
    cache = TeacherOutputCache(tmp_path / "cache")
    keys = [cache_key(teacher=TEACHER, data="builtin:digits:v1")]
    run_experiment(experiment(torch.jit.load(str(teacher_file)), cache, keys, teacher_cache=False))
    assert not list((tmp_path / "cache").rglob("*.safetensors"))


class Recording(nn.Module):
    """A tiny conv student that remembers what it was fed, in training and in evaluation."""

    def __init__(self):
        super().__init__()
        self.net = build_student({"arch": "cnn", "channels": [4]}, [1, 8, 8], 10)
        self.seen = {True: [], False: []}

    def forward(self, x):
        self.seen[self.training].append(x.detach().clone())
        return self.net(x)


def image_digits() -> tuple[torch.Tensor, torch.Tensor]:
    d = load_builtin("digits")
    return torch.from_numpy(d.x_train).reshape(-1, 1, 8, 8), torch.from_numpy(d.y_train)


def test_augmentation_changes_training_batches_and_never_evaluation_batches():
    x, y = image_digits()
    train, val = Split(x[:256], y[:256]), Split(x[256:320], y[256:320])
    teacher = build_student({"arch": "cnn", "channels": [8]}, [1, 8, 8], 10).eval()
    student = Recording()
    cfg = DistillConfig(epochs=1, batch_size=256, augmentation=Augmentation(random_crop_padding=2,
                                                                            horizontal_flip=True))
    train_student(lambda: student, train, val, cfg, teachers=[teacher])
    (seen_train,), (seen_val,) = student.seen[True][:1], student.seen[False][:1]
    original = train.x[torch.randperm(256, generator=torch.Generator().manual_seed(cfg.seed))]
    assert seen_train.shape == original.shape
    changed = (seen_train != original).flatten(1).any(1).float().mean()
    assert 0.5 < changed <= 1.0  # most images were cropped elsewhere or flipped
    assert torch.equal(seen_val, val.x)  # evaluation sees the data exactly as it is


def test_augment_crop_and_flip_are_what_they_say():
    x = torch.arange(16.0).reshape(1, 1, 4, 4).repeat(64, 1, 1, 1)
    flipped = augment(x, Augmentation(horizontal_flip=True), torch.Generator().manual_seed(0))
    same = (flipped == x).flatten(1).all(1)
    assert same.any() and (~same).any()
    assert torch.equal(flipped[~same], x[~same].flip(-1))
    cropped = augment(x, Augmentation(random_crop_padding=1), torch.Generator().manual_seed(0))
    assert cropped.shape == x.shape
    assert set(cropped.unique().tolist()) <= set(range(16)) | {0.0}  # only shifted pixels and zero padding


def test_augmentation_needs_images():
    x, y = image_digits()
    with pytest.raises(ValueError, match="image inputs"):
        train_student(lambda: build_student({"arch": "mlp"}, [64], 10), Split(x.flatten(1)[:64], y[:64]), None,
                      DistillConfig(epochs=1, augmentation=Augmentation(horizontal_flip=True)))


# Through the job runner: the cache lives in the artifact store and is shared across jobs.

def upload(client, path, shape="[64]"):
    with open(path, "rb") as f:
        r = client.post("/v1/teachers", files={"file": ("t.pt", f)}, data={"name": "t", "input_shape": shape})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def events_of(client, job_id):
    return [e["type"] for e in client.get(f"/v1/jobs/{job_id}/events", params={"limit": 1000}).json()["data"]]


def submit_and_run(client, **body):
    body.setdefault("student", {"arch": "mlp", "hidden_sizes": [16]})
    body.setdefault("hyperparameters", {"epochs": 1})
    r = client.post("/v1/jobs", json=body)
    assert r.status_code == 202, r.text
    execute(r.json()["id"])
    job = client.get(f"/v1/jobs/{r.json()['id']}").json()
    assert job["status"] == "succeeded", job["error"]
    return job


def test_second_job_hits_the_cache_and_another_teacher_misses(client, teacher_file, tmp_path):
    from models.examples import digits_teacher, save_torchscript

    teacher = upload(client, teacher_file)
    ts = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
    first = submit_and_run(client, teacher_ids=[teacher], transfer_set_id=ts)
    second = submit_and_run(client, teacher_ids=[teacher], transfer_set_id=ts,
                            hyperparameters={"epochs": 1, "seed": 5, "temperature": 7})
    assert "cache_built" in events_of(client, first["id"]) and "cache_hit" in events_of(client, second["id"])
    save_torchscript(digits_teacher(epochs=1, hidden=32), tmp_path / "other.pt")
    third = submit_and_run(client, teacher_ids=[upload(client, tmp_path / "other.pt")], transfer_set_id=ts)
    assert "cache_built" in events_of(client, third["id"])
    # an ensemble of a cached member and ... the same one again: all members hit
    both = submit_and_run(client, teacher_ids=[teacher, teacher], transfer_set_id=ts)
    assert "cache_hit" in events_of(client, both["id"])


def test_augmented_job_bypasses_the_cache(client, tmp_path, embedded_env):
    from core.config import get_settings

    teacher = build_student({"arch": "cnn", "channels": [8]}, [1, 8, 8], 10).eval()
    torch.jit.save(torch.jit.script(teacher), str(tmp_path / "cnn.pt"))
    x, y = image_digits()
    buf = io.BytesIO()
    np.savez(buf, x=x.numpy(), y=y.numpy())
    ts = client.post("/v1/transfer-sets", files={"file": ("img.npz", buf.getvalue())}, data={"name": "img"})
    tid = upload(client, tmp_path / "cnn.pt", "[1, 8, 8]")
    hp = {"epochs": 1, "augmentation": {"random_crop_padding": 1, "horizontal_flip": True}}
    job = submit_and_run(client, teacher_ids=[tid], transfer_set_id=ts.json()["id"],
                         student={"arch": "cnn", "channels": [4]}, hyperparameters=hp)
    types = events_of(client, job["id"])
    assert "cache_bypassed" in types and "cache_hit" not in types and "cache_built" not in types
    assert not list((get_settings().resolved_artifact_dir / "cache").rglob("*.safetensors"))


def test_augmentation_on_flat_inputs_is_a_422(client, teacher_file):
    ts = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
    r = client.post("/v1/jobs", json={"teacher_ids": [upload(client, teacher_file)], "transfer_set_id": ts,
                                      "student": {"arch": "mlp"},
                                      "hyperparameters": {"augmentation": {"horizontal_flip": True}}})
    assert r.status_code == 422 and "[C, H, W]" in r.json()["detail"]
