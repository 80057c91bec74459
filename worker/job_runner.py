"""Runs jobs: reads them from the database and the store, runs the experiment, writes back.

A job row is claimed with a conditional update (queued → running), and so is each sweep member's run
row, so a second delivery of the same task finds it taken and does nothing. Every write for the job or
member afterwards is fenced by that lease (worker/leases.py): a worker that lost it writes nothing more,
and files it puts in the store carry its lease token in their names, so that only those the database
records (checkpoint, final weights, exports) are ever read.
"""

import logging
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from app import testhooks
from app.config import get_settings
from app.db import session_scope
from app.ids import new_id
from app.logging_setup import log_context
from app.store import ArtifactStore, sha256_of
from app.tables import Artifact, Event, Job, Metric, Run, StudentExport, Teacher, TransferSet
from models.distill_config import DistillConfig, SweepSpec
from models.export import EXPORT_FORMATS, PlainSoftmax, export
from models.image_data import (
    fingerprint,
    load_image_folder,
    load_torchvision,
    open_image_folder,
    open_torchvision,
    resolve_in_roots,
)
from models.preprocessing import Preprocessing
from models.sandbox.remote import open_teacher
from models.transfer_sets import TransferData, load_builtin, load_npz
from models.zoo import build_student, load_state_dict_into
from worker import metrics as worker_metrics
from worker.engine.loop import Cancelled, resolve_device
from worker.engine.members import why_not_batched
from worker.engine.pipeline import Experiment, Hooks, run_experiment, run_members, teacher_outputs
from worker.engine.teacher_cache import TeacherOutputCache, cache_key
from worker.leases import Heartbeat, Lease, LeaseLost, claim, fenced, new_token, worker_identity

log = logging.getLogger(__name__)
CANCEL_POLL_SECONDS = 1.0
STEP_WRITE_SECONDS = 1.0  # step-level progress is written at most this often
UNFINISHED = ("queued", "running")
TERMINAL = ("succeeded", "failed", "cancelled")


def now() -> datetime:
    return datetime.now(UTC)


def add_event(session, job_id: str, type_: str, message: str, data: dict | None = None) -> None:
    session.add(Event(job_id=job_id, type=type_, message=message, data=data))


def _reason(exc: Exception) -> str:
    """What the user reads in the job's error: the cause, and what to change where we know it."""
    import torch

    if isinstance(exc, torch.cuda.OutOfMemoryError):
        first = str(exc).splitlines()[0] if str(exc) else ""
        return (f"the GPU ran out of memory ({first[:200]}); lower batch_size, use precision 'bf16', or pick a "
                "smaller student")
    return str(exc) if isinstance(exc, RuntimeError) else f"{type(exc).__name__}: {exc}"


def execute(job_id: str, dispatch_members: Callable[[str, list[str]], None] | None = None) -> None:
    """Run a job under a lease. A sweep job only prepares its members and hands them to
    ``dispatch_members`` (a Celery group in the worker; in-process calls elsewhere)."""
    with log_context(job_id=job_id, tenant=_tenant_of(job_id)):
        _execute(job_id, dispatch_members)


def _tenant_of(job_id: str) -> str | None:
    with session_scope() as s:
        return s.scalar(select(Job.tenant_id).where(Job.id == job_id))


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
            s.execute(update(Job).where(Job.id == job_id, Job.started_at.is_(None)).values(started_at=now()))
            add_event(s, job_id, "started", f"a worker started the job (start {job.attempts})")
        if job.spec.get("sweep"):
            _sweep(job_id, lease, heartbeat, dispatch_members or _run_members_here)
        else:
            _run(job_id, _JobHooks(job_id, job.spec, lease, heartbeat=heartbeat), lease)
    except LeaseLost:
        log.warning("job %s: another worker holds its lease now; leaving it", job_id)
    except Cancelled:
        _end(lease, "cancelled", "the job was cancelled; metrics so far are kept")
    except Exception as exc:
        if database_trouble(exc):
            # The database is out of reach: nothing can be recorded now. The lease lapses, and the reaper
            # queues the job again; it resumes from its last recorded checkpoint.
            log.exception("job %s: the database failed; leaving the job to the reaper", job_id)
        else:  # every failure must end the job, with a reason the user can act on
            log.exception("job %s failed", job_id)
            _end(lease, "failed", _reason(exc), error=_reason(exc))
    finally:
        heartbeat.stop()
        worker_metrics.job_idle()


