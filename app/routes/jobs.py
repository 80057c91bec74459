import asyncio
import hashlib
import logging
import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, StreamingResponse
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app import stream_slots, text_jobs
from app.auth import CallerDep, TenantDep, key_still_valid
from app.deps import SessionDep, SettingsDep, StoreDep
from app.problems import ERROR_RESPONSES, MAX_OFFSET, Problem, ProblemDetail, invalid
from app.quotas import check_active_jobs, check_storage, expected_output_bytes, hold_quota_lock
from app.retention import delete_job as delete_job_rows_and_files
from app.schemas import (
    EventList,
    EventPublic,
    JobCreate,
    JobList,
    JobMetrics,
    JobPublic,
    MetricPoint,
    Progress,
    RunMetrics,
)
from app.scoping import Limit, Offset, fetch_owned, owned, page
from core import testhooks
from core.db import session_scope
from core.ids import new_id, new_webhook_secret
from core.queue import enqueue_job
from core.tables import Event, Job, JobTeacher, Metric, Teacher, TransferSet, WebhookDelivery
from core.webhook_addresses import url_problem
from models.export import EXPORT_FORMATS
from models.input_dtypes import accepts
from models.sizing import NetworkTooLarge, check_network_size, network_size
from models.statuses import TERMINAL, DeliveryStatus, JobStatus
from models.text.students import TEXT_ARCHS
from models.zoo import build_student, check_input_dtype, load_state_dict_into

log = logging.getLogger(__name__)
router = APIRouter(prefix="/jobs", tags=["jobs"], responses=ERROR_RESPONSES)

SSE_POLL_SECONDS = 0.5
SSE_KEEPALIVE_SECONDS = 15.0
SSE_KEY_CHECK_SECONDS = 10.0  # a stream outlives a revoked or expired key by at most this long


def _progress(job: Job) -> Progress:
    eta = None
    if job.status == JobStatus.RUNNING and job.started_at and job.epoch >= 1:
        done = job.epoch + (job.step / job.steps_per_epoch if job.steps_per_epoch else 0.0)
        elapsed = (datetime.now(UTC) - job.started_at).total_seconds()
        eta = max(0.0, elapsed / done * (job.total_epochs - done))
    return Progress(epoch=job.epoch, total_epochs=job.total_epochs, step=job.step,
                    steps_per_epoch=job.steps_per_epoch, eta_seconds=eta)


def to_public(job: Job) -> JobPublic:
    spec = job.spec
    return JobPublic(
        id=job.id, status=job.status, teacher_ids=job.teacher_ids, transfer_set_id=job.transfer_set_id,
        student=spec["student"], hyperparameters=spec["hyperparameters"], baseline=spec["baseline"],
        omit_classes=spec["omit_classes"], bias_correction=spec["bias_correction"],
        validation_transfer_set_id=spec.get("validation_transfer_set_id"),
        student_init_weights=spec.get("student_init_weights"),
        sweep=spec.get("sweep"), budget=spec.get("budget"),
        export_formats=spec.get("export_formats") or JobCreate.model_fields["export_formats"].default_factory(),
        quantization_aware=bool(spec.get("quantization_aware")),
        quantization_aware_epochs=spec.get("quantization_aware_epochs") if spec.get("quantization_aware") else None,
        progress=_progress(job),
        cancel_requested=job.cancel_requested, error=job.error, result=job.result,
        student_formats=sorted(e.format for e in job.exports), webhook_url=spec.get("webhook_url"),
        created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at,
    )


