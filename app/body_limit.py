"""A cap on request bodies, enforced while they stream in.

The routes' own check (``ArtifactStore.stage``) runs only after Starlette has parsed the whole
multipart body, spooling the file part to a temporary file: a body larger than the limit would
first be written to the server's disk in full. This pure ASGI middleware refuses a declared
``Content-Length`` above the cap at once, and counts the bytes of ``http.request`` messages as
they arrive, so a chunked (or lying) body is cut off with a 413 as soon as it passes the cap.

The cap is ``DISTILLERY_MAX_UPLOAD_BYTES`` plus :data:`MULTIPART_ALLOWANCE` for what surrounds the
file in a multipart body (boundaries, part headers, the small text fields): a file right at the
limit still reaches the route, whose own check then gives the exact answer.
"""

import json

from app.problems import MEDIA_TYPE, TYPE_BASE
from core.config import get_settings

MULTIPART_ALLOWANCE = 1024 * 1024


class BodyTooLarge(Exception):
    """Raised from ``receive`` once the body has passed the cap; the middleware answers 413."""


def body_cap(max_upload_bytes: int) -> int:
    return max_upload_bytes + MULTIPART_ALLOWANCE


class BodyLimitMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = get_settings().max_upload_bytes
        cap = body_cap(limit)
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            await _refuse(scope, send, limit)
            return

        received = 0
        exceeded = False
        started = False

        async def counting_receive():
            nonlocal received, exceeded
            if exceeded:  # the app keeps reading after the refusal: the body is over for it
                raise BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    exceeded = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message):
            nonlocal started
            if exceeded:
                # Whatever the app made of the cut-off body (FastAPI turns a failed form parse into a 400),
                # the client gets the 413; the app's own response is dropped.
                if not started:
                    started = True
                    await _refuse(scope, send, limit)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            if not started:
                started = True
                await _refuse(scope, send, limit)


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length before the app sees it
    return None


async def _refuse(scope, send, limit: int) -> None:
    body = json.dumps({
        "type": TYPE_BASE + "payload-too-large",
        "title": "Payload too large",
        "status": 413,
        "detail": f"the request body is larger than the limit of {limit} bytes (DISTILLERY_MAX_UPLOAD_BYTES) "
                  f"plus {MULTIPART_ALLOWANCE} bytes for multipart framing; send a smaller file",
        "instance": scope.get("path", ""),
    }).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})
