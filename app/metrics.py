"""The API's Prometheus metrics at ``/metrics``.

Request counts and latencies are counted by this process (run one API process per scrape target, as compose
does). Everything about jobs, the teacher-output cache and the store is read from the database and the store at
scrape time, so it is the same whichever API process is scraped, and counts the work of every worker: jobs by
status, queue depth, job durations, failures by reason, cache hits (a job's ``cache_hit`` event) and misses
(``cache_built``), and the store's bytes by area. Those reads are cached for 5 s (the store's walk for a
minute), so that frequent scrapes cost the database and the disk little.
"""

import logging
import threading
import time

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.deps import get_store
from core.db import session_scope
from core.tables import Event, Job
from models.statuses import JobStatus

log = logging.getLogger(__name__)
DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600)
REFRESH_SECONDS = 5.0
STORE_REFRESH_SECONDS = 60.0

REQUESTS = Counter("distillery_http_requests_total", "HTTP requests by route template, method and status.",
                   ["route", "method", "status"])
LATENCY = Histogram("distillery_http_request_duration_seconds", "HTTP request latency by route template.",
                    ["route", "method"])


class MetricsMiddleware:
    """Labels by the matched route's template (``/v1/jobs/{job_id}``), never the raw path: ids would make a
    new series per job."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/metrics":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            template = route_template(scope)
            REQUESTS.labels(template, scope["method"], str(status)).inc()
            LATENCY.labels(template, scope["method"]).observe(time.perf_counter() - start)


def route_template(scope: Scope) -> str:
    """The path with each path parameter put back as ``{name}``. (The matched route's own ``path`` is relative
    to the router it was declared on, without ``/v1``.)"""
    if scope.get("route") is None:
        return "unmatched"
    template = scope["path"]
    params = sorted((scope.get("path_params") or {}).items(), key=lambda kv: -len(str(kv[1])))
    for name, value in params:
        at = template.rfind(str(value)) if str(value) else -1
        if at >= 0:
            template = f"{template[:at]}{{{name}}}{template[at + len(str(value)):]}"
    return template


def failure_reason(error: str | None) -> str:
    """A few stable reasons, so that a dashboard can alert on each without a series per message."""
    text = (error or "").lower()
    for reason, words in (("worker_lost", ("stopped responding",)), ("out_of_memory", ("out of memory",)),
                          ("sweep_members_failed", ("every sweep member failed",)),
                          ("sandbox", ("sandbox",)), ("diverged", ("not finite", "diverged", "nan")),
                          ("timeout", ("time limit", "timed out", "timeout"))):
        if any(w in text for w in words):
            return reason
    return "error"


class DatabaseCollector(Collector):
    def __init__(self):
        self._lock = threading.Lock()
        self._cached: tuple[float, list] = (0.0, [])
        self._store: tuple[float, dict[str, int]] = (-STORE_REFRESH_SECONDS, {})

    def describe(self):
        # Names only: the registry must not read the database when the collector is registered.
        gauges = ("distillery_jobs", "distillery_queue_depth", "distillery_store_bytes")
        return [GaugeMetricFamily(n, "") for n in gauges] + [
            HistogramMetricFamily("distillery_job_duration_seconds", ""),
            CounterMetricFamily("distillery_job_failures", ""),
            CounterMetricFamily("distillery_teacher_cache_hits", ""),
            CounterMetricFamily("distillery_teacher_cache_misses", "")]

    def collect(self):
        with self._lock:
            at, families = self._cached
            if time.monotonic() - at > REFRESH_SECONDS:
                try:
                    families = self._read()
                    self._cached = (time.monotonic(), families)
                except Exception:  # a database that is down must not take the request metrics with it
                    log.warning("metrics: could not read jobs from the database", exc_info=True)
        yield from families

    def _store_bytes(self) -> dict[str, int]:
        # Walking a large store costs far more than the queries above: at most once a minute.
        at, sizes = self._store
        if time.monotonic() - at > STORE_REFRESH_SECONDS:
            sizes = store_bytes(get_store())
            self._store = (time.monotonic(), sizes)
        return sizes

    def _read(self) -> list:
        with session_scope() as s:
            by_status = dict(s.execute(select(Job.status, func.count()).group_by(Job.status)).all())
            ended = s.execute(select(Job.started_at, Job.finished_at)
                              .where(Job.finished_at.is_not(None), Job.started_at.is_not(None))).all()
            errors = s.scalars(select(Job.error).where(Job.status == JobStatus.FAILED)).all()
            cache = dict(s.execute(select(Event.type, func.count()).where(Event.type.in_(("cache_hit", "cache_built")))
                                   .group_by(Event.type)).all())
        jobs = GaugeMetricFamily("distillery_jobs", "Jobs by status.", labels=["status"])
        for status in JobStatus:
            jobs.add_metric([status], by_status.get(status, 0))
        depth = GaugeMetricFamily("distillery_queue_depth", "Jobs queued and not yet started.",
                                  value=by_status.get(JobStatus.QUEUED, 0))
        durations = sorted(max(0.0, (f - s_).total_seconds()) for s_, f in ended)
        buckets, i = [], 0
        for bound in DURATION_BUCKETS:
            while i < len(durations) and durations[i] <= bound:
                i += 1
            buckets.append((str(float(bound)), i))
        buckets.append(("+Inf", len(durations)))
        duration = HistogramMetricFamily("distillery_job_duration_seconds", "Ended jobs, from start to end.",
                                         buckets=buckets, sum_value=sum(durations))
        failures = CounterMetricFamily("distillery_job_failures", "Failed jobs by reason.", labels=["reason"])
        counts: dict[str, int] = {}
        for error in errors:
            counts[failure_reason(error)] = counts.get(failure_reason(error), 0) + 1
        for reason, n in sorted(counts.items()):
            failures.add_metric([reason], n)
        hits = CounterMetricFamily("distillery_teacher_cache_hits", "Jobs that read their teacher outputs from "
                                   "the cache.", value=cache.get("cache_hit", 0))
        misses = CounterMetricFamily("distillery_teacher_cache_misses", "Jobs that computed and cached their "
                                     "teacher outputs.", value=cache.get("cache_built", 0))
        store = GaugeMetricFamily("distillery_store_bytes", "Bytes in the artifact store by area (teachers, "
                                  "transfer_sets, students, checkpoints, sweeps, cache, .staging).", labels=["area"])
        for area, n in sorted(self._store_bytes().items()):
            store.add_metric([area], n)
        return [jobs, depth, duration, failures, hits, misses, store]


def store_bytes(store) -> dict[str, int]:
    """Bytes by top-level area (teachers, students, cache, ...), from a listing: a directory or a bucket."""
    sizes: dict[str, int] = {}
    for obj in store.objects():
        top = obj.key.split("/", 1)[0]
        sizes[top] = sizes.get(top, 0) + obj.size_bytes
    return sizes


_collector: DatabaseCollector | None = None


def install(app) -> None:
    global _collector
    if _collector is None:  # one per process: the registry refuses the same metric names twice
        _collector = DatabaseCollector()
        REGISTRY.register(_collector)
    app.add_middleware(MetricsMiddleware)

    @app.get("/metrics", include_in_schema=False)
    def metrics(_request: Request) -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
