"""Celery tasks: thin wrappers that hand a job id to the runner."""

from worker.celery_app import RUN_JOB, celery_app


@celery_app.task(name=RUN_JOB)
def run_job(job_id: str) -> None:
    from worker.job_runner import execute

    execute(job_id)