def database_trouble(exc: BaseException) -> bool:
    """The database is down or dropped our connection (a server timeout, say): no fault of the job."""
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def _sweep(job_id: str, lease: Lease, heartbeat: Heartbeat,
           dispatch_members: Callable[[str, list[str]], None]) -> None:
    with session_scope() as s:
        started = s.scalar(select(exists().where(Run.job_id == job_id)))
    if started:  # its task came again: the sweep is complete and was left unfinished, or its members go on
        if _members_left(job_id) == 0:
            _finish_sweep(job_id, _store(), lease)
        else:
            with fenced(lease) as s:
                s.execute(update(Job).where(Job.id == job_id).values(**lease.released()))
        return
    run_ids = _start_sweep(job_id, lease)
    heartbeat.stop()  # the members carry on, each under a lease of its own
    try:
        dispatch_members(job_id, run_ids)
    except Exception:  # they are queued in the database: the reaper sends them again
        log.exception("job %s: the sweep's members could not be sent; the reaper will send them", job_id)


def _run_members_here(job_id: str, run_ids: list[str]) -> None:
    for run_id in run_ids:
        execute_member(job_id, run_id)


def _finish(lease: Lease, status: str, message: str, *, error: str | None = None) -> None:
    """End the job, fenced by its lease; raises LeaseLost when another worker holds it now."""
    job_id = lease.id
    with fenced(lease) as s:
        started_at = s.scalar(select(Job.started_at).where(Job.id == job_id))
        s.execute(update(Job).where(Job.id == job_id).values(status=status, error=error, finished_at=now(),
                                                             **lease.released()))
        s.execute(update(Run).where(Run.job_id == job_id, Run.status.in_(UNFINISHED))
                  .values(status=status, lease_owner=None, lease_token=None, lease_expires_at=None))
        add_event(s, job_id, status, message)
    _count_finished(status, started_at)


def _count_finished(status: str, started_at: datetime | None) -> None:
    worker_metrics.JOBS_FINISHED.labels(status=status).inc()
    if started_at is not None:
        worker_metrics.JOB_RUNTIME.observe(max(0.0, (now() - started_at).total_seconds()))


def _end(lease: Lease, status: str, message: str, *, error: str | None = None) -> None:
    try:
        _finish(lease, status, message, error=error)
    except LeaseLost:
        log.warning("job %s: another worker holds its lease now; not marking it %s", lease.id, status)
    except Exception as exc:
        if not database_trouble(exc):
            raise
        log.exception("job %s: the database failed; leaving the job to the reaper", lease.id)


def _on_disk(ts: TransferSet) -> Path:
    """Where an image folder or torchvision dataset is, resolved inside the data roots again now."""
    return resolve_in_roots(ts.spec["path"] if ts.kind == "image_folder" else ts.spec["root"],
                            get_settings().data_roots)


def data_identity(ts: TransferSet, store: ArtifactStore) -> str:
    """What the transfer set's inputs are, for the teacher-output cache key. Data on the volume is
    fingerprinted again at run time, so files changed since registration are never served stale."""
    if ts.kind == "builtin":
        return f"builtin:{ts.builtin}:v1"
    if ts.kind in ("image_folder", "torchvision"):
        return f"{ts.kind}:{(ts.spec or {}).get('dataset', '')}:{fingerprint(_on_disk(ts))}"
    if ts.kind == "image_archive":
        return f"image_archive:{ts.fingerprint}"
    return f"{ts.kind}:{ts.artifact.sha256}"


def teacher_identity(t: Teacher) -> dict:
    return {"sha256": t.artifact.sha256, "format": t.format, "arch": t.arch, "arch_config": t.arch_config,
            "input_shape": t.input_shape}


def streams(ts: TransferSet) -> bool:
    """Image sets whose decoded size passes DISTILLERY_IN_MEMORY_MAX_BYTES are read from disk per batch."""
    size = (ts.num_samples + ts.num_test) * 4
    for d in ts.sample_shape:
        size *= d
    return ts.kind in ("image_archive", "image_folder", "torchvision") and size > get_settings().in_memory_max_bytes


def load_transfer_data(ts: TransferSet, store: ArtifactStore) -> TransferData:
    if ts.kind == "builtin":
        return load_builtin(ts.builtin)
    if ts.kind == "npz":
        return load_npz(store.path(ts.artifact.key))
    prep = Preprocessing.model_validate(ts.spec.get("preprocessing") or {})
    labelled = ts.spec.get("labelled", True)
    workers = get_settings().dataloader_workers
    if ts.kind == "torchvision":
        if streams(ts):
            return open_torchvision(ts.spec["dataset"], _on_disk(ts), labelled, prep, workers)
        return load_torchvision(ts.spec["dataset"], _on_disk(ts), labelled, prep)
    if ts.kind == "image_archive":
        folder = root = store.path(ts.spec["extracted"])
    else:
        folder = _on_disk(ts)
        root = next(r.resolve() for r in get_settings().data_roots if r.resolve() in [folder, *folder.parents])
    if streams(ts):
        return open_image_folder(folder, root, labelled, prep, workers)
    return load_image_folder(folder, root, labelled, prep)


