"""Log lines: text for people by default, JSON lines with the request's and job's context when asked."""

import json
import logging

from core.logging_setup import ContextFilter, JsonFormatter, configure_logging, log_context


def test_json_lines_carry_the_context_they_were_written_in():
    record = logging.LogRecord("worker.job_runner", logging.INFO, __file__, 1, "epoch %d done", (3,), None)
    record.run = "distilled"  # as extra= sets it
    with log_context(job_id="job_1", tenant="ten_a", run="ignored: extra wins"):
        ContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "epoch 3 done" and line["level"] == "info" and line["logger"] == "worker.job_runner"
    assert (line["job_id"], line["tenant"], line["run"]) == ("job_1", "ten_a", "distilled")
    outside = logging.LogRecord("x", logging.INFO, __file__, 1, "later", (), None)
    ContextFilter().filter(outside)
    assert "job_id" not in json.loads(JsonFormatter().format(outside))  # the context ended with its block


def test_text_leaves_the_servers_formats_alone():
    root = logging.getLogger()
    before = list(root.handlers)
    configure_logging("text")
    assert root.handlers == before


def test_request_ids_are_kept_when_sane_and_made_otherwise(client):
    assert client.get("/v1/jobs", headers={"X-Request-ID": "abc-123.4"}).headers["x-request-id"] == "abc-123.4"
    made = client.get("/v1/jobs", headers={"X-Request-ID": 'a"} forged'}).headers["x-request-id"]
    assert made != 'a"} forged' and len(made) == 32
    r = client.get("/v1/jobs/job_nope", headers={"X-Request-ID": "abc-404"})
    assert r.status_code == 404 and r.headers["x-request-id"] == "abc-404"  # errors carry it too


def test_a_jobs_heartbeat_thread_logs_in_the_jobs_context(monkeypatch):
    from types import SimpleNamespace

    from core.logging_setup import current_log_context
    from worker import leases

    seen = []

    def renew(_lease, _seconds):
        seen.append(current_log_context())
        return False  # lost: the thread ends

    monkeypatch.setattr(leases, "renew", renew)
    with log_context(job_id="job_1", tenant="ten_a"):
        beat = leases.Heartbeat([SimpleNamespace(id="job_1")], lease_seconds=0.04)
    beat.start()
    beat.join(5)
    assert seen == [{"job_id": "job_1", "tenant": "ten_a"}] and beat.lost