def _check(session, store, settings, body: JobCreate, tenant: str) -> list[Teacher]:
    """Every reason a job could not run that is knowable now is a 422 naming the field."""
    teachers = []
    for i, tid in enumerate(body.teacher_ids):
        teacher = owned(session, Teacher, tid, tenant)
        if teacher is None:
            raise invalid(f"teacher {tid!r} does not exist; upload it with POST /v1/teachers",
                          field=f"teacher_ids.{i}", kind="unknown-reference")
        teachers.append(teacher)
    first = teachers[0]
    for i, t in enumerate(teachers[1:], start=1):
        if t.input_shape != first.input_shape or t.num_classes != first.num_classes:
            raise invalid(
                f"ensemble teachers must agree on input shape and classes: {first.id} takes {first.input_shape} "
                f"with {first.num_classes} classes, {t.id} takes {t.input_shape} with {t.num_classes}",
                field=f"teacher_ids.{i}", kind="incompatible-teachers")
        if (t.input_dtype or "float32") != (first.input_dtype or "float32"):
            raise invalid(f"ensemble teachers must take the same input dtype: {first.id} takes {first.input_dtype}, "
                          f"{t.id} takes {t.input_dtype}", field=f"teacher_ids.{i}", kind="incompatible-teachers")
    text_jobs.check_teachers(body, teachers)
    hp = body.hyperparameters
    sets = {"transfer_set_id": body.transfer_set_id}
    if body.validation_transfer_set_id:
        sets["validation_transfer_set_id"] = body.validation_transfer_set_id
    for field, ts_id in sets.items():
        ts = owned(session, TransferSet, ts_id, tenant)
        if ts is None:
            raise invalid(f"transfer set {ts_id!r} does not exist; create it with POST /v1/transfer-sets",
                          field=field, kind="unknown-reference")
        if ts.kind == "text":  # raw texts: the teacher's tokenizer makes them ids shaped as it takes
            text_jobs.check_text_set(ts, teachers, field)
        elif ts.sample_shape != first.input_shape:
            raise invalid(f"transfer set {ts_id} has samples shaped {ts.sample_shape}, but the teacher takes "
                          f"{first.input_shape}", field=field, kind="incompatible-transfer-set")
        elif not accepts(first.input_dtype or "float32", ts.dtype or "float32"):
            raise invalid(f"transfer set {ts_id} holds {ts.dtype} samples, but teacher {first.id} takes "
                          f"{first.input_dtype} inputs (its input_dtype); upload the set with {first.input_dtype} "
                          "inputs, or the teacher with the input_dtype its data has",
                          field=field, kind="incompatible-transfer-set")
        elif ts.num_classes is not None and ts.num_classes > first.num_classes:
            raise invalid(f"transfer set {ts_id} has labels up to {ts.num_classes - 1}, but the teacher has only "
                          f"{first.num_classes} classes (0..{first.num_classes - 1})",
                          field=field, kind="incompatible-transfer-set")
        if field == "validation_transfer_set_id" and not ts.labelled:
            raise invalid(f"validation set {ts_id} has no labels; validation needs them", field=field)
        if field == "transfer_set_id" and not ts.labelled:
            if hp.hard_weight > 0:
                raise invalid(f"transfer set {ts_id} has no labels, so there is no hard loss: set "
                              "hard_weight to 0", field="hyperparameters.hard_weight")
            if body.baseline:
                raise invalid("a baseline trains on labels, and this transfer set has none", field="baseline")
            if body.omit_classes:
                raise invalid("omit_classes needs a labelled transfer set", field="omit_classes")
    bad = [c for c in body.omit_classes if c >= first.num_classes]
    if bad:
        raise invalid(f"omit_classes {bad} are not classes of the teacher (0..{first.num_classes - 1})",
                      field="omit_classes")
    if len(body.omit_classes) >= first.num_classes:
        raise invalid("omit_classes leaves no class to train on", field="omit_classes")
    if body.sweep is not None:
        try:
            body.sweep.members(hp)
        except ValueError as exc:
            raise invalid(f"a sweep member is invalid: {exc}", field="sweep") from None
    if hp.augmenting and len(first.input_shape) != 3:
        raise invalid(f"augmentation needs image inputs shaped [C, H, W]; the teacher takes {first.input_shape}",
                      field="hyperparameters.augmentation")
    if body.validation_transfer_set_id and hp.auto_temperature and hp.validation_folds > 1:
        raise invalid("validation_folds splits the transfer set into folds, and this job brings its own "
                      "validation set: drop validation_folds or validation_transfer_set_id",
                      field="hyperparameters.validation_folds")
    if body.bias_correction and not body.omit_classes:
        raise invalid("bias_correction applies to omitted classes: set omit_classes too", field="bias_correction")
    # The student's size is computed from its spec, never by building it: a spec too large to build is
    # refused in microseconds, with no memory spent.
    text_jobs.check_student(body, teachers, settings)
    text_jobs.check_not_text_exports(body)
    for where, student in _students(body):
        try:
            check_input_dtype(student.arch, first.input_dtype or "float32")
            if student.arch not in TEXT_ARCHS:  # a text student's size depends on the teacher's vocabulary
                check_network_size(student, first.input_shape, first.num_classes, settings)
        except NetworkTooLarge as exc:
            field = exc.field.replace("student", where, 1) if exc.field.startswith("student") else "teacher_ids.0"
            raise invalid(str(exc), field=field, kind="student-too-large") from None
        except ValueError as exc:
            raise invalid(str(exc), field=where, kind="incompatible-student") from None
    if body.student_init_weights:
        student = build_student(body.student, first.input_shape, first.num_classes, first.input_dtype or "float32",
                                text=first.arch_config if first.format == "huggingface" else None)
        _check_init_weights(session, store, body.student_init_weights, student, tenant)
    if body.webhook_url and (problem := url_problem(body.webhook_url, settings.webhook_allow_private)):
        raise invalid(str(problem), field="webhook_url", kind="webhook-url-refused")
    return teachers


