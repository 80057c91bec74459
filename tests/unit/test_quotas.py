"""Per-tenant limits, each shown against a second tenant that must not feel it: queued plus running jobs
(429 with Retry-After), stored bytes (413 naming what to delete, nothing kept), and requests per key (429)."""

import pytest
from fastapi.testclient import TestClient

from app.auth import create_key
from app.main import create_app
from core.config import get_settings
from core.db import get_engine, upgrade
from tests.unit.test_api import assert_problem, counts, job_body, stored_files


@pytest.fixture
def two_tenants(embedded_env, monkeypatch, request):
    from sqlalchemy.orm import Session

    monkeypatch.setenv("DISTILLERY_AUTH_REQUIRED", "true")
    for name, value in getattr(request, "param", {}).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    upgrade(get_settings().resolved_database_url)
    with Session(get_engine(), expire_on_commit=False) as s:
        keys = {who: create_key(s, who)[1] for who in ("alpha", "beta")}
    with TestClient(create_app()) as c:
        yield c, {who: {"Authorization": f"Bearer {key}"} for who, key in keys.items()}


def upload(client, path, headers):
    with open(path, "rb") as f:
        return client.post("/v1/teachers", files={"file": ("t.pt", f)}, data={"name": "t", "input_shape": "[64]"},
                           headers=headers)


def setup_job(client, teacher_file, headers) -> dict:
    teacher = upload(client, teacher_file, headers)
    assert teacher.status_code == 201, teacher.text
    ts = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}, headers=headers)
    return job_body(teacher.json()["id"], ts.json()["id"])


@pytest.mark.parametrize("two_tenants", [{"DISTILLERY_MAX_ACTIVE_JOBS": "2"}], indirect=True)
def test_over_the_job_quota_is_429_with_retry_after_and_other_tenants_are_unaffected(two_tenants, teacher_file):
    client, h = two_tenants
    body_a, body_b = setup_job(client, teacher_file, h["alpha"]), setup_job(client, teacher_file, h["beta"])
    for _ in range(2):
        assert client.post("/v1/jobs", json=body_a, headers=h["alpha"]).status_code == 202
    r = client.post("/v1/jobs", json=body_a, headers=h["alpha"])
    assert_problem(r, 429, "2 queued or running jobs", "DISTILLERY_MAX_ACTIVE_JOBS")
    assert int(r.headers["retry-after"]) > 0
    assert client.get("/v1/jobs", headers=h["alpha"]).json()["count"] == 2  # the refused job was not kept
    assert client.post("/v1/jobs", json=body_b, headers=h["beta"]).status_code == 202
    # An ended job no longer counts: cancelling one makes room.
    first = client.get("/v1/jobs", headers=h["alpha"]).json()["data"][0]["id"]
    assert client.post(f"/v1/jobs/{first}/cancel", headers=h["alpha"]).status_code == 200
    assert client.post("/v1/jobs", json=body_a, headers=h["alpha"]).status_code == 202


