"""A torchvision root reads whatever files it finds under it, so every entry is checked as image folders
are: a symbolic link whose real location is outside every data root is a 422."""

import shutil

import pytest

from core.config import get_settings
from tests.datasets import write_mnist
from tests.unit.test_api import assert_problem, counts
from tests.unit.test_npz_limits import assert_no_server_path


@pytest.fixture
def roots(tmp_path, monkeypatch, client):
    first, second = tmp_path / "data", tmp_path / "more-data"
    first.mkdir()
    second.mkdir()
    monkeypatch.setenv("DISTILLERY_DATA_ROOTS", f"{first}:{second}")
    get_settings.cache_clear()
    return first, second


def post(client, root: str):
    return client.post("/v1/transfer-sets", json={"name": "m", "kind": "torchvision", "dataset": "MNIST",
                                                  "root": root})


def test_a_file_linked_to_outside_the_roots_is_refused(client, roots, tmp_path):
    data, _ = roots
    outside = write_mnist(tmp_path / "outside")
    write_mnist(data / "mnist")
    leaked = data / "mnist" / "MNIST" / "raw" / "train-images-idx3-ubyte"
    leaked.unlink()
    leaked.symlink_to(outside / "MNIST" / "raw" / "train-images-idx3-ubyte")
    body = assert_problem(post(client, "mnist"), 422, "symbolic link leading outside the data roots",
                          "mnist/MNIST/raw/train-images-idx3-ubyte", field="root")
    assert_no_server_path(body)
    assert counts()["transfer_sets"] == 0


def test_a_folder_linked_to_outside_the_roots_is_refused(client, roots, tmp_path):
    data, _ = roots
    outside = write_mnist(tmp_path / "outside")
    (data / "mnist").mkdir()
    (data / "mnist" / "MNIST").symlink_to(outside / "MNIST", target_is_directory=True)
    assert_problem(post(client, "mnist"), 422, "'mnist/MNIST'", "outside the data roots", field="root")


def test_links_into_another_data_root_are_fine(client, roots):
    data, more = roots
    write_mnist(more / "shared")
    (data / "mnist" / "MNIST").mkdir(parents=True)
    (data / "mnist" / "MNIST" / "raw").symlink_to(more / "shared" / "MNIST" / "raw", target_is_directory=True)
    (data / "mnist" / "loop").symlink_to(data / "mnist", target_is_directory=True)  # walked once, no hang
    r = post(client, "mnist")
    assert r.status_code == 201, r.text


def test_a_link_inside_a_linked_folder_is_checked_too(client, roots, tmp_path):
    data, more = roots
    outside = write_mnist(tmp_path / "outside")
    write_mnist(more / "shared")
    raw = more / "shared" / "MNIST" / "raw"
    shutil.copy(raw / "t10k-images-idx3-ubyte", tmp_path / "spare")
    (raw / "t10k-images-idx3-ubyte").unlink()
    (raw / "t10k-images-idx3-ubyte").symlink_to(outside / "MNIST" / "raw" / "t10k-images-idx3-ubyte")
    (data / "mnist" / "MNIST").mkdir(parents=True)
    (data / "mnist" / "MNIST" / "raw").symlink_to(raw, target_is_directory=True)
    assert_problem(post(client, "mnist"), 422, "t10k-images-idx3-ubyte", "outside the data roots")