def _finite(v: float) -> float | None:
    return v if v == v and v not in (float("inf"), float("-inf")) else None


class _JobHooks(Hooks):
    """Writes what the experiment reports to the job's rows as it happens, every write fenced by ``lease``,
    and keeps a checkpoint of every run after each epoch, so that a job restarted after its worker died
    goes on where it was.

    An epoch with a checkpoint is recorded in one transaction with it: the file goes to the store under a
    name of this lease's own, then the epoch's metrics, its event and the run's pointer to the file are
    committed together. A worker that dies in between leaves a file nobody reads, and the epoch is trained
    again from the previous checkpoint; one that dies after loses nothing. Epochs without a checkpoint (the
    last) are recorded when they end; recording an epoch twice is a no-op.

    ``run_id`` given: the rows of a sweep member, whose run row exists already and whose epochs add
    to a job-wide count shared with the other members."""

    def __init__(self, job_id: str, spec: dict, lease: Lease, run_id: str | None = None,
                 heartbeat: Heartbeat | None = None):
        self.job_id, self.lease, self.member_run, self.heartbeat = job_id, lease, run_id, heartbeat
        self.epochs = spec["hyperparameters"]["epochs"]
        self.order = ["distilled", "baseline"] if spec.get("baseline") else ["distilled"]
        self.run_ids: dict[str, str] = {}
        self.store = _store()
        self._polled, self._cancel, self._step_written = 0.0, False, 0.0

    def _offset(self, name: str) -> int:
        return self.order.index(name) * self.epochs if name in self.order else 0

    def _key(self, name: str, suffix: str) -> str:
        return f"checkpoints/{self.job_id}/{name}.{self.lease.token}.{suffix}"

    def _run_row(self, name: str) -> Run | None:
        with session_scope() as s:
            return s.scalar(select(Run).where(Run.job_id == self.job_id, Run.name == name))

    def run_started(self, name):
        if self.member_run:
            self.run_ids[name] = self.member_run
            return
        existing = self._run_row(name)
        with fenced(self.lease) as s:
            if existing is None:
                self.run_ids[name] = new_id("run")
                s.add(Run(id=self.run_ids[name], job_id=self.job_id, name=name, status="running"))
            else:  # a restarted job: its run goes on under the same row
                self.run_ids[name] = existing.id
                s.execute(update(Run).where(Run.id == existing.id).values(status="running"))

    def resume_state(self, name):
        """The checkpoint the run's row records, if any. Metrics of epochs after it were recorded by an
        attempt that did not get further: those epochs are trained again, so their metrics go."""
        import torch

        if self.member_run:
            return None
        key = self._run_row(name).checkpoint_key
        state = torch.load(self.store.path(key), weights_only=True) if key and self.store.exists(key) else None
        epoch = state["epoch"] if state else 0
        with fenced(self.lease) as s:
            s.execute(Metric.__table__.delete().where(Metric.run_id == self.run_ids[name], Metric.step > epoch))
            s.execute(update(Job).where(Job.id == self.job_id).values(epoch=self._offset(name) + epoch, step=0))
            if state:
                add_event(s, self.job_id, "resumed", f"{name}: resumed from the checkpoint after epoch {epoch}",
                          {"run": name, "epoch": epoch})
        return state

    def checkpoint(self, name, state):
        import torch

        if self.member_run:
            return
        epoch = state["epoch"]
        key = self._key(name, f"{epoch}.pt")
        with self.store.staging_path(".pt") as staged:
            torch.save(state, staged)
            self.store.commit(staged, key)
        testhooks.pause("after_checkpoint")
        metrics = {k: v for k, v in state["history"][-1].items() if k != "epoch"}
        with fenced(self.lease) as s:
            previous = s.scalar(select(Run.checkpoint_key).where(Run.id == self.run_ids[name]))
            self._record_epoch(s, name, epoch, metrics)
            s.execute(update(Run).where(Run.id == self.run_ids[name]).values(checkpoint_key=key))
        if previous and previous != key:
            self.store.delete(previous)

    def completed(self, name):
        from safetensors.torch import load_file

        run = None if self.member_run else self._run_row(name)
        if run is None or run.status != "succeeded":
            return None
        key = run.weights_key or f"checkpoints/{self.job_id}/{name}.final.safetensors"  # rows from before 0009
        if not self.store.exists(key):
            return None
        return run.result, load_file(str(self.store.path(key)))

    def epoch_done(self, name, epoch, metrics):
        with fenced(self.lease) as s:
            self._record_epoch(s, name, epoch, metrics)

    def _record_epoch(self, s, name: str, epoch: int, metrics: dict) -> None:
        run_id = self.run_ids[name]
        if s.scalar(select(exists().where(Metric.run_id == run_id, Metric.step == epoch))):
            return  # recorded with its checkpoint already
        clean = {k: _finite(v) for k, v in metrics.items()}
        s.add_all(Metric(run_id=run_id, key=k, step=epoch, value=v) for k, v in clean.items())
        run_name = name
        if self.member_run:
            run_name = s.scalar(select(Run.name).where(Run.id == self.member_run))
            s.execute(update(Job).where(Job.id == self.job_id).values(epoch=Job.epoch + 1))
        else:
            s.execute(update(Job).where(Job.id == self.job_id).values(epoch=self._offset(name) + epoch, step=0))
        add_event(s, self.job_id, "epoch", f"{run_name}: epoch {epoch} done",
                  {"run": run_name, "epoch": epoch, **clean})
        worker_metrics.epoch_done(metrics)
        log.info("job %s: %s: epoch %d done (loss %s, validation accuracy %s)", self.job_id, run_name, epoch,
                 clean.get("total_loss"), clean.get("val_accuracy"),
                 extra={"run": run_name, "epoch": epoch, "samples_per_second": clean.get("samples_per_second")})

    def step_done(self, name, epoch, step, steps_per_epoch):
        if self.member_run or time.monotonic() - self._step_written < STEP_WRITE_SECONDS:
            return
        self._step_written = time.monotonic()
        with fenced(self.lease) as s:
            s.execute(update(Job).where(Job.id == self.job_id).values(
                epoch=self._offset(name) + epoch - 1, step=step, steps_per_epoch=steps_per_epoch))

    def run_finished(self, name, result, student):
        if self.member_run:
            return  # a member's run row is finished with its weights, by execute_member
        key = self._key(name, "final.safetensors")
        _save_weights(self.store, key, student)
        with fenced(self.lease) as s:
            s.execute(update(Run).where(Run.id == self.run_ids[name]).values(status="succeeded", result=result,
                                                                             weights_key=key))

    def event(self, type_, message, data=None):
        with fenced(self.lease) as s:
            add_event(s, self.job_id, type_, message, data)

    def should_stop(self):
        if self.heartbeat is not None and self.heartbeat.lost:
            raise LeaseLost()
        # Polled from the training loop: read the flag at most once a second.
        if not self._cancel and time.monotonic() - self._polled >= CANCEL_POLL_SECONDS:
            self._polled = time.monotonic()
            with session_scope() as s:
                self._cancel = bool(s.scalar(select(Job.cancel_requested).where(Job.id == self.job_id)))
        return self._cancel


