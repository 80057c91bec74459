"""A tenant's webhook endpoints, and the delivery log of each endpoint and each job."""

from fastapi import APIRouter, Response
from sqlalchemy import select

from app.auth import TenantDep
from app.deps import SessionDep, SettingsDep
from app.problems import ERROR_RESPONSES, invalid
from app.schemas import (
    WebhookDeliveryList,
    WebhookDeliveryPublic,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointList,
    WebhookEndpointPublic,
)
from app.scoping import Limit, Offset, fetch_owned, page
from core.ids import new_id, new_webhook_secret
from core.tables import Job, WebhookDelivery, WebhookEndpoint
from core.webhook_addresses import url_problem

router = APIRouter(tags=["webhooks"], responses=ERROR_RESPONSES)
MAX_ENDPOINTS = 20  # per tenant: every job event is written once per endpoint


@router.post("/webhooks", status_code=201, response_model=WebhookEndpointCreated)
def create_endpoint(body: WebhookEndpointCreate, tenant: TenantDep, session: SessionDep, settings: SettingsDep,
                    response: Response) -> WebhookEndpointCreated:
    """Send this tenant's job events to ``url``. The signing secret is shown in this response only."""
    if problem := url_problem(body.url, settings.webhook_allow_private):
        raise invalid(str(problem), field="url", kind="webhook-url-refused")
    _, count = page(session, select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == tenant),
                    WebhookEndpoint.id, limit=1, offset=0)
    if count >= MAX_ENDPOINTS:
        raise invalid(f"a tenant has at most {MAX_ENDPOINTS} webhook endpoints; delete one first", field="url",
                      kind="too-many-webhooks")
    endpoint = WebhookEndpoint(id=new_id("webhook"), tenant_id=tenant, url=body.url,
                               events=sorted(set(body.events)), secret=new_webhook_secret())
    session.add(endpoint)
    session.commit()
    response.headers["Location"] = f"/v1/webhooks/{endpoint.id}"
    return WebhookEndpointCreated.model_validate(endpoint)


@router.get("/webhooks", response_model=WebhookEndpointList)
def list_endpoints(tenant: TenantDep, session: SessionDep, limit: Limit = 20, offset: Offset = 0):
    rows, count = page(session, select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == tenant),
                       WebhookEndpoint.created_at, WebhookEndpoint.id, limit=limit, offset=offset)
    return WebhookEndpointList(data=[WebhookEndpointPublic.model_validate(r) for r in rows], count=count)


@router.delete("/webhooks/{webhook_id}", status_code=204)
def delete_endpoint(webhook_id: str, tenant: TenantDep, session: SessionDep) -> Response:
    """Stop sending to this endpoint; its pending deliveries and its log go with it."""
    session.delete(fetch_owned(session, WebhookEndpoint, webhook_id, tenant, "webhook"))
    session.commit()
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=WebhookDeliveryList)
def endpoint_deliveries(webhook_id: str, tenant: TenantDep, session: SessionDep, limit: Limit = 20,
                        offset: Offset = 0):
    """Every delivery to this endpoint, newest first, with each try's answer and the next try's time."""
    fetch_owned(session, WebhookEndpoint, webhook_id, tenant, "webhook")
    return _deliveries(session, WebhookDelivery.endpoint_id == webhook_id, limit, offset)


@router.get("/jobs/{job_id}/webhook-deliveries", response_model=WebhookDeliveryList)
def job_deliveries(job_id: str, tenant: TenantDep, session: SessionDep, limit: Limit = 20, offset: Offset = 0):
    """Every delivery of this job's events, to its webhook_url and to the tenant's endpoints."""
    fetch_owned(session, Job, job_id, tenant, "job")
    return _deliveries(session, WebhookDelivery.job_id == job_id, limit, offset)


def _deliveries(session, where, limit: int, offset: int) -> WebhookDeliveryList:
    rows, count = page(session, select(WebhookDelivery).where(where),
                       WebhookDelivery.created_at.desc(), WebhookDelivery.id, limit=limit, offset=offset)
    return WebhookDeliveryList(data=[WebhookDeliveryPublic.model_validate(r) for r in rows], count=count)
