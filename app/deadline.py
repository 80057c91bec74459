"""Answers within a bound when the database hangs.

A database that accepts connections but never answers (a stalled network path, a frozen server) would
hold a request forever: PostgreSQL's statement timeout is enforced by the server, which never sees the
query. This middleware answers 503 (problem details, ``Retry-After``) to any request that has not started
its response after DISTILLERY_REQUEST_DEADLINE_SECONDS; the handler's thread is left to finish or fail on
its own, and what it sends afterwards is dropped. Uploads (POST to teachers and transfer sets, which may
legitimately take long) are exempt; a response that has started streams on without a bound.
"""

import asyncio
import logging

from fastapi.responses import JSONResponse

from app.problems import MEDIA_TYPE, RETRY_AFTER_SECONDS, TYPE_BASE, ProblemDetail
from core.config import get_settings

log = logging.getLogger(__name__)
EXEMPT = ("/v1/teachers", "/v1/transfer-sets")


def _bounded(scope) -> bool:
    return scope["type"] == "http" and not (scope["method"] == "POST" and scope["path"].rstrip("/") in EXEMPT)


def _retrieve(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("a request answered 503 after its deadline ended later with %r", task.exception())


class RequestDeadline:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if not _bounded(scope):
            await self.app(scope, receive, send)
            return
        started = asyncio.Event()
        late = False

        async def guarded_send(message):
            if late:
                return
            if message["type"] == "http.response.start":
                started.set()
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        waiter = asyncio.ensure_future(started.wait())
        await asyncio.wait({task, waiter}, timeout=get_settings().request_deadline_seconds,
                           return_when=asyncio.FIRST_COMPLETED)
        if task.done() or started.is_set():
            waiter.cancel()
            await task
            return
        late = True
        waiter.cancel()
        task.add_done_callback(_retrieve)
        seconds = get_settings().request_deadline_seconds
        body = ProblemDetail(type=TYPE_BASE + "database-unavailable", title="Service unavailable", status=503,
                             detail=f"no answer within {seconds:g} s (DISTILLERY_REQUEST_DEADLINE_SECONDS): the "
                                    "database is not answering; try again shortly", instance=scope["path"])
        response = JSONResponse(body.model_dump(exclude_none=True), status_code=503, media_type=MEDIA_TYPE,
                                headers={"Retry-After": RETRY_AFTER_SECONDS})
        await response(scope, receive, send)
