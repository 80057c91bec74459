"""The HTTP edge bounds on a real uvicorn server with auth required, on PostgreSQL (issue 25, findings 1, 3,
11 and 14): what a hostile request costs the API is measured while it runs, not inferred.

- a keyless 24 MiB JSON body is a 401 while the API's resident memory stays flat (parsing it cost 624 MB);
- an upload that stalls is cut with a 408, and what was spooled of it leaves the disk;
- requests without a valid key are limited per client address (429);
- with one tenant's 16 event streams open, another tenant's request still answers 200 within its client's
  timeout (each stream used to hold one of the pool's 15 connections), and a stream past the limit is a 429;
- malformed inputs that were a 500 are a 4xx naming the field, on a keep-alive connection that survives them.
"""

import io
import json
import socket
import struct
import threading
import time
import zipfile
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from tests.integration.stack import Stack, base_env, free_port, postgres_database
from tests.integration.test_body_limit_server import _spooled_bytes

pytestmark = pytest.mark.slow

STREAMS = 16
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from app.auth import create_key
    from core.db import upgrade

    var = tmp_path_factory.mktemp("edge")
    tmpdir = var / "server-tmp"
    tmpdir.mkdir()
    with postgres_database() as url:
        upgrade(url)
        engine = create_engine(url)
        with Session(engine) as s:
            keys = {name: create_key(s, name)[1] for name in ("alpha", "beta")}
        engine.dispose()
        env = {**base_env(var), "DISTILLERY_DATABASE_URL": url, "DISTILLERY_AUTH_REQUIRED": "true",
               "TMPDIR": str(tmpdir), "DISTILLERY_MAX_UPLOAD_BYTES": str(32 * MIB),
               "DISTILLERY_UPLOAD_RATE_WINDOW_SECONDS": "3", "DISTILLERY_UPLOAD_MIN_BYTES_PER_SECOND": "65536",
               "DISTILLERY_KEYLESS_RATE_LIMIT": "20/minute", "DISTILLERY_MAX_STREAMS_PER_KEY": str(STREAMS)}
        stack = Stack(env=env, var=var, port=free_port())
        stack.start_api()
        try:
            yield stack, {n: {"Authorization": f"Bearer {k}"} for n, k in keys.items()}, tmpdir
        finally:
            stack.stop_all()


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class _Sampler:
    """The API process's peak resident memory while a request runs, read from /proc as often as it can."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self.baseline = _rss(pid)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss(self.pid))
            time.sleep(0.002)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _exchange(port: int, head: bytes, body_chunks, *, source: str, timeout: float = 60) -> tuple[bytes, float]:
    """Sends a request from ``source`` while another thread reads the answer as it comes (the server may answer
    and close before the body is all sent); sends nothing after the chunks, whatever the request announced.
    Returns the answer and the seconds from the last byte sent to the answer's first."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
    received, answered = bytearray(), threading.Event()
    when = [0.0]

    def read():
        try:
            while chunk := sock.recv(65536):
                received.extend(chunk)
                if not when[0]:
                    when[0] = time.monotonic()
                if b"\r\n\r\n" in received and received.rstrip().endswith(b"}"):
                    break
        except OSError:
            pass
        answered.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    last_sent = time.monotonic()
    try:
        sock.sendall(head)
        for chunk in body_chunks:
            if answered.is_set():
                break
            sock.sendall(chunk)
            last_sent = time.monotonic()
    except OSError:  # the server answered and closed while we were sending
        pass
    answered.wait(timeout)
    sock.close()
    return bytes(received), (when[0] - last_sent if when[0] else float("inf"))


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def test_a_keyless_24_mib_json_body_is_401_and_the_api_does_not_grow(server):
    stack, _keys, _tmp = server
    # Under the upload cap, so that only the order of the checks decides: empty objects, the costliest JSON
    # to parse per byte (a Python dict for every 3 bytes).
    body = b'{"teacher_ids": [], "transfer_set_id": "ts_x", "pad": [' + b"{}," * (8 * MIB) + b'{}]}'
    # /v1/jobs: FastAPI parses a route's JSON body parameter before it runs the route's dependencies (the key).
    head = (f"POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    chunks = (body[i:i + 65536] for i in range(0, len(body), 65536))
    with _Sampler(stack.procs["api"].pid) as rss:
        answer, _ = _exchange(stack.port, head, chunks, source="127.0.0.2")
    assert _status(answer) == 401, answer[:500]
    assert b"API key" in answer
    growth = rss.peak - rss.baseline
    # Parsing it costs hundreds of bytes of objects per body byte (624 MB for the body); even reading
    # it whole would cost 24 MiB.
    assert growth < 16 * MIB, f"the API grew by {growth} bytes while refusing a keyless body"


def test_keyless_requests_are_limited_per_address(server):
    stack, keys, _tmp = server
    transport = httpx.HTTPTransport(local_address="127.0.0.3")
    with httpx.Client(base_url=stack.url, transport=transport, timeout=30) as c:
        statuses = [c.get("/v1/teachers").status_code for _ in range(22)]
        wrong = c.get("/v1/teachers", headers={"Authorization": "Bearer dk_not-a-key"})
        assert c.get("/v1/teachers", headers=keys["alpha"]).status_code == 200  # a valid key is not held back
    assert statuses[:20] == [401] * 20 and statuses[20:] == [429, 429]
    assert wrong.status_code == 429 and "DISTILLERY_KEYLESS_RATE_LIMIT" in wrong.json()["detail"]
    assert int(wrong.headers["Retry-After"]) >= 1
    with httpx.Client(base_url=stack.url, transport=httpx.HTTPTransport(local_address="127.0.0.4")) as other:
        assert other.get("/v1/teachers").status_code == 401  # another address has its own count


def test_a_stalled_upload_is_cut_and_its_spool_removed(server):
    stack, keys, tmpdir = server
    pid = stack.procs["api"].pid
    part = b'--B\r\nContent-Disposition: form-data; name="file"; filename="big.npz"\r\n\r\n'
    head = (f"POST /v1/transfer-sets HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: {keys['alpha']['Authorization']}\r\n"
            f"Content-Type: multipart/form-data; boundary=B\r\nContent-Length: {12 * MIB}\r\n\r\n").encode()
    sent = [part] + [bytes(65536)] * 64  # 4 MiB of the 12 announced, then nothing
    peak, stop = [0], threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], _spooled_bytes(pid, tmpdir))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        answer, waited = _exchange(stack.port, head, sent, source="127.0.0.1")
    finally:
        stop.set()
        watcher.join()
    assert _status(answer) == 408, answer[:500]
    assert b"DISTILLERY_UPLOAD_MIN_BYTES_PER_SECOND" in answer
    assert peak[0] > 2 * MIB, "the upload was never spooled to disk: the test shows nothing"
    # The window is 3 s of waiting on the client; a loaded machine adds its own delay, never minutes.
    assert waited < 30, f"the stalled upload was answered {waited:.0f} s after its last byte"
    deadline = time.monotonic() + 10
    while _spooled_bytes(pid, tmpdir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _spooled_bytes(pid, tmpdir) == 0, "the cut upload's spooled bytes are still on disk"
    with httpx.Client(base_url=stack.url, headers=keys["alpha"]) as c:
        assert c.get("/v1/transfer-sets").json()["count"] == 0


def _open_stream(port: int, job_id: str, auth: str) -> tuple[socket.socket, bytes]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(f"GET /v1/jobs/{job_id}/events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    first = b""
    # A stream's head and its first event; any other answer in full (a problem's JSON ends with '}').
    while not (b"event:" in first if first.startswith(b"HTTP/1.1 200") else first.rstrip().endswith(b"}")):
        chunk = sock.recv(65536)
        if not chunk:
            break
        first += chunk
    return sock, first


def test_open_streams_leave_other_tenants_served_and_past_the_limit_are_429(server, teacher_file):
    stack, keys, _tmp = server
    with httpx.Client(base_url=stack.url, headers=keys["alpha"], timeout=120) as c:
        with open(teacher_file, "rb") as f:
            r = c.post("/v1/teachers", files={"file": ("t.pt", f)}, data={"name": "t", "input_shape": "[64]"})
        assert r.status_code == 201, r.text
        ts = c.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
        body = {"teacher_ids": [r.json()["id"]], "transfer_set_id": ts, "student": {"arch": "mlp"}}
        job = c.post("/v1/jobs", json=body)
        assert job.status_code == 202, job.text
    job_id = job.json()["id"]  # no worker: it stays queued, and its streams stay open
    streams = []
    try:
        for _ in range(STREAMS):
            sock, first = _open_stream(stack.port, job_id, keys["alpha"]["Authorization"])
            streams.append(sock)
            assert first.startswith(b"HTTP/1.1 200") and b"event: queued" in first, first[:300]
        # Each open stream used to hold a pooled connection for its life (the pool is 5 + 10): the 16th took
        # the last, and every other request waited for one, then answered 503.
        with httpx.Client(base_url=stack.url, headers=keys["beta"], timeout=5) as other:
            for _ in range(3):
                assert other.get("/v1/teachers").status_code == 200
        sock, first = _open_stream(stack.port, job_id, keys["alpha"]["Authorization"])
        sock.close()
        assert first.startswith(b"HTTP/1.1 429"), first[:300]
        assert b"DISTILLERY_MAX_STREAMS_PER_KEY" in first
        sock, first = _open_stream(stack.port, job_id, keys["beta"]["Authorization"])
        sock.close()
        assert first.startswith(b"HTTP/1.1 404"), first[:300]  # alpha's job is not beta's to watch
    finally:
        for sock in streams:
            sock.close()
    # A closed stream gives its slot back.
    deadline = time.monotonic() + 20
    while True:
        sock, first = _open_stream(stack.port, job_id, keys["alpha"]["Authorization"])
        sock.close()
        if first.startswith(b"HTTP/1.1 200") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert first.startswith(b"HTTP/1.1 200"), first[:300]


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _npz_with_header(header: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("x.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header)
    return buf.getvalue()


def test_malformed_inputs_are_4xx_on_a_connection_that_survives(server):
    stack, keys, _tmp = server
    deep = "[" * 100_000 + "]" * 100_000
    teacher = {"name": "t", "input_shape": "[64]", "format": "safetensors", "arch": "mlp"}
    x = np.zeros((2, 4), np.float32)
    cases = [
        ("input_shape", lambda c: c.post("/v1/teachers", files={"file": ("t.st", b"x")},
                                         data={**teacher, "input_shape": deep})),
        ("arch_config", lambda c: c.post("/v1/teachers", files={"file": ("t.st", b"x")},
                                         data={**teacher, "arch_config": '{"a": ' + deep + "}"})),
        ("preprocessing", lambda c: c.post("/v1/transfer-sets", files={"file": ("a.zip", b"PK\x05\x06" + bytes(18))},
                                           data={"name": "a", "preprocessing": deep})),
        ("body", lambda c: c.post("/v1/jobs", content=json.dumps({"teacher_ids": []})[:-1] + ', "x": ' + deep + "}",
                                  headers={"Content-Type": "application/json"})),
        ("file", lambda c: c.post("/v1/transfer-sets", data={"name": "s"}, files={"file": ("s.npz", _npz_with_header(
            (b"{'descr': " + b"[" * 4990 + b"]" * 4990)[:9998] + b"\n"))})),
        ("file", lambda c: c.post("/v1/transfer-sets", data={"name": "s"},
                                  files={"file": ("s.npz", _npz(x=x, y=np.array([0, 2**63 - 1], np.int64)))})),
        ("file", lambda c: c.post("/v1/transfer-sets", data={"name": "s"},
                                  files={"file": ("s.npz", _npz(x=x, y=np.array([0, 2**64 - 1], np.uint64)))})),
        ("Last-Event-ID", lambda c: c.get("/v1/jobs/job_x/events/stream", headers={"Last-Event-ID": "9" * 5000})),
    ]
    with httpx.Client(base_url=stack.url, headers=keys["beta"], timeout=60) as c:
        ports = set()
        for field, call in cases:
            r = call(c)
            assert 400 <= r.status_code < 500, f"{field}: {r.status_code} {r.text[:300]}"
            problem = r.json()
            assert problem["errors"][0]["field"] == field, problem
            assert problem["detail"], problem
            assert "close" not in r.headers.get("connection", ""), f"{field}: the server closed the connection"
            ports.add(_local_port(r))
        r = c.get("/v1/teachers")
        assert r.status_code == 200
        ports.add(_local_port(r))
    assert len(ports) == 1, f"the keep-alive connection did not survive: {len(ports)} connections were used"


def _local_port(response: httpx.Response) -> int | None:
    try:
        return response.extensions["network_stream"].get_extra_info("client_addr")[1]
    except (OSError, TypeError, KeyError):
        return None
