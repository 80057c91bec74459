from fastapi import APIRouter
from sqlalchemy import text

from app.db import check_schema, get_engine
from app.problems import Problem, ProblemDetail
from app.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, responses={503: {"model": ProblemDetail}})
def healthz() -> Health:
    """200 once the API can reach its database."""
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise Problem(503, f"the database is unreachable: {type(exc).__name__}") from None
    return Health(status="ok", database="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": ProblemDetail}})
def readyz() -> Health:
    """200 when the database is reachable and its schema is current."""
    try:
        check_schema(get_engine())
    except Exception as exc:
        raise Problem(503, str(exc)) from None
    return Health(status="ok", database="ok")
