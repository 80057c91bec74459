"""The API key is checked from the headers before anything reads the body.

Without this the routes' own check (a dependency) ran only after FastAPI had parsed the body: a keyless
24 MiB JSON body cost the API 624 MB of Python objects before its 401, and a multipart upload was spooled to
disk first. This pure ASGI middleware resolves the key of every ``/v1`` request (one indexed lookup, in a
thread, bounded by DISTILLERY_REQUEST_DEADLINE_SECONDS), answers 401 or 429 itself, and leaves the caller in
the request's state for the routes (:func:`app.auth.current_caller`).

Requests that bring no valid key (none on a server that needs one, or a wrong one) are counted per client
address against DISTILLERY_KEYLESS_RATE_LIMIT: past it they get 429 instead of 401. With auth off, a keyless
request is the default tenant of a one-machine setup and is not counted.
"""

import logging
import math
import time
from functools import lru_cache

import anyio
from limits import parse_many
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.asgi_problems import send_problem
from app.auth import CALLER_STATE, authenticate, bearer_key
from app.problems import Problem, database_unavailable
from app.quotas import _limiter
from core.config import Settings, get_settings

log = logging.getLogger(__name__)
GUARDED_PREFIX = "/v1/"


@lru_cache
def _keyless_limits(spec: str):
    return parse_many(spec.replace(";", ",")) if spec.strip() else []


def _client_address(scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def count_keyless(address: str, settings: Settings) -> Problem | None:
    """Counts one request without a valid key from ``address``; past the limit, the 429 it gets."""
    limiter = _limiter(settings.rate_limit_storage)
    for limit in _keyless_limits(settings.keyless_rate_limit):
        try:
            allowed = limiter.hit(limit, "keyless", address)
        except Exception as exc:  # its Redis is down: the 401 still holds, only the counting is lost
            log.warning("keyless rate limit not applied: its storage failed (%s: %s)", type(exc).__name__, exc)
            return None
        if not allowed:
            reset_at, _remaining = limiter.get_window_stats(limit, "keyless", address)
            wait = max(1, math.ceil(reset_at - time.time()))
            return Problem(429, f"this address sent more than {limit} requests without a valid API key "
                                f"(DISTILLERY_KEYLESS_RATE_LIMIT); send 'Authorization: Bearer <key>', or retry in "
                                f"{wait} s", kind="rate-limited", headers={"Retry-After": str(wait)})
    return None


class KeyGate:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not (scope["path"] + "/").startswith(GUARDED_PREFIX):
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        headers = dict(scope.get("headers", ()))
        raw_key = bearer_key(headers.get(b"authorization", b"").decode("latin-1") or None)
        try:
            caller = await self._authenticate(raw_key, settings)
        except Problem as problem:
            if problem.status == 401 and (raw_key is not None or settings.auth_required):
                problem = count_keyless(_client_address(scope), settings) or problem
            # The body, if any, is never read: the connection cannot carry another request after it.
            await send_problem(scope, send, problem.status, problem.detail, problem.kind, headers=problem.headers,
                               close=_has_body(headers))
            return
        scope.setdefault("state", {})[CALLER_STATE] = caller
        await self.app(scope, receive, send)

    async def _authenticate(self, raw_key: str | None, settings: Settings):
        if raw_key is None:
            return authenticate(None, settings)  # no lookup: the settings alone decide
        try:
            # In the threads the routes use; a lookup that hangs is left to finish there on its own.
            with anyio.fail_after(settings.request_deadline_seconds):
                return await anyio.to_thread.run_sync(authenticate, raw_key, settings, abandon_on_cancel=True)
        except (TimeoutError, DBAPIError, PoolTimeout):
            # A hung or unreachable database: the answer the request deadline gives (app/deadline.py).
            raise database_unavailable() from None


def _has_body(headers: dict[bytes, bytes]) -> bool:
    return headers.get(b"content-length", b"0") not in (b"0", b"") or b"transfer-encoding" in headers
