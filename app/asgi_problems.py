"""Problem-details answers sent by pure ASGI middleware, before any route runs (FastAPI's exception
handlers are not there yet)."""

import json

from app.problems import _TITLES, MEDIA_TYPE, TYPE_BASE

TITLES = {**_TITLES, 408: "Request timeout"}


async def send_problem(scope, send, status: int, detail: str, kind: str, *, headers: dict[str, str] | None = None,
                       errors: list[dict] | None = None, close: bool = False) -> None:
    """``close``: the client may still be sending a body nobody will read, so the connection cannot be
    reused after this answer."""
    problem = {"type": TYPE_BASE + kind, "title": TITLES.get(status, "Error"), "status": status,
               "detail": detail, "instance": scope.get("path", "")}
    if errors:
        problem["errors"] = errors
    body = json.dumps(problem).encode()
    raw = [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    if close:
        raw.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
