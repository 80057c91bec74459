"""On the real PostgreSQL (which refuses NUL in text, where SQLite stores it): text with NUL characters
in paths, query strings, JSON and multipart fields is a 422 before any SQL, never a 500."""

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.conftest import clear_caches
from tests.integration.stack import postgres_database
from tests.unit.test_api import assert_problem, job_body

pytestmark = pytest.mark.slow


@pytest.fixture
def pg_client(embedded_env, monkeypatch):
    from app.main import create_app
    from core.db import upgrade

    with postgres_database() as url:
        monkeypatch.setenv("DISTILLERY_DATABASE_URL", url)
        clear_caches()
        upgrade(url)
        with TestClient(create_app()) as client:
            yield client
        from core.db import get_engine

        get_engine().dispose()
        clear_caches()


def test_nul_never_reaches_postgresql(pg_client):
    c = pg_client
    assert_problem(c.get("/v1/jobs/job_%00"), 422, "NUL", field="path")
    assert_problem(c.get("/v1/teachers/tch_%00x"), 422, "NUL", field="path")
    assert_problem(c.get("/v1/jobs?status=queued%00"), 422, "NUL", field="status")
    assert_problem(c.post("/v1/jobs", json=job_body("tch_\x00", "ts_x")), 422, "NUL", field="teacher_ids.0")
    assert_problem(c.post("/v1/jobs", json=job_body("tch_x", "ts_\x00")), 422, "NUL", field="transfer_set_id")
    assert_problem(c.post("/v1/transfer-sets", json={"name": "a\x00", "builtin": "digits"}), 422, "NUL",
                   field="name")
    buf = io.BytesIO()
    np.savez(buf, x=np.zeros((4, 2), np.float32))
    r = c.post("/v1/transfer-sets", files={"file": ("s.npz", buf.getvalue())}, data={"name": "a\x00b"})
    assert_problem(r, 422, "NUL", field="name")
    # And ordinary text still works there.
    assert c.post("/v1/transfer-sets", json={"name": "digits é ✓", "builtin": "digits"}).status_code == 201
    assert_problem(c.get("/v1/jobs/job_nope"), 404)
