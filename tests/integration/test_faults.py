"""Faults with real processes: a worker killed with SIGKILL in the middle of a job, and Redis restarted
during one. The job must still end succeeded, each epoch's metrics recorded exactly once."""

import os
import signal
import subprocess
import time

import pytest

from tests.integration.stack import REDIS_URL, free_port, running_stack
from tests.integration.test_end_to_end import submit_digits_job

pytestmark = pytest.mark.slow

FAST_RECOVERY = {"DISTILLERY_LEASE_SECONDS": "2", "DISTILLERY_REAPER_INTERVAL_SECONDS": "0.5"}
EPOCHS = 5
SLOW_EPOCHS = {"epochs": EPOCHS, "batch_size": 1}  # some 1,400 steps an epoch, 0.6 s here: time to act mid-epoch


def wait_for_epoch(client, job_id, epoch, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["progress"]["epoch"] >= epoch:
            return job
        assert job["status"] in ("queued", "running"), job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not reach epoch {epoch}")


def assert_each_epoch_once(client, job_id):
    for run in client.get(f"/v1/jobs/{job_id}/metrics").json()["runs"]:
        for key, points in run["metrics"].items():
            assert [p["step"] for p in points] == list(range(1, EPOCHS + 1)), (run["name"], key)


# "s3" runs on PostgreSQL and Redis too, so a "postgres_redis" case would repeat it with a shared directory.
@pytest.mark.parametrize("kind", ["embedded", "s3"])
def test_kill_9_the_worker_in_epoch_2_and_a_new_worker_resumes(kind, tmp_path, teacher_file):
    """On "s3" the new worker has its own local directory: it resumes from the checkpoint in the bucket."""
    with running_stack(kind, tmp_path / kind, FAST_RECOVERY) as stack, stack.client() as client:
        job_id = submit_digits_job(client, teacher_file, hyperparameters=SLOW_EPOCHS)
        job = wait_for_epoch(client, job_id, 1)
        assert job["progress"]["epoch"] == 1, "the job outran the test: epoch 2 had already finished"
        stack.stop("worker", signal.SIGKILL)  # the whole worker, main process and pool child
        stack.start_worker("worker2")
        job = stack.wait_for_job(client, job_id)
        assert job["status"] == "succeeded", f"{job['error']}\n{stack.log('worker2')}"
        events = client.get(f"/v1/jobs/{job_id}/events", params={"limit": 1000}).json()["data"]
        types = [e["type"] for e in events]
        assert "requeued" in types and "resumed" in types, types
        assert next(e for e in events if e["type"] == "resumed")["data"]["epoch"] >= 1
        assert_each_epoch_once(client, job_id)


def redis_restart() -> None:
    subprocess.run(["redis-cli", "-u", REDIS_URL, "shutdown", "nosave"], capture_output=True, timeout=10)
    time.sleep(1)
    os.makedirs("/var/lib/redis", exist_ok=True)
    os.makedirs("/var/log/redis", exist_ok=True)
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
                    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
                    "--logfile", "/var/log/redis/ci.log"], check=True, timeout=10)
    for _ in range(50):
        if subprocess.run(["redis-cli", "-u", REDIS_URL, "ping"], capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError("Redis did not come back")


def test_restarting_redis_during_a_job(tmp_path, teacher_file):
    if not REDIS_URL.startswith("redis://127.0.0.1:6379"):
        pytest.skip("restarts only the local Redis this machine runs")
    with running_stack("postgres_redis", tmp_path / "redis", FAST_RECOVERY) as stack, stack.client() as client:
        job_id = submit_digits_job(client, teacher_file, hyperparameters=SLOW_EPOCHS)
        wait_for_epoch(client, job_id, 1)
        try:
            redis_restart()
        finally:
            subprocess.run(["redis-cli", "-u", REDIS_URL, "ping"], capture_output=True)
        job = stack.wait_for_job(client, job_id, timeout=300)
        assert job["status"] == "succeeded", f"{job['error']}\n{stack.log('worker')}"
        assert_each_epoch_once(client, job_id)


class OwnRedis:
    """A redis-server of this test's own, on a free port, without persistence: killed, it comes back empty."""

    def __init__(self, folder):
        self.port, self.folder, self.proc = free_port(), folder, None
        self.url = f"redis://127.0.0.1:{self.port}/0"
        folder.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.folder)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            ping = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True)
            if ping.stdout.strip() == b"PONG":
                return
            time.sleep(0.1)
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


RESTART_DEADLINE_SECONDS = 60


def test_jobs_queued_when_redis_restarts_empty_move_within_a_minute(tmp_path, teacher_file):
    """Four jobs sent to Redis, Redis killed and started again without persistence (their tasks are gone), and
    an idle worker: the API's reaper sees the new Redis run and sends the queued jobs at once, not after
    DISTILLERY_REQUEUE_AFTER_SECONDS (five minutes here, as by default)."""
    redis = OwnRedis(tmp_path / "redis")
    redis.start()
    env = {"DISTILLERY_REAPER_INTERVAL_SECONDS": "1", "DISTILLERY_REQUEUE_AFTER_SECONDS": "300"}
    try:
        with running_stack("postgres_redis", tmp_path / "var", env, broker_url=redis.url) as stack, \
                stack.client() as client:
            first = submit_digits_job(client, teacher_file, hyperparameters={"epochs": 1},
                                      export_formats=["safetensors"])
            assert stack.wait_for_job(client, first)["status"] == "succeeded"  # the reaper has seen this Redis
            done = client.get(f"/v1/jobs/{first}").json()
            body = {"teacher_ids": done["teacher_ids"], "transfer_set_id": done["transfer_set_id"],
                    "student": {"arch": "mlp", "hidden_sizes": [16]}, "hyperparameters": {"epochs": 1},
                    "export_formats": ["safetensors"]}
            stack.stop("worker")
            queued = [client.post("/v1/jobs", json=body).json()["id"] for _ in range(4)]
            assert int(subprocess.run(["redis-cli", "-p", str(redis.port), "llen", stack.env["DISTILLERY_QUEUE"]],
                                      capture_output=True, text=True).stdout) == 4  # their tasks wait in Redis
            redis.kill()
            redis.start()
            restarted = time.monotonic()
            stack.start_worker("worker2")
            for job_id in queued:
                left = RESTART_DEADLINE_SECONDS - (time.monotonic() - restarted)
                job = stack.wait_for_job(client, job_id, timeout=max(1.0, left))
                assert job["status"] == "succeeded", f"{job['error']}\n{stack.log('worker2')}"
            assert "the broker restarted" in stack.log("api")
    finally:
        redis.kill()