def _students(body: JobCreate) -> list[tuple[str, object]]:
    """(field, spec) of every student the job trains: the sweep's students where it names them."""
    students = (body.sweep.students if body.sweep else None) or []
    return [(f"sweep.students.{i}", s) for i, s in enumerate(students)] or [("student", body.student)]


def _check_init_weights(session, store, network_id: str, student, tenant: str) -> None:
    network = owned(session, Teacher, network_id, tenant)
    field = "student_init_weights"
    if network is None:
        raise invalid(f"network {network_id!r} does not exist; upload the weights with POST /v1/teachers "
                      "(format safetensors)", field=field, kind="unknown-reference")
    if network.format != "safetensors":
        raise invalid(f"initial weights must be a safetensors state dict; {network_id} is {network.format}",
                      field=field)
    try:
        load_state_dict_into(student, store.open_local(network.artifact.key, network.artifact.sha256))
    except ValueError as exc:
        raise invalid(f"the weights of {network_id} do not fit the student: {exc}", field=field) from None


@router.post("", status_code=202, response_model=JobPublic,
             responses={409: {"model": ProblemDetail}, 413: {"model": ProblemDetail}, 429: {"model": ProblemDetail},
                        503: {"model": ProblemDetail}})
def create_job(
    body: JobCreate,
    tenant: TenantDep,
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200, description=(
        "Retrying with the same key and body returns the same job; the same key with another body is a 409."
    ))] = None,
) -> JobPublic:
    """Submit a distillation job. The job is stored before it is queued; poll it at ``Location``."""
    request_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    if idempotency_key:
        earlier = _replay(session, tenant, idempotency_key, request_hash)
        if earlier is not None:  # a retry after a lost answer: the same answer, the webhook secret included
            response.headers["Location"] = f"/v1/jobs/{earlier.id}"
            return _created(earlier)
    teachers = _check(session, store, settings, body, tenant)
    spec = body.stored()
    runs = (len(body.members()) or 1) + (1 if body.baseline else 0)
    parameters = max(text_jobs.student_parameters(body, teachers[0]) if student.arch in TEXT_ARCHS
                     else network_size(student, teachers[0].input_shape, teachers[0].num_classes).parameters
                     for _, student in _students(body))
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
        earlier = _replay(session, tenant, idempotency_key, request_hash)
        response.headers["Location"] = f"/v1/jobs/{earlier.id}"
        return _created(earlier)
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
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return _created(job)


