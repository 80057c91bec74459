"""The sweep state machine. The job's task fills the teacher-output cache and creates one run per member,
queued; each member is its own task (worker/jobs/member_training.py trains it); the member that finishes
last takes the job's lease, picks the best member and exports it."""

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import exists, func, select, update

from core.config import get_settings
from core.db import session_scope
from core.ids import new_id
from core.logging_setup import log_context
from core.store import ArtifactStore
from core.tables import Job, Run, Teacher, TransferSet
from models.job_spec import JobSpec
from models.statuses import TERMINAL, UNFINISHED, JobStatus, RunStatus
from worker.engine.loop import resolve_device
from worker.engine.pipeline import teacher_outputs
from worker.engine.search import score
from worker.jobs.ending import database_trouble, end, finish, now, reason
from worker.jobs.experiment import artifact_store, build_experiment, read_spec
from worker.jobs.exports import succeed
from worker.jobs.hooks import JobHooks
from worker.jobs.member_costs import choose_member, member_student
from worker.jobs.member_training import BASELINE, adopt_members, clean_slate, train_member, train_together
from worker.jobs.recording import add_event, tenant_of
from worker.leases import Heartbeat, Lease, LeaseLost, claim, fenced, new_token, worker_identity

log = logging.getLogger(__name__)


def run_sweep(job_id: str, spec: JobSpec, lease: Lease, heartbeat: Heartbeat,
              dispatch_members: Callable[[str, list[str]], None]) -> None:
    """The sweep job's own task: start the sweep and send its members, or, when the task came again, finish
    a complete sweep or leave the members to go on."""
    with session_scope() as s:
        started = s.scalar(select(exists().where(Run.job_id == job_id)))
    if started:  # its task came again: the sweep is complete and was left unfinished, or its members go on
        if members_left(job_id) == 0:
            finish_sweep(job_id, artifact_store(), lease)
        else:
            with fenced(lease) as s:
                s.execute(update(Job).where(Job.id == job_id).values(**lease.released()))
        return
    run_ids = _start_sweep(job_id, spec, lease)
    heartbeat.stop()  # the members carry on, each under a lease of its own
    try:
        dispatch_members(job_id, run_ids)
    except Exception:  # they are queued in the database: the reaper sends them again
        log.exception("job %s: the sweep's members could not be sent; the reaper will send them", job_id)


def run_members_here(job_id: str, run_ids: list[str]) -> None:
    for run_id in run_ids:
        execute_member(job_id, run_id)


def _start_sweep(job_id: str, spec: JobSpec, lease: Lease) -> list[str]:
    """Fill the teacher-output cache and create the members' runs, queued; in the same transaction the job
    gives up its lease, so that a worker dying here leaves either no members (and the job is started
    again) or members and no lease (and they carry on)."""
    store = artifact_store()
    _, experiment = build_experiment(job_id, spec, store, lease, baseline=False)
    hooks = JobHooks(job_id, spec, lease)
    teacher_outputs(experiment, resolve_device(experiment.config.device), hooks)  # fills the cache once
    names = spec.members()
    if spec.baseline:
        names.append(BASELINE)
    run_ids = [new_id("run") for _ in names]
    with fenced(lease) as s:
        s.add_all(Run(id=r, job_id=job_id, name=n, status=RunStatus.QUEUED, sent_at=now())
                  for r, n in zip(run_ids, names, strict=True))
        s.execute(update(Job).where(Job.id == job_id).values(total_epochs=experiment.config.epochs * len(names),
                                                             **lease.released()))
        add_event(s, job_id, "sweep_started", f"{len(names)} members queued, sharing the cached teacher outputs",
                  {"members": names})
    return run_ids


def execute_member(job_id: str, run_id: str) -> None:
    with log_context(job_id=job_id, tenant=tenant_of(job_id), run=run_id):
        _execute_member(job_id, run_id)


def _execute_member(job_id: str, run_id: str) -> None:
    settings = get_settings()
    owner = worker_identity()
    lease = claim(Run, run_id, owner, settings.lease_seconds)
    if lease is None:
        # Taken, or ended: the sweep may be complete now and unfinished, and someone must finish it.
        if members_left(job_id) == 0:
            _claim_and_finish_sweep(job_id, owner)
        return
    with session_scope() as s:
        name = s.scalar(select(Run.name).where(Run.id == run_id))
        job = s.get(Job, job_id)
        spec = read_spec(job) if job is not None else None
    if job is None or job.status != JobStatus.RUNNING:  # the job ended: nothing to train
        try:
            with fenced(lease) as s:
                s.execute(update(Run).where(Run.id == run_id).values(
                    status=job.status if job is not None and job.status in TERMINAL else RunStatus.CANCELLED,
                    **lease.released()))
        except LeaseLost:
            pass
        return
    runs = [(run_id, name, lease), *adopt_members(job, spec, run_id, name, owner, settings.batch_sweep_members)]
    heartbeat = Heartbeat([r[2] for r in runs], settings.lease_seconds)
    heartbeat.start()
    store = artifact_store()
    try:
        for _, _, member_lease in runs:
            clean_slate(job_id, member_lease)
        if len(runs) > 1:
            ended = train_together(job, spec, runs, store, heartbeat)
        else:
            ended = [train_member(job, spec, run_id, name, lease, store, heartbeat)]
        finisher = None
        for member_lease, status, result, weights_key in ended:
            finisher = _record_member(member_lease, status, result, weights_key, settings.lease_seconds) or finisher
    except LeaseLost:
        log.warning("job %s: sweep member %s is held by another worker now; leaving it", job_id, name)
        return
    except Exception as exc:
        if not database_trouble(exc):
            raise
        log.exception("job %s: the database failed; leaving sweep member %s to the reaper", job_id, name)
        return
    finally:
        heartbeat.stop()
    if finisher is not None:
        finish_sweep(job_id, store, finisher)


