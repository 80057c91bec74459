"""The job routes: each parses its request, calls ``app.services.jobs`` (submit, cancel, delete, find a student)
and shapes the answer; reading a job, its metrics and events, and streaming them (SSE), are here."""

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, StreamingResponse
from sqlalchemy import func, select

from app import stream_slots
from app.auth import CallerDep, TenantDep, key_still_valid
from app.deps import SessionDep, SettingsDep, StoreDep
from app.problems import ERROR_RESPONSES, MAX_OFFSET, ProblemDetail, invalid
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
from app.scoping import Limit, Offset, page
from app.services.jobs import cancel_job as cancel
from app.services.jobs import delete_ended_job, fetch_job, student_export, submit_job
from core.db import session_scope
from core.tables import Event, Job, Metric
from models.export import EXPORT_FORMATS
from models.statuses import TERMINAL, JobStatus

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
    job = submit_job(session=session, store=store, settings=settings, tenant=tenant, body=body,
                     idempotency_key=idempotency_key)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return _created(job)


def _created(job: Job) -> JobPublic:
    """The answer to the request that created the job (or to its retry): the only one with the webhook secret."""
    return to_public(job).model_copy(update={"webhook_secret": job.webhook_secret})


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


@router.get("/{job_id}", response_model=JobPublic)
def get_job(job_id: str, tenant: TenantDep, session: SessionDep) -> JobPublic:
    return to_public(fetch_job(session, job_id, tenant))


@router.delete("/{job_id}", status_code=204, responses={409: {"model": ProblemDetail}})
def delete_job(job_id: str, tenant: TenantDep, session: SessionDep, store: StoreDep) -> Response:
    """Delete an ended job: its students, checkpoints, metric series and events. Its id then answers 404."""
    delete_ended_job(session=session, store=store, tenant=tenant, job_id=job_id)
    return Response(status_code=204)


@router.post("/{job_id}/cancel", response_model=JobPublic, responses={409: {"model": ProblemDetail}})
def cancel_job(job_id: str, tenant: TenantDep, session: SessionDep) -> JobPublic:
    """Cancel a queued job at once, or ask a running one to stop at its next check."""
    return to_public(cancel(session=session, tenant=tenant, job_id=job_id))


@router.get("/{job_id}/metrics", response_model=JobMetrics)
def get_job_metrics(job_id: str, tenant: TenantDep, session: SessionDep) -> JobMetrics:
    """Per-epoch metric series for each run of the job (distilled, baseline, ...)."""
    job = fetch_job(session, job_id, tenant)
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
    fetch_job(session, job_id, tenant)
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
        fetch_job(s, job_id, tenant)


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
    export = student_export(session=session, tenant=tenant, job_id=job_id, format=format)
    artifact = export.artifact
    etag = f'"{artifact.sha256}"'
    if if_none_match and (if_none_match.strip() == "*" or etag in [t.strip() for t in if_none_match.split(",")]):
        return Response(status_code=304, headers={"ETag": etag})
    return FileResponse(store.open_local(artifact.key, artifact.sha256), media_type="application/octet-stream",
                        filename=f"{job_id}-student.{EXPORT_FORMATS[format]}",
                        headers={"ETag": etag})