def _created(job: Job) -> JobPublic:
    """The answer to the request that created the job (or to its retry): the only one with the webhook secret."""
    return to_public(job).model_copy(update={"webhook_secret": job.webhook_secret})


def _replay(session, tenant: str, key: str, request_hash: str) -> Job | None:
    earlier = session.scalar(select(Job).where(Job.tenant_id == tenant, Job.idempotency_key == key))
    if earlier is not None and earlier.request_hash != request_hash:
        raise Problem(409, f"Idempotency-Key {key!r} was already used for job {earlier.id} with a different "
                           "body; use a new key for a new job", kind="idempotency-key-reused")
    return earlier


@router.get("", response_model=JobList)
def list_jobs(
    tenant: TenantDep,
    session: SessionDep,
    status: JobStatus | None = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> JobList:
    query = select(Job).where(Job.tenant_id == tenant)
    if status:
        query = query.where(Job.status == status)
    rows, count = page(session, query, Job.created_at.desc(), Job.id.desc(), limit=limit, offset=offset)
    return JobList(data=[to_public(j) for j in rows], count=count)


def fetch(session, job_id: str, tenant: str) -> Job:
    return fetch_owned(session, Job, job_id, tenant, "job")


@router.get("/{job_id}", response_model=JobPublic)
def get_job(job_id: str, tenant: TenantDep, session: SessionDep) -> JobPublic:
    return to_public(fetch(session, job_id, tenant))


@router.delete("/{job_id}", status_code=204, responses={409: {"model": ProblemDetail}})
def delete_job(job_id: str, tenant: TenantDep, session: SessionDep, store: StoreDep) -> Response:
    """Delete an ended job: its students, checkpoints, metric series and events. Its id then answers 404."""
    job = fetch(session, job_id, tenant)
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
    return Response(status_code=204)


@router.post("/{job_id}/cancel", response_model=JobPublic, responses={409: {"model": ProblemDetail}})
def cancel_job(job_id: str, tenant: TenantDep, session: SessionDep) -> JobPublic:
    """Cancel a queued job at once, or ask a running one to stop at its next check."""
    job = fetch(session, job_id, tenant)
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
    return to_public(job)


@router.get("/{job_id}/metrics", response_model=JobMetrics)
def get_job_metrics(job_id: str, tenant: TenantDep, session: SessionDep) -> JobMetrics:
    """Per-epoch metric series for each run of the job (distilled, baseline, ...)."""
    job = fetch(session, job_id, tenant)
    runs = []
    for run in job.runs:
        series: dict[str, list[MetricPoint]] = {}
        for m in session.scalars(select(Metric).where(Metric.run_id == run.id).order_by(Metric.key, Metric.step)):
            series.setdefault(m.key, []).append(MetricPoint(step=m.step, value=m.value))
        runs.append(RunMetrics(id=run.id, name=run.name, status=run.status, result=run.result, metrics=series))
    return JobMetrics(job_id=job.id, runs=runs)


@router.get("/{job_id}/events", response_model=EventList)
def list_job_events(
    job_id: str,
    tenant: TenantDep,
    session: SessionDep,
    after: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Only events with an id above this.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventList:
    fetch(session, job_id, tenant)
    rows = list(session.scalars(
        select(Event).where(Event.job_id == job_id, Event.id > after).order_by(Event.id).limit(limit)
    ))
    count = session.scalar(select(func.count()).select_from(Event).where(Event.job_id == job_id))
    return EventList(data=[EventPublic.model_validate(e) for e in rows], count=count)


def _events_after(job_id: str, after: int) -> tuple[str, list[Event]]:
    with session_scope() as s:
        status = s.scalar(select(Job.status).where(Job.id == job_id))
        rows = list(s.scalars(select(Event).where(Event.job_id == job_id, Event.id > after).order_by(Event.id)))
    return status, rows


def _sse(event: Event) -> str:
    data = EventPublic.model_validate(event).model_dump_json()
    return f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n"


@router.get(
    "/{job_id}/events/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events, one per job event."}},
)
async def stream_job_events(
    job_id: str,
    caller: CallerDep,
    settings: SettingsDep,
    request: Request,
    last_event_id: Annotated[str | None, Header(description="Resume after this event id.")] = None,
):
    """The job's events as Server-Sent Events, live; the stream ends when the job has ended. It holds no
    database connection between its polls; each API key may hold DISTILLERY_MAX_STREAMS_PER_KEY open."""
    after = _resume_after(last_event_id)
    await run_in_threadpool(lambda: fetch_in_new_session(job_id, caller.tenant_id))
    holder = caller.key_id or f"tenant:{caller.tenant_id}"
    stream_slots.take(holder, settings.max_streams_per_key)

    authorization = request.headers.get("authorization")

    async def events():
        nonlocal after
        quiet_since = key_checked = time.monotonic()
        while True:
            if time.monotonic() - key_checked > SSE_KEY_CHECK_SECONDS:
                if not await run_in_threadpool(key_still_valid, authorization):
                    yield ('event: error\ndata: {"detail": "the API key was revoked or has expired; '
                           'reconnect with a valid key"}\n\n')
                    return
                key_checked = time.monotonic()
            # Status first: the final event is committed with the final status, so once the status is
            # terminal, this fetch of events holds everything there will ever be.
            status, rows = await run_in_threadpool(_events_after, job_id, after)
            for event in rows:
                yield _sse(event)
                after = event.id
            if status in TERMINAL or status is None:
                return
            if rows:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > SSE_KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"
                quiet_since = time.monotonic()
            if await request.is_disconnected():
                return
            await asyncio.sleep(SSE_POLL_SECONDS)

    return stream_slots.SlotStreamingResponse(events(), holder=holder, media_type="text/event-stream",
                                              headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _resume_after(last_event_id: str | None) -> int:
    """The event id to resume after. A header that is no decimal number is ignored (isdigit() alone takes "²",
    which int() refuses); a number past any event id is a 422, before int() meets its digit limit."""
    if not (last_event_id and last_event_id.isascii() and last_event_id.isdigit()):
        return 0
    if len(last_event_id) > len(str(MAX_OFFSET)) or int(last_event_id) > MAX_OFFSET:
        raise invalid(f"Last-Event-ID must be the id of an event this stream sent, at most {MAX_OFFSET}; got "
                      f"{len(last_event_id)} digits", field="Last-Event-ID")
    return int(last_event_id)


def fetch_in_new_session(job_id: str, tenant: str) -> None:
    with session_scope() as s:
        fetch(s, job_id, tenant)


@router.get(
    "/{job_id}/student",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The exported student."},
               304: {"description": "Not modified: the If-None-Match ETag is current."},
               409: {"model": ProblemDetail}},
)
def download_student(
    job_id: str,
    tenant: TenantDep,
    session: SessionDep,
    store: StoreDep,
    format: Annotated[str, Query(description=f"One of: {', '.join(EXPORT_FORMATS)}.")] = "torchscript",
    if_none_match: Annotated[str | None, Header()] = None,
):
    """The student with a plain softmax (T = 1): its output rows are probabilities."""
    job = fetch(session, job_id, tenant)
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
    artifact = export.artifact
    etag = f'"{artifact.sha256}"'
    if if_none_match and (if_none_match.strip() == "*" or etag in [t.strip() for t in if_none_match.split(",")]):
        return Response(status_code=304, headers={"ETag": etag})
    return FileResponse(store.open_local(artifact.key, artifact.sha256), media_type="application/octet-stream",
                        filename=f"{job_id}-student.{EXPORT_FORMATS[format]}",
                        headers={"ETag": etag})
