"""The HTTP edge bounds in-process (issue 25): the key before the body, bodies bounded in size, depth and
pace before parsing, and malformed inputs that gave a 500 now a 4xx naming the field. The same bounds on a
real uvicorn server, with memory and latency measured, are in tests/integration/test_http_edge_server.py."""

import asyncio
import io
import json
import struct
import zipfile

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from core.config import get_settings
from core.db import upgrade
from models.json_bounds import JSONTooDeep, check_depth, nesting_depth
from tests.unit.test_api import assert_problem, counts, npz_bytes, upload_teacher


def deep(n: int, open_: str = "[", close: str = "]") -> str:
    return open_ * n + close * n


# -- measuring depth without parsing ------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "1", "[]", '{"a": [1, {"b": [2]}]}', '[[[]], [[[]]], []]', '{"a": "[[[[[[", "b": [1]}',
    '["\\"[[[", "\\\\", [["x"]]]', deep(40), '{"a": ' * 30 + "1" + "}" * 30, '"unterminated [[[',
])
def test_depth_is_what_the_parser_sees(text):
    def parsed_depth(v) -> int:
        if isinstance(v, list):
            return 1 + max((parsed_depth(x) for x in v), default=0)
        if isinstance(v, dict):
            return 1 + max((parsed_depth(x) for x in v.values()), default=0)
        return 0

    try:
        expected = parsed_depth(json.loads(text))
    except json.JSONDecodeError:
        expected = 0  # an unterminated string: nothing after its quote is a bracket
    assert nesting_depth(text) == expected
    assert nesting_depth(text.encode("utf-16")) == expected  # json.loads reads UTF-16 too


def test_too_deep_is_refused_before_parsing():
    with pytest.raises(JSONTooDeep, match="100000 levels"):
        check_depth(deep(100_000), 32)
    check_depth(deep(32), 32)


# -- the key before the body --------------------------------------------------------------------------------

@pytest.fixture
def secured(embedded_env, monkeypatch):
    from app.auth import create_key
    from core.db import session_scope

    monkeypatch.setenv("DISTILLERY_AUTH_REQUIRED", "true")
    monkeypatch.setenv("DISTILLERY_KEYLESS_RATE_LIMIT", "4/minute")
    get_settings.cache_clear()
    upgrade(get_settings().resolved_database_url)
    with session_scope() as s:
        _tenant, key = create_key(s, "alpha")
    from app.quotas import _limiter

    _limiter.cache_clear()  # a fresh count of keyless requests
    yield create_app(), {"Authorization": f"Bearer {key}"}
    _limiter.cache_clear()


def _call(app, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b""):
    """One request straight to the ASGI app; returns (status, body, how often the app read the body)."""
    reads, sent = [], []

    async def receive():
        reads.append(1)
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"host", b"test"), *headers], "http_version": "1.1", "scheme": "http",
             "server": ("test", 80), "client": ("203.0.113.9", 4000), "root_path": ""}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:]), len(reads)


def test_a_keyless_body_is_never_read_and_the_address_is_limited(secured):
    app, _ = secured
    body = json.dumps({"name": "x" * 100_000, "builtin": "digits"}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    answers = [_call(app, "POST", "/v1/transfer-sets", headers, body) for _ in range(5)]
    assert [status for status, _, _ in answers] == [401, 401, 401, 401, 429]
    assert all(reads == 0 for _, _, reads in answers), "the body of a keyless request was read"
    assert b"DISTILLERY_KEYLESS_RATE_LIMIT" in answers[-1][1]
    # A wrong key counts as none; the address is over its limit now.
    status, text, reads = _call(app, "GET", "/v1/teachers", [(b"authorization", b"Bearer dk_wrong")])
    assert (status, reads) == (429, 0)
    assert counts()["transfer_sets"] == 0


def test_a_valid_key_passes_the_gate_once(secured):
    app, key = secured
    with TestClient(app) as c:
        r = c.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}, headers=key)
        assert r.status_code == 201, r.text
        assert c.get("/v1/transfer-sets", headers=key).json()["count"] == 1
        assert_problem(c.get("/v1/teachers"), 401, "API key")
        assert c.get("/healthz").status_code == 200  # outside /v1: no key needed


# -- bodies: size, depth, pace ------------------------------------------------------------------------------

def test_a_large_json_body_is_413_before_parsing(client, monkeypatch):
    monkeypatch.setenv("DISTILLERY_MAX_JSON_BYTES", "5000")
    get_settings.cache_clear()
    r = client.post("/v1/transfer-sets", json={"name": "x" * 6000, "builtin": "digits"})
    assert_problem(r, 413, "5000 bytes", "DISTILLERY_MAX_JSON_BYTES")
    assert client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).status_code == 201


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/transfer-sets"])
def test_a_deeply_nested_json_body_is_422_and_the_connection_lives(client, path):
    body = '{"name": "d", "builtin": "digits", "student": ' + deep(50_000) + "}"
    r = client.post(path, content=body, headers={"content-type": "application/json"})
    problem = assert_problem(r, 422, "50001 levels", "DISTILLERY_MAX_JSON_DEPTH")
    assert problem["errors"][0]["field"] == "body"
    assert "close" not in r.headers.get("connection", "")


