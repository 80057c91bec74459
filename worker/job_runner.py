"""Runs one job: reads it from the database and the store, runs the experiment, writes back.

The job row is claimed with a conditional update (queued → running), so a second delivery of the
same task finds it taken and does nothing.
"""

import logging
import time
from datetime import UTC, datetime

from sqlalchemy import select, update

from app.config import get_settings
from app.db import session_scope
from app.ids import new_id
from app.store import ArtifactStore, sha256_of
from app.tables import Artifact, Event, Job, Metric, Run, StudentExport, Teacher, TransferSet
from models.export import EXPORT_FORMATS, export
from models.teachers import load_teacher
from models.transfer_sets import TransferData, load_builtin, load_npz
from models.zoo import build_student, load_state_dict_into
from worker.engine.config import DistillConfig
from worker.engine.loop import Cancelled
from worker.engine.pipeline import Experiment, Hooks, run_experiment
from worker.engine.teacher_cache import TeacherOutputCache, cache_key

log = logging.getLogger(__name__)
CANCEL_POLL_SECONDS = 1.0
STEP_WRITE_SECONDS = 1.0  # step-level progress is written at most this often


def now() -> datetime:
    return datetime.now(UTC)


def add_event(session, job_id: str, type_: str, message: str, data: dict | None = None) -> None:
    session.add(Event(job_id=job_id, type=type_, message=message, data=data))


def execute(job_id: str) -> None:
    with session_scope() as s:
        claimed = s.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(status="running", started_at=now())
        ).rowcount
        if claimed:
            add_event(s, job_id, "started", "a worker started the job")
    if not claimed:
        log.info("job %s is not queued (cancelled, or taken by another delivery); skipping", job_id)
        return
    try:
        _run(job_id)
    except Cancelled:
        _finish(job_id, "cancelled", "the job was cancelled; metrics so far are kept")
    except Exception as exc:  # every failure must end the job, with a reason the user can act on
        log.exception("job %s failed", job_id)
        reason = str(exc) if isinstance(exc, RuntimeError) else f"{type(exc).__name__}: {exc}"
        _finish(job_id, "failed", reason, error=reason)


def _finish(job_id: str, status: str, message: str, *, error: str | None = None) -> None:
    with session_scope() as s:
        s.execute(update(Job).where(Job.id == job_id).values(status=status, error=error, finished_at=now()))
        s.execute(update(Run).where(Run.job_id == job_id, Run.status == "running").values(status=status))
        add_event(s, job_id, status, message)


def data_identity(ts: TransferSet) -> str:
    """What the transfer set's inputs are, for the teacher-output cache key."""
    return f"builtin:{ts.builtin}:v1" if ts.kind == "builtin" else f"{ts.kind}:{ts.artifact.sha256}"


def teacher_identity(t: Teacher) -> dict:
    return {"sha256": t.artifact.sha256, "format": t.format, "arch": t.arch, "arch_config": t.arch_config,
            "input_shape": t.input_shape}


def load_transfer_data(ts: TransferSet, store: ArtifactStore) -> TransferData:
    if ts.kind == "builtin":
        return load_builtin(ts.builtin)
    return load_npz(store.path(ts.artifact.key))


def _finite(v: float) -> float | None:
    return v if v == v and v not in (float("inf"), float("-inf")) else None


class _JobHooks(Hooks):
    """Writes what the experiment reports to the job's rows as it happens."""

    def __init__(self, job_id: str, epochs: int):
        self.job_id, self.epochs = job_id, epochs
        self.run_ids: dict[str, str] = {}
        self.offset = 0  # epochs of earlier runs, for the job's overall progress
        self._polled, self._cancel, self._step_written = 0.0, False, 0.0

    def run_started(self, name):
        self.offset = len(self.run_ids) * self.epochs
        self.run_ids[name] = new_id("run")
        with session_scope() as s:
            s.add(Run(id=self.run_ids[name], job_id=self.job_id, name=name, status="running"))

    def epoch_done(self, name, epoch, metrics):
        clean = {k: _finite(v) for k, v in metrics.items()}
        with session_scope() as s:
            s.add_all(Metric(run_id=self.run_ids[name], key=k, step=epoch, value=v) for k, v in clean.items())
            s.execute(update(Job).where(Job.id == self.job_id).values(epoch=self.offset + epoch, step=0))
            add_event(s, self.job_id, "epoch", f"{name}: epoch {epoch} done", {"run": name, "epoch": epoch, **clean})

    def step_done(self, name, epoch, step, steps_per_epoch):
        if time.monotonic() - self._step_written < STEP_WRITE_SECONDS:
            return
        self._step_written = time.monotonic()
        with session_scope() as s:
            s.execute(update(Job).where(Job.id == self.job_id).values(
                epoch=self.offset + epoch - 1, step=step, steps_per_epoch=steps_per_epoch))

    def run_finished(self, name, result):
        with session_scope() as s:
            s.execute(update(Run).where(Run.id == self.run_ids[name]).values(status="succeeded", result=result))

    def event(self, type_, message, data=None):
        with session_scope() as s:
            add_event(s, self.job_id, type_, message, data)

    def should_stop(self):
        # Polled from the training loop: read the flag at most once a second.
        if not self._cancel and time.monotonic() - self._polled >= CANCEL_POLL_SECONDS:
            self._polled = time.monotonic()
            with session_scope() as s:
                self._cancel = bool(s.scalar(select(Job.cancel_requested).where(Job.id == self.job_id)))
        return self._cancel


