"""Restarts jobs whose worker vanished: a running job whose lease expired is queued again, up to
DISTILLERY_MAX_ATTEMPTS starts in all, and then failed with a reason. Runs inside the API process;
several API processes may run it at once, since every change is a conditional update."""

import asyncio
import logging
from datetime import UTC, datetime

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select, update

from app.config import get_settings
from app.db import session_scope
from app.queue import enqueue_job, enqueue_member
from app.tables import Event, Job, Run

log = logging.getLogger(__name__)


def reap() -> list[str]:
    """One pass; returns the ids of the jobs it queued again."""
    settings = get_settings()
    t = datetime.now(UTC)
    requeued = []
    with session_scope() as s:
        expired = list(s.scalars(select(Job).where(Job.status == "running", Job.lease_expires_at < t)))
    for job in expired:
        again = job.attempts < settings.max_attempts
        values = (dict(status="queued", lease_owner=None, lease_expires_at=None) if again else
                  dict(status="failed", finished_at=t, lease_owner=None, lease_expires_at=None,
                       error=f"the job's worker stopped responding {job.attempts} times "
                             f"(DISTILLERY_MAX_ATTEMPTS={settings.max_attempts}); submit it again"))
        with session_scope() as s:
            took = s.execute(update(Job).where(Job.id == job.id, Job.status == "running",
                                               Job.lease_expires_at < t).values(**values)).rowcount
            if took:
                s.add(Event(job_id=job.id, type="requeued" if again else "failed",
                            message=f"its worker stopped renewing the lease; queued again (start "
                                    f"{job.attempts + 1} of {settings.max_attempts})" if again else values["error"]))
        if took and again:
            enqueue_job(job.id)
            requeued.append(job.id)
    return requeued + _reap_members(t)


def _reap_members(t: datetime) -> list[str]:
    """Sweep members are tasks of their own, with leases of their own: the same rules apply."""
    settings = get_settings()
    with session_scope() as s:
        expired = list(s.scalars(select(Run).where(Run.status == "running", Run.lease_expires_at < t)))
    requeued = []
    for run in expired:
        again = run.attempts < settings.max_attempts
        reason = f"its worker stopped responding {run.attempts} times"
        values = (dict(status="queued", lease_expires_at=None) if again else
                  dict(status="failed", lease_expires_at=None, result={"error": reason}))
        with session_scope() as s:
            took = s.execute(update(Run).where(Run.id == run.id, Run.status == "running",
                                               Run.lease_expires_at < t).values(**values)).rowcount
            if took:
                s.add(Event(job_id=run.job_id, type="requeued" if again else "member_failed",
                            message=f"sweep member {run.name}: " + ("its worker stopped renewing the lease; queued "
                                                                   "again" if again else reason)))
        if took:  # a failed member is handed on too, so that the sweep gets finished
            enqueue_member(run.job_id, run.id)
            requeued.append(run.id)
    return requeued


async def reap_forever() -> None:
    while True:
        await asyncio.sleep(get_settings().reaper_interval_seconds)
        try:
            for job_id in await run_in_threadpool(reap):
                log.warning("job %s: its worker vanished; queued again", job_id)
        except Exception:
            log.exception("the reaper's pass failed; trying again later")
