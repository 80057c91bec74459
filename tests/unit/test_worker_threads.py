"""DISTILLERY_WORKER_THREADS: the intra-op threads a worker's pool process sets when it starts."""

import os

import pytest
import torch

from core.config import Settings, get_settings
from tests.conftest import clear_caches


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_an_explicit_setting_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert Settings(worker_threads=3).worker_thread_count == 3


def test_zero_takes_omp_num_threads_where_set_else_the_cores_available(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert Settings().worker_thread_count == 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert Settings().worker_thread_count == len(os.sched_getaffinity(0))
    monkeypatch.setenv("OMP_NUM_THREADS", "")
    assert Settings().worker_thread_count == len(os.sched_getaffinity(0))


def test_a_pool_process_applies_the_setting_when_it_starts(embedded_env, monkeypatch, restore_threads):
    from worker.tasks import _set_threads

    torch.set_num_threads(2)
    monkeypatch.setenv("DISTILLERY_WORKER_THREADS", "1")
    clear_caches()
    assert get_settings().worker_threads == 1
    _set_threads()
    assert torch.get_num_threads() == 1
