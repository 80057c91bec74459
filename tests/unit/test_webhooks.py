"""Webhooks in-process on the embedded database: who may receive them, the outbox, one try of a delivery
against a real HTTP server on loopback, and the reaper's resend. The whole path through real processes is in
tests/integration/test_webhooks.py."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.config import get_settings
from core.db import session_scope
from core.tables import WebhookDelivery
from core.webhook_addresses import url_problem
from tests.receiver import Receiver
from tests.unit.test_api import assert_problem, digits_id, job_body, teacher_id  # noqa: F401 (fixtures)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9000/hook", "http://localhost/hook", "http://10.1.2.3/", "http://192.168.0.7/",
    "http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
    # shared address space (one cloud's metadata service is at 100.100.100.200), and private IPv4 inside
    # IPv6 transition addresses (6to4, Teredo)
    "http://100.100.100.200/latest/meta-data/", "http://100.64.0.10/", "http://[2002:a9fe:a9fe::1]/",
    "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/", "http://[fc00::1]/", "http://[fe80::1]/",
])
def test_loopback_link_local_and_private_hosts_are_refused(url):
    problem = url_problem(url, allow_private=False)
    assert problem and problem.lasting and "DISTILLERY_WEBHOOK_ALLOW_PRIVATE" in str(problem)
    assert url_problem(url, allow_private=True) is None


@pytest.mark.parametrize(("url", "words"), [
    ("ftp://example.org/", "http"), ("http:///nohost", "host"), ("https://user:pw@example.org/", "password"),
    ("http://nowhere.invalid/", "does not resolve"),
])
def test_malformed_webhook_urls_are_refused_whatever_the_setting(url, words):
    problem = url_problem(url, allow_private=True) if words != "does not resolve" else url_problem(url, False)
    assert problem and words in str(problem)


def test_a_public_address_is_accepted():
    assert url_problem("https://93.184.215.14/hook", allow_private=False) is None


def test_private_webhook_urls_answer_422_on_jobs_and_endpoints(client, teacher_id, digits_id):  # noqa: F811
    r = client.post("/v1/jobs", json=job_body(teacher_id, digits_id, webhook_url="http://127.0.0.1:1/x"))
    assert_problem(r, 422, "127.0.0.1", "private", field="webhook_url")
    assert_problem(client.post("/v1/webhooks", json={"url": "http://10.0.0.1/x"}), 422, "10.0.0.1", field="url")
    assert_problem(client.post("/v1/webhooks", json={"url": "https://93.184.215.14/", "events": ["job.ended"]}),
                   422, field="events.0")
    assert client.get("/v1/jobs").json()["count"] == 0 and client.get("/v1/webhooks").json()["count"] == 0


def test_allowed_private_urls_are_accepted_and_the_secret_is_shown_once(client, monkeypatch, teacher_id,  # noqa: F811
                                                                        digits_id):  # noqa: F811
    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    r = client.post("/v1/webhooks", json={"url": "http://127.0.0.1:1/x"})
    assert r.status_code == 201 and r.json()["secret"].startswith("whsec_")
    assert r.headers["location"] == f"/v1/webhooks/{r.json()['id']}"
    listed = client.get("/v1/webhooks").json()
    assert listed["count"] == 1 and "secret" not in listed["data"][0]
    job = client.post("/v1/jobs", json=job_body(teacher_id, digits_id, webhook_url="http://127.0.0.1:1/job"))
    assert job.status_code == 202 and job.json()["webhook_secret"].startswith("whsec_")
    assert client.get(f"/v1/jobs/{job.json()['id']}").json()["webhook_secret"] is None
    assert client.delete(f"/v1/webhooks/{r.json()['id']}").status_code == 204
    assert_problem(client.get(f"/v1/webhooks/{r.json()['id']}/deliveries"), 404)


def test_cancelling_a_queued_job_writes_one_delivery_per_receiver(client, monkeypatch, teacher_id,  # noqa: F811
                                                                   digits_id):  # noqa: F811
    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    endpoint = client.post("/v1/webhooks", json={"url": "http://127.0.0.1:1/all",
                                                 "events": ["job.started", "job.cancelled"]}).json()
    client.post("/v1/webhooks", json={"url": "http://127.0.0.1:1/ok-only", "events": ["job.succeeded"]})
    job = client.post("/v1/jobs", json=job_body(teacher_id, digits_id, webhook_url="http://127.0.0.1:1/job")).json()
    assert client.get(f"/v1/jobs/{job['id']}/webhook-deliveries").json()["count"] == 0  # "queued" sends nothing
    assert client.post(f"/v1/jobs/{job['id']}/cancel").status_code == 200
    rows = client.get(f"/v1/jobs/{job['id']}/webhook-deliveries").json()["data"]
    assert sorted((r["endpoint_id"] or "", r["url"].rsplit("/", 1)[1]) for r in rows) == sorted(
        [("", "job"), (endpoint["id"], "all")])
    assert {r["event_type"] for r in rows} == {"job.cancelled"} and {r["status"] for r in rows} == {"pending"}
    assert len(client.get(f"/v1/webhooks/{endpoint['id']}/deliveries").json()["data"]) == 1


def test_another_tenants_deliveries_do_not_exist_for_you(client, monkeypatch, teacher_id, digits_id):  # noqa: F811
    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    job = client.post("/v1/jobs", json=job_body(teacher_id, digits_id)).json()
    with session_scope() as s:
        from core.tables import Job, Tenant

        s.add(Tenant(id="ten_other", name="other"))
        s.flush()
        s.get(Job, job["id"]).tenant_id = "ten_other"
    assert_problem(client.get(f"/v1/jobs/{job['id']}/webhook-deliveries"), 404)


@pytest.fixture
def receiver():
    server = Receiver(lambda path, _earlier: {"/moved": 302, "/down": 503}.get(path, 200))
    yield server
    server.close()


def _cancelled_job_delivery(client, teacher_id, digits_id, url: str) -> str:  # noqa: F811
    job = client.post("/v1/jobs", json=job_body(teacher_id, digits_id, webhook_url=url)).json()
    client.post(f"/v1/jobs/{job['id']}/cancel")
    (row,) = client.get(f"/v1/jobs/{job['id']}/webhook-deliveries").json()["data"]
    return row["id"]


def test_a_redirect_is_a_failed_try_and_is_not_followed(client, monkeypatch, receiver, teacher_id,  # noqa: F811
                                                        digits_id):  # noqa: F811
    from worker.webhook_delivery import deliver

    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    delivery_id = _cancelled_job_delivery(client, teacher_id, digits_id, receiver.url + "/moved")
    deliver(delivery_id)
    assert receiver.paths == ["/moved"]
    with session_scope() as s:
        d = s.get(WebhookDelivery, delivery_id)
        assert d.status == "pending" and [a["status_code"] for a in d.attempts] == [302]
        assert d.next_attempt_at > datetime.now(UTC)
    deliver(delivery_id)  # not due yet: a second task does not post early
    assert receiver.paths == ["/moved"]


def test_tries_stop_at_the_limit_with_growing_waits(client, monkeypatch, receiver, teacher_id,  # noqa: F811
                                                    digits_id):  # noqa: F811
    from worker.webhook_delivery import deliver

    settings = get_settings()
    monkeypatch.setattr(settings, "webhook_allow_private", True)
    monkeypatch.setattr(settings, "webhook_max_attempts", 3)
    delivery_id = _cancelled_job_delivery(client, teacher_id, digits_id, receiver.url + "/down")
    waits = []
    for _ in range(3):
        with session_scope() as s:  # make it due now rather than wait out the backoff
            d = s.get(WebhookDelivery, delivery_id)
            d.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
        before = datetime.now(UTC)
        deliver(delivery_id)
        with session_scope() as s:
            d = s.get(WebhookDelivery, delivery_id)
            if d.next_attempt_at is not None:
                waits.append((d.next_attempt_at - before).total_seconds())
    assert receiver.paths == ["/down"] * 3
    with session_scope() as s:
        d = s.get(WebhookDelivery, delivery_id)
        assert d.status == "failed" and [a["status_code"] for a in d.attempts] == [503] * 3
    base = settings.webhook_backoff_seconds
    assert waits[0] == pytest.approx(base, abs=2) and waits[1] == pytest.approx(2 * base, abs=2)


def test_a_url_that_turned_private_is_refused_at_delivery(client, monkeypatch, receiver, teacher_id,  # noqa: F811
                                                          digits_id):  # noqa: F811
    from worker.webhook_delivery import deliver

    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    delivery_id = _cancelled_job_delivery(client, teacher_id, digits_id, receiver.url + "/job")
    monkeypatch.setattr(get_settings(), "webhook_allow_private", False)
    deliver(delivery_id)
    assert receiver.paths == []
    with session_scope() as s:
        d = s.get(WebhookDelivery, delivery_id)
        assert d.status == "failed" and "private" in d.attempts[0]["error"]


def test_the_reaper_resends_due_deliveries_whose_task_was_lost(client, monkeypatch, teacher_id,  # noqa: F811
                                                               digits_id):  # noqa: F811
    from app import reaper

    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    delivery_id = _cancelled_job_delivery(client, teacher_id, digits_id, "http://127.0.0.1:1/job")
    sent = []
    monkeypatch.setattr(reaper, "enqueue_delivery", sent.append)
    reaper.reap()
    assert sent == []  # its task was sent a moment ago
    with session_scope() as s:
        s.get(WebhookDelivery, delivery_id).sent_at = datetime.now(UTC) - timedelta(hours=1)
    reaper.reap()
    assert sent == [delivery_id]
    with session_scope() as s:
        assert s.get(WebhookDelivery, delivery_id).sent_at > datetime.now(UTC) - timedelta(minutes=1)
        assert s.scalar(select(WebhookDelivery.status)) == "pending"


def test_a_host_that_does_not_resolve_is_tried_again_not_failed(client, monkeypatch, teacher_id,  # noqa: F811
                                                                digits_id):  # noqa: F811
    """A DNS failure may pass: the delivery stays pending with a later try, unlike a refused address."""
    from worker.webhook_delivery import deliver

    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    delivery_id = _cancelled_job_delivery(client, teacher_id, digits_id, "http://receiver.invalid/job")
    monkeypatch.setattr(get_settings(), "webhook_allow_private", False)
    deliver(delivery_id)
    with session_scope() as s:
        d = s.get(WebhookDelivery, delivery_id)
        assert d.status == "pending" and "does not resolve" in d.attempts[0]["error"]
        assert d.next_attempt_at > datetime.now(UTC)


def test_a_job_with_deliveries_still_pending_is_not_deleted(client, monkeypatch, receiver, teacher_id,  # noqa: F811
                                                            digits_id):  # noqa: F811
    from worker.webhook_delivery import deliver

    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    delivery_id = _cancelled_job_delivery(client, teacher_id, digits_id, receiver.url + "/job")
    with session_scope() as s:
        job_id = s.get(WebhookDelivery, delivery_id).job_id
    assert_problem(client.delete(f"/v1/jobs/{job_id}"), 409, "webhook deliveries", "webhook-deliveries")
    deliver(delivery_id)
    assert receiver.paths == ["/job"]
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
    assert client.get(f"/v1/jobs/{job_id}").status_code == 404


def test_an_idempotent_retry_shows_the_webhook_secret_again(client, monkeypatch, teacher_id,  # noqa: F811
                                                            digits_id):  # noqa: F811
    """The retry exists because the first answer was lost: without the secret, the webhooks could not be checked."""
    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    body = job_body(teacher_id, digits_id, webhook_url="http://127.0.0.1:1/job")
    first = client.post("/v1/jobs", json=body, headers={"Idempotency-Key": "k1"}).json()
    again = client.post("/v1/jobs", json=body, headers={"Idempotency-Key": "k1"}).json()
    assert again["id"] == first["id"] and again["webhook_secret"] == first["webhook_secret"] is not None
