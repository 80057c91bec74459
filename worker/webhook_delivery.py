"""One try of one webhook delivery: at least once, signed as Standard Webhooks says, retried with
exponential backoff up to DISTILLERY_WEBHOOK_MAX_ATTEMPTS tries.

Every try of a delivery carries the same ``webhook-id``, so a receiver that got it before can tell."""

import json
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import or_, update
from standardwebhooks.webhooks import Webhook

from app.config import Settings, get_settings
from app.db import session_scope
from app.queue import enqueue_delivery
from app.tables import Job, WebhookDelivery, WebhookEndpoint
from app.webhook_addresses import url_problem
from models.statuses import DeliveryStatus

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 3600
USER_AGENT = "Distillery-Webhooks/1"


def backoff_seconds(tries: int, settings: Settings) -> float:
    """Wait after the ``tries``-th failed try: base, 2·base, 4·base, ..., at most an hour."""
    return min(MAX_BACKOFF_SECONDS, settings.webhook_backoff_seconds * 2 ** (tries - 1))


def deliver(delivery_id: str) -> None:
    settings = get_settings()
    t = datetime.now(UTC)
    # httpx's timeout bounds each phase (connect, write, each read), not the whole try: leave room for all of
    # them. A try that still outlasts this may be made again, which at-least-once allows.
    busy_for = timedelta(seconds=4 * settings.webhook_timeout_seconds + 60)
    with session_scope() as s:
        # One try at a time: a task sent twice (the reaper's resend, a broker's redelivery) does not post twice.
        took = s.execute(update(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= t + timedelta(seconds=1),
            or_(WebhookDelivery.busy_until.is_(None), WebhookDelivery.busy_until < t),
        ).values(busy_until=t + busy_for)).rowcount
        if not took:
            return
        d = s.get(WebhookDelivery, delivery_id)
        owner = s.get(WebhookEndpoint, d.endpoint_id) if d.endpoint_id else s.get(Job, d.job_id)
        secret = owner.secret if d.endpoint_id else owner.webhook_secret
        url, body, tries = d.url, json.dumps(d.payload, separators=(",", ":")), len(d.attempts)
    status_code, error, final = _post(url, delivery_id, body, secret, settings)
    tries += 1
    ok = error is None
    retry = not ok and not final and tries < settings.webhook_max_attempts
    wait = backoff_seconds(tries, settings)
    done = datetime.now(UTC)
    with session_scope() as s:
        d = s.get(WebhookDelivery, delivery_id)
        if d is None:  # its endpoint was deleted meanwhile
            return
        d.attempts = [*d.attempts, {"at": done.isoformat(), "status_code": status_code, "error": error}]
        d.busy_until = None
        if ok:
            d.status, d.delivered_at, d.next_attempt_at = DeliveryStatus.DELIVERED, done, None
        elif retry:
            d.next_attempt_at = d.sent_at = done + timedelta(seconds=wait)
        else:
            d.status, d.next_attempt_at = DeliveryStatus.FAILED, None
    where = _host(url)  # never the whole URL: some receivers carry their token in it
    if ok:
        log.info("webhook %s delivered to %s (%s)", delivery_id, where, status_code)
    elif retry:
        log.warning("webhook %s to %s: try %d failed (%s); next in %.0f s", delivery_id, where, tries, error, wait)
        try:
            enqueue_delivery(delivery_id, countdown=wait)
        except Exception as exc:  # the reaper sends it once its time has come
            log.warning("webhook %s: retry not sent (%s); the reaper will send it", delivery_id, exc)
    else:
        log.warning("webhook %s to %s failed for good after %d tries: %s", delivery_id, where, tries, error)


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}"


def _post(url: str, delivery_id: str, body: str, secret: str,
          settings: Settings) -> tuple[int | None, str | None, bool]:
    """(status code, error or None, whether the failure is final)."""
    problem = url_problem(url, settings.webhook_allow_private)
    if problem:  # a host that does not resolve now may later: only a refused address ends the delivery
        return None, str(problem), problem.lasting
    at = datetime.now(UTC)
    headers = {"content-type": "application/json", "user-agent": USER_AGENT, "webhook-id": delivery_id,
               "webhook-timestamp": str(int(at.timestamp())),
               "webhook-signature": Webhook(secret).sign(delivery_id, at, body)}
    try:
        # No redirects: a receiver could otherwise bounce the request to an address the check above refuses.
        # Streamed and closed unread: only the status matters, so a receiver's long body costs nothing.
        with httpx.stream("POST", url, content=body, headers=headers, timeout=settings.webhook_timeout_seconds,
                          follow_redirects=False) as r:
            status = r.status_code
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500], False
    if 200 <= status < 300:
        return status, None, False
    return status, f"the receiver answered {status}", False
