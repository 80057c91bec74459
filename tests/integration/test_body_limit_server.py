"""The body cap on a real uvicorn server: a chunked upload far past the limit is answered 413 while it
is still being sent, and the server never spools it to its temporary directory."""

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from app.body_limit import MULTIPART_ALLOWANCE
from tests.integration.stack import Stack, base_env, free_port

pytestmark = pytest.mark.slow

LIMIT = 256 * 1024
BODY = 64 * 1024 * 1024  # what the client would send if nobody stopped it


def _spooled_bytes(pid: int, tmpdir: Path) -> int:
    """Bytes in the files under ``tmpdir`` that the server holds open (Python's temporary files are
    unlinked at once, or never linked at all, so only their descriptors show them)."""
    total = 0
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir() if fd_dir.exists() else ():
        try:
            target = os.readlink(fd)
            if target.startswith(str(tmpdir)):
                total += os.stat(fd).st_size
        except OSError:
            continue
    return total + sum(p.stat().st_size for p in tmpdir.rglob("*") if p.is_file())


def test_chunked_upload_past_the_cap_is_cut_off_before_it_is_spooled(tmp_path):
    from core.db import upgrade

    var, tmpdir = tmp_path / "var", tmp_path / "server-tmp"
    var.mkdir()
    tmpdir.mkdir()
    upgrade(f"sqlite:///{var / 'distillery.sqlite3'}")
    env = {**base_env(var), "DISTILLERY_MAX_UPLOAD_BYTES": str(LIMIT), "TMPDIR": str(tmpdir)}
    stack = Stack(env=env, var=var, port=free_port())
    stack.start_api()
    peak, stop = [0], threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], _spooled_bytes(stack.procs["api"].pid, tmpdir))
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        status, response, sent = _send_chunked_upload(stack.port)
    finally:
        stop.set()
        watcher.join()
        stack.stop_all()
    assert status == 413, response
    assert b"DISTILLERY_MAX_UPLOAD_BYTES" in response
    assert peak[0] < LIMIT + MULTIPART_ALLOWANCE + 1024 * 1024, f"the server spooled {peak[0]} bytes"
    assert sent < BODY / 2, f"the server let the client send {sent} bytes before answering"


def _send_chunked_upload(port: int) -> tuple[int, bytes, int]:
    """POST a multipart file part chunk by chunk while another thread reads the answer as it comes (the
    server closes the connection after its 413, so an answer read only later could be lost to the reset)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (f"POST /v1/transfer-sets HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: multipart/form-data; boundary=BOUNDARY\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    part = b'--BOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="big.npz"\r\n\r\n'
    received, answered = bytearray(), threading.Event()

    def read():
        try:
            while chunk := sock.recv(65536):
                received.extend(chunk)
                answered.set()
        except OSError:
            pass
        answered.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    sent = 0
    try:
        sock.sendall(head)
        data = part + bytes(65536)
        while sent < BODY and not answered.is_set():
            sock.sendall(b"%x\r\n%s\r\n" % (len(data), data))
            sent += len(data)
            data = bytes(65536)
        if not answered.is_set():  # nobody stopped it: end the body properly and see what the server says
            end = b"\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nbig\r\n--BOUNDARY--\r\n"
            sock.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(end), end))
    except OSError:  # the server closed the connection after answering
        pass
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (b"\r\n\r\n" in received and received.rstrip().endswith(b"}")):
        if not reader.is_alive():
            break
        time.sleep(0.05)
    sock.close()
    reader.join(5)
    response = bytes(received)
    status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else 0
    return status, response, sent
