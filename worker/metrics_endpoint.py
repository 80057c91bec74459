"""Serves a worker's metrics on DISTILLERY_WORKER_METRICS_PORT.

Jobs run in Celery's prefork pool processes, which a scrape cannot reach one by one, and which Celery replaces
when one dies. So the metrics use prometheus-client's multiprocess mode: every process writes its values to
files in PROMETHEUS_MULTIPROC_DIR, and the worker's main process serves their aggregate. The directory must be
set before prometheus_client is first imported (it picks its value store then), so this module imports it only
inside ``enable_multiprocess``, which runs at the worker's start, before the engine (and with it
worker/metrics.py) is preloaded.
"""

import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger("distillery.worker")

ENV = "PROMETHEUS_MULTIPROC_DIR"


def enable_multiprocess(port: int) -> None:
    """In the worker's main process, before the pool forks: a fresh value directory and the scrape endpoint."""
    directory = Path(os.environ.get(ENV) or tempfile.mkdtemp(prefix="distillery-worker-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # values of an earlier run of this worker are not ours
        stale.unlink(missing_ok=True)
    os.environ[ENV] = str(directory)

    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    start_http_server(port, registry=registry)
    log.info("worker metrics on port %d (prometheus multiprocess mode, values in %s)", port, directory)


def process_exited(pid: int) -> None:
    if os.environ.get(ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
