"""Errors as RFC 9457 problem details, each kind with a stable ``type``.

Routes raise :class:`Problem`; the handlers below turn it, FastAPI's validation errors and
Starlette's HTTP errors into ``application/problem+json``.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from models.distill_config import METHODS

TYPE_BASE = "https://distillery.dev/problems/"
MEDIA_TYPE = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    422: "Unprocessable content",
    429: "Too many requests",
    503: "Service unavailable",
}
_TYPES = {
    400: "bad-request",
    401: "unauthorized",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    422: "invalid-request",
    429: "too-many-requests",
    503: "unavailable",
}


class ProblemDetail(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


class Problem(Exception):
    def __init__(self, status: int, detail: str, *, kind: str | None = None, errors: list | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.headers = headers
        self.status = status
        self.detail = detail
        self.kind = kind or _TYPES.get(status, "error")
        self.errors = errors


def not_found(what: str, ident: str) -> Problem:
    return Problem(404, f"{what} {ident!r} does not exist.", kind="not-found")


def invalid(detail: str, *, field: str | None = None, kind: str = "invalid-request") -> Problem:
    errors = [{"field": field, "message": detail}] if field else None
    return Problem(422, detail, kind=kind, errors=errors)


def _response(request: Request, status: int, detail: str, kind: str, errors=None, headers=None):
    body = ProblemDetail(
        type=TYPE_BASE + kind,
        title=_TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=str(request.url.path),
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, media_type=MEDIA_TYPE, headers=headers
    )


def _field_name(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    # A job's hyperparameters are one object per method; pydantic names the method in the location
    # ("hyperparameters.dkd.beta"), but the field the user wrote is "hyperparameters.beta".
    if len(parts) > 1 and parts[0] == "hyperparameters" and parts[1] in METHODS:
        del parts[1]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def _error_entry(e: dict) -> dict[str, str]:
    if e.get("type") == "json_invalid":
        # FastAPI locates a JSON syntax error at ("body", character position): a position, not a field.
        loc = tuple(e.get("loc") or ())
        reason = (e.get("ctx") or {}).get("error", "JSON decode error")
        where = f" at character {loc[-1]}" if loc and isinstance(loc[-1], int) else ""
        return {"field": "body", "message": f"the body is not valid JSON: {reason}{where}"}
    return {"field": _field_name(tuple(e.get("loc", ()))), "message": e.get("msg", "").removeprefix("Value error, ")}


RETRY_AFTER_SECONDS = "5"


def database_unavailable(detail: str = "the database is unreachable or not answering; try again shortly") -> Problem:
    return Problem(503, detail, kind="database-unavailable", headers={"Retry-After": RETRY_AFTER_SECONDS})


def install(app: FastAPI) -> None:
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from core.store import ArtifactCorrupt, ArtifactMissing, UploadTooLarge

    @app.exception_handler(UploadTooLarge)
    async def _too_large(request: Request, exc: UploadTooLarge):
        detail = f"the file is larger than the limit of {exc.limit} bytes (DISTILLERY_MAX_UPLOAD_BYTES)"
        return _response(request, 413, detail, "payload-too-large")

    @app.exception_handler(ArtifactCorrupt)
    @app.exception_handler(ArtifactMissing)
    async def _unreadable(request: Request, exc: Exception):
        # A stored file that is gone or fails its sha256 check is never served: the client learns which, and
        # that only storing it again (a new upload, the job run again) mends it.
        kind = "artifact-corrupt" if isinstance(exc, ArtifactCorrupt) else "artifact-missing"
        return _response(request, 409, f"{exc}; delete it and upload it again, or run the job again", kind)

    @app.exception_handler(DBAPIError)
    @app.exception_handler(PoolTimeout)
    async def _database(request: Request, exc: Exception):
        # The database is down, unreachable or too slow (a statement or connect timeout, no free connection),
        # or it dropped the connection; any other database error is a bug, a 500.
        if isinstance(exc, DBAPIError) and not (isinstance(exc, OperationalError) or exc.connection_invalidated):
            raise exc
        return _response(request, 503, database_unavailable().detail, "database-unavailable",
                         headers={"Retry-After": RETRY_AFTER_SECONDS})

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return _response(request, exc.status, exc.detail, exc.kind, exc.errors, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [_error_entry(e) for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
        return _response(request, 422, detail, "invalid-request", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return _response(request, exc.status_code, detail, _TYPES.get(exc.status_code, "error"),
                         headers=getattr(exc, "headers", None))


# Declared on every route so generated clients get a typed error model. 429: any /v1 request may be rate
# limited, by its key's limit or, without a valid key, by its address's (app/key_gate.py).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ProblemDetail, "description": _TITLES[status]} for status in (401, 404, 422, 429)
}

# Offsets and ids beyond this are no real position; bounding them keeps them inside a 64-bit integer.
MAX_OFFSET = 2**53
