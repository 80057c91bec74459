"""Nothing lost, nothing stuck: faults with real processes on PostgreSQL + Redis.

Redis here is a server of the test's own on a free port (never the shared 6379), killed and started
again; workers are killed, or stopped past their lease and continued after another finished their job;
the API is killed between its commit and its send; the database stops answering behind a TCP proxy.
Every job and sweep member must end, with exactly one terminal event, each epoch's metrics once, and
nothing written by a worker that lost its lease.
"""

import os
import signal
import socket
import subprocess
import threading
import time
import uuid

import httpx
import pytest
import redis
from sqlalchemy import make_url

from tests.integration.stack import free_port, running_stack
from tests.integration.test_end_to_end import submit_digits_job
from tests.integration.test_faults import wait_for_epoch

pytestmark = pytest.mark.slow

FAST = {"DISTILLERY_LEASE_SECONDS": "3", "DISTILLERY_REAPER_INTERVAL_SECONDS": "0.5",
        "DISTILLERY_REQUEUE_AFTER_SECONDS": "3", "DISTILLERY_DB_STATEMENT_TIMEOUT_SECONDS": "5"}
TERMINAL_EVENTS = {"succeeded", "failed", "cancelled"}
HOOKS = {"DISTILLERY_TEST_HOOKS": "true"}
SLOW = {"epochs": 3, "batch_size": 2}  # some 650 steps an epoch, a few seconds: time to act inside a run


