"""The worker's Celery app: the one ``app/broker.py`` makes, which names the tasks in ``worker/tasks.py``."""

from app.broker import DELIVER_WEBHOOK, RUN_JOB, RUN_SWEEP_MEMBER, SQLA_POLLING_SECONDS, make_celery

__all__ = ["DELIVER_WEBHOOK", "RUN_JOB", "RUN_SWEEP_MEMBER", "SQLA_POLLING_SECONDS", "celery_app", "make_celery"]

celery_app = make_celery()
