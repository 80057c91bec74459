"""API keys and tenants: no key or a bad key is a 401, and another tenant's resources are a 404 on
every route — reads, writes, downloads and event streams alike."""

import re
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from core.config import get_settings
from core.db import upgrade
from tests.unit.test_api import assert_problem, job_body
from worker.jobs.lifecycle import execute


def make_key(tenant: str) -> str:
    done = subprocess.run([sys.executable, "-m", "distillery_cli.main", "admin", "create-key", "--tenant", tenant],
                          capture_output=True, text=True, check=True)
    assert tenant in done.stderr and "shown once" in done.stderr
    return done.stdout.strip()


@pytest.fixture
def secured(embedded_env, monkeypatch):
    monkeypatch.setenv("DISTILLERY_AUTH_REQUIRED", "true")
    get_settings.cache_clear()
    upgrade(get_settings().resolved_database_url)
    keys = {"a": make_key("alpha"), "b": make_key("beta")}
    with TestClient(create_app()) as c:
        yield c, {name: {"Authorization": f"Bearer {key}"} for name, key in keys.items()}


def test_keys_are_stored_hashed(secured):
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from core.db import get_engine
    from core.tables import ApiKey

    _, headers = secured
    key = headers["a"]["Authorization"].removeprefix("Bearer ")
    with Session(get_engine()) as s:
        stored = s.scalars(select(ApiKey)).all()
    assert len(stored) == 2 and all(key not in (k.key_hash, k.prefix) for k in stored)
    assert key.startswith("dk_") and len(key) > 40


def test_no_key_or_a_bad_key_is_401(secured):
    client, _ = secured
    body = assert_problem(client.get("/v1/jobs"), 401, "needs an API key")
    assert body["type"].endswith("/unauthorized")
    r = client.get("/v1/teachers", headers={"Authorization": "Bearer dk_not-a-key"})
    assert_problem(r, 401, "not valid")
    assert r.headers["www-authenticate"] == "Bearer"
    assert client.get("/healthz").status_code == 200  # probes need no key


def test_auth_off_uses_the_default_tenant_but_still_checks_keys(client):
    assert client.get("/v1/jobs").status_code == 200
    assert_problem(client.get("/v1/jobs", headers={"Authorization": "Bearer dk_wrong"}), 401, "not valid")


def test_another_tenants_resources_are_404_on_every_route(secured, teacher_file):
    client, h = secured
    with open(teacher_file, "rb") as f:
        teacher = client.post("/v1/teachers", files={"file": ("t.pt", f)}, headers=h["a"],
                              data={"name": "t", "input_shape": "[64]"}).json()["id"]
    ts = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}, headers=h["a"]).json()["id"]
    job = client.post("/v1/jobs", json=job_body(teacher, ts, hyperparameters={"epochs": 1}), headers=h["a"])
    job = job.json()["id"]
    execute(job)
    assert client.get(f"/v1/jobs/{job}", headers=h["a"]).json()["status"] == "succeeded"
    hook = client.post("/v1/webhooks", json={"url": "https://93.184.215.14/hook"}, headers=h["a"]).json()["id"]
    ids = {"teacher_id": teacher, "transfer_set_id": ts, "job_id": job, "webhook_id": hook}

    checked = []
    for path, ops in client.get("/openapi.json").json()["paths"].items():
        params = re.findall(r"{(\w+)}", path)
        if not params:
            continue
        url = path.format(**ids)
        for method in ops:
            if method == "delete":
                continue  # checked last, so the resources still exist for the other routes
            r = client.request(method.upper(), url, headers=h["b"])
            assert_problem(r, 404, ids[params[0]])
            assert client.request(method.upper(), url, headers=h["a"]).status_code < 400 or method == "post"
            checked.append(f"{method} {path}")
    # get teacher, ts, job; cancel, metrics, events, stream, student, webhook deliveries of a job and an endpoint
    assert len(checked) == 10, checked
    assert {"get /v1/jobs/{job_id}/student", "get /v1/jobs/{job_id}/events/stream",
            "get /v1/webhooks/{webhook_id}/deliveries"} <= set(checked)
    for kind in ("teachers", "transfer-sets", "jobs", "webhooks"):
        assert client.get(f"/v1/{kind}", headers=h["b"]).json() == {"data": [], "count": 0}
        assert client.get(f"/v1/{kind}", headers=h["a"]).json()["count"] == 1
    # B cannot build on A's teacher or transfer set either
    r = client.post("/v1/jobs", json=job_body(teacher, ts), headers=h["b"])
    assert_problem(r, 422, teacher, "does not exist", field="teacher_ids.0")
    assert_problem(client.delete(f"/v1/teachers/{teacher}", headers=h["b"]), 404)
    assert_problem(client.delete(f"/v1/transfer-sets/{ts}", headers=h["b"]), 404)
    assert_problem(client.delete(f"/v1/jobs/{job}", headers=h["b"]), 404)
    assert_problem(client.delete(f"/v1/webhooks/{hook}", headers=h["b"]), 404)
    assert client.get("/v1/webhooks", headers=h["a"]).json()["count"] == 1
    assert client.get(f"/v1/jobs/{job}", headers=h["a"]).status_code == 200
    assert client.get(f"/v1/teachers/{teacher}", headers=h["a"]).status_code == 200


def test_idempotency_keys_are_per_tenant(secured, teacher_file):
    client, h = secured
    jobs = []
    for who in ("a", "b"):
        with open(teacher_file, "rb") as f:
            teacher = client.post("/v1/teachers", files={"file": ("t.pt", f)}, headers=h[who],
                                  data={"name": "t", "input_shape": "[64]"}).json()["id"]
        ts = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}, headers=h[who]).json()["id"]
        r = client.post("/v1/jobs", json=job_body(teacher, ts), headers={**h[who], "Idempotency-Key": "same"})
        assert r.status_code == 202, r.text
        jobs.append(r.json()["id"])
    assert jobs[0] != jobs[1]
