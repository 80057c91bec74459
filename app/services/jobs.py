"""What the job routes do, under them: submit (idempotent, counted under the tenant's quota lock, stored
before it is queued), cancel, delete, and find a student to download. Keyword-only; each raises a Problem
the route turns into its answer, and returns rows the route shapes."""

import hashlib
import logging
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.problems import Problem, invalid
from app.quotas import check_active_jobs, check_storage, expected_output_bytes, hold_quota_lock
from app.retention import delete_job as delete_job_rows_and_files
from app.schemas import JobCreate
from app.scoping import fetch_owned
from app.services import text_jobs
from app.services.job_checks import check_job, students_of
from core import testhooks
from core.config import Settings
from core.ids import new_id, new_webhook_secret
from core.queue import enqueue_job
from core.store import ArtifactStore
from core.tables import Event, Job, JobTeacher, StudentExport, WebhookDelivery
from models.export import EXPORT_FORMATS
from models.sizing import network_size
from models.statuses import TERMINAL, DeliveryStatus, JobStatus
from models.text.students import TEXT_ARCHS

log = logging.getLogger(__name__)


def fetch_job(session: Session, job_id: str, tenant: str) -> Job:
    return fetch_owned(session, Job, job_id, tenant, "job")


def submit_job(*, session: Session, store: ArtifactStore, settings: Settings, tenant: str, body: JobCreate,
               idempotency_key: str | None) -> Job:
    """The job, stored and queued; or, for a retry with the same key and body, the job the first try made."""
    request_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    if idempotency_key:
        earlier = _replay(session, tenant, idempotency_key, request_hash)
        if earlier is not None:  # a retry after a lost answer: the same answer, the webhook secret included
            return earlier
    teachers = check_job(session=session, store=store, settings=settings, tenant=tenant, body=body)
    spec = body.stored()
    runs = (len(body.members()) or 1) + (1 if body.baseline else 0)
    parameters = max(text_jobs.student_parameters(body, teachers[0]) if student.arch in TEXT_ARCHS
                     else network_size(student, teachers[0].input_shape, teachers[0].num_classes).parameters
                     for _, student in students_of(body))
    reserved = expected_output_bytes(parameters, len(spec.get("export_formats") or EXPORT_FORMATS), runs)
    # Counted and inserted under the tenant's lock, in the transaction that commits the job: concurrent
    # submissions are admitted one at a time.
    hold_quota_lock(session, tenant)
    check_active_jobs(session, tenant, settings)
    check_storage(session, tenant, settings, reserved)
    job = Job(id=new_id("job"), tenant_id=tenant, status=JobStatus.QUEUED, transfer_set_id=body.transfer_set_id,
              spec=spec, total_epochs=body.hyperparameters.epochs * runs, idempotency_key=idempotency_key,
              request_hash=request_hash, reserved_bytes=reserved,
              sent_at=datetime.now(UTC))  # sent just below; else the reaper sends it
    job.teachers = [JobTeacher(position=i, teacher_id=t) for i, t in enumerate(body.teacher_ids)]
    if body.webhook_url:
        job.webhook_secret = new_webhook_secret()
    session.add(job)
    try:
        session.flush()
    except IntegrityError:  # the same key, committed by a concurrent request a moment ago
        session.rollback()
        return _replay(session, tenant, idempotency_key, request_hash)
    session.add(Event(job_id=job.id, type=JobStatus.QUEUED, message="the job is queued"))
    session.commit()
    testhooks.pause("api_after_commit")
    try:
        enqueue_job(job.id, body.hyperparameters.devices)
    except Exception as exc:
        # Not queued means not accepted: remove the job rather than leave one that can never run.
        log.exception("could not enqueue %s", job.id)
        session.delete(job)
        session.commit()
        raise Problem(503, f"the broker is unreachable ({type(exc).__name__}); nothing was created, submit the "
                           "job again", kind="broker-unavailable") from None
    log.info("job %s queued for tenant %s", job.id, tenant, extra={"job_id": job.id, "tenant": tenant})
    return job


def _replay(session: Session, tenant: str, key: str, request_hash: str) -> Job | None:
    earlier = session.scalar(select(Job).where(Job.tenant_id == tenant, Job.idempotency_key == key))
    if earlier is not None and earlier.request_hash != request_hash:
        raise Problem(409, f"Idempotency-Key {key!r} was already used for job {earlier.id} with a different "
                           "body; use a new key for a new job", kind="idempotency-key-reused")
    return earlier


def delete_ended_job(*, session: Session, store: ArtifactStore, tenant: str, job_id: str) -> None:
    job = fetch_job(session, job_id, tenant)
    if job.status not in TERMINAL:
        raise Problem(409, f"job {job_id} is {job.status}; cancel it (POST /v1/jobs/{job_id}/cancel) and delete it "
                           "once it has ended", kind="job-not-ended")
    pending = session.scalar(select(func.count()).select_from(WebhookDelivery).where(
        WebhookDelivery.job_id == job_id, WebhookDelivery.status == DeliveryStatus.PENDING))
    if pending:  # deleting would drop them with the job: its receivers would never hear how it ended
        raise Problem(409, f"job {job_id} has {pending} webhook deliveries still being tried; delete it once they "
                           f"have been delivered or have failed (GET /v1/jobs/{job_id}/webhook-deliveries)",
                      kind="webhooks-pending")
    delete_job_rows_and_files(session, store, job)


def cancel_job(*, session: Session, tenant: str, job_id: str) -> Job:
    """A queued job is cancelled at once; a running one is asked to stop at its next check."""
    job = fetch_job(session, job_id, tenant)
    if job.status in TERMINAL:
        raise Problem(409, f"job {job_id} has already ended ({job.status}); there is nothing to cancel",
                      kind="job-finished")
    cancelled_now = session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(status=JobStatus.CANCELLED, cancel_requested=True, finished_at=func.now())
    ).rowcount
    if cancelled_now:
        session.add(Event(job_id=job_id, type=JobStatus.CANCELLED, message="cancelled before it started"))
    else:
        session.execute(update(Job).where(Job.id == job_id).values(cancel_requested=True))
        session.add(Event(job_id=job_id, type="cancel_requested", message="cancel requested; the worker stops "
                                                                          "at its next check"))
    session.commit()
    session.refresh(job)
    return job


def student_export(*, session: Session, tenant: str, job_id: str, format: str) -> StudentExport:
    """The job's exported student in ``format``; a 409 says why there is none yet, or none of that format."""
    job = fetch_job(session, job_id, tenant)
    if format not in EXPORT_FORMATS:
        raise invalid(f"unknown student format {format!r}; available: {', '.join(EXPORT_FORMATS)}", field="format")
    if job.status != JobStatus.SUCCEEDED:
        raise Problem(409, f"job {job_id} is {job.status}; the student can be downloaded once it has succeeded",
                      kind="student-not-ready")
    export = next((e for e in job.exports if e.format == format), None)
    if export is None:
        reason = ((job.result or {}).get("exports", {}).get(format) or {}).get("error", "it was not exported")
        raise Problem(409, f"job {job_id} has no {format} student: {reason}; available: "
                           f"{', '.join(sorted(e.format for e in job.exports))}", kind="format-unavailable")
    return export
