"""Keeps every job moving; runs inside the API process. Each pass:

1. A running job or sweep member whose lease expired (its worker vanished) is queued again, up to
   DISTILLERY_MAX_ATTEMPTS starts in all, and then failed with a reason: one pass over both kinds of leased
   row, each described once in :data:`LEASED` (its failure, its event, how its task is sent). Queued again means: status
   ``queued`` and ``sent_at`` NULL — nothing is sent here.
2. A sweep whose members have all ended but that nobody is finishing (the worker that would have died)
   is queued again as a job, whose task then finishes it.
3. The reconciler: a job or member that is queued and was never sent (``sent_at`` NULL), or was sent
   longer than DISTILLERY_REQUEUE_AFTER_SECONDS ago (the broker lost the message: Redis restarted, an API
   died between its commit and its send), is sent, and only then stamped. A broker that cannot be reached
   leaves the rows as they were, for the next pass. A second delivery of a task is harmless: the lease
   claim lets one worker through.

4. A webhook delivery that is due and whose task was sent longer than DISTILLERY_REQUEUE_AFTER_SECONDS ago
   (or never reached the broker) is sent again; a second task finds the try already made and does nothing.

Before all of it, the pass asks the broker which run of its server is up (Redis's ``run_id``). When it differs
from the one the last pass saw, the server restarted and may have lost every message: each queued job and
member and each pending delivery is marked as never sent, so this pass and the next send them at once rather
than after DISTILLERY_REQUEUE_AFTER_SECONDS, and nothing is sent again while the broker stays up.

Every DISTILLERY_ORPHAN_SWEEP_INTERVAL_SECONDS it also removes store files that no row refers to and that are
older than DISTILLERY_STAGING_GRACE_SECONDS (app/retention.py).

Several API processes may run it at once: every change is a conditional update.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Select, exists, or_, select, update

from core.broker import broker_instance
from core.config import get_settings
from core.db import session_scope
from core.queue import enqueue_delivery, enqueue_job, enqueue_member
from core.tables import Event, Job, Run, WebhookDelivery
from models.statuses import UNFINISHED, DeliveryStatus, JobStatus, RunStatus

log = logging.getLogger(__name__)

SEND_BATCH = 500  # rows sent per pass and kind at most; the rest wait for the next pass
RELEASED = dict(lease_owner=None, lease_token=None, lease_expires_at=None)


def reap() -> list[str]:
    """One pass; returns the ids of the jobs and members it sent."""
    if _broker_restarted():
        _forget_sends()
    t = datetime.now(UTC)
    for kind in LEASED:
        _expire(kind, t)
    _queue_unfinished_sweeps()
    sent = _send_queued(t)
    _send_due_deliveries(t)
    return sent


@dataclass(frozen=True)
class LeasedKind:
    """A kind of row a worker holds under a lease (worker/leases.py): what its expiry does, and how its task
    is sent again. Jobs come before members: a job failed here fails its members in the same transaction."""

    table: type[Job] | type[Run]
    about: Callable[[Job | Run], str]  # what the job's event and the log say it is about
    job_id: Callable[[Job | Run], str]
    failure: Callable[[Job | Run, str], str]  # why it failed, from why its worker is gone
    failed: Callable[[str, datetime], dict]  # the failed row's values beyond its status, from that reason
    failed_event: str
    queued: Callable[[datetime], Select]  # (id, what enqueue needs) of the rows whose task waits to be sent
    enqueue: Callable[[str, Any], None]  # (row id, the job's spec for a job, its job id for a member)


def _devices(spec: dict | None) -> int:
    return ((spec or {}).get("hyperparameters") or {}).get("devices", 1)


def _stale(table, t: datetime):
    stale = t - timedelta(seconds=get_settings().requeue_after_seconds)
    return or_(table.sent_at.is_(None), table.sent_at < stale)


LEASED = (
    LeasedKind(
        table=Job, about=lambda job: "", job_id=lambda job: job.id,
        failure=lambda job, gone: (f"the job's worker {gone} (DISTILLERY_MAX_ATTEMPTS={get_settings().max_attempts})"
                                   "; submit it again"),
        failed=lambda reason, t: dict(finished_at=t, error=reason), failed_event=JobStatus.FAILED,
        queued=lambda t: (select(Job.id, Job.spec).where(Job.status == JobStatus.QUEUED, _stale(Job, t))
                          .order_by(Job.created_at).limit(SEND_BATCH)),
        # A multi-device job goes to its own queue: the spec says how many devices it asks for.
        enqueue=lambda job_id, spec: enqueue_job(job_id, _devices(spec))),
    LeasedKind(
        table=Run, about=lambda run: f"sweep member {run.name}: ", job_id=lambda run: run.job_id,
        failure=lambda run, gone: f"its worker {gone}",
        failed=lambda reason, t: dict(result={"error": reason}), failed_event="member_failed",
        queued=lambda t: (select(Run.id, Run.job_id).join(Job, Job.id == Run.job_id)
                          .where(Run.status == RunStatus.QUEUED, Job.status == JobStatus.RUNNING, _stale(Run, t))
                          .order_by(Run.created_at, Run.id).limit(SEND_BATCH)),
        enqueue=lambda run_id, job_id: enqueue_member(job_id, run_id)),
)


def _expire(kind: LeasedKind, t: datetime) -> None:
    """A running row whose lease expired is queued again, or failed once it has had all its starts."""
    table, max_attempts = kind.table, get_settings().max_attempts
    with session_scope() as s:
        expired = list(s.scalars(select(table).where(table.status == JobStatus.RUNNING, table.lease_expires_at < t)))
    for row in expired:
        again = row.attempts < max_attempts
        if again:
            message = (f"its worker stopped renewing the lease; queued again (start {row.attempts + 1} of "
                       f"{max_attempts})")
            values = dict(status=JobStatus.QUEUED, sent_at=None, **RELEASED)
        else:
            message = kind.failure(row, f"stopped responding {row.attempts} times")
            values = dict(status=JobStatus.FAILED, **RELEASED, **kind.failed(message, t))
        with session_scope() as s:
            took = s.execute(update(table).where(table.id == row.id, table.status == JobStatus.RUNNING,
                                                 table.lease_expires_at < t).values(**values)).rowcount
            if took and not again and table is Job:  # a sweep's members end with it
                s.execute(update(Run).where(Run.job_id == row.id, Run.status.in_(UNFINISHED))
                          .values(status=RunStatus.FAILED, **RELEASED))
            if took:
                s.add(Event(job_id=kind.job_id(row), type="requeued" if again else kind.failed_event,
                            message=kind.about(row) + message))
        if took:
            log.warning("job %s: %sits worker vanished; %s", kind.job_id(row), kind.about(row),
                        "queued again" if again else "failed")


def _queue_unfinished_sweeps() -> None:
    """A sweep job runs without a lease while its members train; the member that ends last takes the job's
    lease in the same transaction to finish it. One that is complete and unleased was left behind (its
    last member was failed here, or its worker died): its job's task finishes it."""
    member_left = exists().where(Run.job_id == Job.id, Run.status.in_(UNFINISHED))
    has_members = exists().where(Run.job_id == Job.id)
    with session_scope() as s:
        ids = list(s.scalars(select(Job.id).where(Job.status == JobStatus.RUNNING, Job.lease_owner.is_(None),
                                                  has_members, ~member_left)))
        for job_id in ids:
            if s.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.lease_owner.is_(None),
                                           ~member_left).values(status=JobStatus.QUEUED, sent_at=None)).rowcount:
                s.add(Event(job_id=job_id, type="requeued", message="every sweep member has ended; the sweep is "
                                                                    "queued to be finished"))


