"""Celery tasks: thin wrappers that hand ids to the job runner (worker/jobs/)."""

import os

from celery import group
from celery.signals import worker_init, worker_process_init, worker_process_shutdown, worker_ready
from celery.utils.log import get_logger

from core.config import announce_sandbox, get_settings
from core.store import get_store
from worker.celery_app import DELIVER_WEBHOOK, RUN_JOB, RUN_SWEEP_MEMBER, celery_app


@worker_ready.connect
def _announce_sandbox(**_kwargs) -> None:
    announce_sandbox(get_settings(), get_logger("distillery.sandbox"))  # under Celery's own log handlers


@worker_init.connect
def _preload(**_kwargs) -> None:
    """Import the engine and the exporters in the worker's main process, before its pool forks: a pool process
    (a new one too, after a broker outage) then starts a job within the broker's own delay, not after the
    seconds these imports take."""
    port = get_settings().worker_metrics_port
    if port:  # before the engine's import brings in prometheus_client: see worker/metrics.py
        from worker.metrics_endpoint import enable_multiprocess

        enable_multiprocess(port)
    import torch.onnx  # noqa: F401

    import worker.jobs.lifecycle  # noqa: F401


@worker_process_shutdown.connect
def _forget_process_metrics(pid=None, **_kwargs) -> None:
    from worker.metrics_endpoint import process_exited

    process_exited(pid or os.getpid())


@worker_process_init.connect
def _set_threads(**_kwargs) -> None:
    """Set each pool process's intra-op threads (DISTILLERY_WORKER_THREADS) explicitly, rather than inherit
    whatever the environment or the fork left."""
    import torch

    threads = get_settings().worker_thread_count
    torch.set_num_threads(threads)
    get_logger("distillery.worker").info("pool process %d: intra-op threads: %d", os.getpid(), torch.get_num_threads())


@celery_app.task(name=RUN_JOB)
def run_job(job_id: str) -> None:
    from worker.jobs.lifecycle import execute

    with get_store().cache.held():  # the job's inputs stay in the local cache while it reads them
        execute(job_id, dispatch_members=dispatch_sweep)


def dispatch_sweep(job_id: str, run_ids: list[str]) -> None:
    """The members of a sweep as one Celery group: in parallel when several workers listen."""
    group(run_sweep_member.s(job_id, run_id) for run_id in run_ids).apply_async(queue=get_settings().queue)


@celery_app.task(name=RUN_SWEEP_MEMBER)
def run_sweep_member(job_id: str, run_id: str) -> None:
    from worker.jobs.sweeps import execute_member

    with get_store().cache.held():
        execute_member(job_id, run_id)


@celery_app.task(name=DELIVER_WEBHOOK)
def deliver_webhook(delivery_id: str) -> None:
    from worker.webhook_delivery import deliver

    deliver(delivery_id)
