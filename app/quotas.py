"""Per-tenant limits: queued plus running jobs, bytes kept in the store, and requests per API key.

Each refusal says what to do: wait (429 with Retry-After) or delete something (413, naming the largest
things the tenant keeps). One tenant at its limit never slows another: every count is per tenant or key.

The counts hold under concurrent requests: the request that would add a job or a file takes the tenant's
quota lock (:func:`hold_quota_lock`), counts, and inserts its row in that one transaction, so two requests
never both see the last free place. A job reserves the bytes its students and checkpoints may take when it is
submitted (:func:`expected_output_bytes`); they count until it ends, and then its students count instead.
"""

import hashlib
import logging
import math
import time
from functools import lru_cache

from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from app.problems import Problem
from core.config import Settings
from core.tables import Artifact, Job, StudentExport, Teacher, Tenant, TransferSet
from models.sizing import BYTES_PER_ELEMENT
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


# A run keeps its final weights and a checkpoint of weights and the optimizer's two moments: four copies.
COPIES_PER_RUN = 4
FILE_OVERHEAD_BYTES = 256 * 1024  # what an exported file holds beside its weights (code, graph, metadata)


def expected_output_bytes(parameters: int, formats: int, runs: int) -> int:
    """What a job may write to the store at most: each export format's student, and each run's weights and
    checkpoint (float32, so four bytes a parameter)."""
    copies = formats + COPIES_PER_RUN * runs
    return copies * (parameters * BYTES_PER_ELEMENT + FILE_OVERHEAD_BYTES)


def hold_quota_lock(session: Session, tenant: str) -> None:
    """Until this transaction ends, no other request of the tenant passes this point: the counts it makes
    next cannot change under it. PostgreSQL: a transaction-scoped advisory lock per tenant. SQLite: the
    database's write lock, taken now (a no-op write) rather than at the insert, after the counts."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        digest = hashlib.sha256(f"distillery-quota:{tenant}".encode()).digest()
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": int.from_bytes(digest[:8], "big", signed=True)})
    else:
        session.execute(update(Tenant).where(Tenant.id == tenant).values(name=Tenant.name)
                        .execution_options(synchronize_session=False))


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
    # A job still queued or running has written nothing that counts yet, and may write this much.
    reserved = session.execute(select(Job.id, Job.reserved_bytes).where(
        Job.tenant_id == tenant, Job.status.in_(UNFINISHED), Job.reserved_bytes > 0)).all()
    # An image archive registered before archives were kept packed is a folder with no artifact row: its size
    # is in its spec. Newer ones have their archive's artifact row, counted above.
    archives = session.execute(select(TransferSet.id, TransferSet.spec)
                               .where(TransferSet.tenant_id == tenant, TransferSet.kind == "image_archive",
                                      TransferSet.artifact_id.is_(None))).all()
    sets = [*sets, *((i, int((spec or {}).get("extracted_bytes") or 0)) for i, spec in archives)]
    items = ([(f"teacher {i} (DELETE /v1/teachers/{i})", n) for i, n in teachers]
             + [(f"transfer set {i} (DELETE /v1/transfer-sets/{i})", n) for i, n in sets]
             + [(f"job {i}'s students (DELETE /v1/jobs/{i})", int(n or 0)) for i, n in students]
             + [(f"job {i}'s expected students and checkpoints (POST /v1/jobs/{i}/cancel)", int(n))
                for i, n in reserved])
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
    raise Problem(413, f"this tenant keeps or has reserved {stored} bytes, and its limit is "
                       f"{settings.max_stored_bytes} (DISTILLERY_MAX_STORED_BYTES);{need} delete what you no "
                       f"longer need. Largest: {largest}",
                  kind="storage-quota-exceeded")