def _student(spec: dict, input_shape, num_classes: int, init_path):
    model = build_student(spec, input_shape, num_classes)
    return load_state_dict_into(model, init_path) if init_path else model


def _experiment(job_id: str, store: ArtifactStore, lease: Lease, cfg_update: dict | None = None,
                baseline: bool | None = None) -> tuple[Job, list[Teacher], Experiment]:
    settings = get_settings()
    with session_scope() as s:
        job = s.get(Job, job_id)
        teachers = [s.get(Teacher, tid) for tid in job.teacher_ids]
        transfer_set = s.get(TransferSet, job.transfer_set_id)
        vid = job.spec.get("validation_transfer_set_id")
        validation_set = s.get(TransferSet, vid) if vid else None
        init_id = job.spec.get("student_init_weights")
        init = s.get(Teacher, init_id) if init_id else None
    spec = job.spec
    cfg = DistillConfig.model_validate({**spec["hyperparameters"], **(cfg_update or {})})
    if cfg.device == "auto" and settings.worker_device != "auto":
        cfg = cfg.model_copy(update={"device": settings.worker_device})
    input_shape, num_classes = teachers[0].input_shape, teachers[0].num_classes
    init_path = store.path(init.artifact.key) if init else None
    if streams(transfer_set):
        with fenced(lease) as s:
            add_event(s, job_id, "data_streamed", f"{transfer_set.num_samples + transfer_set.num_test} samples are "
                      "read from disk batch by batch (larger than DISTILLERY_IN_MEMORY_MAX_BYTES)")
    experiment = Experiment(
        teachers=[open_teacher(store.path(t.artifact.key), t.format, settings.sandbox_policy(), arch=t.arch,
                               arch_config=t.arch_config, input_shape=t.input_shape,
                               device=str(resolve_device(cfg.device))) for t in teachers],
        data=load_transfer_data(transfer_set, store),
        make_student=lambda: _student(spec["student"], input_shape, num_classes, init_path),
        num_classes=num_classes,
        config=cfg,
        omit_classes=spec.get("omit_classes") or [],
        bias_correction=bool(spec.get("bias_correction")),
        baseline=bool(spec.get("baseline")) if baseline is None else baseline,
        validation=load_transfer_data(validation_set, store) if validation_set else None,
        cache=TeacherOutputCache(store.root / "cache" / "teacher_outputs", max_bytes=settings.teacher_cache_max_bytes),
        max_device_bytes=_device_budget(cfg.device, settings.gpu_data_share),
        cache_keys=[cache_key(teacher=teacher_identity(t), data=data_identity(transfer_set, store),
                              preprocessing=(transfer_set.spec or {}).get("preprocessing")) for t in teachers],
    )
    return job, teachers, experiment


