"""Runs one job: reads it from the database and the store, calls the engine, writes back.

The job row is claimed with a conditional update (queued → running), so a second delivery of the
same task finds it taken and does nothing.
"""

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import torch
from sqlalchemy import select, update

from app.config import get_settings
from app.db import session_scope
from app.ids import new_id
from app.store import ArtifactStore, sha256_of
from app.tables import Artifact, Event, Job, Metric, Run, Teacher, TransferSet
from models.export import PlainSoftmax, export_torchscript
from models.teachers import load_teacher
from models.transfer_sets import TransferData, load_builtin, load_npz
from models.zoo import build_student
from worker.engine.bias import tune_logit_bias
from worker.engine.config import DistillConfig
from worker.engine.evaluate import classification_report, predict_logits
from worker.engine.loop import (
    Cancelled,
    Split,
    resolve_device,
    teacher_logits,
    train_student,
    validation_split,
)
from worker.engine.losses import ensemble_log_probs

log = logging.getLogger(__name__)
CANCEL_POLL_SECONDS = 1.0


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
        _finish(job_id, "cancelled", "cancelled", "the job was cancelled; metrics so far are kept")
    except Exception as exc:  # every failure must end the job, with a reason the user can act on
        log.exception("job %s failed", job_id)
        reason = f"{type(exc).__name__}: {exc}" if not isinstance(exc, RuntimeError) else str(exc)
        _finish(job_id, "failed", "failed", reason, error=reason)


def _finish(job_id: str, status: str, event: str, message: str, *, error: str | None = None) -> None:
    with session_scope() as s:
        s.execute(update(Job).where(Job.id == job_id).values(status=status, error=error, finished_at=now()))
        s.execute(update(Run).where(Run.job_id == job_id, Run.status == "running").values(status=status))
        add_event(s, job_id, event, message)


@dataclass
class _Loaded:
    job: Job
    teachers: list[Teacher]
    transfer_set: TransferSet
    validation_set: TransferSet | None


def _load_rows(job_id: str) -> _Loaded:
    with session_scope() as s:
        job = s.get(Job, job_id)
        teachers = [s.get(Teacher, tid) for tid in job.teacher_ids]
        ts = s.get(TransferSet, job.transfer_set_id)
        vid = job.spec.get("validation_transfer_set_id")
        return _Loaded(job, teachers, ts, s.get(TransferSet, vid) if vid else None)


def load_transfer_data(ts: TransferSet, store: ArtifactStore) -> TransferData:
    if ts.kind == "builtin":
        return load_builtin(ts.builtin)
    return load_npz(store.path(ts.artifact.key))


def _tensors(x, y) -> tuple[torch.Tensor, torch.Tensor | None]:
    return torch.from_numpy(x), None if y is None else torch.from_numpy(y)


class _CancelFlag:
    """Reads the job's cancel flag from the database, at most once a second."""

    def __init__(self, job_id: str):
        self.job_id, self.last, self.value = job_id, 0.0, False

    def __call__(self) -> bool:
        if not self.value and time.monotonic() - self.last >= CANCEL_POLL_SECONDS:
            self.last = time.monotonic()
            with session_scope() as s:
                self.value = bool(s.scalar(select(Job.cancel_requested).where(Job.id == self.job_id)))
        return self.value


