"""Log lines for people (the default, `make run`) or JSON lines for a log pipeline (DISTILLERY_LOG_FORMAT=json).

Every line carries the context it was written in: the request id of the request being answered, and the
job id, run and tenant of the job being worked on. The context lives in contextvars, so it follows a request
into the threads FastAPI runs sync routes in, and never leaks between two requests or two jobs.
"""

import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_context: ContextVar[dict[str, str] | None] = ContextVar("distillery_log_context", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None)))
_STANDARD |= {"message", "asctime", "taskName"}


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def current_log_context() -> dict[str, str]:
    return dict(_context.get() or {})


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):  # an explicit extra= wins
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(log_format: str) -> None:
    """JSON: one handler on the root logger, and every library logger (uvicorn's access log, Celery's) sent
    to it. Text: the servers' own formats are left as they are."""
    if log_format != "json":
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "celery", "distillery"):
        lib = logging.getLogger(name)
        lib.handlers = []
        lib.propagate = True


# scheme://host[:port], then the path, query and fragment that follow it, up to a quote or a space
_URL = re.compile(r"""(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s"'?#]+)([^\s"']*)""")


class HideUrlPaths(logging.Filter):
    """Cuts every URL in a record's text down to its scheme and host. Webhook receivers often carry a token in
    the path or query, and the HTTP client's own loggers print whole URLs."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cut = _URL.sub(lambda m: m[1] + ("/..." if m[2] not in ("", "/") else m[2]), message)
        if cut != message:
            record.msg, record.args = cut, ()
        return True


def hide_http_client_urls() -> None:
    """httpx logs each request (INFO) with its URL: filtered to the host. httpcore's DEBUG lines trace every
    connection and header: kept at WARNING, where it says only what went wrong."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, HideUrlPaths) for f in logger.filters):
        logger.addFilter(HideUrlPaths())
    logging.getLogger("httpcore").setLevel(logging.WARNING)  # its children (connection, http11) inherit it
