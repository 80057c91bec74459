"""Webhook bounds, in-process on the embedded database and against real servers on loopback: the address check
over every special-purpose and IPv4-carrying IPv6 form, URLs that could never be sent (refused at submit, failed
at delivery, so their job can be deleted), the total time limit of one try, and URLs cut to their host in the HTTP
client's log."""

import logging
import socket
import threading

import pytest
from sqlalchemy import update

from core.config import get_settings
from core.db import session_scope
from core.tables import WebhookDelivery
from core.webhook_addresses import url_problem
from tests.receiver import Receiver
from tests.unit.test_api import assert_problem, digits_id, job_body, teacher_id  # noqa: F401 (fixtures)
from tests.unit.test_webhooks import _cancelled_job_delivery


@pytest.mark.parametrize("host", [
    "[64:ff9b::a9fe:a9fe]", "[64:ff9b::a00:1]", "[64:ff9b::7f00:1]",  # NAT64 to metadata, private, loopback
    "[64:ff9b:1::a00:1]", "[64:ff9b:1::808:808]",  # local-use NAT64, whatever it carries
    "[::127.0.0.1]", "[::a9fe:a9fe]", "[::8.8.8.8]",  # IPv4-compatible (deprecated)
    "[::ffff:a9fe:a9fe]", "[::ffff:0:a9fe:a9fe]", "[::ffff:0:10.0.0.1]",  # mapped and SIIT-translated
    "[fec0::1]", "[2001:db8::1]", "[3fff::1]", "[100::1]", "[ff02::1]",  # site-local, documentation, discard
    "192.0.0.8", "192.0.0.170", "192.0.2.1", "198.18.0.1", "198.19.255.1", "198.51.100.7", "203.0.113.9",
    "100.64.0.1", "240.0.0.1", "255.255.255.255", "192.88.99.1", "192.31.196.1", "192.175.48.1",
])
def test_special_purpose_and_ipv4_carrying_addresses_are_refused(host):
    problem = url_problem(f"http://{host}/hook", allow_private=False)
    assert problem and problem.lasting and "DISTILLERY_WEBHOOK_ALLOW_PRIVATE" in str(problem)


@pytest.mark.parametrize("host", ["8.8.8.8", "[2606:4700:4700::1111]", "[64:ff9b::808:808]", "[2002:808:808::1]"])
def test_public_addresses_and_nat64_to_a_public_address_are_accepted(host):
    assert url_problem(f"https://{host}/hook", allow_private=False) is None


UNSENDABLE = ["https://93.184.215.14/hook\x00x", "https://93.184.215.14/ho ok", "https://93.184.215.14/\x07",
              "https://93.184.215.14/hook\r\nX-Injected: 1", "https://93.184.215.14/hook\t",
              "https://93.184.215.14/\x7f", "https://93.184.215.14/\u2028"]


@pytest.mark.parametrize("url", UNSENDABLE)
def test_urls_with_controls_nul_or_spaces_are_refused_whatever_the_setting(url):
    problem = url_problem(url, allow_private=True)
    assert problem and problem.lasting and "U+" in str(problem) and "percent-encode" in str(problem)


def test_such_urls_answer_422_on_jobs_and_endpoints(client, teacher_id, digits_id):  # noqa: F811
    for url in UNSENDABLE[:2]:  # a NUL, a space
        r = client.post("/v1/jobs", json=job_body(teacher_id, digits_id, webhook_url=url))
        assert_problem(r, 422, "control character or a space", field="webhook_url")
        assert_problem(client.post("/v1/webhooks", json={"url": url}), 422, "control character", field="url")
    assert client.get("/v1/jobs").json()["count"] == 0 and client.get("/v1/webhooks").json()["count"] == 0


def test_a_delivery_that_can_never_be_sent_fails_and_its_job_can_be_deleted(client, monkeypatch, teacher_id,  # noqa: F811
                                                                            digits_id):  # noqa: F811
    """A URL stored before submissions were checked (or changed since): the try fails for good at once, rather
    than stay pending (and keep its job undeletable) for ever."""
    from worker.webhook_delivery import deliver

    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    delivery_id = _cancelled_job_delivery(client, teacher_id, digits_id, "http://127.0.0.1:1/job")
    with session_scope() as s:
        s.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                  .values(url="http://127.0.0.1:1/jo\x00b x"))
        job_id = s.get(WebhookDelivery, delivery_id).job_id
    assert_problem(client.delete(f"/v1/jobs/{job_id}"), 409, "webhook deliveries")
    deliver(delivery_id)
    (row,) = client.get(f"/v1/jobs/{job_id}/webhook-deliveries").json()["data"]
    assert row["status"] == "failed" and len(row["attempts"]) == 1 and row["next_attempt_at"] is None
    assert "control character" in row["attempts"][0]["error"]
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
    assert client.get(f"/v1/jobs/{job_id}").status_code == 404


class TrickleReceiver:
    """Answers every request with one byte of its status line and headers at a time, one byte every
    ``interval`` seconds: each read gets a byte well within any per-read timeout, and the whole answer would
    take ``len(ANSWER) * interval`` seconds. Records how many bytes it sent before the client hung up."""

    ANSWER = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200 + b"\r\ncontent-length: 0\r\n\r\n"

    def __init__(self, interval: float = 0.2):
        self.interval, self.sent, self.hung_up = interval, 0, threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            conn.recv(65536)
            for byte in self.ANSWER:
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    self.hung_up.set()
                    return
                self.sent += 1
                if self.hung_up.wait(self.interval):
                    return
            # The whole answer went out: the client did not cut the try.

    def close(self) -> None:
        self.hung_up.set()
        self.sock.close()


def test_a_receiver_trickling_its_answer_is_cut_at_the_total_time_limit(client, monkeypatch, teacher_id,  # noqa: F811
                                                                        digits_id):  # noqa: F811
    from worker.webhook_delivery import deliver

    settings = get_settings()
    monkeypatch.setattr(settings, "webhook_allow_private", True)
    monkeypatch.setattr(settings, "webhook_timeout_seconds", 1.0)  # five times each byte's interval
    receiver = TrickleReceiver(interval=0.2)
    try:
        delivery_id = _cancelled_job_delivery(client, teacher_id, digits_id, receiver.url + "/job")
        deliver(delivery_id)
        sent = receiver.sent
    finally:
        receiver.close()
    with session_scope() as s:
        d = s.get(WebhookDelivery, delivery_id)
        assert d.status == "pending" and d.busy_until is None  # a failed try, tried again later
        assert d.attempts[0]["error"] == "the receiver did not answer within 1 s"
    assert 0 < sent < len(TrickleReceiver.ANSWER)  # it was sending, and was cut before the end


def test_the_http_clients_log_shows_the_receivers_host_never_its_path_or_query(client, monkeypatch, caplog,
                                                                               teacher_id, digits_id):  # noqa: F811
    from worker.webhook_delivery import deliver

    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    receiver = Receiver()
    try:
        delivery_id = _cancelled_job_delivery(client, teacher_id, digits_id,
                                              receiver.url + "/hooks/tok-in-path?token=tok-in-query")
        with caplog.at_level(logging.DEBUG):
            deliver(delivery_id)
    finally:
        receiver.close()
    assert receiver.paths == ["/hooks/tok-in-path?token=tok-in-query"]  # the receiver got the whole URL
    lines = [r.getMessage() for r in caplog.records]
    httpx_lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any(receiver.url in line for line in httpx_lines), lines  # httpx did log the request
    assert not [line for line in lines if "tok-in" in line], lines
