"""Bounds on a request body while it arrives: how fast it comes, how large a body that is not an upload
may be, and how deeply its JSON nests, all before any parser sees it.

- Pace: every body must arrive within DISTILLERY_UPLOAD_DEADLINE_SECONDS, and at no less than
  DISTILLERY_UPLOAD_MIN_BYTES_PER_SECOND over each DISTILLERY_UPLOAD_RATE_WINDOW_SECONDS spent waiting for
  the client (time the server spends on what it has is not the client's). A body that stalls is cut with a
  408; what was spooled of it is removed (Starlette closes its temporary files when reading fails). Uploads
  are exempt from the request deadline (app/deadline.py), so without this a stalled upload held its bytes
  and its connection for ever.
- Size: only multipart uploads may be large (app/body_limit.py caps them). Any other body is read here
  whole up to DISTILLERY_MAX_JSON_BYTES, larger is a 413 before a byte is parsed: a JSON parse costs about
  27 bytes of Python objects per byte of body.
- Depth: a JSON body (or one without a content type, which FastAPI parses as JSON) that nests deeper than
  DISTILLERY_MAX_JSON_DEPTH is a 422 (models/json_bounds.py), instead of a RecursionError and a 500.
"""

import asyncio
import time

from app.asgi_problems import send_problem
from core.config import Settings, get_settings
from models.json_bounds import JSONTooDeep, check_depth


class BodyCut(Exception):
    """Raised from ``receive`` once the body is refused; the middleware answers with ``status``."""

    def __init__(self, status: int, kind: str, detail: str):
        super().__init__(detail)
        self.status, self.kind, self.detail = status, kind, detail


class _Pace:
    def __init__(self, settings: Settings):
        self.seconds = settings.upload_deadline_seconds
        self.deadline = time.monotonic() + self.seconds
        self.window = settings.upload_rate_window_seconds
        self.rate = settings.upload_min_bytes_per_second
        self.waited = 0.0  # seconds spent waiting on the client in the current window
        self.got = 0  # bytes the client sent in it
        self.done = False

    def _too_slow(self, why: str) -> BodyCut:
        return BodyCut(408, "request-timeout", f"the request body {why}; send it again on a faster or steadier "
                       "connection, or (operators) raise DISTILLERY_UPLOAD_DEADLINE_SECONDS or lower "
                       "DISTILLERY_UPLOAD_MIN_BYTES_PER_SECOND")

    async def receive(self, receive):
        if self.done:  # the body is in: what follows (a disconnect) is not paced
            return await receive()
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise self._too_slow(f"did not arrive in full within {self.seconds:g} s "
                                     "(DISTILLERY_UPLOAD_DEADLINE_SECONDS)")
            if self.waited >= self.window:
                if self.got < self.rate * self.window:
                    raise self._too_slow(f"arrived at {self.got / self.waited:.0f} bytes/s over "
                                         f"{self.waited:.0f} s, below the minimum of {self.rate} "
                                         "(DISTILLERY_UPLOAD_MIN_BYTES_PER_SECOND)")
                self.waited, self.got = 0.0, 0
            started = time.monotonic()
            try:
                message = await asyncio.wait_for(receive(), timeout=min(left, self.window - self.waited))
            except TimeoutError:
                message = None
            self.waited += time.monotonic() - started
            if message is None:
                continue
            if message["type"] == "http.request":
                self.got += len(message.get("body", b""))
                self.done = not message.get("more_body", False)
            else:
                self.done = True
            return message


def _headers(scope) -> dict[bytes, bytes]:
    return {k.lower(): v for k, v in scope.get("headers", ())}


def _has_body(headers: dict[bytes, bytes]) -> bool:
    return headers.get(b"content-length", b"0").strip() not in (b"0", b"") or b"transfer-encoding" in headers


def _is_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media in (b"", b"application/json") or media.endswith(b"+json")


class BodyBoundsMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        headers = _headers(scope) if scope["type"] == "http" else {}
        if scope["type"] != "http" or not _has_body(headers):
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        pace = _Pace(settings)
        content_type = headers.get(b"content-type", b"")
        try:
            if content_type.lower().startswith(b"multipart/form-data"):
                await self._upload(scope, lambda: pace.receive(receive), send)
                return
            body = await _read_small(lambda: pace.receive(receive), headers, settings.max_json_bytes)
            if body is None:
                return  # the client went away before its body was in: nobody to answer
            if _is_json(content_type):
                check_depth(body, settings.max_json_depth)
        except BodyCut as cut:
            await send_problem(scope, send, cut.status, cut.detail, cut.kind, close=True)
            return
        except JSONTooDeep as exc:  # the body was read in full: the connection can carry the next request
            await send_problem(scope, send, 422, str(exc) + " (DISTILLERY_MAX_JSON_DEPTH)", "invalid-request",
                               errors=[{"field": "body", "message": str(exc)}])
            return
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _upload(self, scope, receive, send):
        cut: BodyCut | None = None
        started = False

        async def cutting_receive():
            nonlocal cut
            if cut is not None:
                raise cut
            try:
                return await receive()
            except BodyCut as exc:
                cut = exc
                raise

        async def guarded_send(message):
            nonlocal started
            if cut is not None:  # whatever the app made of the cut-off body, the client gets the 408
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, cutting_receive, guarded_send)
        except BodyCut:
            pass
        if cut is not None and not started:
            raise cut


async def _read_small(receive, headers: dict[bytes, bytes], limit: int) -> bytes | None:
    def too_large() -> BodyCut:
        return BodyCut(413, "payload-too-large", f"the request body is larger than the limit of {limit} bytes for "
                       "anything but a multipart upload (DISTILLERY_MAX_JSON_BYTES); send a smaller document")

    try:
        declared = int(headers.get(b"content-length", b"") or -1)
    except ValueError:
        declared = -1
    if declared > limit:
        raise too_large()
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
