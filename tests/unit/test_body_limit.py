"""The request body cap, in-process: a declared length above the cap is refused before the body is read,
and a body that streams past it is cut off there (the real-server test is in tests/integration)."""

import asyncio
import json

from app.body_limit import MULTIPART_ALLOWANCE, BodyLimitMiddleware
from core.config import get_settings
from tests.unit.test_api import assert_problem, counts, stored_files

LIMIT = 1000


def _small_limit(monkeypatch):
    monkeypatch.setenv("DISTILLERY_MAX_UPLOAD_BYTES", str(LIMIT))
    get_settings.cache_clear()


def test_declared_length_above_the_cap_is_413_at_once(client, monkeypatch):
    _small_limit(monkeypatch)
    body = b"x" * (LIMIT + MULTIPART_ALLOWANCE + 1)
    r = client.post("/v1/transfer-sets", content=body, headers={"content-type": "multipart/form-data; boundary=b"})
    problem = assert_problem(r, 413, f"{LIMIT} bytes", "DISTILLERY_MAX_UPLOAD_BYTES")
    assert problem["type"].endswith("/payload-too-large")
    assert counts()["transfer_sets"] == 0 and stored_files() == []


def test_streamed_body_past_the_cap_is_413(client, monkeypatch):
    _small_limit(monkeypatch)
    chunk = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.npz\"\r\n\r\n" + b"x" * 60_000

    def chunks():  # no Content-Length: sent chunked (TestClient gathers it first, so it is finite)
        yield chunk
        for _ in range(64):
            yield b"x" * 65536

    r = client.post("/v1/transfer-sets", content=chunks(),
                    headers={"content-type": "multipart/form-data; boundary=b"})
    assert_problem(r, 413, f"{LIMIT} bytes")
    assert counts()["transfer_sets"] == 0 and stored_files() == []


def test_bodies_under_the_cap_pass(client):
    r = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"})
    assert r.status_code == 201, r.text


def test_the_middleware_stops_reading_at_the_cap(embedded_env, monkeypatch):
    """The app never gets more than the cap's worth of body, however much the client sends."""
    _small_limit(monkeypatch)
    cap = LIMIT + MULTIPART_ALLOWANCE
    seen = []

    async def greedy_app(scope, receive, send):
        while True:
            message = await receive()
            seen.append(len(message.get("body", b"")))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def endless():
        return {"type": "http.request", "body": b"x" * 4096, "more_body": True}

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/transfer-sets", "headers": []}
    asyncio.run(BodyLimitMiddleware(greedy_app)(scope, endless, send))
    assert sum(seen) <= cap + 4096
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["status"] == 413


def test_a_form_route_answers_413_not_the_400_of_its_cut_off_parse(client, monkeypatch):
    """FastAPI turns a failed form parse into a 400; the client must still learn the body was too large."""
    _small_limit(monkeypatch)

    def chunks():
        yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.pt\"\r\n\r\n"
        for _ in range(32):
            yield b"x" * 65536

    r = client.post("/v1/teachers", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"})
    assert_problem(r, 413, "DISTILLERY_MAX_UPLOAD_BYTES")
    assert counts()["teachers"] == 0 and stored_files() == []
