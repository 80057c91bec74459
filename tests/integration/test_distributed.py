"""hyperparameters.devices through the service: a real API and Celery worker, the job's second rank a process
of the worker's own. A two-device job succeeds with each epoch recorded once; a rank killed with SIGKILL sends
the job back to the queue, and it resumes from its checkpoint; more devices than the worker allows fail."""

import os
import re
import signal
import time

import pytest

from tests.integration.stack import running_stack
from tests.integration.test_end_to_end import submit_digits_job
from tests.integration.test_faults import FAST_RECOVERY, wait_for_epoch

pytestmark = pytest.mark.slow

EPOCHS = 3


def each_epoch_once(client, job_id, epochs):
    runs = client.get(f"/v1/jobs/{job_id}/metrics").json()["runs"]
    assert [r["name"] for r in runs] == ["distilled"]
    for key, points in runs[0]["metrics"].items():
        assert [p["step"] for p in points] == list(range(1, epochs + 1)), key


def events(client, job_id):
    return client.get(f"/v1/jobs/{job_id}/events", params={"limit": 1000}).json()["data"]


def rank_pid(stack, timeout=60) -> int:
    """The second rank's pid, from the line the worker logs when it starts it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.findall(r"rank 1 of 2 started: pid (\d+)", stack.log_since_start("worker"))
        if found:
            return int(found[-1])
        time.sleep(0.1)
    raise AssertionError(f"no rank started:\n{stack.log('worker')}")


def test_two_devices_a_killed_rank_and_too_many_devices(tmp_path, teacher_file):
    # A lease longer than FAST_RECOVERY's: three processes share this test's cores with the rest of the suite,
    # and a dead rank sends the job back to the queue at once, without waiting for the lease to lapse.
    env = {**FAST_RECOVERY, "DISTILLERY_LEASE_SECONDS": "15", "DISTILLERY_MAX_DEVICES_PER_JOB": "2"}
    with running_stack("embedded", tmp_path / "embedded", env) as stack, stack.client() as client:
        job_id = submit_digits_job(client, teacher_file, hyperparameters={"epochs": EPOCHS, "devices": 2})
        job = stack.wait_for_job(client, job_id)
        assert job["status"] == "succeeded", f"{job['error']}\n{stack.log('worker')}"
        each_epoch_once(client, job_id, EPOCHS)
        assert job["result"]["student"]["test_accuracy"] > 0.5  # it learned (chance: 0.1) in 3 epochs at batch 2 × 64
        assert client.get(f"/v1/jobs/{job_id}/student", params={"format": "safetensors"}).status_code == 200

        # SIGKILL of rank 1 in epoch 2: rank 0 notices at once, and the job goes on from epoch 1's checkpoint.
        job_id = submit_digits_job(client, teacher_file,  # batch 2: some 0.7 s an epoch here, time to kill in it
                                   hyperparameters={"epochs": EPOCHS, "devices": 2, "batch_size": 2})
        wait_for_epoch(client, job_id, 1)
        pid = rank_pid(stack)
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        deadline = killed + 30
        while "requeued" not in [e["type"] for e in events(client, job_id)]:
            assert time.monotonic() < deadline, f"the job did not go back to the queue:\n{stack.log('worker')}"
            time.sleep(0.2)
        job = stack.wait_for_job(client, job_id)
        assert job["status"] == "succeeded", f"{job['error']}\n{stack.log('worker')}"
        found = events(client, job_id)
        requeued = next(e for e in found if e["type"] == "requeued")
        assert f"pid {pid}" in requeued["message"] and "SIGKILL" in requeued["message"], requeued
        resumed = [e["data"] for e in found if e["type"] == "resumed"]
        assert resumed and resumed[0]["epoch"] >= 1, resumed
        each_epoch_once(client, job_id, EPOCHS)

        job_id = submit_digits_job(client, teacher_file, hyperparameters={"epochs": 1, "devices": 3})
        job = stack.wait_for_job(client, job_id)
        assert job["status"] == "failed"
        assert "ask for at most 2" in job["error"] and "DISTILLERY_MAX_DEVICES_PER_JOB" in job["error"], job["error"]

        job = client.get(f"/v1/jobs/{job_id}").json()
        body = {"teacher_ids": job["teacher_ids"], "transfer_set_id": job["transfer_set_id"], "student": job["student"]}
        for extra, words in (({"hyperparameters": {"devices": 0}}, "devices"),
                             ({"hyperparameters": {"devices": 65}}, "devices"),
                             ({"hyperparameters": {"devices": 2, "temperature": "auto"}}, "set devices to 1"),
                             ({"hyperparameters": {"devices": 2}, "sweep": {"temperature": [1, 2]}},
                              "set hyperparameters.devices to 1")):
            r = client.post("/v1/jobs", json={**body, **extra})
            assert r.status_code == 422 and words in r.text, r.text