def test_a_stalled_body_is_cut_with_408(embedded_env, monkeypatch):
    monkeypatch.setenv("DISTILLERY_UPLOAD_RATE_WINDOW_SECONDS", "0.3")
    monkeypatch.setenv("DISTILLERY_UPLOAD_MIN_BYTES_PER_SECOND", "1000")
    get_settings.cache_clear()
    from app.body_bounds import BodyBoundsMiddleware

    read, sent = [], []

    async def app(scope, receive, send):  # reads the whole body, then answers 200
        while True:
            message = await receive()
            read.append(len(message.get("body", b"")))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})

    chunks = [b"x" * 1000, b"x" * 10]

    async def receive():  # a first chunk, then a trickle, then nothing at all
        if chunks:
            await asyncio.sleep(0.05)
            return {"type": "http.request", "body": chunks.pop(0), "more_body": True}
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/transfer-sets", "headers": [
        (b"content-type", b"multipart/form-data; boundary=b"), (b"transfer-encoding", b"chunked")]}
    asyncio.run(asyncio.wait_for(BodyBoundsMiddleware(app)(scope, receive, send), 10))
    assert sent[0]["status"] == 408
    assert b"DISTILLERY_UPLOAD_MIN_BYTES_PER_SECOND" in sent[1]["body"]
    assert (b"connection", b"close") in sent[0]["headers"]
    assert read == [1000, 10]


# -- malformed inputs that were a 500 -----------------------------------------------------------------------

@pytest.mark.parametrize("field,value", [
    ("input_shape", deep(100_000)),
    ("arch_config", '{"num_classes": ' + deep(100_000) + "}"),
])
def test_deep_teacher_fields_are_422(client, teacher_file, field, value):
    fields = {"input_shape": "[64]", "format": "safetensors", "arch": "mlp", field: value}
    r = upload_teacher(client, teacher_file, **fields)
    assert_problem(r, 422, field=field)
    assert counts()["teachers"] == 0


def test_deep_preprocessing_is_422(client):
    r = client.post("/v1/transfer-sets", files={"file": ("a.zip", b"PK\x05\x06" + bytes(18))},
                    data={"name": "a", "preprocessing": '{"resize": ' + deep(100_000) + "}"})
    assert_problem(r, 422, "levels", field="preprocessing")


def _npz_with_header(header: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("x.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header)
    return buf.getvalue()


def test_a_malformed_npy_header_is_422(client):
    # 9,999 bytes that numpy's header parser fails on with an error it does not document (tokenize's).
    header = (b"{'descr': " + b"[" * 4990 + b"]" * 4990)[:9998] + b"\n"
    r = client.post("/v1/transfer-sets", files={"file": ("s.npz", _npz_with_header(header))}, data={"name": "s"})
    assert_problem(r, 422, "damaged .npy header", field="file")


@pytest.mark.parametrize("labels", [np.array([0, 2**63 - 1], np.int64), np.array([0, 2**64 - 1], np.uint64)])
def test_labels_past_any_class_number_are_422(client, labels):
    body = npz_bytes(x=np.zeros((2, 4), np.float32), y=labels)
    r = client.post("/v1/transfer-sets", files={"file": ("s.npz", body)}, data={"name": "s"})
    assert_problem(r, 422, str(labels.max()), "99999", field="file")
    assert counts()["transfer_sets"] == 0


def test_a_last_event_id_of_5000_digits_is_422(client):
    # Checked before the job is looked up: int() alone refuses 5,000 digits with a ValueError, a 500.
    r = client.get("/v1/jobs/job_any/events/stream", headers={"Last-Event-ID": "9" * 5000})
    assert_problem(r, 422, "Last-Event-ID", "5000 digits", field="Last-Event-ID")


def test_a_key_lookup_that_hangs_is_503_not_a_hung_request(secured, monkeypatch):
    import time

    from app import key_gate

    app, key = secured
    monkeypatch.setenv("DISTILLERY_REQUEST_DEADLINE_SECONDS", "0.5")
    get_settings.cache_clear()
    monkeypatch.setattr(key_gate, "authenticate", lambda *_: time.sleep(3))  # a database that never answers
    status, body, reads = _call(app, "GET", "/v1/teachers", [(b"authorization", key["Authorization"].encode())])
    assert (status, reads) == (503, 0)
    assert json.loads(body)["type"].endswith("/database-unavailable")
