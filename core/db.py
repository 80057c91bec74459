"""Engine, sessions and the schema check shared by the API and the worker."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from core.config import get_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)
UPGRADE_COMMAND = "make migrate  (or: alembic upgrade head)"


class SchemaBehind(RuntimeError):
    pass


def make_engine(url: str, *, bounded: bool = True) -> Engine:
    """``bounded``: with the connect and statement timeouts of the settings (migrations run without)."""
    settings = get_settings()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        busy = settings.db_statement_timeout_seconds
        engine = create_engine(url, connect_args={"timeout": busy, "check_same_thread": False})

        # The API and the worker write the same file: WAL lets readers go on while one writes,
        # and foreign keys are off in SQLite unless asked for.
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy * 1000)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    connect_args = {}
    if url.startswith("postgresql") and bounded:
        # A server that is down or unreachable fails fast, and a statement that stalls is cut off. (A worker's
        # fenced transactions add an idle-in-transaction timeout of their own: see worker/leases.py.)
        ms = int(settings.db_statement_timeout_seconds * 1000)
        connect_args = {"connect_timeout": max(2, int(settings.db_connect_timeout_seconds)),
                        "options": f"-c statement_timeout={ms}"}
    return create_engine(url, pool_pre_ping=True, pool_timeout=settings.db_connect_timeout_seconds,
                         connect_args=connect_args)


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().resolved_database_url)


@lru_cache
def _sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = _sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_db() -> Iterator[Session]:
    session = _sessionmaker()()
    try:
        yield session
    finally:
        try:
            session.close()
        except Exception:  # a connection the server dropped (the answer may be sent already): forget it
            log.warning("closing a request's database session failed; its connection is discarded", exc_info=True)
            with suppress(Exception):
                session.invalidate()


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def check_schema(engine: Engine) -> None:
    """Refuse to serve a database whose schema is not at the newest migration."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        raise SchemaBehind(
            f"The database schema is at revision {current or 'none'}, but this code needs {head}. "
            f"Upgrade it with: {UPGRADE_COMMAND}"
        )


def upgrade(url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(url), "head")


# Registers the webhook outbox on every Session, in the API and the worker alike: any transaction that records a
# job's start or end writes its deliveries (see core/webhook_outbox.py).
import core.webhook_outbox  # noqa: E402,F401
