"""Text a database can store (models/safe_text.py says what that is), refused at the edge as a 422 naming the
field: request bodies through the :data:`~models.safe_text.SafeStr` type, paths and query strings through
:class:`SafeURLMiddleware`, which covers every route's path and query parameters at once. (PostgreSQL refuses
NUL in text, and psycopg turns the refusal into a 500.)
"""

import json
from urllib.parse import parse_qsl

from app.problems import MEDIA_TYPE, TYPE_BASE
from models.safe_text import text_problem


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