def _student(spec: dict, input_shape, num_classes: int, init_path):
    model = build_student(spec, input_shape, num_classes)
    return load_state_dict_into(model, init_path) if init_path else model


def _run(job_id: str) -> None:
    settings = get_settings()
    store = ArtifactStore(settings.resolved_artifact_dir)
    with session_scope() as s:
        job = s.get(Job, job_id)
        teachers = [s.get(Teacher, tid) for tid in job.teacher_ids]
        transfer_set = s.get(TransferSet, job.transfer_set_id)
        vid = job.spec.get("validation_transfer_set_id")
        validation_set = s.get(TransferSet, vid) if vid else None
        init_id = job.spec.get("student_init_weights")
        init = s.get(Teacher, init_id) if init_id else None
    spec = job.spec
    cfg = DistillConfig.model_validate(spec["hyperparameters"])
    if cfg.device == "auto" and settings.worker_device != "auto":
        cfg = cfg.model_copy(update={"device": settings.worker_device})
    input_shape, num_classes = teachers[0].input_shape, teachers[0].num_classes
    init_path = store.path(init.artifact.key) if init else None

    experiment = Experiment(
        teachers=[load_teacher(store.path(t.artifact.key), t.format, arch=t.arch, arch_config=t.arch_config,
                               input_shape=t.input_shape) for t in teachers],
        data=load_transfer_data(transfer_set, store),
        make_student=lambda: _student(spec["student"], input_shape, num_classes, init_path),
        num_classes=num_classes,
        config=cfg,
        omit_classes=spec.get("omit_classes") or [],
        bias_correction=bool(spec.get("bias_correction")),
        baseline=bool(spec.get("baseline")),
        validation=load_transfer_data(validation_set, store) if validation_set else None,
        cache=TeacherOutputCache(store.root / "cache" / "teacher_outputs"),
        cache_keys=[cache_key(teacher=teacher_identity(t), data=data_identity(transfer_set)) for t in teachers],
    )
    outcome = run_experiment(experiment, _JobHooks(job_id, cfg.epochs))

    artifacts, exports = _export_all(job_id, store, outcome.students["distilled"], input_shape, spec["student"])
    if not artifacts:
        raise RuntimeError("the student could not be exported in any format: "
                           + "; ".join(f"{f}: {e['error']}" for f, e in exports.items()))
    try:
        with session_scope() as s:
            s.add_all(artifacts.values())
            s.flush()
            s.add_all(StudentExport(job_id=job_id, format=f, artifact_id=a.id) for f, a in artifacts.items())
            s.execute(update(Job).where(Job.id == job_id).values(
                status="succeeded", result={**outcome.results, "exports": exports}, finished_at=now()))
            add_event(s, job_id, "exported", "student exported with a plain softmax (T = 1)", {"formats": exports})
            add_event(s, job_id, "succeeded", "the job succeeded")
    except Exception:
        for artifact in artifacts.values():
            store.delete(artifact.key)
        raise


def _export_all(job_id: str, store: ArtifactStore, model, input_shape,
                student_spec: dict) -> tuple[dict[str, Artifact], dict[str, dict]]:
    """Every format that can be made; a format that fails is recorded with its reason, not fatal."""
    artifacts: dict[str, Artifact] = {}
    summary: dict[str, dict] = {}
    for fmt, ext in EXPORT_FORMATS.items():
        key = f"students/{job_id}/student.{ext}"
        try:
            with store.staging_path(f".{ext}") as staged:
                export(fmt, model, input_shape, staged, student_spec=student_spec)
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
