"""Image folders, torchvision datasets and archives: registration, safety and every refusal."""

import hashlib
import io
import os
import tarfile
import zipfile

import pytest

from core.config import get_settings
from tests.datasets import tar_folder, write_image_folder, write_mnist, zip_folder
from tests.unit.test_api import assert_problem, counts, stored_files


@pytest.fixture
def data_root(tmp_path, monkeypatch, client):
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("DISTILLERY_DATA_ROOTS", str(root))
    get_settings.cache_clear()
    return root


def post(client, **body):
    return client.post("/v1/transfer-sets", json={"name": "set", **body})


def test_image_folder_with_train_and_test(client, data_root):
    write_image_folder(data_root / "digits", limit=200)
    r = post(client, kind="image_folder", path="digits")
    assert r.status_code == 201, r.text
    b = r.json()
    assert (b["kind"], b["num_samples"], b["num_test"], b["sample_shape"], b["labelled"]) == (
        "image_folder", 200, 360, [1, 8, 8], True)
    assert b["class_names"] == [f"digit_{i}" for i in range(10)] and b["num_classes"] == 10
    assert len(b["sha256"]) == 64 and b["spec"]["preprocessing"]["normalize"] is None


def test_image_folder_without_class_folders_is_unlabelled(client, data_root):
    write_image_folder(data_root / "d", limit=30, split=False)
    flat = data_root / "flat"
    flat.mkdir()
    for f in list((data_root / "d").rglob("*.png"))[:12]:
        (flat / f"{f.parent.name}_{f.name}").write_bytes(f.read_bytes())
    b = post(client, kind="image_folder", path="flat").json()
    assert b["labelled"] is False and b["num_samples"] == 12 and b["class_names"] is None
    b = post(client, kind="image_folder", path="d", labelled=False).json()
    assert b["labelled"] is False and b["num_samples"] == 30


def test_preprocessing_resize_crop_rgb_normalize(client, data_root):
    write_image_folder(data_root / "digits", limit=20)
    prep = {"color": "rgb", "resize": 12, "center_crop": 10, "normalize": {"mean": [0.5] * 3, "std": [0.25] * 3}}
    b = post(client, kind="image_folder", path="digits", preprocessing=prep).json()
    assert b["sample_shape"] == [3, 10, 10] and b["spec"]["preprocessing"]["resize"] == 12


def test_torchvision_mnist_from_idx_files(client, data_root):
    write_mnist(data_root / "mnist")
    r = post(client, kind="torchvision", dataset="MNIST", root="mnist")
    assert r.status_code == 201, r.text
    b = r.json()
    assert (b["num_samples"], b["num_test"], b["sample_shape"], b["num_classes"]) == (1437, 360, [1, 8, 8], 10)
    assert b["class_names"][0].startswith("0")