def _send_queued(t: datetime) -> list[str]:
    with session_scope() as s:
        waiting = [(kind, list(s.execute(kind.queued(t)).all())) for kind in LEASED]
    sent = []
    try:
        for kind, rows in waiting:
            for row_id, needs in rows:
                kind.enqueue(row_id, needs)
                _stamp(kind.table, row_id)
                sent.append(row_id)
    except Exception as exc:  # the broker is down: what was not sent stays as it is, for the next pass
        log.warning("the reaper could not reach the broker (%s: %s); %d queued rows wait for the next pass",
                    type(exc).__name__, exc, sum(len(rows) for _, rows in waiting) - len(sent))
    if sent:
        log.warning("re-sent %d queued jobs and members the broker may have lost: %s", len(sent), sent)
    return sent


def _send_due_deliveries(t: datetime) -> None:
    stale = t - timedelta(seconds=get_settings().requeue_after_seconds)
    with session_scope() as s:
        due = list(s.scalars(select(WebhookDelivery.id).where(
            WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= t,
            or_(WebhookDelivery.sent_at.is_(None), WebhookDelivery.sent_at < stale))
            .order_by(WebhookDelivery.next_attempt_at).limit(SEND_BATCH)))
    for delivery_id in due:
        try:
            enqueue_delivery(delivery_id)
        except Exception as exc:
            log.warning("the reaper could not send webhook deliveries (%s); they wait for the next pass", exc)
            return
        _stamp(WebhookDelivery, delivery_id, DeliveryStatus.PENDING)
    if due:
        log.warning("re-sent %d webhook deliveries the broker may have lost", len(due))