class OwnRedis:
    """A Redis server of this test's own, without persistence: killing it loses every message."""

    def __init__(self, var):
        self.port, self.var, self.proc = free_port(), var, None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.var.mkdir(parents=True, exist_ok=True)
        log = open(self.var / "redis.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--daemonize", "no",
                                      "--dir", str(self.var)], stdout=log, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                if redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.1)
        raise AssertionError("the test's Redis did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path / "redis")
    server.start()
    yield server
    server.kill()


def events(client, job_id) -> list[dict]:
    return client.get(f"/v1/jobs/{job_id}/events", params={"limit": 1000}).json()["data"]


def assert_ended_once(client, job_id, status="succeeded", epochs=None) -> dict:
    """The job ended as expected with one terminal event, the last; every run's epochs recorded once."""
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == status, job["error"]
    types = [e["type"] for e in events(client, job_id)]
    assert [t for t in types if t in TERMINAL_EVENTS] == [status] and types[-1] == status, types
    if epochs is not None:
        for run in client.get(f"/v1/jobs/{job_id}/metrics").json()["runs"]:
            assert run["status"] == "succeeded", run
            for key, points in run["metrics"].items():
                assert [p["step"] for p in points] == list(range(1, epochs + 1)), (run["name"], key)
        assert job["progress"]["epoch"] == job["progress"]["total_epochs"], job["progress"]
    return job


def wait_all(stack, client, job_ids, timeout=180) -> None:
    for job_id in job_ids:
        stack.wait_for_job(client, job_id, timeout=timeout)


def members(client, job_id) -> list[dict]:
    return client.get(f"/v1/jobs/{job_id}/metrics").json()["runs"]


def wait_until(what, condition, timeout=90, every=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_log(stack, name, text, timeout=90):
    wait_until(f"{text!r} in the {name} log", lambda: text in stack.log_since_start(name), timeout)


def restart(server: OwnRedis, down: float) -> None:
    server.kill()  # every message in it is lost: nothing is persisted
    time.sleep(down)
    server.start()


def test_redis_killed_and_restarted_and_down_for_longer_than_a_lease(tmp_path, teacher_file, own_redis):
    with running_stack("postgres_redis", tmp_path / "s", FAST, broker_url=own_redis.url) as stack, \
            stack.client() as client:
        # Killed and restarted at once, with a job running and two queued.
        running = submit_digits_job(client, teacher_file, hyperparameters=SLOW)
        sweep = submit_digits_job(client, teacher_file, hyperparameters={"epochs": 2, "batch_size": 32},
                                  sweep={"temperature": [1, 4, 10]})
        queued = submit_digits_job(client, teacher_file, hyperparameters={"epochs": 1})
        wait_for_epoch(client, running, 1)
        restart(own_redis, down=1)

        # Again, with the sweep half done.
        def half_done():
            runs = members(client, sweep)
            return len(runs) == 3 and any(r["status"] == "succeeded" for r in runs) and \
                any(r["status"] != "succeeded" for r in runs)

        wait_until("the sweep half done", half_done, timeout=120, every=0.05)
        restart(own_redis, down=1)
        wait_all(stack, client, [running, sweep, queued])
        assert_ended_once(client, running, epochs=3)
        assert_ended_once(client, sweep, epochs=2)
        assert_ended_once(client, queued, epochs=1)

        # Down for longer than a lease, with a job running and a sweep queued: the worker loses its task,
        # the lease lapses, the reaper queues the job again and cannot send it; nothing is stranded.
        running = submit_digits_job(client, teacher_file, hyperparameters={**SLOW, "epochs": 8})
        sweep = submit_digits_job(client, teacher_file, hyperparameters={"epochs": 1},
                                  sweep={"temperature": [1, 4]})
        wait_for_epoch(client, running, 1)
        restart(own_redis, down=float(FAST["DISTILLERY_LEASE_SECONDS"]) + 3)
        wait_all(stack, client, [running, sweep])
        assert_ended_once(client, running, epochs=8)
        assert_ended_once(client, sweep, epochs=1)
        assert "requeued" in [e["type"] for e in events(client, running)]


def test_an_api_killed_between_commit_and_send(tmp_path, teacher_file, own_redis):
    hook = {**HOOKS, "DISTILLERY_TEST_PAUSE_AT": "api_after_commit"}
    with running_stack("postgres_redis", tmp_path / "s", FAST, broker_url=own_redis.url,
                       api_env=hook) as stack, stack.client() as client:
        key = f"k-{uuid.uuid4().hex}"
        body = _job_body(client, teacher_file)
        outcome = {}

        def post():
            try:
                outcome["response"] = client.post("/v1/jobs", json=body, headers={"Idempotency-Key": key})
            except httpx.HTTPError as exc:
                outcome["error"] = exc

        thread = threading.Thread(target=post)
        thread.start()
        wait_for_log(stack, "api", "test hook: paused at api_after_commit")
        stack.stop("api", signal.SIGKILL)
        thread.join(30)
        assert "error" in outcome, outcome
        stack.start_api()  # without the hook
        r = client.post("/v1/jobs", json=body, headers={"Idempotency-Key": key})
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        stack.wait_for_job(client, job_id, timeout=120)
        assert_ended_once(client, job_id, epochs=2)
        assert client.get("/v1/jobs").json()["count"] == 1


def _job_body(client, teacher_file) -> dict:
    with open(teacher_file, "rb") as f:
        teacher = client.post("/v1/teachers", files={"file": ("teacher.pt", f)},
                              data={"name": "t", "format": "torchscript", "input_shape": "[64]"}).json()["id"]
    ts = client.post("/v1/transfer-sets", json={"name": "digits", "builtin": "digits"}).json()["id"]
    return {"teacher_ids": [teacher], "transfer_set_id": ts, "student": {"arch": "mlp", "hidden_sizes": [64]},
            "hyperparameters": {"epochs": 2}}


def _snapshot(client, job_id):
    job = client.get(f"/v1/jobs/{job_id}").json()
    return job, events(client, job_id), client.get(f"/v1/jobs/{job_id}/metrics").json()


def test_stopped_workers_continued_after_another_finished_write_nothing(tmp_path, teacher_file, own_redis):
    # The first worker waits 3 s inside its sixth fenced write (the job's row locked), to be stopped there.
    hook = {**HOOKS, "DISTILLERY_TEST_PAUSE_AT": "fenced_write:6", "DISTILLERY_TEST_PAUSE_SECONDS": "3"}
    with running_stack("postgres_redis", tmp_path / "s", FAST, broker_url=own_redis.url,
                       worker_env=hook) as stack, stack.client() as client:
        # A plain job: its worker stopped inside a transaction that holds the job's row, until another has
        # finished the job. PostgreSQL ends the stopped transaction; the reaper and the new worker go on.
        job_id = submit_digits_job(client, teacher_file, hyperparameters=SLOW)
        wait_for_log(stack, "worker", "test hook: paused at fenced_write")
        stop_past_the_lease_and_continue(stack, client, job_id, "worker", "worker2",
                                         ("another worker holds its lease now", "leaving the job to the reaper"),
                                         epochs=3)
        stack.stop("worker")

        # A sweep member: likewise.
        job_id = submit_digits_job(client, teacher_file, hyperparameters=SLOW,
                                   sweep={"temperature": [1, 4]})
        wait_until("a member's first epoch", lambda: any(
            r["status"] == "running" and r["metrics"].get("total_loss") for r in members(client, job_id)),
            every=0.05)
        stop_past_the_lease_and_continue(stack, client, job_id, "worker2", "worker3",
                                         ("is held by another worker now",), epochs=3)


def stop_past_the_lease_and_continue(stack, client, job_id, old: str, new: str, lost_lines: tuple[str, ...],
                                     epochs: int):
    proc = stack.procs[old]
    os.killpg(proc.pid, signal.SIGSTOP)
    try:
        stack.start_worker(new)
        stack.wait_for_job(client, job_id, timeout=180)
        before = _snapshot(client, job_id)
        assert_ended_once(client, job_id, epochs=epochs)
    finally:
        os.killpg(proc.pid, signal.SIGCONT)
    # It woke up, tried to write, and found the lease gone (or its transaction ended by the server).
    wait_until(f"{lost_lines} in the {old} log", lambda: any(line in stack.log_since_start(old)
                                                              for line in lost_lines), timeout=60)
    time.sleep(1)
    assert _snapshot(client, job_id) == before  # no write of the old worker landed
    assert_ended_once(client, job_id, epochs=epochs)


def test_workers_killed_between_checkpoint_and_metrics_and_after_a_members_epochs(
        tmp_path, teacher_file, own_redis):
    hook = {**HOOKS, "DISTILLERY_TEST_PAUSE_AT": "after_checkpoint:2"}
    with running_stack("postgres_redis", tmp_path / "s", FAST, broker_url=own_redis.url,
                       worker_env=hook) as stack, stack.client() as client:
        # Killed after epoch 2's checkpoint is in the store and before its metrics are recorded.
        job_id = submit_digits_job(client, teacher_file, hyperparameters={"epochs": 3})
        wait_for_log(stack, "worker", "test hook: paused at after_checkpoint")
        stack.stop("worker", signal.SIGKILL)
        stack.start_worker("worker2")  # without the hook
        stack.wait_for_job(client, job_id, timeout=120)
        assert_ended_once(client, job_id, epochs=3)
        resumed = [e["data"] for e in events(client, job_id) if e["type"] == "resumed"]
        assert resumed == [{"run": "distilled", "epoch": 1}], resumed

        # A sweep member's worker killed after the member recorded two epochs: its retry starts clean.
        job_id = submit_digits_job(client, teacher_file, hyperparameters=SLOW,
                                   sweep={"temperature": [1, 4]})

        def a_member_has_2_epochs():
            return any(r["status"] == "running" and len(r["metrics"].get("total_loss", [])) >= 2
                       for r in members(client, job_id))

        wait_until("a member's second epoch", a_member_has_2_epochs, every=0.05)
        stack.stop("worker2", signal.SIGKILL)
        stack.start_worker("worker3")
        stack.wait_for_job(client, job_id, timeout=180)
        assert_ended_once(client, job_id, epochs=3)
        assert "requeued" in [e["type"] for e in events(client, job_id)]


class StallingProxy:
    """A TCP proxy to PostgreSQL that can stop forwarding: connections stay open and new ones are
    accepted, but no byte goes through until it forwards again, as with a database that hangs."""

    def __init__(self, host: str, port: int):
        self.upstream = (host, port)
        self.flowing = threading.Event()
        self.flowing.set()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
                server = socket.create_connection(self.upstream)
            except OSError:
                return
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src, dst) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self.flowing.wait()
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.closed = True
        self.flowing.set()
        self.listener.close()


def test_a_database_that_hangs(tmp_path, teacher_file, own_redis):
    from tests.integration.stack import POSTGRES_URL

    real = make_url(POSTGRES_URL)
    proxy = StallingProxy(real.host or "127.0.0.1", real.port or 5432)
    bounds = {"DISTILLERY_HEALTH_TIMEOUT_SECONDS": "2", "DISTILLERY_REQUEST_DEADLINE_SECONDS": "3",
              "DISTILLERY_DB_CONNECT_TIMEOUT_SECONDS": "2"}
    try:
        with running_stack("postgres_redis", tmp_path / "s", {**FAST, **bounds}, broker_url=own_redis.url,
                           database_url=lambda url: make_url(url).set(host="127.0.0.1", port=proxy.port)
                           .render_as_string(hide_password=False)) as stack, \
                stack.client() as client:
            before = submit_digits_job(client, teacher_file, hyperparameters={"epochs": 2})
            stack.wait_for_job(client, before, timeout=120)
            proxy.flowing.clear()
            for path, bound in (("/healthz", 4), ("/readyz", 4), ("/v1/jobs", 6), (f"/v1/jobs/{before}", 6),
                                (f"/v1/jobs/{before}/events", 6)):
                t = time.monotonic()
                r = client.get(path)
                took = time.monotonic() - t
                assert r.status_code == 503 and took < bound, (path, r.status_code, took, r.text)
                assert r.headers["content-type"] == "application/problem+json" and r.headers["retry-after"], path
            proxy.flowing.set()
            wait_until("the API to recover", lambda: client.get("/healthz").status_code == 200, timeout=30,
                       every=0.5)
            assert client.get(f"/v1/jobs/{before}").status_code == 200
            after = submit_digits_job(client, teacher_file, hyperparameters={"epochs": 2})
            stack.wait_for_job(client, after, timeout=120)
            assert_ended_once(client, after, epochs=2)
    finally:
        proxy.close()
