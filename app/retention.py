"""What is removed, and when: a deleted job's files, and store files that no row refers to.

A job's files live in folders named after it (``students/<job>/``, ``checkpoints/<job>/``,
``sweeps/<job>/``), so deleting a job removes exactly those folders. Its rows (the job, its runs, metric
series, events and export records) are removed too, not tombstoned: the id then answers 404, its bytes stop
counting against the tenant's quota, and nothing else refers to a job.

The orphan sweep removes files that no row names and that are older than DISTILLERY_STAGING_GRACE_SECONDS:
an upload or a worker writes a file before committing the row that names it, so a young file without a row
is most likely one about to be named. Staging files are local to each process: the sweep removes the API's
stale ones, and a worker its own when it opens the store for a job. The teacher-output cache is not swept
here: it is content-addressed and bounded by its own size limit (worker/engine/teacher_cache.py).
"""

import logging
import time

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.store import ArtifactStore
from core.tables import Artifact, Event, Job, Metric, Run, TransferSet
from models.statuses import UNFINISHED

log = logging.getLogger(__name__)

JOB_FOLDERS = ("students", "checkpoints", "sweeps")


def delete_job(session: Session, store: ArtifactStore, job: Job) -> None:
    """The job's rows in one transaction, then its folders. A crash between the two leaves only files
    without rows, which the orphan sweep removes later."""
    exports = [e.artifact_id for e in job.exports]
    run_ids = [r.id for r in job.runs]
    if run_ids:
        session.execute(delete(Metric).where(Metric.run_id.in_(run_ids)))
    session.execute(delete(Event).where(Event.job_id == job.id))
    session.delete(job)  # runs, export records and teacher links go with it (ORM cascades)
    session.flush()
    if exports:
        session.execute(delete(Artifact).where(Artifact.id.in_(exports)))
    session.commit()
    for folder in JOB_FOLDERS:
        store.delete_prefix(f"{folder}/{job.id}")


def _referenced(session: Session) -> tuple[set[str], set[str]]:
    """Keys that rows name, and folders a live or recorded job or archive may still write or read."""
    keys = set(session.scalars(select(Artifact.key)))
    for checkpoint, weights in session.execute(select(Run.checkpoint_key, Run.weights_key)):
        keys.update(k for k in (checkpoint, weights) if k)
    folders = {ts.spec["extracted"] for ts in session.scalars(select(TransferSet).where(TransferSet.spec.is_not(None)))
               if isinstance(ts.spec, dict) and ts.spec.get("extracted")}
    active = session.scalars(select(Job.id).where(Job.status.in_(UNFINISHED)))
    folders.update(f"{f}/{job_id}" for job_id in active for f in JOB_FOLDERS)
    return keys, folders


def sweep_orphans(session: Session, store: ArtifactStore, *, grace_seconds: float) -> list[str]:
    """Removes files no row refers to and older than the grace period, and this process's stale staging
    files; returns their keys. Works on a listing, so a directory and a bucket are swept alike."""
    keys, folders = _referenced(session)
    cutoff = time.time() - grace_seconds
    removed = []
    for obj in list(store.objects()):
        if obj.modified > cutoff or obj.key.split("/", 1)[0] == "cache":
            continue
        if obj.key in keys or any(obj.key.startswith(f + "/") for f in folders):
            continue
        store.delete(obj.key)
        removed.append(obj.key)
    removed += store.sweep_staging(cutoff)
    if removed:
        log.warning("the orphan sweep removed %d files no row refers to: %s", len(removed), removed[:20])
    return removed
