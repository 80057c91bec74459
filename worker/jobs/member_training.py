"""Training a sweep's members: each on its own, or several adopted by one worker and trained together as
one batched model, where the worker's setting and the job allow it."""

import logging

from sqlalchemy import func, select, update

from core.config import get_settings
from core.db import session_scope
from core.store import ArtifactStore
from core.tables import Job, Metric, Run, TransferSet
from models.job_spec import JobSpec
from models.statuses import RunStatus
from worker.engine.loop import Cancelled
from worker.engine.members import why_not_batched
from worker.engine.pipeline import run_experiment, run_members
from worker.jobs.ending import database_trouble, reason
from worker.jobs.experiment import build_experiment, save_weights
from worker.jobs.hooks import MemberHooks
from worker.jobs.recording import add_event
from worker.jobs.transfer_kinds import streams
from worker.leases import Heartbeat, Lease, LeaseLost, claim, fenced

log = logging.getLogger(__name__)
BASELINE = "baseline"

Ended = tuple[Lease, RunStatus, dict | None, str | None]  # a member's lease, status, result and weights' key


def member_update(name: str, spec: JobSpec) -> dict:
    base = spec.hyperparameters
    if name == BASELINE:
        return base.baseline_update()
    config = dict(spec.sweep.members(base))[name]
    swept = spec.sweep.axes()
    return {k: getattr(config, k) for k in ("temperature", "soft_weight", "hard_weight", *swept)}


def clean_slate(job_id: str, lease: Lease) -> None:
    """A member starts from scratch (members keep no checkpoints): what an earlier attempt recorded goes,
    and so do the epochs it added to the job's progress."""
    with fenced(lease) as s:
        counted = s.scalar(select(func.count()).select_from(
            select(Metric.step).where(Metric.run_id == lease.id).distinct().subquery()))
        if counted:
            s.execute(Metric.__table__.delete().where(Metric.run_id == lease.id))
            s.execute(update(Job).where(Job.id == job_id).values(epoch=Job.epoch - counted))


def adopt_members(job: Job, spec: JobSpec, run_id: str, name: str, owner: str,
                  mode: str) -> list[tuple[str, str, Lease]]:
    """The sweep's other queued members, claimed by this worker to train together with its own as one
    batched model, where the worker's setting (DISTILLERY_BATCH_SWEEP_MEMBERS) and the job allow it.
    Their own tasks find them taken and leave; if this worker dies, the reaper requeues each of them."""
    if mode == "never" or name == BASELINE or spec.sweep.students:  # batched members share one student
        return []
    settings = get_settings()
    cfg = spec.hyperparameters
    if mode == "cuda":
        import torch

        device = settings.worker_device if cfg.device == "auto" else cfg.device
        if not (device == "cuda" or (device == "auto" and torch.cuda.is_available())):
            return []
    members = dict(spec.sweep.members(cfg))
    with session_scope() as s:
        queued = s.execute(select(Run.id, Run.name).where(Run.job_id == job.id, Run.status == RunStatus.QUEUED,
                                                          Run.name != BASELINE, Run.id != run_id)
                           .order_by(Run.created_at, Run.id)).all()
        streamed = streams(s.get(TransferSet, spec.transfer_set_id))
    if streamed or why_not_batched([members[name], *(members[n] for _, n in queued)],
                                   student=spec.student) is not None:
        return []
    adopted = []
    for rid, n in queued:
        lease = claim(Run, rid, owner, settings.lease_seconds)
        if lease is not None:
            adopted.append((rid, n, lease))
    return adopted


def _member_result(spec: JobSpec, name: str, outcome) -> dict:
    return {**outcome.results["student"], **member_update(name, spec), "teacher": outcome.results.get("teacher")}


def _member_key(job_id: str, lease: Lease) -> str:
    return f"sweeps/{job_id}/{lease.id}.{lease.token}.safetensors"


def train_member(job: Job, spec: JobSpec, run_id: str, name: str, lease: Lease, store: ArtifactStore,
                 heartbeat: Heartbeat) -> Ended:
    """One member on its own. Raises LeaseLost."""
    try:
        if job.cancel_requested:
            raise Cancelled()
        _, experiment = build_experiment(job.id, spec.member_spec(name), store, lease, member_update(name, spec),
                                         baseline=False)
        outcome = run_experiment(experiment, MemberHooks(job.id, lease, run_id, heartbeat=heartbeat))
        key = _member_key(job.id, lease)
        save_weights(store, key, outcome.students["distilled"])
        return lease, RunStatus.SUCCEEDED, _member_result(spec, name, outcome), key
    except Cancelled:
        return lease, RunStatus.CANCELLED, None, None
    except LeaseLost:
        raise
    except Exception as exc:
        if database_trouble(exc):
            raise
        log.exception("job %s: sweep member %s failed", job.id, name)
        return lease, RunStatus.FAILED, {"error": reason(exc)}, None


def train_together(job: Job, spec: JobSpec, runs: list[tuple[str, str, Lease]], store: ArtifactStore,
                   heartbeat: Heartbeat) -> list[Ended]:
    """Several members as one batched model; if that fails, each on its own, so that a fault of batching
    costs time and never a member. Raises LeaseLost."""
    leases = [lease for _, _, lease in runs]
    try:
        if job.cancel_requested:
            raise Cancelled()
        _, experiment = build_experiment(job.id, spec, store, leases[0], baseline=False)
        configs = [experiment.config.model_copy(update=member_update(name, spec)) for _, name, _ in runs]
        hooks = [MemberHooks(job.id, lease, rid, heartbeat=heartbeat) for rid, _, lease in runs]
        outcomes = run_members(experiment, configs, hooks)
        ended = []
        for (_, name, lease), outcome in zip(runs, outcomes, strict=True):
            key = _member_key(job.id, lease)
            save_weights(store, key, outcome.students["distilled"])
            ended.append((lease, RunStatus.SUCCEEDED, _member_result(spec, name, outcome), key))
        return ended
    except Cancelled:
        return [(lease, RunStatus.CANCELLED, None, None) for lease in leases]
    except LeaseLost:
        raise
    except Exception as exc:
        if database_trouble(exc):
            raise
        log.exception("job %s: batched sweep members failed; training them one at a time", job.id)
        with fenced(*leases) as s:
            add_event(s, job.id, "members_unbatched", f"training the members together failed ({reason(exc)}); "
                      "they train one at a time", {"members": [name for _, name, _ in runs]})
        for lease in leases:  # epochs the batched attempt counted are trained again: their metrics go
            clean_slate(job.id, lease)
        return [train_member(job, spec, rid, name, lease, store, heartbeat) for rid, name, lease in runs]