def _device_budget(device: str, share: float) -> int | None:
    import torch

    if resolve_device(device).type != "cuda":
        return None
    free, _total = torch.cuda.mem_get_info()
    return int(free * share)


def _store() -> ArtifactStore:
    return ArtifactStore(get_settings().resolved_artifact_dir)


def _run(job_id: str, hooks: _JobHooks, lease: Lease) -> None:
    store = _store()
    job, teachers, experiment = _experiment(job_id, store, lease)
    outcome = run_experiment(experiment, hooks)
    _succeed(lease, store, outcome.students["distilled"], teachers[0].input_shape, job.spec["student"],
             outcome.results, class_names=experiment.data.class_names)


def _succeed(lease: Lease, store: ArtifactStore, student: PlainSoftmax, input_shape, student_spec: dict,
             results: dict, message: str = "the job succeeded", class_names: list[str] | None = None) -> None:
    job_id = lease.id
    metadata = {"class_names": class_names} if class_names else {}
    with session_scope() as s:
        formats = s.get(Job, job_id).spec.get("export_formats") or list(EXPORT_FORMATS)
    artifacts, exports = _export_all(job_id, store, student, input_shape, student_spec, metadata, formats,
                                     folder=f"students/{job_id}/{lease.token}")
    if class_names:
        results = {**results, "class_names": class_names}
    if not artifacts:
        raise RuntimeError("the student could not be exported in any format: "
                           + "; ".join(f"{f}: {e['error']}" for f, e in exports.items()))
    try:
        with fenced(lease) as s:
            s.add_all(artifacts.values())
            s.flush()
            s.add_all(StudentExport(job_id=job_id, format=f, artifact_id=a.id) for f, a in artifacts.items())
            s.execute(update(Job).where(Job.id == job_id).values(
                status="succeeded", result={**results, "exports": exports}, finished_at=now(),
                **lease.released()))
            add_event(s, job_id, "exported", "student exported with a plain softmax (T = 1)", {"formats": exports})
            add_event(s, job_id, "succeeded", message)
            started_at = s.scalar(select(Job.started_at).where(Job.id == job_id))
    except BaseException:
        for artifact in artifacts.values():
            store.delete(artifact.key)
        raise
    _count_finished("succeeded", started_at)
    shutil.rmtree(store.path(f"checkpoints/{job_id}"), ignore_errors=True)


def _export_all(job_id: str, store: ArtifactStore, model, input_shape, student_spec: dict,
                metadata: dict, formats: list[str], folder: str) -> tuple[dict[str, Artifact], dict[str, dict]]:
    """Every requested format that can be made; one that fails is recorded with its reason, not fatal.
    The files go under ``folder``, which names the lease: a worker fenced out never overwrites them."""
    artifacts: dict[str, Artifact] = {}
    summary: dict[str, dict] = {}
    for fmt in formats:
        ext = EXPORT_FORMATS[fmt]
        key = f"{folder}/student.{ext}"
        try:
            with store.staging_path(f".{ext}") as staged:
                export(fmt, model, input_shape, staged, student_spec=student_spec, metadata=metadata)
                digest, size = sha256_of(staged), staged.stat().st_size
                store.commit(staged, key)
        except Exception as exc:
            log.exception("job %s: %s export failed", job_id, fmt)
            first_line = str(exc).splitlines()[0][:300] if str(exc) else ""
            summary[fmt] = {"error": f"{type(exc).__name__}: {first_line}"}
            continue
        artifacts[fmt] = Artifact(id=new_id("artifact"), kind="student", key=key, sha256=digest, size_bytes=size)
        summary[fmt] = {"sha256": digest, "size_bytes": size}
    return artifacts, summary


