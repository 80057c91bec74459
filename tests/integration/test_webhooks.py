"""Webhooks through real processes: PostgreSQL, Redis, the API, a job worker, a webhook worker and a real HTTP
receiver on loopback (allowed here by DISTILLERY_WEBHOOK_ALLOW_PRIVATE)."""

import json
import time
import uuid

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.integration.stack import running_stack
from tests.receiver import Receiver

pytestmark = pytest.mark.slow

FLAKY_FAILURES = 2  # /flaky answers 500 this many times, then 200
JOB_PATH = "/job?token=tok-in-query"  # a receiver's token in its URL: never in a log


@pytest.fixture(scope="module")
def delivered(tmp_path_factory, teacher_file):
    """One tiny job, watched by a job webhook_url and two endpoints (one of them failing twice)."""
    receiver = Receiver(lambda path, earlier: 500 if path == "/flaky" and earlier < FLAKY_FAILURES else 200)
    hooks_queue = f"hooks-{uuid.uuid4().hex[:8]}"
    env = {"DISTILLERY_WEBHOOK_QUEUE": hooks_queue, "DISTILLERY_WEBHOOK_ALLOW_PRIVATE": "true",
           "DISTILLERY_WEBHOOK_BACKOFF_SECONDS": "0.5"}
    with running_stack("postgres_redis", tmp_path_factory.mktemp("var"), env) as stack:
        stack.start_worker("hooks", queues=hooks_queue)
        with stack.client() as client:
            started = client.post("/v1/webhooks", json={"url": receiver.url + "/all",
                                                         "events": ["job.started", "job.succeeded"]})
            flaky = client.post("/v1/webhooks", json={"url": receiver.url + "/flaky"})
            assert started.status_code == flaky.status_code == 201, started.text + flaky.text
            with open(teacher_file, "rb") as f:
                teacher = client.post("/v1/teachers", files={"file": ("teacher.pt", f)},
                                      data={"name": "t", "format": "torchscript", "input_shape": "[64]"}).json()
            ts = client.post("/v1/transfer-sets", json={"name": "digits", "builtin": "digits"}).json()
            r = client.post("/v1/jobs", json={
                "teacher_ids": [teacher["id"]], "transfer_set_id": ts["id"],
                "student": {"arch": "mlp", "hidden_sizes": [16]}, "hyperparameters": {"epochs": 1},
                "export_formats": ["safetensors"], "webhook_url": receiver.url + JOB_PATH})
            assert r.status_code == 202, r.text
            job = r.json()
            assert stack.wait_for_job(client, job["id"])["status"] == "succeeded"
            receiver.wait(JOB_PATH, 1)
            receiver.wait("/all", 2)
            receiver.wait("/flaky", FLAKY_FAILURES + 1)
            flaky_log = _wait_delivered(client, f"/v1/webhooks/{flaky.json()['id']}/deliveries")
            job_log = client.get(f"/v1/jobs/{job['id']}/webhook-deliveries").json()
            again = client.get(f"/v1/jobs/{job['id']}").json()
            hooks_log = stack.log_since_start("hooks")
        yield {"receiver": receiver, "job": job, "job_again": again, "started": started.json(),
               "flaky": flaky.json(), "flaky_log": flaky_log, "job_log": job_log, "hooks_log": hooks_log}
    receiver.close()


def _wait_delivered(client, path: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = client.get(path).json()
        if log["count"] and all(d["status"] != "pending" for d in log["data"]):
            return log
        time.sleep(0.2)
    raise AssertionError(f"deliveries still pending: {log}")


def test_job_succeeded_reaches_the_jobs_url_signed_with_its_secret(delivered):
    (request,) = delivered["receiver"].at(JOB_PATH)
    secret = delivered["job"]["webhook_secret"]
    assert secret.startswith("whsec_") and delivered["job_again"]["webhook_secret"] is None  # shown once
    payload = Webhook(secret).verify(request["body"], request["headers"])
    assert payload["type"] == "job.succeeded"
    assert payload["data"]["job_id"] == delivered["job"]["id"] and payload["data"]["status"] == "succeeded"
    with pytest.raises(WebhookVerificationError):  # the check can fail: another secret refuses it
        Webhook(delivered["started"]["secret"]).verify(request["body"], request["headers"])


def test_an_endpoint_gets_the_events_it_subscribed_to_in_order(delivered):
    requests = delivered["receiver"].at("/all")
    payloads = [Webhook(delivered["started"]["secret"]).verify(r["body"], r["headers"]) for r in requests]
    assert [p["type"] for p in payloads] == ["job.started", "job.succeeded"]
    assert len({r["headers"]["webhook-id"] for r in requests}) == 2  # one delivery per event
    flaky_types = {json.loads(r["body"])["type"] for r in delivered["receiver"].at("/flaky")}
    assert flaky_types == {"job.succeeded"}  # the default events leave out job.started


def test_a_failing_receiver_gets_the_same_delivery_until_it_answers(delivered):
    requests = delivered["receiver"].at("/flaky")
    assert len(requests) == FLAKY_FAILURES + 1
    assert len({r["headers"]["webhook-id"] for r in requests}) == 1
    for r in requests:  # every try is signed afresh and verifies
        Webhook(delivered["flaky"]["secret"]).verify(r["body"], r["headers"])
    (log,) = delivered["flaky_log"]["data"]
    assert log["id"] == requests[0]["headers"]["webhook-id"] and log["status"] == "delivered"
    assert [a["status_code"] for a in log["attempts"]] == [500] * FLAKY_FAILURES + [200]
    assert log["next_attempt_at"] is None and log["delivered_at"] is not None


def test_the_jobs_delivery_log_holds_every_receiver(delivered):
    rows = delivered["job_log"]["data"]
    assert sorted((r["endpoint_id"] or "job", r["event_type"]) for r in rows) == sorted([
        ("job", "job.succeeded"), (delivered["started"]["id"], "job.started"),
        (delivered["started"]["id"], "job.succeeded"), (delivered["flaky"]["id"], "job.succeeded")])


def test_the_webhook_workers_log_names_the_receivers_host_never_its_query(delivered):
    log = delivered["hooks_log"]
    host = delivered["receiver"].url
    assert f"delivered to {host.rsplit(':', 1)[0]} " in log, log[-3000:]  # scheme and host, no port
    assert f"HTTP Request: POST {host}/..." in log, log[-3000:]  # httpx's own line, cut to the host
    assert "tok-in-query" not in log
