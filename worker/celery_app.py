"""The worker's Celery app: the one ``core/broker.py`` makes, which names the tasks in ``worker/tasks.py``."""

from celery.signals import setup_logging

from core.broker import DELIVER_WEBHOOK, RUN_JOB, RUN_SWEEP_MEMBER, make_celery
from core.config import get_settings

__all__ = ["DELIVER_WEBHOOK", "RUN_JOB", "RUN_SWEEP_MEMBER", "celery_app"]  # what worker/tasks.py takes

celery_app = make_celery()

if get_settings().log_format == "json":
    # Connected only for JSON: then Celery leaves logging to us. For text, Celery's own format stays.
    @setup_logging.connect
    def _json_logs(**_kwargs) -> None:
        from core.logging_setup import configure_logging

        configure_logging("json")