def test_over_the_storage_quota_is_a_problem_naming_what_to_delete(embedded_env, monkeypatch, teacher_file):
    size = teacher_file.stat().st_size
    monkeypatch.setenv("DISTILLERY_MAX_STORED_BYTES", str(size + size // 2))  # room for one teacher, not two
    _storage_case(monkeypatch, teacher_file)


def _storage_case(monkeypatch, teacher_file):
    from sqlalchemy.orm import Session

    monkeypatch.setenv("DISTILLERY_AUTH_REQUIRED", "true")
    get_settings.cache_clear()
    upgrade(get_settings().resolved_database_url)
    with Session(get_engine(), expire_on_commit=False) as s:
        h = {who: {"Authorization": f"Bearer {create_key(s, who)[1]}"} for who in ("alpha", "beta")}
    with TestClient(create_app()) as client:
        first = upload(client, teacher_file, h["alpha"])
        assert first.status_code == 201
        files, rows = stored_files(), counts()
        body = assert_problem(upload(client, teacher_file, h["alpha"]), 413, "DISTILLERY_MAX_STORED_BYTES",
                              "delete", first.json()["id"], f"DELETE /v1/teachers/{first.json()['id']}")
        assert body["type"].endswith("/storage-quota-exceeded")
        assert "/tmp" not in body["detail"] and str(get_settings().var_dir) not in body["detail"]
        assert stored_files() == files and counts() == rows  # nothing of the refused upload is kept
        assert upload(client, teacher_file, h["beta"]).status_code == 201  # another tenant has its own quota
        # Deleting what the answer names makes room again.
        assert client.delete(f"/v1/teachers/{first.json()['id']}", headers=h["alpha"]).status_code == 204
        again = upload(client, teacher_file, h["alpha"])
        assert again.status_code == 201
        # At the limit, a job (whose students would add bytes) is refused as well, before anything is queued.
        monkeypatch.setenv("DISTILLERY_MAX_STORED_BYTES", str(teacher_file.stat().st_size))
        get_settings.cache_clear()
        ts = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}, headers=h["alpha"]).json()["id"]
        r = client.post("/v1/jobs", json=job_body(again.json()["id"], ts), headers=h["alpha"])
        assert_problem(r, 413, "delete", f"DELETE /v1/teachers/{again.json()['id']}")
        assert client.get("/v1/jobs", headers=h["alpha"]).json()["count"] == 0


@pytest.mark.parametrize("two_tenants", [{"DISTILLERY_RATE_LIMIT": "5/minute"}], indirect=True)
def test_over_the_rate_limit_is_429_per_key(two_tenants):
    client, h = two_tenants
    for _ in range(5):
        assert client.get("/v1/jobs", headers=h["alpha"]).status_code == 200
    r = client.get("/v1/jobs", headers=h["alpha"])
    assert_problem(r, 429, "5 per 1 minute", "DISTILLERY_RATE_LIMIT")
    assert 0 < int(r.headers["retry-after"]) <= 60
    assert client.get("/v1/jobs", headers=h["beta"]).status_code == 200  # the other key has its own window
    assert client.get("/healthz").status_code == 200  # probes are never limited


def test_an_unpacked_image_archive_counts_against_the_storage_quota(embedded_env, monkeypatch, tmp_path):
    """What is kept of an archive is its unpacked folder: that is what the quota counts."""
    from tests.datasets import write_image_folder, zip_folder

    archive = zip_folder(write_image_folder(tmp_path / "src", limit=40), tmp_path / "digits.zip").read_bytes()
    unpacked = sum(f.stat().st_size for f in (tmp_path / "src").rglob("*") if f.is_file())
    one = max(unpacked, len(archive))  # an upload is checked as it arrives, and again once unpacked
    monkeypatch.setenv("DISTILLERY_MAX_STORED_BYTES", str(one + one // 2))  # one fits, two do not
    get_settings.cache_clear()
    upgrade(get_settings().resolved_database_url)
    with TestClient(create_app()) as client:
        def post():
            return client.post("/v1/transfer-sets", files={"file": ("d.zip", archive)}, data={"name": "z"})

        first = post()
        assert first.status_code == 201, first.text
        files = stored_files()
        assert_problem(post(), 413, "DISTILLERY_MAX_STORED_BYTES", f"DELETE /v1/transfer-sets/{first.json()['id']}")
        assert stored_files() == files  # the refused archive's folder is gone
        assert client.delete(f"/v1/transfer-sets/{first.json()['id']}").status_code == 204
        assert post().status_code == 201


@pytest.mark.parametrize("two_tenants", [{"DISTILLERY_RATE_LIMIT_STORAGE": "redis://127.0.0.1:1/0"}],
                         indirect=True)
def test_rate_limit_storage_that_is_down_lets_requests_through(two_tenants):
    """Counters that cannot be reached must not take the API down with them: requests go on, unlimited."""
    client, h = two_tenants
    assert client.get("/v1/jobs", headers=h["alpha"]).status_code == 200


def test_a_malformed_rate_limit_stops_the_settings_not_each_request(monkeypatch):
    from pydantic import ValidationError

    from core.config import Settings

    monkeypatch.setenv("DISTILLERY_RATE_LIMIT", "30/sekond")
    with pytest.raises(ValidationError, match="not a rate limit"):
        Settings()
