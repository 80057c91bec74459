"""Fixtures shared by every test: a digits teacher trained here, and settings pointed at tmp dirs."""

import os
from pathlib import Path

import pytest
import torch

from models.examples import digits_teacher, save_exported_program, save_torchscript

# Two cores: more threads than that only make the tests slower and less repeatable.
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(scope="session")
def digits_teacher_model() -> torch.nn.Module:
    return digits_teacher(epochs=30)


@pytest.fixture(scope="session")
def teacher_file(tmp_path_factory, digits_teacher_model) -> Path:
    """A TorchScript MLP teacher (64 → 10) trained in the test session on digits."""
    path = tmp_path_factory.mktemp("teacher") / "digits_teacher.pt"
    save_torchscript(digits_teacher_model, path)
    return path


@pytest.fixture(scope="session")
def exported_teacher_file(tmp_path_factory, digits_teacher_model) -> Path:
    """The same teacher as a torch.export program (.pt2), as the walkthrough makes it."""
    path = tmp_path_factory.mktemp("teacher") / "digits_teacher.pt2"
    save_exported_program(digits_teacher_model, path)
    return path


def clear_caches() -> None:
    from app import deps
    from core import db, queue
    from core.config import get_settings

    for fn in (get_settings, db.get_engine, db._sessionmaker, deps.get_store, queue._sender):
        fn.cache_clear()


@pytest.fixture
def embedded_env(tmp_path, monkeypatch) -> Path:
    """Settings for the embedded defaults, everything under a fresh tmp ``var`` directory."""
    var = tmp_path / "var"
    for key in list(os.environ):
        if key.startswith("DISTILLERY_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("DISTILLERY_VAR_DIR", str(var))
    clear_caches()
    yield var
    from core.db import get_engine

    get_engine().dispose()
    clear_caches()


@pytest.fixture(scope="session")
def s3_server():
    """One moto S3 server process for the session; each test takes its own bucket (``s3_server.new_bucket()``)."""
    from tests.s3_server import moto_server

    with moto_server() as server:
        yield server