# Sweeps: the job's task fills the teacher-output cache and creates one run per member; each member
# is its own task; the member that finishes last picks the best and exports it.

BASELINE = "baseline"


def _member_update(name: str, job: Job) -> dict:
    if name == BASELINE:
        return {"soft_weight": 0.0, "hard_weight": 1.0}
    members = dict(SweepSpec.model_validate(job.spec["sweep"]).members(
        DistillConfig.model_validate(job.spec["hyperparameters"])))
    config = members[name]
    swept = SweepSpec.model_validate(job.spec["sweep"]).axes()
    return {k: getattr(config, k) for k in ("temperature", "soft_weight", "hard_weight", *swept)}


def _start_sweep(job_id: str, lease: Lease) -> list[str]:
    """Fill the teacher-output cache and create the members' runs, queued; in the same transaction the job
    gives up its lease, so that a worker dying here leaves either no members (and the job is started
    again) or members and no lease (and they carry on)."""
    store = _store()
    job, _, experiment = _experiment(job_id, store, lease, baseline=False)
    hooks = _JobHooks(job_id, job.spec, lease)
    teacher_outputs(experiment, resolve_device(experiment.config.device), hooks)  # fills the cache once
    names = [name for name, _ in SweepSpec.model_validate(job.spec["sweep"]).members(experiment.config)]
    if job.spec.get("baseline"):
        names.append(BASELINE)
    run_ids = [new_id("run") for _ in names]
    with fenced(lease) as s:
        s.add_all(Run(id=r, job_id=job_id, name=n, status="queued", sent_at=now())
                  for r, n in zip(run_ids, names, strict=True))
        s.execute(update(Job).where(Job.id == job_id).values(total_epochs=experiment.config.epochs * len(names),
                                                             **lease.released()))
        add_event(s, job_id, "sweep_started", f"{len(names)} members queued, sharing the cached teacher outputs",
                  {"members": names})
    return run_ids


def execute_member(job_id: str, run_id: str) -> None:
    with log_context(job_id=job_id, tenant=_tenant_of(job_id), run=run_id):
        _execute_member(job_id, run_id)


def _execute_member(job_id: str, run_id: str) -> None:
    settings = get_settings()
    owner = worker_identity()
    lease = claim(Run, run_id, owner, settings.lease_seconds)
    if lease is None:
        # Taken, or ended: the sweep may be complete now and unfinished, and someone must finish it.
        if _members_left(job_id) == 0:
            _claim_and_finish_sweep(job_id, owner)
        return
    with session_scope() as s:
        name = s.scalar(select(Run.name).where(Run.id == run_id))
        job = s.get(Job, job_id)
    if job is None or job.status != "running":  # the job ended: nothing to train
        try:
            with fenced(lease) as s:
                s.execute(update(Run).where(Run.id == run_id).values(
                    status=job.status if job is not None and job.status in TERMINAL else "cancelled",
                    **lease.released()))
        except LeaseLost:
            pass
        return
    runs = [(run_id, name, lease), *_adopt_members(job, run_id, name, owner, settings.batch_sweep_members)]
    heartbeat = Heartbeat([r[2] for r in runs], settings.lease_seconds)
    heartbeat.start()
    store = _store()
    try:
        for _, _, member_lease in runs:
            _clean_slate(job_id, member_lease)
        if len(runs) > 1:
            ended = _train_together(job, runs, store, heartbeat)
        else:
            ended = [_train_member(job, run_id, name, lease, store, heartbeat)]
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
        _finish_sweep(job_id, store, finisher)


def _clean_slate(job_id: str, lease: Lease) -> None:
    """A member starts from scratch (members keep no checkpoints): what an earlier attempt recorded goes,
    and so do the epochs it added to the job's progress."""
    with fenced(lease) as s:
        counted = s.scalar(select(func.count()).select_from(
            select(Metric.step).where(Metric.run_id == lease.id).distinct().subquery()))
        if counted:
            s.execute(Metric.__table__.delete().where(Metric.run_id == lease.id))
            s.execute(update(Job).where(Job.id == job_id).values(epoch=Job.epoch - counted))


