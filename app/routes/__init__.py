"""One router per resource; ``api_router`` only aggregates them under ``/v1``."""

from fastapi import APIRouter

from app.routes import jobs, teachers, transfer_sets, webhooks

api_router = APIRouter(prefix="/v1")
api_router.include_router(teachers.router)
api_router.include_router(transfer_sets.router)
api_router.include_router(jobs.router)
api_router.include_router(webhooks.router)
