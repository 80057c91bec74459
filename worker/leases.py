"""Job leases: a running job belongs to the worker holding its lease, renewed by a heartbeat.

A task delivered twice (Redis redelivers unacknowledged tasks after its visibility timeout, and a
lost worker's task is requeued) finds the lease alive and leaves the job alone. A job whose lease has
expired — its worker died — may be claimed again; the API's reaper (app/reaper.py) requeues it.
"""

import logging
import os
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update

from app.db import session_scope
from app.tables import Job, Run

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another worker holds the job now; this one must stop without touching it."""


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def now() -> datetime:
    return datetime.now(UTC)


def claim(job_id: str, owner: str, lease_seconds: float) -> bool:
    """Take a queued job, or a running one whose lease has expired."""
    t = now()
    with session_scope() as s:
        return bool(s.execute(
            update(Job)
            .where(Job.id == job_id, or_(Job.status == "queued",
                                         (Job.status == "running") & (Job.lease_expires_at < t)))
            .values(status="running", lease_owner=owner, lease_expires_at=t + timedelta(seconds=lease_seconds),
                    attempts=Job.attempts + 1)
        ).rowcount)


def renew(job_id: str, owner: str, lease_seconds: float) -> bool:
    with session_scope() as s:
        return bool(s.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease_owner == owner, Job.status == "running")
            .values(lease_expires_at=now() + timedelta(seconds=lease_seconds))
        ).rowcount)


def claim_run(run_id: str, lease_seconds: float) -> bool:
    """Take a queued sweep member, or a running one whose lease has expired."""
    t = now()
    with session_scope() as s:
        return bool(s.execute(
            update(Run)
            .where(Run.id == run_id, or_(Run.status == "queued",
                                         (Run.status == "running") & (Run.lease_expires_at < t)))
            .values(status="running", lease_expires_at=t + timedelta(seconds=lease_seconds),
                    attempts=Run.attempts + 1)
        ).rowcount)


def renew_run(run_id: str, lease_seconds: float) -> bool:
    with session_scope() as s:
        return bool(s.execute(update(Run).where(Run.id == run_id, Run.status == "running")
                              .values(lease_expires_at=now() + timedelta(seconds=lease_seconds))).rowcount)


class Heartbeat(threading.Thread):
    """Renews a lease every quarter of its length until stopped; notes when it was lost. By default the
    job's lease held by ``owner``; ``renewal`` renews something else (a sweep member's run)."""

    def __init__(self, job_id: str, owner: str, lease_seconds: float, renewal=None):
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self.job_id, self.owner, self.lease_seconds = job_id, owner, lease_seconds
        self.renewal = renewal or (lambda: renew(job_id, owner, lease_seconds))
        self.lost = False
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.lease_seconds / 4):
            try:
                if not self.renewal():
                    self.lost = True
                    return
            except Exception:  # a database hiccup: try again next beat, the lease still has time
                log.exception("job %s: lease renewal failed", self.job_id)

    def stop(self) -> None:
        self._stop_event.set()
