"""Per-tenant limits: queued plus running jobs, bytes kept in the store, and requests per API key.

Each refusal says what to do: wait (429 with Retry-After) or delete something (413, naming the largest
things the tenant keeps). One tenant at its limit never slows another: every count is per tenant or key.
"""

import logging
import math
import time
from functools import lru_cache

from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.problems import Problem
from app.tables import Artifact, Job, StudentExport, Teacher, TransferSet
from models.statuses import UNFINISHED

log = logging.getLogger(__name__)
JOB_QUOTA_RETRY_SECONDS = 30


@lru_cache
def _limiter(storage_uri: str) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(storage_from_string(storage_uri))


@lru_cache
def _limits(spec: str):
    return parse_many(spec.replace(";", ",")) if spec.strip() else []


def check_rate(key_id: str, settings: Settings) -> None:
    """Counts one request of this key; past the limit, a 429 that says when to come back."""
    limiter = _limiter(settings.rate_limit_storage)
    for limit in _limits(settings.rate_limit):
        try:
            allowed = limiter.hit(limit, "api_key", key_id)
        except Exception as exc:  # its Redis is down: serve unlimited rather than fail every request
            log.warning("rate limit not applied: its storage failed (%s: %s)", type(exc).__name__, exc)
            return
        if not allowed:
            reset_at, _remaining = limiter.get_window_stats(limit, "api_key", key_id)
            wait = max(1, math.ceil(reset_at - time.time()))
            raise Problem(429, f"this API key sent more than {limit} requests (DISTILLERY_RATE_LIMIT); "
                               f"retry in {wait} s", kind="rate-limited", headers={"Retry-After": str(wait)})


def check_active_jobs(session: Session, tenant: str, settings: Settings) -> None:
    active = session.scalar(select(func.count()).select_from(Job)
                            .where(Job.tenant_id == tenant, Job.status.in_(UNFINISHED)))
    if active >= settings.max_active_jobs:
        raise Problem(429, f"this tenant has {active} queued or running jobs, its limit "
                           f"(DISTILLERY_MAX_ACTIVE_JOBS={settings.max_active_jobs}); submit again once one has "
                           "ended, or cancel one", kind="job-quota-exceeded",
                      headers={"Retry-After": str(JOB_QUOTA_RETRY_SECONDS)})


def stored_items(session: Session, tenant: str) -> list[tuple[str, int]]:
    """What the tenant keeps in the store, as (what to delete, bytes), largest first."""
    teachers = session.execute(select(Teacher.id, Artifact.size_bytes)
                               .join(Artifact, Artifact.id == Teacher.artifact_id)
                               .where(Teacher.tenant_id == tenant)).all()
    sets = session.execute(select(TransferSet.id, Artifact.size_bytes)
                           .join(Artifact, Artifact.id == TransferSet.artifact_id)
                           .where(TransferSet.tenant_id == tenant)).all()
    students = session.execute(select(Job.id, func.sum(Artifact.size_bytes))
                               .join(StudentExport, StudentExport.job_id == Job.id)
                               .join(Artifact, Artifact.id == StudentExport.artifact_id)
                               .where(Job.tenant_id == tenant).group_by(Job.id)).all()
    # An image archive registered before archives were kept packed is a folder with no artifact row: its size
    # is in its spec. Newer ones have their archive's artifact row, counted above.
    archives = session.execute(select(TransferSet.id, TransferSet.spec)
                               .where(TransferSet.tenant_id == tenant, TransferSet.kind == "image_archive",
                                      TransferSet.artifact_id.is_(None))).all()
    sets = [*sets, *((i, int((spec or {}).get("extracted_bytes") or 0)) for i, spec in archives)]
    items = ([(f"teacher {i} (DELETE /v1/teachers/{i})", n) for i, n in teachers]
             + [(f"transfer set {i} (DELETE /v1/transfer-sets/{i})", n) for i, n in sets]
             + [(f"job {i}'s students (DELETE /v1/jobs/{i})", int(n or 0)) for i, n in students])
    return sorted(items, key=lambda item: -item[1])


def check_storage(session: Session, tenant: str, settings: Settings, incoming: int = 0) -> None:
    """Refuses work that would take the tenant past its stored bytes: nothing is kept, and the answer names
    the largest things it could delete."""
    items = stored_items(session, tenant)
    stored = sum(n for _, n in items)
    if stored + incoming <= settings.max_stored_bytes and (incoming or stored < settings.max_stored_bytes):
        return
    largest = "; ".join(f"{what}: {n} bytes" for what, n in items[:5]) or "nothing yet"
    need = f" this needs {incoming} more bytes," if incoming else ""
    raise Problem(413, f"this tenant keeps {stored} bytes, and its limit is {settings.max_stored_bytes} "
                       f"(DISTILLERY_MAX_STORED_BYTES);{need} delete what you no longer need. Largest: {largest}",
                  kind="storage-quota-exceeded")
