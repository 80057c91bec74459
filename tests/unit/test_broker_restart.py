"""The reaper and a restarted broker, on a real SQLite database: a new Redis run (its ``run_id``) means its
queued tasks are gone, so what waits for one is sent again in that very pass, once, and not again while the
broker stays up. (Through real processes and a real Redis killed and restarted: tests/integration/test_faults.py.)"""

from datetime import UTC, datetime

import pytest

from app import reaper
from core.config import get_settings
from core.db import session_scope, upgrade
from core.tables import Job, TransferSet, WebhookDelivery


@pytest.fixture
def broker(embedded_env, monkeypatch):
    """The run of the broker the reaper sees (None: out of reach), and the tasks it sends."""
    upgrade(get_settings().resolved_database_url)
    state = {"run": "run-1", "sent": []}
    monkeypatch.setattr(reaper, "_seen_broker", {})
    monkeypatch.setattr(reaper, "broker_instance", lambda _url: state["run"])
    monkeypatch.setattr(reaper, "enqueue_job", lambda job_id, _devices=1: state["sent"].append(job_id))
    monkeypatch.setattr(reaper, "enqueue_delivery", lambda delivery_id: state["sent"].append(delivery_id))
    return state


def _queued_job_with_a_pending_delivery() -> tuple[str, str]:
    now = datetime.now(UTC)
    with session_scope() as s:
        s.add(TransferSet(id="ts_a", name="d", kind="builtin", builtin="digits", num_samples=1, num_test=0,
                          sample_shape=[64], labelled=True))
        s.flush()
        s.add(Job(id="job_a", status="queued", transfer_set_id="ts_a", spec={}, total_epochs=1, sent_at=now))
        s.flush()
        s.add(WebhookDelivery(id="dlv_a", tenant_id="ten_default", job_id="job_a", url="https://example.org/",
                              event_type="job.cancelled", payload={}, status="pending", attempts=[],
                              next_attempt_at=now, sent_at=now))
    return "job_a", "dlv_a"


def test_a_new_broker_run_sends_queued_work_again_at_once_and_only_once(broker):
    job, delivery = _queued_job_with_a_pending_delivery()
    reaper.reap()
    reaper.reap()
    assert broker["sent"] == []  # sent a moment ago, and the same broker run: nothing to do
    broker["run"] = None  # down: no conclusion either way
    reaper.reap()
    broker["run"] = "run-2"  # back, as a new run: everything it held is lost
    reaper.reap()
    assert broker["sent"] == [job, delivery]
    with session_scope() as s:
        assert s.get(Job, job).sent_at is not None and s.get(WebhookDelivery, delivery).sent_at is not None
    for _ in range(3):  # while it stays up, nothing is sent again before DISTILLERY_REQUEUE_AFTER_SECONDS
        reaper.reap()
    assert broker["sent"] == [job, delivery]


def test_the_first_run_seen_is_not_a_restart(broker):
    """An API that starts while jobs wait has nothing to compare with: the usual resend covers what was lost."""
    _queued_job_with_a_pending_delivery()
    broker["run"] = "run-7"
    reaper.reap()
    assert broker["sent"] == []
