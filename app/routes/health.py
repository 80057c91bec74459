"""Health and readiness. Each check runs in a thread of its own and answers 503 after
DISTILLERY_HEALTH_TIMEOUT_SECONDS, so that a database that hangs never hangs these endpoints; while a
check is stuck, later calls wait on the same one instead of piling up threads."""

import asyncio
from concurrent.futures import Future, ThreadPoolExecutor

from fastapi import APIRouter
from sqlalchemy import text

from app.problems import Problem, ProblemDetail, database_unavailable
from app.schemas import Health
from core.config import get_settings
from core.db import check_schema, get_engine

router = APIRouter(tags=["health"])
_checks = ThreadPoolExecutor(max_workers=2, thread_name_prefix="health")
_in_flight: dict[str, Future] = {}


async def _bounded(name: str, check) -> None:
    future = _in_flight.get(name)
    if future is None or future.done():
        future = _in_flight[name] = _checks.submit(check)
    seconds = get_settings().health_timeout_seconds
    try:
        await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), seconds)
    except TimeoutError:
        raise database_unavailable(f"the database did not answer within {seconds:g} s") from None


def _ping() -> None:
    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))


@router.get("/healthz", response_model=Health, responses={503: {"model": ProblemDetail}})
async def healthz() -> Health:
    """200 once the API can reach its database."""
    try:
        await _bounded("healthz", _ping)
    except Problem:
        raise
    except Exception as exc:
        raise database_unavailable(f"the database is unreachable: {type(exc).__name__}") from None
    return Health(status="ok", database="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": ProblemDetail}})
async def readyz() -> Health:
    """200 when the database is reachable and its schema is current."""
    try:
        await _bounded("readyz", lambda: check_schema(get_engine()))
    except Problem:
        raise
    except Exception as exc:
        raise Problem(503, str(exc), headers={"Retry-After": "5"}) from None
    return Health(status="ok", database="ok")
