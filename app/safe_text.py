"""Text a database can store: no NUL characters, no unpaired surrogates.

PostgreSQL refuses NUL in text (and psycopg turns the refusal into a 500), and neither SQLite nor
PostgreSQL can encode a lone surrogate (``"\\ud800"``, which ``json.loads`` happily produces) as
UTF-8. Both are refused at the edge as a 422 naming the field: request bodies through the
:data:`SafeStr` type, paths and query strings through :class:`SafeURLMiddleware`, which covers
every route's path and query parameters at once.
"""

import json
from typing import Annotated
from urllib.parse import parse_qsl

from pydantic import AfterValidator

from app.problems import MEDIA_TYPE, TYPE_BASE


def text_problem(value: str) -> str | None:
    """What is wrong with ``value`` for storage, or None."""
    if "\x00" in value:
        return "must not contain NUL characters (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain unpaired surrogates (e.g. \\ud800); send valid UTF-8 text"
    return None


def check_text(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


SafeStr = Annotated[str, AfterValidator(check_text)]


class SafeURLMiddleware:
    """Refuses a request whose path or query string holds text no database stores, before any route
    (and any SQL) sees it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            field, problem = _url_problem(scope)
            if problem:
                await _refuse(scope, send, field, problem)
                return
        await self.app(scope, receive, send)


def _url_problem(scope) -> tuple[str, str | None]:
    problem = text_problem(scope.get("path", ""))
    if problem:
        return "path", problem
    # Decoded as Starlette decodes it for the routes.
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if problem := text_problem(name):
            return "query", problem
        if problem := text_problem(value):
            return name, problem
    return "", None


async def _refuse(scope, send, field: str, problem: str) -> None:
    where = "path" if field == "path" else "query string"
    detail = f"the URL's {where} {problem}"
    body = json.dumps({
        "type": TYPE_BASE + "invalid-request", "title": "Unprocessable content", "status": 422,
        "detail": detail, "errors": [{"field": field, "message": problem}],
    }).encode()
    await send({"type": "http.response.start", "status": 422, "headers": [
        (b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode()),
    ]})
    await send({"type": "http.response.body", "body": body})