def _adopt_members(job: Job, run_id: str, name: str, owner: str, mode: str) -> list[tuple[str, str, Lease]]:
    """The sweep's other queued members, claimed by this worker to train together with its own as one
    batched model, where the worker's setting (DISTILLERY_BATCH_SWEEP_MEMBERS) and the job allow it.
    Their own tasks find them taken and leave; if this worker dies, the reaper requeues each of them."""
    if mode == "never" or name == BASELINE:
        return []
    settings = get_settings()
    cfg = DistillConfig.model_validate(job.spec["hyperparameters"])
    if mode == "cuda":
        import torch

        device = settings.worker_device if cfg.device == "auto" else cfg.device
        if not (device == "cuda" or (device == "auto" and torch.cuda.is_available())):
            return []
    members = dict(SweepSpec.model_validate(job.spec["sweep"]).members(cfg))
    with session_scope() as s:
        queued = s.execute(select(Run.id, Run.name).where(Run.job_id == job.id, Run.status == "queued",
                                                          Run.name != BASELINE, Run.id != run_id)
                           .order_by(Run.created_at, Run.id)).all()
        streamed = streams(s.get(TransferSet, job.transfer_set_id))
    if streamed or why_not_batched([members[name], *(members[n] for _, n in queued)]) is not None:
        return []
    adopted = []
    for rid, n in queued:
        lease = claim(Run, rid, owner, settings.lease_seconds)
        if lease is not None:
            adopted.append((rid, n, lease))
    return adopted


def _member_result(job: Job, name: str, outcome) -> dict:
    return {**outcome.results["student"], **_member_update(name, job), "teacher": outcome.results.get("teacher")}


Ended = tuple[Lease, str, dict | None, str | None]  # a member's lease, status, result and weights' key


def _train_member(job: Job, run_id: str, name: str, lease: Lease, store: ArtifactStore,
                  heartbeat: Heartbeat) -> Ended:
    """One member on its own. Raises LeaseLost."""
    try:
        if job.cancel_requested:
            raise Cancelled()
        _, _, experiment = _experiment(job.id, store, lease, _member_update(name, job), baseline=False)
        outcome = run_experiment(experiment, _JobHooks(job.id, job.spec, lease, run_id=run_id, heartbeat=heartbeat))
        key = _member_key(job.id, lease)
        _save_weights(store, key, outcome.students["distilled"])
        return lease, "succeeded", _member_result(job, name, outcome), key
    except Cancelled:
        return lease, "cancelled", None, None
    except LeaseLost:
        raise
    except Exception as exc:
        if database_trouble(exc):
            raise
        log.exception("job %s: sweep member %s failed", job.id, name)
        return lease, "failed", {"error": _reason(exc)}, None


def _train_together(job: Job, runs: list[tuple[str, str, Lease]], store: ArtifactStore,
                    heartbeat: Heartbeat) -> list[Ended]:
    """Several members as one batched model; if that fails, each on its own, so that a fault of batching
    costs time and never a member. Raises LeaseLost."""
    leases = [lease for _, _, lease in runs]
    try:
        if job.cancel_requested:
            raise Cancelled()
        _, _, experiment = _experiment(job.id, store, leases[0], baseline=False)
        configs = [experiment.config.model_copy(update=_member_update(name, job)) for _, name, _ in runs]
        hooks = [_JobHooks(job.id, job.spec, lease, run_id=rid, heartbeat=heartbeat) for rid, _, lease in runs]
        outcomes = run_members(experiment, configs, hooks)
        ended = []
        for (_, name, lease), outcome in zip(runs, outcomes, strict=True):
            key = _member_key(job.id, lease)
            _save_weights(store, key, outcome.students["distilled"])
            ended.append((lease, "succeeded", _member_result(job, name, outcome), key))
        return ended
    except Cancelled:
        return [(lease, "cancelled", None, None) for lease in leases]
    except LeaseLost:
        raise
    except Exception as exc:
        if database_trouble(exc):
            raise
        log.exception("job %s: batched sweep members failed; training them one at a time", job.id)
        with fenced(*leases) as s:
            add_event(s, job.id, "members_unbatched", f"training the members together failed ({_reason(exc)}); "
                      "they train one at a time", {"members": [name for _, name, _ in runs]})
        for lease in leases:  # epochs the batched attempt counted are trained again: their metrics go
            _clean_slate(job.id, lease)
        return [_train_member(job, rid, name, lease, store, heartbeat) for rid, name, lease in runs]


def _members_left(job_id: str) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Run)
                        .where(Run.job_id == job_id, Run.status.in_(UNFINISHED)))


def _member_key(job_id: str, lease: Lease) -> str:
    return f"sweeps/{job_id}/{lease.id}.{lease.token}.safetensors"


def _save_weights(store: ArtifactStore, key: str, module) -> None:
    """A module's state dict as a safetensors file in the store, written whole or not at all."""
    from safetensors.torch import save_file

    with store.staging_path(".safetensors") as staged:
        save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(staged))
        store.commit(staged, key)


