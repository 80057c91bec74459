"""What a job records as it runs: its events, its runs' metrics per epoch and its progress, each write
fenced by the lease of the worker making it (worker/leases.py)."""

import logging

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from core.db import session_scope
from core.tables import Event, Job, Metric
from worker import metrics as worker_metrics
from worker.leases import Lease, fenced

log = logging.getLogger(__name__)


def add_event(session: Session, job_id: str, type_: str, message: str, data: dict | None = None) -> None:
    """An event, in a transaction of the caller's (fenced by the caller where a worker writes it)."""
    session.add(Event(job_id=job_id, type=type_, message=message, data=data))


def finite(v: float) -> float | None:
    return v if v == v and v not in (float("inf"), float("-inf")) else None


class Recorder:
    """Events, metrics and progress of one job, written under ``lease``."""

    def __init__(self, job_id: str, lease: Lease):
        self.job_id, self.lease = job_id, lease

    def event(self, type_: str, message: str, data: dict | None = None) -> None:
        with fenced(self.lease) as s:
            add_event(s, self.job_id, type_, message, data)

    def progress(self, **values) -> None:
        """The job's progress columns (epoch, step, steps_per_epoch)."""
        with fenced(self.lease) as s:
            s.execute(update(Job).where(Job.id == self.job_id).values(**values))

    def epoch(self, s: Session, run_id: str, epoch: int, metrics: dict, run_name, progress: dict) -> None:
        """An epoch's metrics, the job's progress after it and its event, in the fenced transaction ``s``
        (which may also record the epoch's checkpoint). Recording an epoch twice is a no-op.
        ``run_name(s)`` is the run's name for the event and the log."""
        if s.scalar(select(exists().where(Metric.run_id == run_id, Metric.step == epoch))):
            return  # recorded with its checkpoint already
        clean = {k: finite(v) for k, v in metrics.items()}
        s.add_all(Metric(run_id=run_id, key=k, step=epoch, value=v) for k, v in clean.items())
        name = run_name(s)
        s.execute(update(Job).where(Job.id == self.job_id).values(**progress))
        add_event(s, self.job_id, "epoch", f"{name}: epoch {epoch} done", {"run": name, "epoch": epoch, **clean})
        worker_metrics.epoch_done(metrics)
        log.info("job %s: %s: epoch %d done (loss %s, validation accuracy %s)", self.job_id, name, epoch,
                 clean.get("total_loss"), clean.get("val_accuracy"),
                 extra={"run": name, "epoch": epoch, "samples_per_second": clean.get("samples_per_second")})


def tenant_of(job_id: str) -> str | None:
    """Whose job it is, for the log context of everything a worker does for it."""
    with session_scope() as s:
        return s.scalar(select(Job.tenant_id).where(Job.id == job_id))