def _run(job_id: str) -> None:
    settings = get_settings()
    store = ArtifactStore(settings.resolved_artifact_dir)
    rows = _load_rows(job_id)
    spec = rows.job.spec
    cfg = DistillConfig.model_validate(spec["hyperparameters"])
    if cfg.device == "auto" and settings.worker_device != "auto":
        cfg = cfg.model_copy(update={"device": settings.worker_device})
    device = resolve_device(cfg.device)
    omit = sorted(set(spec.get("omit_classes") or []))

    data = load_transfer_data(rows.transfer_set, store)
    teachers = [load_teacher(store.path(t.artifact.key), t.format) for t in rows.teachers]
    num_classes = rows.teachers[0].num_classes
    input_shape = rows.teachers[0].input_shape

    x_all, y_all = _tensors(data.x_train, data.y_train)
    if rows.validation_set is not None:
        vdata = load_transfer_data(rows.validation_set, store)
        train_full = Split(x_all, y_all)
        val = Split(*_tensors(vdata.x_train, vdata.y_train))
    else:
        train_idx, val_idx = validation_split(len(x_all), cfg.validation_fraction, cfg.seed)
        train_full, val = Split(x_all, y_all).subset(train_idx), Split(x_all, y_all).subset(val_idx)

    def add_teacher_logits(split: Split) -> Split:
        return Split(split.x, split.y, teacher_logits(teachers, split.x, device=device))

    train_full, val = add_teacher_logits(train_full), add_teacher_logits(val)
    with session_scope() as s:
        add_event(s, job_id, "teacher_outputs", "teacher logits computed once for the transfer set",
                  {"samples": len(train_full) + len(val), "members": len(teachers)})

    train = train_full
    if omit:
        keep = ~torch.isin(train_full.y, torch.tensor(omit))
        train = train_full.subset(keep.nonzero().squeeze(1))
        val = val.subset((~torch.isin(val.y, torch.tensor(omit))).nonzero().squeeze(1)) if val.y is not None else val

    def make_student():
        return build_student(spec["student"], input_shape, num_classes)

    runs = [("distilled", cfg, train)]
    if spec.get("baseline"):
        baseline_cfg = cfg.model_copy(update={"soft_weight": 0.0, "hard_weight": 1.0})
        runs.append(("baseline", baseline_cfg, Split(train.x, train.y)))
    epochs_before = 0
    total_epochs = cfg.epochs * len(runs)
    cancel = _CancelFlag(job_id)

    test = None
    if data.x_test is not None:
        x_test, y_test = _tensors(data.x_test, data.y_test)
        test_teacher = teacher_logits(teachers, x_test, device=device)
        teacher_probs = ensemble_log_probs(test_teacher, 1.0, cfg.ensemble).exp()
        test = (x_test, y_test, teacher_probs)

    results: dict = {}
    exported = None
    for name, run_cfg, run_train in runs:
        run_id = new_id("run")
        with session_scope() as s:
            s.add(Run(id=run_id, job_id=job_id, name=name, status="running"))
            s.execute(update(Job).where(Job.id == job_id).values(total_epochs=total_epochs))

        def on_epoch(epoch: int, metrics: dict[str, float], run_id=run_id, offset=epochs_before, name=name):
            with session_scope() as s:
                s.add_all(Metric(run_id=run_id, key=k, step=epoch, value=_finite(v)) for k, v in metrics.items())
                s.execute(update(Job).where(Job.id == job_id).values(epoch=offset + epoch))
                add_event(s, job_id, "epoch", f"{name}: epoch {epoch} done",
                          {"run": name, "epoch": epoch, **{k: _finite(v) for k, v in metrics.items()}})

        outcome = train_student(make_student, run_train, val, run_cfg, on_epoch=on_epoch, should_stop=cancel)
        epochs_before += cfg.epochs
        logit_bias = torch.zeros(num_classes)
        extra: dict = {"best_epoch": outcome.best_epoch, "epochs_run": outcome.epochs_run,
                       "stopped_early": outcome.stopped_early}
        # Only the distilled student gets the raise: the baseline is the paper's comparison as it is.
        if name == "distilled" and omit and spec.get("bias_correction"):
            train_logits = predict_logits(outcome.model, train_full.x, device=device)
            delta, logit_bias = tune_logit_bias(train_logits, train_full.y, omit)
            extra["bias_correction"] = delta
        model = PlainSoftmax(outcome.model.cpu(), num_classes, logit_bias)
        if test is not None:
            probs = predict_logits(model, test[0])
            report = classification_report(probs, test[1], test[2].argmax(1))
            report.update(_omitted_errors(report, omit))
            results[name] = {**report, **extra}
        else:
            results[name] = extra
        with session_scope() as s:
            s.execute(update(Run).where(Run.id == run_id).values(status="succeeded", result=results[name]))
        if name == "distilled":
            exported = model

    if test is not None and test[1] is not None:
        results["teacher"] = classification_report(test[2], test[1])
        results["teacher"].update(_omitted_errors(results["teacher"], omit))
    results["student"] = results.pop("distilled")

    key = f"students/{job_id}.pt"
    with store.staging_path(".pt") as staged:
        export_torchscript(exported, input_shape, staged)
        digest, size = sha256_of(staged), staged.stat().st_size
        store.commit(staged, key)
    try:
        with session_scope() as s:
            artifact = Artifact(id=new_id("artifact"), kind="student", key=key, sha256=digest, size_bytes=size)
            s.add(artifact)
            s.flush()
            s.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(status="succeeded", result=results, finished_at=now(), student_artifact_id=artifact.id)
            )
            add_event(s, job_id, "exported", "student exported with a plain softmax (T = 1)",
                      {"format": "torchscript", "sha256": digest})
            add_event(s, job_id, "succeeded", "the job succeeded")
    except Exception:
        store.delete(key)
        raise


def _omitted_errors(report: dict, omit: list[int]) -> dict:
    if not omit or "per_class_errors" not in report:
        return {}
    return {"omitted_class_errors": sum(report["per_class_errors"].get(str(c), 0) for c in omit)}


def _finite(v: float) -> float | None:
    return v if v == v and v not in (float("inf"), float("-inf")) else None
