"""Sending work to the workers. Called only after the job row is committed."""

from app.config import get_settings


def enqueue_job(job_id: str) -> None:
    from worker.celery_app import RUN_JOB, celery_app

    celery_app.send_task(RUN_JOB, args=[job_id], queue=get_settings().queue)
