"""A worker's Prometheus metrics. How they are served, correctly under Celery's prefork pool, is in
worker/metrics_endpoint.py."""

import logging

from prometheus_client import Counter, Gauge, Histogram

log = logging.getLogger("distillery.worker")

RUNTIME_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600, float("inf"))

JOBS_STARTED = Counter("distillery_worker_jobs_started_total", "Jobs a worker started (a sweep counts once, "
                       "not per member).")
JOBS_FINISHED = Counter("distillery_worker_jobs_finished_total", "Jobs a worker ended, by final status.",
                        ["status"])
EPOCHS = Counter("distillery_worker_epochs_total", "Epochs trained (every run of a job counts).")
SAMPLES_PER_SECOND = Gauge("distillery_worker_samples_per_second", "Training speed of the latest epoch of the "
                           "jobs running now; 0 when idle.", multiprocess_mode="livesum")
JOB_RUNTIME = Histogram("distillery_worker_job_runtime_seconds", "From a job's start to its end.",
                        buckets=RUNTIME_BUCKETS)
GPU_MEMORY = Gauge("distillery_worker_gpu_memory_bytes", "CUDA memory allocated by the running jobs, by device.",
                   ["device"], multiprocess_mode="livesum")


def epoch_done(metrics: dict) -> None:
    EPOCHS.inc()
    speed = metrics.get("samples_per_second")
    if speed is not None and speed == speed:  # NaN when an epoch took no measurable time
        SAMPLES_PER_SECOND.set(speed)
    try:
        import torch

        if torch.cuda.is_available() and torch.cuda.is_initialized():
            for i in range(torch.cuda.device_count()):
                GPU_MEMORY.labels(device=f"cuda:{i}").set(torch.cuda.memory_allocated(i))
    except Exception:  # a metric never fails a job
        log.debug("could not read CUDA memory", exc_info=True)


def job_idle() -> None:
    SAMPLES_PER_SECOND.set(0)
    for labels in list(GPU_MEMORY._metrics):  # the devices this process reported; the gauge says "running jobs"
        GPU_MEMORY.labels(*labels).set(0)
