"""``make run``: the whole service on one machine — migrations, the API, a job worker and a webhook worker.

Webhook deliveries have a worker process of their own: a slow receiver then holds a delivery slot, never the
worker that trains. Ctrl-C (or SIGTERM) stops every process cleanly; if one dies, the others are stopped too.
"""

import os
import signal
import subprocess
import sys
import time

import httpx

from core.config import get_settings
from core.db import upgrade
from core.sandbox_choice import sandbox_mode

STOP_GRACE_SECONDS = 15
WEBHOOK_CONCURRENCY = 2  # deliveries tried at once; each try ends at DISTILLERY_WEBHOOK_TIMEOUT_SECONDS


def _celery_worker(queue: str, concurrency: int, node: str) -> subprocess.Popen:
    return subprocess.Popen([
        sys.executable, "-m", "celery", "-A", "worker.celery_app:celery_app", "worker", "-Q", queue,
        "--concurrency", str(concurrency), "--loglevel", "INFO", "-n", node,
    ])


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main() -> int:
    settings = get_settings()
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    # Both processes learn the bind: on loopback with auth off, they may run uploads rlimits-only where
    # bubblewrap is missing (core/sandbox_choice.py); on any other bind they refuse them.
    os.environ["DISTILLERY_BIND_HOST"] = host
    settings = settings.model_copy(update={"bind_host": host})
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)

    worker = _celery_worker(settings.queue, 1, f"distillery-{os.getpid()}@%h")
    webhooks = _celery_worker(settings.webhook_queue, WEBHOOK_CONCURRENCY, f"webhooks.distillery-{os.getpid()}@%h")
    api = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:app", "--host", host, "--port", str(port)])
    procs = [api, worker, webhooks]
    stopping = False

    def on_signal(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    announced = False
    while not stopping and all(p.poll() is None for p in procs):
        if not announced:
            try:
                if httpx.get(f"http://{host}:{port}/healthz", timeout=1).status_code == 200:
                    print(f"\nDistillery is up: dashboard at http://{host}:{port}/ui/, API docs at "
                          f"http://{host}:{port}/docs  (Ctrl-C stops it)", flush=True)
                    if sandbox_mode(settings) != "namespaces":
                        print(f"uploaded teachers: {sandbox_mode(settings).upper()}, no bubblewrap sandbox here "
                              "(see the log above)", flush=True)
                    print(flush=True)
                    announced = True
            except httpx.HTTPError:
                pass
        time.sleep(0.5)
    died = [p for p in procs if p.poll() is not None]
    _stop(procs)
    if died and not stopping:
        name = {id(api): "API", id(worker): "worker"}.get(id(died[0]), "webhook worker")
        print(f"the {name} process exited with code {died[0].returncode}; stopped the rest", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