_seen_broker: dict[str, str] = {}  # broker URL -> the run of its server that the last pass saw


def _broker_restarted() -> bool:
    url = get_settings().resolved_broker_url
    now_up = broker_instance(url)
    if now_up is None:  # out of reach, or a broker that cannot say: wait for it to answer
        return False
    before = _seen_broker.get(url)
    _seen_broker[url] = now_up
    return before is not None and before != now_up


def _forget_sends() -> None:
    """Every task the broker held is gone: mark what waits for one as never sent, for the reconciler."""
    with session_scope() as s:
        jobs = s.execute(update(Job).where(Job.status == JobStatus.QUEUED).values(sent_at=None)).rowcount
        members = s.execute(update(Run).where(Run.status == RunStatus.QUEUED).values(sent_at=None)).rowcount
        deliveries = s.execute(update(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.PENDING)
                               .values(sent_at=None)).rowcount
    log.warning("the broker restarted (a new Redis run_id): its queued tasks may be lost; sending %d queued jobs, "
                "%d sweep members and %d webhook deliveries again", jobs, members, deliveries)


def _stamp(table, row_id: str, waiting: str = JobStatus.QUEUED) -> None:
    """Record that the row's task was sent, if the row still waits for it."""
    with session_scope() as s:
        s.execute(update(table).where(table.id == row_id, table.status == waiting)
                  .values(sent_at=datetime.now(UTC)))


def sweep_store() -> list[str]:
    """Store files no row refers to, older than the staging grace period (see app/retention.py)."""
    from app.deps import get_store
    from app.retention import sweep_orphans

    with session_scope() as s:
        return sweep_orphans(s, get_store(), grace_seconds=get_settings().staging_grace_seconds)


async def reap_forever() -> None:
    swept_at = time.monotonic()
    while True:
        await asyncio.sleep(get_settings().reaper_interval_seconds)
        try:
            await run_in_threadpool(reap)
        except Exception:
            log.exception("the reaper's pass failed; trying again later")
        if time.monotonic() - swept_at >= get_settings().orphan_sweep_interval_seconds:
            swept_at = time.monotonic()
            try:
                await run_in_threadpool(sweep_store)
            except Exception:
                log.exception("the orphan sweep failed; trying again at its next interval")
