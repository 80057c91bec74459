"""How a job ends: its final status written under its lease, the reason a user reads when it failed, and
telling a fault of the database (the reaper's business) from a fault of the job."""

import logging
import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from core.config import get_settings
from core.store import get_store
from core.tables import Job, Run
from models.statuses import UNFINISHED, JobStatus
from worker import metrics as worker_metrics
from worker.jobs.recording import add_event
from worker.leases import Lease, LeaseLost, fenced

log = logging.getLogger(__name__)


def now() -> datetime:
    return datetime.now(UTC)


def reason(exc: Exception) -> str:
    """What the user reads in the job's error: the cause, and what to change where we know it."""
    import torch

    if isinstance(exc, torch.cuda.OutOfMemoryError):
        first = str(exc).splitlines()[0] if str(exc) else ""
        return (f"the GPU ran out of memory ({first[:200]}); lower batch_size, use precision 'bf16', or pick a "
                "smaller student")
    if isinstance(exc, OSError) and exc.strerror:  # its str() carries the file's path; strerror never does
        return f"{type(exc).__name__}: {exc.strerror}"
    return hide_server_paths(str(exc) if isinstance(exc, RuntimeError) else f"{type(exc).__name__}: {exc}")


def short_reason(exc: Exception) -> str:
    """Why a file (an export, a measurement) was not made, in a result that goes on without it: the
    exception's kind and its first line."""
    first = str(exc).splitlines()[0][:300] if str(exc) else ""
    return f"{type(exc).__name__}: {first}"


def hide_server_paths(text: str) -> str:
    """The text with this host's directories (the var directory, the local cache, temporary files, the code)
    cut out: a job's error is read by its tenant, and where we keep things is none of theirs."""
    import sys
    import tempfile

    settings = get_settings()
    roots = {settings.var_dir.resolve(), settings.resolved_local_cache_dir, settings.resolved_artifact_dir,
             Path(tempfile.gettempdir()).resolve(), Path(__file__).resolve().parents[2], Path(sys.prefix).resolve()}
    for root in sorted({str(r) for r in roots if str(r) != "/"}, key=len, reverse=True):
        text = re.sub(re.escape(root) + r"[^\s'\"():,]*", "<server path>", text)
    return text


def database_trouble(exc: BaseException) -> bool:
    """The database is down or dropped our connection (a server timeout, say): no fault of the job."""
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def finish(lease: Lease, status: JobStatus, message: str, *, error: str | None = None) -> None:
    """End the job, fenced by its lease; raises LeaseLost when another worker holds it now."""
    job_id = lease.id
    with fenced(lease) as s:
        started_at = s.scalar(select(Job.started_at).where(Job.id == job_id))
        s.execute(update(Job).where(Job.id == job_id).values(status=status, error=error, finished_at=now(),
                                                             **lease.released()))
        s.execute(update(Run).where(Run.job_id == job_id, Run.status.in_(UNFINISHED))
                  .values(status=status, lease_owner=None, lease_token=None, lease_expires_at=None))
        add_event(s, job_id, status, message)
    count_finished(status, started_at)
    drop_checkpoints(job_id)


def drop_checkpoints(job_id: str) -> None:
    """An ended job never resumes: its checkpoints and its sweep members' weights would only take room that
    its tenant's quota does not count. (A succeeded job's exports are kept, and counted.)"""
    store = get_store()
    for folder in ("checkpoints", "sweeps"):
        try:
            store.delete_prefix(f"{folder}/{job_id}")
        except Exception as exc:  # the job has ended all the same; deleting the job removes them later
            log.warning("job %s: could not remove its %s (%s: %s)", job_id, folder, type(exc).__name__, exc)


def count_finished(status: str, started_at: datetime | None) -> None:
    worker_metrics.JOBS_FINISHED.labels(status=status).inc()
    if started_at is not None:
        worker_metrics.JOB_RUNTIME.observe(max(0.0, (now() - started_at).total_seconds()))


def requeue(lease: Lease, why: str) -> None:
    """Give the job back to the queue at once, as the reaper would after its lease expired (the attempt
    lost a part of itself, not the job's fault): the next start resumes from its last checkpoint. After
    DISTILLERY_MAX_ATTEMPTS starts it fails instead."""
    max_attempts = get_settings().max_attempts
    with fenced(lease) as s:
        attempts = s.scalar(select(Job.attempts).where(Job.id == lease.id))
        if attempts < max_attempts:
            s.execute(update(Job).where(Job.id == lease.id).values(status=JobStatus.QUEUED, sent_at=None,
                                                                   **lease.released()))
            add_event(s, lease.id, "requeued", f"{why}; queued again to resume from its last checkpoint (start "
                      f"{attempts + 1} of {max_attempts})")
            return
    message = f"{why}, in each of {attempts} starts (DISTILLERY_MAX_ATTEMPTS={max_attempts}); submit it again"
    end(lease, JobStatus.FAILED, message, error=message)


def end(lease: Lease, status: JobStatus, message: str, *, error: str | None = None) -> None:
    """:func:`finish`, quietly doing nothing when the lease is lost or the database is out of reach."""
    try:
        finish(lease, status, message, error=error)
    except LeaseLost:
        log.warning("job %s: another worker holds its lease now; not marking it %s", lease.id, status)
    except Exception as exc:
        if not database_trouble(exc):
            raise
        log.exception("job %s: the database failed; leaving the job to the reaper", lease.id)