def _no_member_left(job_id: str):
    return ~exists().where(Run.job_id == job_id, Run.status.in_(UNFINISHED))


def _finishing_claim(job_id: str):
    """Who may take a sweep job's lease to finish it: it runs, nobody holds it, and no member is left."""
    return (Job.status == "running") & Job.lease_owner.is_(None) & _no_member_left(job_id)


def _record_member(lease: Lease, status: str, result: dict | None, weights_key: str | None,
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


def sweep_score(result: dict) -> float:
    """Lower is better: a member's validation cross-entropy at its best epoch (finer than accuracy, which
    moves in steps of one sample); members recorded without one rank by accuracy, after those with one."""
    if result.get("val_cross_entropy") is not None:
        return result["val_cross_entropy"]
    accuracy = result.get("val_accuracy")
    return float("inf") if accuracy is None else 1e6 - accuracy


def _claim_and_finish_sweep(job_id: str, owner: str) -> None:
    lease = claim(Job, job_id, owner, get_settings().lease_seconds, where=_finishing_claim(job_id),
                  count_attempt=False)
    if lease is not None:
        _finish_sweep(job_id, _store(), lease)


def _finish_sweep(job_id: str, store: ArtifactStore, lease: Lease) -> None:
    """Pick the best member and export it, under the job's lease (renewed meanwhile)."""
    heartbeat = Heartbeat([lease], get_settings().lease_seconds)
    heartbeat.start()
    try:
        with session_scope() as s:
            job = s.get(Job, job_id)
            runs = list(s.scalars(select(Run).where(Run.job_id == job_id).order_by(Run.created_at, Run.id)))
            teacher = s.get(Teacher, job.teacher_ids[0])
            class_names = s.get(TransferSet, job.transfer_set_id).class_names
        if job.cancel_requested:
            _finish(lease, "cancelled", "the sweep was cancelled; finished members are kept")
            return
        # The grid's order, not the rows': members created in one transaction share a timestamp.
        grid = [n for n, _ in SweepSpec.model_validate(job.spec["sweep"]).members(
            DistillConfig.model_validate(job.spec["hyperparameters"]))]
        members = sorted((r for r in runs if r.name != BASELINE), key=lambda r: grid.index(r.name))
        done = [r for r in members if r.status == "succeeded"]
        if not done:
            reasons = "; ".join(f"{r.name}: {(r.result or {}).get('error', r.status)}" for r in members)
            _finish(lease, "failed", f"every sweep member failed: {reasons}", error=f"every sweep member failed: "
                                                                                     f"{reasons}")
            return
        ranked = sorted(done, key=lambda r: (sweep_score(r.result), members.index(r)))
        best = ranked[0]
        student = PlainSoftmax(build_student(job.spec["student"], teacher.input_shape, teacher.num_classes),
                               teacher.num_classes)
        weights = best.weights_key or f"sweeps/{job_id}/{best.id}.safetensors"  # rows from before 0009
        load_state_dict_into(student, store.path(weights))
        swept = [k for k in SweepSpec.model_validate(job.spec["sweep"]).axes()
                 if k not in ("temperature", "soft_weight", "hard_weight")]
        table = [{"name": r.name, "status": r.status, **{k: (r.result or {}).get(k) for k in (
            "temperature", "soft_weight", "hard_weight", *swept, "val_cross_entropy", "val_accuracy", "test_errors",
            "test_accuracy", "error")}} for r in members]
        results = {"teacher": best.result.get("teacher"),
                   "student": {k: v for k, v in best.result.items() if k != "teacher"},
                   "best_member": best.name, "sweep": table,
                   "best_member_margin": (sweep_score(ranked[1].result) - sweep_score(best.result)
                                          if len(ranked) > 1 else None)}
        baseline = next((r for r in runs if r.name == BASELINE and r.status == "succeeded"), None)
        if baseline:
            results["baseline"] = {k: v for k, v in baseline.result.items() if k != "teacher"}
        _succeed(lease, store, student.eval(), teacher.input_shape, job.spec["student"], results,
                 f"the sweep succeeded; the best member is {best.name}", class_names=class_names)
    except LeaseLost:
        log.warning("job %s: another worker finishes the sweep now; leaving it", job_id)
    except Exception as exc:
        if database_trouble(exc):
            log.exception("job %s: the database failed while finishing the sweep; leaving it to the reaper", job_id)
            return
        log.exception("job %s: finishing the sweep failed", job_id)
        _end(lease, "failed", _reason(exc), error=_reason(exc))
    finally:
        heartbeat.stop()
