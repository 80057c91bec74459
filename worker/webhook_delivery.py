"""One try of one webhook delivery: at least once, signed as Standard Webhooks says, retried with
exponential backoff up to DISTILLERY_WEBHOOK_MAX_ATTEMPTS tries.

Every try of a delivery carries the same ``webhook-id``, so a receiver that got it before can tell. A try has
one time limit for all of it, DISTILLERY_WEBHOOK_TIMEOUT_SECONDS (httpx's own timeouts bound each read, so a
receiver trickling one byte at a time would hold the worker for ever). A delivery that can never be made (a URL
that cannot be sent, an error of our own) fails at once rather than stay pending."""

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import or_, update
from standardwebhooks.webhooks import Webhook

from core.config import Settings, get_settings
from core.db import session_scope
from core.logging_setup import hide_http_client_urls
from core.queue import enqueue_delivery
from core.tables import Job, WebhookDelivery, WebhookEndpoint
from core.webhook_addresses import url_problem
from models.statuses import DeliveryStatus

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 3600
USER_AGENT = "Distillery-Webhooks/1"
hide_http_client_urls()  # httpx logs each request's whole URL, and some receivers carry their token in it


def backoff_seconds(tries: int, settings: Settings) -> float:
    """Wait after the ``tries``-th failed try: base, 2·base, 4·base, ..., at most an hour."""
    return min(MAX_BACKOFF_SECONDS, settings.webhook_backoff_seconds * 2 ** (tries - 1))


def deliver(delivery_id: str) -> None:
    settings = get_settings()
    t = datetime.now(UTC)
    # A try ends at its time limit; the margin covers the database writes around it.
    busy_for = timedelta(seconds=settings.webhook_timeout_seconds + 60)
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
    try:
        status_code, error, final = _post(url, delivery_id, body, secret, settings)
    except Exception as exc:  # a bug or a URL no client can send: trying again would fail the same way
        log.exception("webhook %s: the try failed on our side", delivery_id)
        status_code, error, final = None, f"the delivery could not be made ({type(exc).__name__})", True
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
    try:
        parts = urlsplit(url)
    except ValueError:
        return "an invalid URL"
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
        status = asyncio.run(asyncio.wait_for(_send(url, body, headers, settings.webhook_timeout_seconds),
                                              settings.webhook_timeout_seconds))
    except TimeoutError:
        return None, f"the receiver did not answer within {settings.webhook_timeout_seconds:g} s", False
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:  # the same URL fails the same way every time
        return None, f"{type(exc).__name__}: the webhook URL cannot be sent", True
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {_without_url(str(exc), url)}"[:500], False
    if 200 <= status < 300:
        return status, None, False
    return status, f"the receiver answered {status}", False


async def _send(url: str, body: str, headers: dict, timeout: float) -> int:
    # No redirects: a receiver could otherwise bounce the request to an address the check above refuses.
    # Streamed and closed unread: only the status matters, so a receiver's long body costs nothing.
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client, \
            client.stream("POST", url, content=body, headers=headers) as r:
        return r.status_code


def _without_url(text: str, url: str) -> str:
    """An error's text with the URL cut to its host: some receivers carry their token in the path or query."""
    return text.replace(url, _host(url))
