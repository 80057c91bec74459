"""X-Request-ID: taken from the request when it is a sane token, made otherwise, returned on the response,
and carried by every log line written while the request is answered."""

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logging_setup import log_context

HEADER = b"x-request-id"
# A proxy's id is kept as sent only when it cannot forge log fields or headers: short and plain.
_SANE = re.compile(rb"^[A-Za-z0-9._:\-]{1,128}$")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(HEADER, b"")
        request_id = sent.decode() if _SANE.match(sent) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, request_id.encode())]}
            await send(message)

        with log_context(request_id=request_id):
            await self.app(scope, receive, send_with_id)
