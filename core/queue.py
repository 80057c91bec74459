"""Sending work to the workers. Called only after the job row is committed."""

from functools import lru_cache

from celery import Celery

from core.broker import DELIVER_WEBHOOK, RUN_JOB, RUN_SWEEP_MEMBER, make_celery
from core.config import get_settings


@lru_cache
def _sender() -> Celery:
    return make_celery()


def job_queue(devices: int = 1) -> str:
    """Where a job goes: a job on several devices needs a worker that has them, which may listen apart."""
    settings = get_settings()
    return settings.multi_device_queue if devices > 1 and settings.multi_device_queue else settings.queue


def enqueue_job(job_id: str, devices: int = 1) -> None:
    # Bounded retries: a broker that is down must answer the client, not hang its request.
    _sender().send_task(RUN_JOB, args=[job_id], queue=job_queue(devices), retry=True,
                        retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5})


def enqueue_member(job_id: str, run_id: str) -> None:
    _sender().send_task(RUN_SWEEP_MEMBER, args=[job_id, run_id], queue=get_settings().queue, retry=True,
                        retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5})


def enqueue_delivery(delivery_id: str, countdown: float = 0) -> None:
    _sender().send_task(DELIVER_WEBHOOK, args=[delivery_id], queue=get_settings().webhook_queue,
                        countdown=countdown or None, retry=True,
                        retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5})
