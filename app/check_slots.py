"""How many upload checks run at once: a teacher's sandbox, or the child process reading a transfer set.

Each check may use gigabytes (a sandbox up to DISTILLERY_SANDBOX_MEMORY_BYTES), so a host runs at most
DISTILLERY_SANDBOX_MAX_CONCURRENT of them and a tenant at most DISTILLERY_SANDBOX_MAX_PER_TENANT. A slot
is an exclusive ``flock`` on one of N lock files: it counts across every API process on the host and
threads within one, and a process that dies frees its slots with its file descriptors. An upload past
the bound waits DISTILLERY_SANDBOX_QUEUE_SECONDS for a slot, then is answered 429 with Retry-After.
"""

import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.problems import Problem

POLL_SECONDS = 0.05
RETRY_AFTER_SECONDS = 5


def _slot_dir(settings) -> Path:
    folder = Path(settings.sandbox_slot_dir or Path(settings.var_dir) / "sandbox-slots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _take(folder: Path, prefix: str, count: int) -> int | None:
    for i in range(count):
        fd = os.open(folder / f"{prefix}-{i}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            os.close(fd)
    return None


def _release(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


@contextmanager
def check_slot(settings, tenant: str) -> Iterator[None]:
    """Hold one of the host's slots and one of the tenant's while the block runs."""
    folder = _slot_dir(settings)
    tenant_prefix = "tenant-" + hashlib.sha256(tenant.encode()).hexdigest()[:24]
    deadline = time.monotonic() + settings.sandbox_queue_seconds
    while True:
        own = _take(folder, tenant_prefix, settings.sandbox_max_per_tenant)
        host = _take(folder, "host", settings.sandbox_max_concurrent) if own is not None else None
        if host is not None:
            break
        if own is not None:
            _release(own)
        if time.monotonic() >= deadline:
            mine = own is None
            raise Problem(
                429, f"{'this tenant has' if mine else 'this server has'} as many uploads being checked as it may "
                f"run at once ({settings.sandbox_max_per_tenant if mine else settings.sandbox_max_concurrent}, "
                f"DISTILLERY_SANDBOX_MAX_{'PER_TENANT' if mine else 'CONCURRENT'}); send it again in a few seconds",
                kind="checks-busy", headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        _release(host)
        _release(own)
