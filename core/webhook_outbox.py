"""Webhook deliveries are written by the transaction that records their event, and sent after it commits.

Every place that ends or starts a job records an ``Event`` (the worker, the API's cancel, the reaper), so the
deliveries are made here, from the events being flushed, rather than at each of those places. A delivery that
was written but whose task never reached the broker is sent again by the reaper."""

import logging
from datetime import UTC, datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from core.ids import new_id
from core.tables import Event, Job, WebhookDelivery, WebhookEndpoint
from models.statuses import TERMINAL, DeliveryStatus

log = logging.getLogger(__name__)

# A job's terminal events are named after the status they record.
TERMINAL_EVENT_TYPES = tuple(f"job.{status}" for status in TERMINAL)
EVENT_TYPES = {"started": "job.started", **{status: f"job.{status}" for status in TERMINAL}}
_TO_SEND = "webhook_deliveries_to_send"


def payload(event_type: str, job: Job, message: str, at: datetime) -> dict:
    """The Standard Webhooks envelope: type, timestamp, data. Receivers fetch the job for the rest."""
    return {"type": event_type, "timestamp": at.isoformat().replace("+00:00", "Z"),
            "data": {"job_id": job.id, "status": event_type.removeprefix("job."), "message": message,
                     "url": f"/v1/jobs/{job.id}"}}


@event.listens_for(Session, "before_flush")
def _write_deliveries(session: Session, _context, _instances) -> None:
    events = [e for e in session.new if isinstance(e, Event) and e.type in EVENT_TYPES]
    if not events:
        return
    with session.no_autoflush:
        for ev in events:
            job = session.get(Job, ev.job_id)
            if job is None:
                continue
            event_type = EVENT_TYPES[ev.type]
            receivers: list[tuple[str | None, str]] = []
            if job.spec.get("webhook_url") and event_type in TERMINAL_EVENT_TYPES:
                receivers.append((None, job.spec["webhook_url"]))
            endpoints = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == job.tenant_id))
            receivers += [(e.id, e.url) for e in endpoints if event_type in e.events]
            t = datetime.now(UTC)
            for endpoint_id, url in receivers:
                delivery = WebhookDelivery(
                    id=new_id("delivery"), tenant_id=job.tenant_id, endpoint_id=endpoint_id, job_id=job.id,
                    url=url, event_type=event_type, payload=payload(event_type, job, ev.message, t),
                    status=DeliveryStatus.PENDING, attempts=[], next_attempt_at=t, sent_at=t, created_at=t)
                session.add(delivery)
                session.info.setdefault(_TO_SEND, []).append(delivery.id)


@event.listens_for(Session, "after_commit")
def _send_deliveries(session: Session) -> None:
    from core.queue import enqueue_delivery

    for delivery_id in session.info.pop(_TO_SEND, []):
        try:
            enqueue_delivery(delivery_id)
        except Exception as exc:  # written and committed: the reaper sends it
            log.warning("webhook delivery %s not sent (%s: %s); the reaper will send it", delivery_id,
                        type(exc).__name__, exc)


@event.listens_for(Session, "after_rollback")
def _forget_deliveries(session: Session) -> None:
    session.info.pop(_TO_SEND, None)
