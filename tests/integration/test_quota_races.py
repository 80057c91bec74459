"""Quotas under concurrent requests, through a real uvicorn server (in a thread) on real PostgreSQL and on
SQLite: requests released together from eight threads, against the job count and the byte quota. Without the
per-tenant lock around count and insert, they all counted before any inserted, and all passed."""

import io
import threading
import time
from contextlib import contextmanager

import httpx
import numpy as np
import pytest

from tests.conftest import clear_caches
from tests.integration.stack import free_port, postgres_database

CONCURRENT = 8
UPLOAD_BYTES = 1_100_000
QUOTA_BYTES = 5_000_000


@contextmanager
def _nothing():
    yield None


@contextmanager
def serving(database: str, monkeypatch, **settings: str):
    """The app under a real uvicorn server in this process, on a fresh database of the kind asked for."""
    import uvicorn

    from app.main import create_app
    from core.db import get_engine, upgrade

    with (postgres_database() if database == "postgres" else _nothing()) as url:
        if url:
            monkeypatch.setenv("DISTILLERY_DATABASE_URL", url)
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        clear_caches()
        from core.config import get_settings

        upgrade(get_settings().resolved_database_url)
        server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=free_port(), log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        try:
            yield f"http://127.0.0.1:{server.config.port}"
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            get_engine().dispose()
            clear_caches()


def all_at_once(send, n: int = CONCURRENT) -> list[httpx.Response]:
    """``send(client)`` from n threads, each with its own connection, released at the same moment."""
    barrier, answers = threading.Barrier(n), [None] * n

    def one(i):
        with httpx.Client(timeout=120) as client:
            barrier.wait()
            answers[i] = send(client)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def each_file_once(url: str, files: list[bytes], filename: str):
    """A ``send`` for :func:`all_at_once` that uploads each of ``files`` once, whichever thread comes first."""
    turn, lock = iter(range(len(files))), threading.Lock()

    def upload(client):
        with lock:
            i = next(turn)
        return client.post(f"{url}/v1/transfer-sets", files={"file": (filename.format(i), files[i])},
                           data={"name": f"s{i}"})

    return upload


def npz_of(nbytes: int, seed: int) -> bytes:
    """Random float32 rows (incompressible), so the file is as large as its arrays."""
    rows = nbytes // (64 * 4)
    buf = io.BytesIO()
    rng = np.random.default_rng(seed)
    np.savez(buf, x=rng.random((rows, 64), dtype=np.float32), y=np.arange(rows) % 10)
    return buf.getvalue()


@pytest.mark.parametrize("database", ["postgres", "sqlite"])
def test_eight_concurrent_submissions_against_max_active_jobs_2_admit_exactly_2(database, embedded_env, monkeypatch,
                                                                                 teacher_file):
    with serving(database, monkeypatch, DISTILLERY_MAX_ACTIVE_JOBS="2") as url, httpx.Client(base_url=url,
                                                                                             timeout=120) as c:
        with open(teacher_file, "rb") as f:
            teacher = c.post(f"{url}/v1/teachers", files={"file": ("t.pt", f)},
                             data={"name": "t", "input_shape": "[64]"})
        assert teacher.status_code == 201, teacher.text
        ts = c.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
        body = {"teacher_ids": [teacher.json()["id"]], "transfer_set_id": ts,
                "student": {"arch": "mlp", "hidden_sizes": [16]}, "hyperparameters": {"epochs": 1}}
        answers = all_at_once(lambda client: client.post(f"{url}/v1/jobs", json=body))
        codes = sorted(r.status_code for r in answers)
        assert codes == [202] * 2 + [429] * (CONCURRENT - 2), [r.text for r in answers]
        assert c.get("/v1/jobs").json()["count"] == 2  # no refused job was kept


@pytest.mark.parametrize("database", ["postgres", "sqlite"])
def test_eight_concurrent_uploads_of_1_1_mb_against_a_5_mb_quota_admit_at_most_4(database, embedded_env,
                                                                                  monkeypatch):
    files = [npz_of(UPLOAD_BYTES, seed) for seed in range(CONCURRENT)]
    assert all(UPLOAD_BYTES <= len(f) < UPLOAD_BYTES + 100_000 for f in files)
    with serving(database, monkeypatch, DISTILLERY_MAX_STORED_BYTES=str(QUOTA_BYTES)) as url:
        answers = all_at_once(each_file_once(url, files, "s{}.npz"))
        accepted = [r for r in answers if r.status_code == 201]
        assert len(accepted) == QUOTA_BYTES // len(files[0]) == 4, [r.status_code for r in answers]
        assert all(r.status_code == 413 for r in answers if r.status_code != 201)
        assert "DISTILLERY_MAX_STORED_BYTES" in next(r for r in answers if r.status_code == 413).json()["detail"]
        with httpx.Client(base_url=url) as c:
            kept = c.get("/v1/transfer-sets").json()
        assert kept["count"] == len(accepted)


def csv_of(rows: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    x = rng.random((rows, 64), dtype=np.float32)
    lines = [",".join([*(f"f{i}" for i in range(64)), "label"])]
    lines += [",".join([*(f"{v:.6f}" for v in row), str(k % 10)]) for k, row in enumerate(x)]
    return ("\n".join(lines) + "\n").encode()


def test_concurrent_table_uploads_are_counted_as_the_arrays_they_keep_under_the_lock(embedded_env, monkeypatch,
                                                                                    tmp_path):
    """A table is kept as its converted .npz, whose size is not the CSV's: that size is what the quota counts,
    under the same per-tenant lock as every other upload."""
    from models.table_reader import read_table

    files = [csv_of(2000, seed) for seed in range(CONCURRENT)]
    sizes = []
    for i in (0, 1):
        (tmp_path / f"t{i}.csv").write_bytes(files[i])
        read_table(tmp_path / f"t{i}.csv", "csv", tmp_path / f"t{i}.npz")
        sizes.append((tmp_path / f"t{i}.npz").stat().st_size)
    kept = max(sizes)
    assert kept < len(files[0]) / 2  # the CSV is far larger than what is kept
    quota = int(kept * 4.5)
    with serving("postgres", monkeypatch, DISTILLERY_MAX_STORED_BYTES=str(quota)) as url:
        answers = all_at_once(each_file_once(url, files, "t{}.csv"))
        accepted = [r for r in answers if r.status_code == 201]
        assert len(accepted) == 4, [(r.status_code, r.text[:200]) for r in answers]
        assert all(r.status_code == 413 for r in answers if r.status_code != 201)
        with httpx.Client(base_url=url) as c:
            assert c.get("/v1/transfer-sets").json()["count"] == 4