def members_left(job_id: str) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Run)
                        .where(Run.job_id == job_id, Run.status.in_(UNFINISHED)))


def _no_member_left(job_id: str):
    return ~exists().where(Run.job_id == job_id, Run.status.in_(UNFINISHED))


def _finishing_claim(job_id: str):
    """Who may take a sweep job's lease to finish it: it runs, nobody holds it, and no member is left."""
    return (Job.status == JobStatus.RUNNING) & Job.lease_owner.is_(None) & _no_member_left(job_id)


def _record_member(lease: Lease, status: RunStatus, result: dict | None, weights_key: str | None,
                   lease_seconds: float) -> Lease | None:
    """Finish the member's run. The last member to finish takes the job's lease in the same transaction,
    to finish the sweep: its lease is returned. Raises LeaseLost."""
    job_id = None
    with fenced(lease) as s:
        job_id = s.scalar(select(Run.job_id).where(Run.id == lease.id))
        # Touch the job row first: it serialises the finishing members (a row lock on PostgreSQL, the
        # write lock on SQLite), so exactly one of them sees no member left.
        s.execute(update(Job).where(Job.id == job_id).values(epoch=Job.epoch))
        s.execute(update(Run).where(Run.id == lease.id).values(status=status, result=result,
                                                                weights_key=weights_key, **lease.released()))
        token = new_token()
        took = s.execute(update(Job).where(Job.id == job_id, _finishing_claim(job_id)).values(
            lease_owner=lease.owner, lease_token=token,
            lease_expires_at=now() + timedelta(seconds=lease_seconds))).rowcount
    return Lease(Job, job_id, lease.owner, token) if took else None


def _claim_and_finish_sweep(job_id: str, owner: str) -> None:
    lease = claim(Job, job_id, owner, get_settings().lease_seconds, where=_finishing_claim(job_id),
                  count_attempt=False)
    if lease is not None:
        finish_sweep(job_id, artifact_store(), lease)


def finish_sweep(job_id: str, store: ArtifactStore, lease: Lease) -> None:
    """Pick the best member and export it, under the job's lease (renewed meanwhile)."""
    heartbeat = Heartbeat([lease], get_settings().lease_seconds)
    heartbeat.start()
    try:
        with session_scope() as s:
            job = s.get(Job, job_id)
            spec = read_spec(job)
            runs = list(s.scalars(select(Run).where(Run.job_id == job_id).order_by(Run.created_at, Run.id)))
            teacher = s.get(Teacher, job.teacher_ids[0])
            class_names = s.get(TransferSet, job.transfer_set_id).class_names
        if job.cancel_requested:
            finish(lease, JobStatus.CANCELLED, "the sweep was cancelled; finished members are kept")
            return
        # The grid's order, not the rows': members created in one transaction share a timestamp.
        grid = spec.members()
        members = sorted((r for r in runs if r.name != BASELINE), key=lambda r: grid.index(r.name))
        done = [r for r in members if r.status == RunStatus.SUCCEEDED]
        if not done:
            reasons = "; ".join(f"{r.name}: {(r.result or {}).get('error', r.status)}" for r in members)
            failure = f"every sweep member failed: {reasons}"
            finish(lease, JobStatus.FAILED, failure, error=failure)
            return
        metadata = {"class_names": class_names} if class_names else {}
        best, costs, budget = choose_member(spec, done, teacher, store, metadata)
        ranked = [best, *sorted((r for r in done if r is not best), key=lambda r: (score(r.result), members.index(r)))]
        student = member_student(spec, teacher, best, store)
        swept = [k for k in spec.sweep.axes()
                 if k not in ("temperature", "soft_weight", "hard_weight")]
        table = [{"name": r.name, "status": r.status, **{k: (r.result or {}).get(k) for k in (
            "temperature", "soft_weight", "hard_weight", *swept, "val_cross_entropy", "val_accuracy", "test_errors",
            "test_accuracy", "error")}, **costs.get(r.name, {})} for r in members]
        results = {"teacher": best.result.get("teacher"),
                   "student": {k: v for k, v in best.result.items() if k != "teacher"},
                   "best_member": best.name, "sweep": table,
                   # A budget's winner is the most accurate within it, not the lowest cross-entropy: no margin.
                   "best_member_margin": (score(ranked[1].result) - score(best.result)
                                          if len(ranked) > 1 and budget is None else None),
                   **({"budget": budget} if budget is not None else {})}
        baseline = next((r for r in runs if r.name == BASELINE and r.status == RunStatus.SUCCEEDED), None)
        if baseline:
            results["baseline"] = {k: v for k, v in baseline.result.items() if k != "teacher"}
        succeed(lease, store, student, teacher.input_shape, spec.member_spec(best.name), results,
                f"the sweep succeeded; {budget['reason'] if budget else f'the best member is {best.name}'}",
                class_names=class_names)
    except LeaseLost:
        log.warning("job %s: another worker finishes the sweep now; leaving it", job_id)
    except Exception as exc:
        if database_trouble(exc):
            log.exception("job %s: the database failed while finishing the sweep; leaving it to the reaper", job_id)
            return
        log.exception("job %s: finishing the sweep failed", job_id)
        end(lease, JobStatus.FAILED, reason(exc), error=reason(exc))
    finally:
        heartbeat.stop()
