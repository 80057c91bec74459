"""A job's lifecycle: claim it under a lease, run it (or start its sweep), and end it succeeded, failed or
cancelled; a failure always ends the job, except a fault of the database, which is the reaper's business.

A job row is claimed with a conditional update (queued → running), and so is each sweep member's run
row, so a second delivery of the same task finds it taken and does nothing. Every write for the job or
member afterwards is fenced by that lease (worker/leases.py): a worker that lost it writes nothing more,
and files it puts in the store carry its lease token in their names, so that only those the database
records (checkpoint, final weights, exports) are ever read.
"""

import logging
from collections.abc import Callable

from sqlalchemy import update

from core.config import get_settings
from core.logging_setup import log_context
from core.tables import Job
from models.job_spec import JobSpec
from models.statuses import JobStatus
from worker import metrics as worker_metrics
from worker.engine.distributed import RankLost
from worker.engine.loop import Cancelled
from worker.engine.pipeline import run_experiment
from worker.jobs.ending import database_trouble, end, now, reason, requeue
from worker.jobs.experiment import artifact_store, build_experiment, read_spec
from worker.jobs.exports import succeed
from worker.jobs.hooks import JobHooks
from worker.jobs.recording import add_event, tenant_of
from worker.jobs.sweeps import run_members_here, run_sweep
from worker.leases import Heartbeat, Lease, LeaseLost, claim, fenced, worker_identity

log = logging.getLogger(__name__)


def execute(job_id: str, dispatch_members: Callable[[str, list[str]], None] | None = None) -> None:
    """Run a job under a lease. A sweep job only prepares its members and hands them to
    ``dispatch_members`` (a Celery group in the worker; in-process calls elsewhere)."""
    with log_context(job_id=job_id, tenant=tenant_of(job_id)):
        _execute(job_id, dispatch_members)


def _execute(job_id: str, dispatch_members: Callable[[str, list[str]], None] | None) -> None:
    settings = get_settings()
    lease = claim(Job, job_id, worker_identity(), settings.lease_seconds)
    if lease is None:
        log.info("job %s is not queued and its lease is alive (or it ended); skipping", job_id)
        return
    worker_metrics.JOBS_STARTED.inc()
    heartbeat = Heartbeat([lease], settings.lease_seconds)
    heartbeat.start()
    try:
        with fenced(lease) as s:
            job = s.get(Job, job_id)
            spec = read_spec(job)
            s.execute(update(Job).where(Job.id == job_id, Job.started_at.is_(None)).values(started_at=now()))
            add_event(s, job_id, "started", f"a worker started the job (start {job.attempts})")
        if spec.sweep:
            run_sweep(job_id, spec, lease, heartbeat, dispatch_members or run_members_here)
        else:
            _run(job_id, spec, JobHooks(job_id, spec, lease, heartbeat=heartbeat), lease)
    except LeaseLost:
        log.warning("job %s: another worker holds its lease now; leaving it", job_id)
    except Cancelled:
        end(lease, JobStatus.CANCELLED, "the job was cancelled; metrics so far are kept")
    except RankLost as exc:  # hyperparameters.devices > 1: one of its processes died under it
        log.warning("job %s: %s; queueing it again", job_id, exc)
        try:
            requeue(lease, str(exc))
        except LeaseLost:
            log.warning("job %s: another worker holds its lease now; leaving it", job_id)
        except Exception as err:
            if not database_trouble(err):
                raise
            log.exception("job %s: the database failed; leaving the job to the reaper", job_id)
    except Exception as exc:
        if database_trouble(exc):
            # The database is out of reach: nothing can be recorded now. The lease lapses, and the reaper
            # queues the job again; it resumes from its last recorded checkpoint.
            log.exception("job %s: the database failed; leaving the job to the reaper", job_id)
        else:  # every failure must end the job, with a reason the user can act on
            log.exception("job %s failed", job_id)
            end(lease, JobStatus.FAILED, reason(exc), error=reason(exc))
    finally:
        heartbeat.stop()
        worker_metrics.job_idle()


def _run(job_id: str, spec: JobSpec, hooks: JobHooks, lease: Lease) -> None:
    store = artifact_store()
    teachers, experiment = build_experiment(job_id, spec, store, lease)
    outcome = run_experiment(experiment, hooks)
    succeed(lease, store, outcome.students["distilled"], teachers[0].input_shape, spec, outcome.results,
            class_names=experiment.data.class_names, data=experiment.data,
            quantization_aware=outcome.students.get("quantization_aware"))
