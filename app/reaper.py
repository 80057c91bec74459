"""Keeps every job moving; runs inside the API process. Each pass:

1. A running job or sweep member whose lease expired (its worker vanished) is queued again, up to
   DISTILLERY_MAX_ATTEMPTS starts in all, and then failed with a reason. Queued again means: status
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

Every DISTILLERY_ORPHAN_SWEEP_INTERVAL_SECONDS it also removes store files that no row refers to and that are
older than DISTILLERY_STAGING_GRACE_SECONDS (app/retention.py).

Several API processes may run it at once: every change is a conditional update.
"""

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import exists, or_, select, update

from app.config import get_settings
from app.db import session_scope
from app.queue import enqueue_delivery, enqueue_job, enqueue_member
from app.tables import Event, Job, Run, WebhookDelivery

log = logging.getLogger(__name__)

UNFINISHED = ("queued", "running")
SEND_BATCH = 500  # rows sent per pass and kind at most; the rest wait for the next pass
RELEASED = dict(lease_owner=None, lease_token=None, lease_expires_at=None)


def reap() -> list[str]:
    """One pass; returns the ids of the jobs and members it sent."""
    t = datetime.now(UTC)
    _expire_jobs(t)
    _expire_members(t)
    _queue_unfinished_sweeps()
    sent = _send_queued(t)
    _send_due_deliveries(t)
    return sent


def _expire_jobs(t: datetime) -> None:
    settings = get_settings()
    with session_scope() as s:
        expired = list(s.scalars(select(Job).where(Job.status == "running", Job.lease_expires_at < t)))
    for job in expired:
        again = job.attempts < settings.max_attempts
        values = (dict(status="queued", sent_at=None, **RELEASED) if again else
                  dict(status="failed", finished_at=t, **RELEASED,
                       error=f"the job's worker stopped responding {job.attempts} times "
                             f"(DISTILLERY_MAX_ATTEMPTS={settings.max_attempts}); submit it again"))
        with session_scope() as s:
            took = s.execute(update(Job).where(Job.id == job.id, Job.status == "running",
                                               Job.lease_expires_at < t).values(**values)).rowcount
            if took and not again:  # a sweep's members end with it
                s.execute(update(Run).where(Run.job_id == job.id, Run.status.in_(UNFINISHED))
                          .values(status="failed", **RELEASED))
            if took:
                s.add(Event(job_id=job.id, type="requeued" if again else "failed",
                            message=f"its worker stopped renewing the lease; queued again (start "
                                    f"{job.attempts + 1} of {settings.max_attempts})" if again else values["error"]))
        if took:
            log.warning("job %s: its worker vanished; %s", job.id, "queued again" if again else "failed")


def _expire_members(t: datetime) -> None:
    """Sweep members are tasks of their own, with leases of their own: the same rules apply."""
    settings = get_settings()
    with session_scope() as s:
        expired = list(s.scalars(select(Run).where(Run.status == "running", Run.lease_expires_at < t)))
    for run in expired:
        again = run.attempts < settings.max_attempts
        reason = f"its worker stopped responding {run.attempts} times"
        values = (dict(status="queued", sent_at=None, **RELEASED) if again else
                  dict(status="failed", result={"error": reason}, **RELEASED))
        with session_scope() as s:
            took = s.execute(update(Run).where(Run.id == run.id, Run.status == "running",
                                               Run.lease_expires_at < t).values(**values)).rowcount
            if took:
                s.add(Event(job_id=run.job_id, type="requeued" if again else "member_failed",
                            message=f"sweep member {run.name}: " + ("its worker stopped renewing the lease; queued "
                                                                   "again" if again else reason)))
        if took:
            log.warning("job %s: sweep member %s lost its worker; %s", run.job_id, run.name,
                        "queued again" if again else "failed")


def _queue_unfinished_sweeps() -> None:
    """A sweep job runs without a lease while its members train; the member that ends last takes the job's
    lease in the same transaction to finish it. One that is complete and unleased was left behind (its
    last member was failed here, or its worker died): its job's task finishes it."""
    member_left = exists().where(Run.job_id == Job.id, Run.status.in_(UNFINISHED))
    has_members = exists().where(Run.job_id == Job.id)
    with session_scope() as s:
        ids = list(s.scalars(select(Job.id).where(Job.status == "running", Job.lease_owner.is_(None),
                                                  has_members, ~member_left)))
        for job_id in ids:
            if s.execute(update(Job).where(Job.id == job_id, Job.status == "running", Job.lease_owner.is_(None),
                                           ~member_left).values(status="queued", sent_at=None)).rowcount:
                s.add(Event(job_id=job_id, type="requeued", message="every sweep member has ended; the sweep is "
                                                                    "queued to be finished"))


def _send_queued(t: datetime) -> list[str]:
    stale = t - timedelta(seconds=get_settings().requeue_after_seconds)
    with session_scope() as s:
        jobs = list(s.execute(select(Job.id, Job.spec).where(Job.status == "queued",
                                                             or_(Job.sent_at.is_(None), Job.sent_at < stale))
                              .order_by(Job.created_at).limit(SEND_BATCH)).all())
        members = list(s.execute(select(Run.id, Run.job_id).join(Job, Job.id == Run.job_id)
                                 .where(Run.status == "queued", Job.status == "running",
                                        or_(Run.sent_at.is_(None), Run.sent_at < stale))
                                 .order_by(Run.created_at, Run.id).limit(SEND_BATCH)).all())
    sent = []
    try:
        for job_id, spec in jobs:
            enqueue_job(job_id, ((spec or {}).get("hyperparameters") or {}).get("devices", 1))
            _stamp(Job, job_id)
            sent.append(job_id)
        for run_id, job_id in members:
            enqueue_member(job_id, run_id)
            _stamp(Run, run_id)
            sent.append(run_id)
    except Exception as exc:  # the broker is down: what was not sent stays as it is, for the next pass
        log.warning("the reaper could not reach the broker (%s: %s); %d queued rows wait for the next pass",
                    type(exc).__name__, exc, len(jobs) + len(members) - len(sent))
    if sent:
        log.warning("re-sent %d queued jobs and members the broker may have lost: %s", len(sent), sent)
    return sent


def _send_due_deliveries(t: datetime) -> None:
    stale = t - timedelta(seconds=get_settings().requeue_after_seconds)
    with session_scope() as s:
        due = list(s.scalars(select(WebhookDelivery.id).where(
            WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= t,
            or_(WebhookDelivery.sent_at.is_(None), WebhookDelivery.sent_at < stale))
            .order_by(WebhookDelivery.next_attempt_at).limit(SEND_BATCH)))
    for delivery_id in due:
        try:
            enqueue_delivery(delivery_id)
        except Exception as exc:
            log.warning("the reaper could not send webhook deliveries (%s); they wait for the next pass", exc)
            return
        _stamp(WebhookDelivery, delivery_id, "pending")
    if due:
        log.warning("re-sent %d webhook deliveries the broker may have lost", len(due))


def _stamp(table, row_id: str, waiting: str = "queued") -> None:
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