def test_image_archive_upload(client, data_root, tmp_path):
    archive = zip_folder(write_image_folder(tmp_path / "src", limit=50), tmp_path / "digits.zip")
    r = client.post("/v1/transfer-sets", files={"file": ("digits.zip", archive.read_bytes())}, data={"name": "z"})
    assert r.status_code == 201, r.text
    b = r.json()
    assert (b["kind"], b["num_samples"], b["num_test"], b["sample_shape"]) == ("image_archive", 50, 360, [1, 8, 8])
    tgz = tar_folder(tmp_path / "src", tmp_path / "digits.tar.gz")
    r = client.post("/v1/transfer-sets", files={"file": ("digits.tar.gz", tgz.read_bytes())}, data={"name": "t"})
    assert r.status_code == 201, r.text
    t = r.json()
    stored = sorted(p.name for p in (get_settings().resolved_artifact_dir / "transfer_sets").iterdir())
    assert stored == sorted([f"{b['id']}.zip", f"{t['id']}.tar.gz"])  # kept packed, one file each
    assert b["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert client.delete(f"/v1/transfer-sets/{b['id']}").status_code == 204
    assert [p.name for p in (get_settings().resolved_artifact_dir / "transfer_sets").iterdir()] == [
        f"{t['id']}.tar.gz"]


# Refusals: each a 422 naming what to fix, and nothing registered.

def test_unknown_kind(client, data_root):
    assert_problem(post(client, kind="hdf5", path="x"), 422, "kind")


def test_missing_directory(client, data_root):
    assert_problem(post(client, kind="image_folder", path="nowhere"), 422, "does not exist", field="path")


def test_empty_class_folder(client, data_root):
    write_image_folder(data_root / "digits", limit=20, split=False)
    (data_root / "digits" / "digit_99").mkdir()
    assert_problem(post(client, kind="image_folder", path="digits"), 422, "'digit_99' holds no images")


def test_mixed_sizes_without_resize(client, data_root):
    from PIL import Image

    write_image_folder(data_root / "digits", limit=20, split=False)
    Image.new("L", (9, 9)).save(data_root / "digits" / "digit_0" / "odd.png")
    assert_problem(post(client, kind="image_folder", path="digits"), 422, "different sizes", "resize")
    ok = post(client, kind="image_folder", path="digits", preprocessing={"resize": [8, 8]})
    assert ok.status_code == 201, ok.text


def test_unknown_torchvision_dataset_and_missing_files(client, data_root):
    (data_root / "empty").mkdir()
    assert_problem(post(client, kind="torchvision", dataset="ImageNet21k", root="empty"), 422, "dataset",
                   field="dataset")
    assert_problem(post(client, kind="torchvision", dataset="CIFAR10", root="empty"), 422, "no CIFAR10",
                   "downloads are off", field="root")


def test_path_outside_the_roots_and_dotdot(client, data_root, tmp_path):
    outside = write_image_folder(tmp_path / "outside", limit=10, split=False)
    assert_problem(post(client, kind="image_folder", path=str(outside)), 422, "outside the data roots")
    assert_problem(post(client, kind="image_folder", path="../outside"), 422, "'..'")


def test_symlink_escaping_a_root(client, data_root, tmp_path):
    outside = write_image_folder(tmp_path / "outside", limit=10, split=False)
    (data_root / "sneaky").symlink_to(outside, target_is_directory=True)
    assert_problem(post(client, kind="image_folder", path="sneaky"), 422, "outside the data roots")
    inner = data_root / "inner"
    write_image_folder(inner, limit=10, split=False)
    (inner / "digit_0" / "leak.png").symlink_to(next(outside.rglob("*.png")))
    assert_problem(post(client, kind="image_folder", path="inner"), 422, "leading outside the data roots")


def test_no_data_roots_configured(client, monkeypatch):
    monkeypatch.delenv("DISTILLERY_DATA_ROOTS", raising=False)
    get_settings.cache_clear()
    assert_problem(post(client, kind="image_folder", path="x"), 422, "no data roots")


def test_labels_outside_teacher_classes_and_shapes_the_teacher_cannot_take(client, data_root, teacher_file):
    from tests.unit.test_api import upload_teacher

    write_image_folder(data_root / "digits", limit=20)
    ts = post(client, kind="image_folder", path="digits").json()["id"]
    flat_teacher = upload_teacher(client, teacher_file).json()["id"]  # takes [64]
    body = {"teacher_ids": [flat_teacher], "transfer_set_id": ts, "student": {"arch": "mlp"}}
    assert_problem(client.post("/v1/jobs", json=body), 422, "[1, 8, 8]", "[64]", field="transfer_set_id")
    five = upload_teacher(client, teacher_file, input_shape="[1, 8, 8]").json()["id"]  # 10 classes: fine
    assert client.post("/v1/jobs", json={**body, "teacher_ids": [five]}).status_code == 202


# Archives: every unsafe or oversized one is refused, and nothing is written outside the store.

def zip_bytes(entries: dict[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, target)
    return buf.getvalue()


def png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (8, 8), 255).save(buf, format="PNG")
    return buf.getvalue()


def tar_bytes(add) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        add(tf)
    return buf.getvalue()


def tar_link(tf, name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    tf.addfile(info)


def tar_file(tf, name, data: bytes):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tf.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("name, payload, status, words", [
    ("slip.zip", lambda t: zip_bytes({"../../escaped.png": png()}), 422, "'..'"),
    ("abs.zip", lambda t: zip_bytes({"/tmp/escaped_abs.png": png()}), 422, "absolute"),
    ("link.zip", lambda t: zip_bytes({"a/1.png": png()}, {"a/evil.png": "/etc/passwd"}), 422, "symbolic link"),
    ("slip.tar", lambda t: tar_bytes(lambda tf: tar_file(tf, "../escaped.png", png())), 422, "'..'"),
    ("link.tar", lambda t: tar_bytes(lambda tf: tar_link(tf, "a/x.png", str(t))), 422, "link"),
    ("hard.tar", lambda t: tar_bytes(lambda tf: tar_link(tf, "a/x.png", "a/y.png", tarfile.LNKTYPE)), 422,
     "link"),
    ("many.zip", lambda t: zip_bytes({f"a/{i}.png": png() for i in range(30)}), 413, "more than 20 files"),
    ("big.zip", lambda t: zip_bytes({"a/big.png": b"\0" * 200_000}), 413, "more than 100000 bytes"),
    ("junk.zip", lambda t: b"PK\x03\x04 not really", 422, "zip"),
])
def test_unsafe_archives_are_refused_and_nothing_escapes(client, tmp_path, monkeypatch, name, payload, status,
                                                         words):
    monkeypatch.setenv("DISTILLERY_ARCHIVE_MAX_FILES", "20")
    monkeypatch.setenv("DISTILLERY_ARCHIVE_MAX_BYTES", "100000")
    get_settings.cache_clear()
    before = set(os.listdir(tmp_path))
    r = client.post("/v1/transfer-sets", files={"file": (name, payload(tmp_path))},
                    data={"name": "x", "kind": "image_archive"})
    assert_problem(r, status, words)
    assert counts()["transfer_sets"] == 0 and stored_files() == []
    assert set(os.listdir(tmp_path)) == before
    assert not os.path.exists("/tmp/escaped_abs.png")


# Large sets: streamed from disk through a DataLoader, never loaded whole.

def test_streamed_and_in_memory_jobs_train_the_same_student(client, data_root, teacher_file, monkeypatch):
    import numpy as np
    from safetensors.torch import load

    from tests.unit.test_api import upload_teacher
    from tests.unit.test_teacher_cache import events_of
    from worker.jobs.lifecycle import execute

    write_image_folder(data_root / "digits", limit=300)
    ts = post(client, kind="image_folder", path="digits").json()["id"]
    teacher = upload_teacher(client, teacher_file, input_shape="[1, 8, 8]").json()["id"]
    body = {"teacher_ids": [teacher], "transfer_set_id": ts, "student": {"arch": "cnn", "channels": [8]},
            "hyperparameters": {"epochs": 2, "augmentation": {"horizontal_flip": True}}}

    def run():
        job_id = client.post("/v1/jobs", json=body).json()["id"]
        execute(job_id)
        job = client.get(f"/v1/jobs/{job_id}").json()
        assert job["status"] == "succeeded", job["error"]
        weights = load(client.get(f"/v1/jobs/{job_id}/student", params={"format": "safetensors"}).content)
        return job, weights, events_of(client, job_id)

    in_memory, w_mem, ev_mem = run()
    monkeypatch.setenv("DISTILLERY_IN_MEMORY_MAX_BYTES", "1000")
    get_settings.cache_clear()
    streamed, w_str, ev_str = run()
    assert "data_streamed" in ev_str and "data_streamed" not in ev_mem
    assert streamed["result"]["student"]["test_errors"] == in_memory["result"]["student"]["test_errors"]
    for k in w_mem:
        np.testing.assert_allclose(w_str[k].numpy(), w_mem[k].numpy(), rtol=1e-5, atol=1e-6)


def test_lazy_inputs_read_each_sample_once_an_epoch_in_batches():
    import torch

    from models.distill_config import DistillConfig
    from models.lazy_inputs import LazyInputs
    from worker.engine.loop import Split, train_student

    class Counting:
        def __init__(self, n):
            self.x, self.reads = torch.rand(n, 4), torch.zeros(n, dtype=torch.long)

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            self.reads[i] += 1
            return self.x[i], 0

    data = Counting(100)
    lazy = LazyInputs(data, workers=0)  # in-process, so the counts are visible here
    y = torch.randint(0, 3, (100,))
    train = Split(lazy[torch.arange(80)], y[:80])
    out = train_student(lambda: torch.nn.Linear(4, 3), train, None,
                        DistillConfig(epochs=3, batch_size=16, soft_weight=0, hard_weight=1))
    assert out.epochs_run == 3
    assert data.reads[:80].tolist() == [3] * 80 and data.reads[80:].sum() == 0
