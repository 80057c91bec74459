"""The FastAPI application: ``uvicorn app.main:app``."""

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app import metrics, openapi, problems
from app.body_bounds import BodyBoundsMiddleware
from app.body_limit import BodyLimitMiddleware
from app.deadline import RequestDeadline
from app.key_gate import KeyGate
from app.reaper import reap_forever
from app.request_id import RequestIdMiddleware
from app.routes import api_router
from app.routes.health import router as health_router
from app.safe_text import SafeURLMiddleware
from app.ui import install as install_ui
from core.config import announce_sandbox, get_settings
from core.db import check_schema, get_engine
from core.logging_setup import configure_logging

log = logging.getLogger("distillery")


def _operation_id(route: APIRoute) -> str:
    # The route function's name (create_job, get_job, ...) reads well in generated clients.
    return route.name


@asynccontextmanager
async def lifespan(_app: FastAPI):
    try:
        check_schema(get_engine())
    except Exception as exc:
        log.error("Distillery cannot start: %s", exc)
        raise
    if not get_settings().auth_required:
        banner = "!" * 78
        log.warning("\n%s\n!! AUTH IS OFF: every request without an API key acts as the default tenant.\n"
                    "!! Fine for one machine; set DISTILLERY_AUTH_REQUIRED=true before exposing this server.\n%s",
                    banner, banner)
    announce_sandbox(get_settings(), log)
    reaper = asyncio.create_task(reap_forever())
    yield
    reaper.cancel()


def create_app() -> FastAPI:
    configure_logging(get_settings().log_format)
    app = FastAPI(
        title="Distillery",
        version="1.0.0",
        description="Distillation as a service: upload teachers and a transfer set, get a smaller "
        "student back, exported with a plain softmax.",
        generate_unique_id_function=_operation_id,
        lifespan=lifespan,
        docs_url=None,  # served by app.ui from vendored files, not a CDN
        redoc_url=None,
    )
    problems.install(app)
    app.add_middleware(RequestDeadline)
    openapi.install(app)
    app.include_router(health_router)
    app.include_router(api_router)
    install_ui(app)
    # Limits before work: a URL holding text no database stores, or a body over the cap, is refused
    # before any route runs (the last added runs first).
    app.add_middleware(SafeURLMiddleware)
    app.add_middleware(BodyLimitMiddleware)
    # Before any of those reads a byte of body: the body's pace, and a non-upload body's size and depth; and
    # before that, the API key, from the headers alone.
    app.add_middleware(BodyBoundsMiddleware)
    app.add_middleware(KeyGate)
    # Outermost: every answer, refusals by the limits above included, is counted and carries its request id.
    metrics.install(app)
    app.add_middleware(RequestIdMiddleware)
    return app


app = create_app()
