"""Real processes for integration tests: the API under uvicorn and a Celery worker, on the
embedded defaults, on PostgreSQL + Redis, or with the artifact store in a bucket of a real S3-compatible
server (moto's, on loopback). Nothing here is mocked."""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, make_url, text

from tests.s3_server import S3Server, moto_server

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("DISTILLERY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("DISTILLERY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TERMINAL = {"succeeded", "failed", "cancelled"}
S3_CACHE_BYTES = 64 * 1024**2  # the "s3" kind's local caches: small, so that a test can see them bounded


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require(reachable: bool, what: str) -> None:
    """CI runs everything: there a missing server is a failure, on a laptop a skip."""
    if reachable:
        return
    message = f"{what} is not reachable; start it (see .ci/run) to run this test"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except Exception:
        return False


@contextmanager
def postgres_database():
    """A fresh, empty database on the real PostgreSQL server, dropped afterwards."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text("SELECT 1"))
    except Exception:
        require(False, f"PostgreSQL at {POSTGRES_URL}")
    name = f"distillery_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Stack:
    env: dict[str, str]
    var: Path
    port: int
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)  # where each process's latest start begins in its log
    s3: S3Server | None = None  # the "s3" kind: the server and bucket that hold the artifact store
    bucket: str | None = None
    root: Path = ROOT  # the checkout whose code the processes run (a benchmark may compare an older one)

    def local_dir(self, name: str) -> Path:
        """The "s3" kind gives every process its own local directory (staging, local cache): nothing passes
        between them through a disk but the SQLite database, which stands in for a database server."""
        return self.var / f"local-{name}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kw)

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.var / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.starts[name] = log.tell()
        own = {"DISTILLERY_VAR_DIR": str(self.local_dir(name))} if self.s3 else {}
        proc = subprocess.Popen(args, cwd=self.root, env={**self.env, **own, **(env or {})}, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def start_api(self, env: dict[str, str] | None = None) -> None:
        self._spawn("api", [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
                            "--port", str(self.port)], env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.procs["api"].poll() is not None:
                raise RuntimeError(f"the API exited:\n{self.log('api')}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the API did not answer /healthz in 60 s:\n{self.log('api')}")

    def start_worker(self, name: str = "worker", env: dict[str, str] | None = None, *,
                     queues: str | None = None) -> subprocess.Popen:
        return self._spawn(name, [
            sys.executable, "-m", "celery", "-A", "worker.celery_app:celery_app", "worker",
            "-Q", queues or self.env["DISTILLERY_QUEUE"], "--concurrency", "1", "--loglevel", "INFO",
            "-n", f"{name}-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle",
        ], env)

    def wait_ready(self, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log_since_start(name):
                return
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited:\n{self.log(name)}")
            time.sleep(0.3)
        raise RuntimeError(f"{name} did not become ready in {timeout} s:\n{self.log(name)}")

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def log(self, name: str) -> str:
        path = self.var / f"{name}.log"
        return path.read_text(errors="replace")[-6000:] if path.exists() else ""

    def log_since_start(self, name: str) -> str:
        """Everything the process's latest start has written (a restart appends to the same log)."""
        with open(self.var / f"{name}.log", "rb") as f:
            f.seek(self.starts.get(name, 0))
            return f.read().decode(errors="replace")

    def wait_for_job(self, client: httpx.Client, job_id: str, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = client.get(f"/v1/jobs/{job_id}").json()
            if job["status"] in TERMINAL:
                return job
            time.sleep(0.5)
        raise AssertionError(f"job {job_id} did not end in {timeout} s: {job}\n"
                             f"--- worker log ---\n{self.log('worker')}")


def base_env(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISTILLERY_")}
    env.update({
        "DISTILLERY_VAR_DIR": str(var),
        "DISTILLERY_QUEUE": f"test-{uuid.uuid4().hex[:8]}",  # never picks up another run's work
        "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": "1",
    })
    return env


@contextmanager
def running_stack(kind: str, var: Path, extra_env: dict[str, str] | None = None, *, broker_url: str | None = None,
                  database_url=None, api_env: dict[str, str] | None = None,
                  worker_env: dict[str, str] | None = None, root: Path = ROOT):
    """API + worker on 'embedded' (SQLite, SQLAlchemy broker), 'postgres_redis' (real servers) or 's3'
    (the real servers, with the artifact store in a fresh bucket of a moto server and a local directory per
    process: the processes share nothing on disk, as on separate hosts).

    ``broker_url``: another Redis than the shared one (a test that kills its broker starts its own).
    ``database_url``: maps the fresh database's URL to the one the processes use (through a proxy, say).
    ``api_env``, ``worker_env``: settings for the first API or worker process only.
    ``root``: another checkout to run (its own migrations included), for a benchmark's before and after."""
    var.mkdir(parents=True, exist_ok=True)
    env = {**base_env(var), **(extra_env or {})}
    servers = kind in ("postgres_redis", "s3")
    with (postgres_database() if servers else _nothing()) as pg_url, \
            (moto_server(var / "moto.log") if kind == "s3" else _nothing()) as s3:
        if servers:
            if broker_url is None:
                require(redis_up(), f"Redis at {REDIS_URL}")
            env["DISTILLERY_DATABASE_URL"] = database_url(pg_url) if database_url else pg_url
            env["DISTILLERY_BROKER_URL"] = broker_url or REDIS_URL
            _upgrade(pg_url, root)
        else:
            _upgrade(f"sqlite:///{var / 'distillery.sqlite3'}", root)
        bucket = None
        if s3 is not None:
            bucket = s3.new_bucket()
            env.update(s3.env(bucket, "distillery"))
            env.setdefault("DISTILLERY_LOCAL_CACHE_MAX_BYTES", str(S3_CACHE_BYTES))
        stack = Stack(env=env, var=var, port=free_port(), s3=s3, bucket=bucket, root=root)
        try:
            stack.start_worker(env=worker_env)
            stack.start_api(env=api_env)
            yield stack
        finally:
            stack.stop_all()


def _upgrade(url: str, root: Path) -> None:
    if root == ROOT:
        from core.db import upgrade

        upgrade(url)
    else:  # an older checkout's schema is its own migrations' head, not this one's
        subprocess.run([sys.executable, "-c", f"from core.db import upgrade; upgrade({url!r})"], cwd=root,
                       check=True)


@contextmanager
def _nothing():
    yield None
