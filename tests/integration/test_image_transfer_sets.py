"""Transfer sets as users have them — an ImageFolder tree of PNGs, MNIST IDX files, an image archive —
registered through the API and distilled by a real worker; class names travel with the student."""

import json

import pytest
import torch

from tests.datasets import write_image_folder, write_mnist, zip_folder
from tests.integration.stack import running_stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_image_folder(root / "digits_png")
    write_mnist(root / "torchvision")
    return root


@pytest.fixture(scope="module")
def stack(tmp_path_factory, data_root):
    with running_stack("embedded", tmp_path_factory.mktemp("images"),
                       {"DISTILLERY_DATA_ROOTS": str(data_root)}) as s:
        yield s


def distil(stack, client, teacher_file, ts_id, tmp_path) -> tuple[dict, torch.nn.Module]:
    with open(teacher_file, "rb") as f:  # the digits MLP flattens its input, so it takes [1, 8, 8] too
        teacher = client.post("/v1/teachers", files={"file": ("t.pt", f)},
                              data={"name": "t", "input_shape": "[1, 8, 8]"}).json()["id"]
    r = client.post("/v1/jobs", json={"teacher_ids": [teacher], "transfer_set_id": ts_id,
                                      "student": {"arch": "cnn", "channels": [16, 32]},
                                      "hyperparameters": {"epochs": 15, "learning_rate": 0.05}})
    assert r.status_code == 202, r.text
    job = stack.wait_for_job(client, r.json()["id"])
    assert job["status"] == "succeeded", f"{job['error']}\n{stack.log('worker')}"
    path = tmp_path / "student.pt2"
    path.write_bytes(client.get(f"/v1/jobs/{job['id']}/student", params={"format": "exported_program"}).content)
    return job, torch.export.load(str(path))


def test_image_folder_of_pngs(stack, teacher_file, tmp_path):
    with stack.client() as client:
        ts = client.post("/v1/transfer-sets", json={"name": "png", "kind": "image_folder", "path": "digits_png"})
        assert ts.status_code == 201, ts.text
        job, program = distil(stack, client, teacher_file, ts.json()["id"], tmp_path)
    assert job["result"]["student"]["test_accuracy"] > 0.9
    names = [f"digit_{i}" for i in range(10)]
    assert job["result"]["class_names"] == names
    # the class names are inside the downloaded file, for whoever deploys it
    import zipfile

    with zipfile.ZipFile(tmp_path / "student.pt2") as zf:
        meta = next(n for n in zf.namelist() if n.endswith("distillery.json"))
        assert json.loads(zf.read(meta))["class_names"] == names
    probs = program.module()(torch.zeros(3, 1, 8, 8))
    torch.testing.assert_close(probs.sum(1), torch.ones(3), atol=1e-5, rtol=0)


def test_torchvision_mnist_idx_on_the_data_volume(stack, teacher_file, tmp_path):
    with stack.client() as client:
        ts = client.post("/v1/transfer-sets", json={"name": "mnist", "kind": "torchvision", "dataset": "MNIST",
                                                    "root": "torchvision"})
        assert ts.status_code == 201, ts.text
        job, _ = distil(stack, client, teacher_file, ts.json()["id"], tmp_path)
    assert job["result"]["student"]["test_accuracy"] > 0.9 and job["result"]["student"]["samples"] == 360


def test_image_archive_upload(stack, teacher_file, tmp_path, data_root):
    archive = zip_folder(data_root / "digits_png", tmp_path / "digits.zip")
    with stack.client() as client:
        with open(archive, "rb") as f:
            ts = client.post("/v1/transfer-sets", files={"file": ("digits.zip", f)}, data={"name": "zip"})
        assert ts.status_code == 201, ts.text
        job, _ = distil(stack, client, teacher_file, ts.json()["id"], tmp_path)
        types = [e["type"] for e in client.get(f"/v1/jobs/{job['id']}/events").json()["data"]]
    assert job["result"]["student"]["test_accuracy"] > 0.9 and "cache_built" in types
