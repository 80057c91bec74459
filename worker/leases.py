"""Leases: a running job, or a running sweep member, belongs to the worker holding its lease.

One abstraction serves both (a job's row in ``jobs``, a member's in ``runs``). A claim takes a queued
row, or a running one whose lease expired, and gives it an owner and a new random token; a heartbeat
renews it. Every write the worker then makes for that job or member goes through :func:`fenced`, which
checks owner and token in the same transaction (a conditional update that also locks the row), so a
worker that lost its lease — stopped past it while another took over — changes nothing: its write
raises :class:`LeaseLost`, and the worker stops quietly.

A task delivered twice (Redis redelivers unacknowledged tasks, the reaper re-sends queued work) finds
the lease alive and leaves the row alone. The API's reaper (app/reaper.py) requeues rows whose lease
expired.
"""

import contextvars
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, text, update
from sqlalchemy.orm import Session

from core import testhooks
from core.config import get_settings
from core.db import session_scope
from core.tables import Job, Run
from models.statuses import JobStatus

log = logging.getLogger(__name__)

Leased = type[Job] | type[Run]


class LeaseLost(Exception):
    """Another worker holds the job (or member) now, or it ended; this one must stop without touching it."""


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def now() -> datetime:
    return datetime.now(UTC)


def new_token() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Lease:
    """A claim on one row of ``jobs`` or ``runs``: who holds it, and the token of this claim."""

    table: Leased
    id: str
    owner: str
    token: str

    def _mine(self):
        t = self.table
        return (t.id == self.id, t.lease_owner == self.owner, t.lease_token == self.token,
                t.status == JobStatus.RUNNING)

    def check(self, session: Session) -> None:
        """Inside a transaction: raise LeaseLost unless the lease is still this one. The no-op update locks
        the row until the transaction ends, so a claim by another worker waits for this one's writes."""
        if not session.execute(update(self.table).where(*self._mine())
                               .values(lease_token=self.token)).rowcount:
            raise LeaseLost(f"{self.table.__tablename__} {self.id}: the lease is no longer ours")

    def released(self) -> dict:
        """The values that end the lease, for an update guarded by :meth:`check`."""
        return {"lease_owner": None, "lease_token": None, "lease_expires_at": None}


@contextmanager
def _transaction() -> Iterator[Session]:
    """A worker's writing transaction. It locks the rows it changes; a worker stopped inside it (SIGSTOP, a
    frozen VM) would hold them, and the reaper and any takeover would wait, until it woke up. On
    PostgreSQL the server ends such a transaction after DISTILLERY_DB_STATEMENT_TIMEOUT_SECONDS idle."""
    with session_scope() as s:
        if s.get_bind().dialect.name == "postgresql":
            ms = int(get_settings().db_statement_timeout_seconds * 1000)
            s.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = {ms}"))
        yield s


def claim(table: Leased, row_id: str, owner: str, lease_seconds: float, *, where=None,
          count_attempt: bool = True) -> Lease | None:
    """Take a queued row, or a running one whose lease has expired (``where`` replaces that condition).
    Returns the lease, or None when the row is taken or ended."""
    t = now()
    token = new_token()
    condition = where if where is not None else or_(
        table.status == JobStatus.QUEUED, (table.status == JobStatus.RUNNING) & (table.lease_expires_at < t))
    values = dict(status=JobStatus.RUNNING, lease_owner=owner, lease_token=token,
                  lease_expires_at=t + timedelta(seconds=lease_seconds))
    if count_attempt:
        values["attempts"] = table.attempts + 1
    with _transaction() as s:
        took = s.execute(update(table).where(table.id == row_id, condition).values(**values)).rowcount
    return Lease(table, row_id, owner, token) if took else None


def renew(lease: Lease, lease_seconds: float) -> bool:
    with _transaction() as s:
        return bool(s.execute(update(lease.table).where(*lease._mine())
                              .values(lease_expires_at=now() + timedelta(seconds=lease_seconds))).rowcount)


@contextmanager
def fenced(*leases: Lease) -> Iterator[Session]:
    """A transaction whose writes land only if every lease is still held; else LeaseLost, nothing written."""
    with _transaction() as s:
        for lease in leases:
            lease.check(s)
        testhooks.pause("fenced_write")
        yield s


class Heartbeat(threading.Thread):
    """Renews leases every quarter of their length until stopped; notes when one was lost."""

    def __init__(self, leases: list[Lease], lease_seconds: float):
        super().__init__(daemon=True, name=f"heartbeat-{leases[0].id}")
        self.leases, self.lease_seconds = list(leases), lease_seconds
        self.lost = False
        self._stop_event = threading.Event()
        # A thread starts with an empty context: its lines carry the job's ids only if it runs in a copy.
        self._log_context = contextvars.copy_context()

    def run(self) -> None:
        self._log_context.run(self._beat)

    def _beat(self) -> None:
        while not self._stop_event.wait(self.lease_seconds / 4):
            try:
                if not all([renew(lease, self.lease_seconds) for lease in list(self.leases)]):
                    self.lost = True
                    return
            except Exception:  # a database hiccup: try again next beat, the lease still has time
                log.exception("%s: lease renewal failed", self.leases[0].id)

    def stop(self) -> None:
        self._stop_event.set()
