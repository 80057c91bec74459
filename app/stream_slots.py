"""A bound on the event streams one API key holds open at once, in this API process.

A stream lasts as long as its job: without a bound, one tenant's streams would take every thread and
database turn the API has. Past the bound a new stream is a 429; a slot is freed when its response ends,
however it ends (the job ended, the client went away, the server stops).
"""

import threading
from collections import Counter

from starlette.responses import StreamingResponse

from app.problems import Problem

RETRY_SECONDS = 10
_lock = threading.Lock()
_open: Counter[str] = Counter()


def take(holder: str, limit: int) -> None:
    """One slot for ``holder``, or the 429 that says what to close."""
    with _lock:
        if _open[holder] >= limit:
            raise Problem(429, f"this API key already has {_open[holder]} event streams open, its limit "
                               f"(DISTILLERY_MAX_STREAMS_PER_KEY={limit}); close one, or poll "
                               "GET /v1/jobs/{id}/events instead", kind="too-many-streams",
                          headers={"Retry-After": str(RETRY_SECONDS)})
        _open[holder] += 1


def give_back(holder: str) -> None:
    with _lock:
        _open[holder] -= 1
        if _open[holder] <= 0:
            del _open[holder]


def open_count(holder: str) -> int:
    with _lock:
        return _open[holder]


class SlotStreamingResponse(StreamingResponse):
    """A streaming response that gives its holder's slot back when it ends, whatever ends it."""

    def __init__(self, content, *, holder: str, **kw):
        super().__init__(content, **kw)
        self.holder = holder

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            give_back(self.holder)
