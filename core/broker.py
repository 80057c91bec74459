"""The Celery app as the API uses it: connection, serialisation and delivery settings, and the names of the
tasks it sends. The API sends by name and never imports the worker's code; the worker builds its app here too,
so both ends agree on every setting.

Celery carries work and nothing else: task results are ignored, the database holds job state.
"""

from celery import Celery

from core.config import get_settings

RUN_JOB = "distillery.run_job"
RUN_SWEEP_MEMBER = "distillery.run_sweep_member"
DELIVER_WEBHOOK = "distillery.deliver_webhook"
SQLA_POLLING_SECONDS = 0.2


def make_celery() -> Celery:
    settings = get_settings()
    app = Celery("distillery", broker=settings.resolved_broker_url, include=["worker.tasks"])
    transport_options = {}
    if settings.resolved_broker_url.startswith("sqla+sqlite"):
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        # kombu passes these to SQLAlchemy's create_engine: wait on a busy SQLite file instead of failing.
        transport_options = {"connect_args": {"timeout": 30}}
        # The transport polls its table once a second by default, so an idle worker took up to a second to
        # see a job; its transport options all go to create_engine, so the interval is set on the class.
        from kombu.transport import sqlalchemy as sqla_transport

        sqla_transport.Transport.polling_interval = SQLA_POLLING_SECONDS
    app.conf.update(
        task_ignore_result=True,
        task_default_queue=settings.queue,
        # Late acks + reject on worker loss: a task whose worker dies goes back to the queue. A job's
        # own lease (see worker/leases.py) keeps a redelivered task from running a live job twice, and
        # the API's reaper restarts jobs whose worker vanished, so no job relies on broker redelivery.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_time_limit=settings.task_time_limit_seconds,
        task_soft_time_limit=settings.task_time_limit_seconds - 60,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport_options,
        task_serializer="json",
        accept_content=["json"],
    )
    return app


def broker_instance(broker_url: str) -> str | None:
    """Which run of the broker server is up now: Redis's ``run_id``, new at every start of the server. None
    when it cannot be told (another broker, or the server out of reach). A Redis restarted without persistence
    has lost every message it held, so a new run id means that queued work must be sent again."""
    if not broker_url.startswith(("redis://", "rediss://")):
        return None
    import redis

    client = redis.Redis.from_url(broker_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return str(client.info("server")["run_id"])
    except Exception:  # down, or not a Redis we may ask: the usual resend after DISTILLERY_REQUEUE_AFTER_SECONDS
        return None
    finally:
        client.close()
