"""API keys and tenants. Every teacher, transfer set and job belongs to a tenant; a request acts as
the tenant of its key (``Authorization: Bearer <key>``), and sees nothing of any other tenant.

With ``DISTILLERY_AUTH_REQUIRED`` off (the embedded default) a request without a key acts as the
default tenant, and the server says so loudly at start.
"""

import hashlib
import secrets
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.deps import SessionDep, SettingsDep
from app.ids import new_id
from app.problems import Problem
from app.tables import DEFAULT_TENANT, ApiKey, Tenant

KEY_PREFIX = "dk_"
bearer = HTTPBearer(auto_error=False, description="An API key made by `distillery admin create-key`.")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, tenant_name: str) -> tuple[Tenant, str]:
    """A new key for the tenant (created if new). The key itself is returned once and never stored."""
    tenant = session.scalar(select(Tenant).where(Tenant.name == tenant_name))
    if tenant is None:
        tenant = Tenant(id=new_id("tenant"), name=tenant_name)
        session.add(tenant)
        session.flush()
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(id=new_id("api_key"), tenant_id=tenant.id, key_hash=hash_key(key), prefix=key[:10]))
    session.commit()
    return tenant, key


def _unauthorized(detail: str) -> Problem:
    return Problem(401, detail, kind="unauthorized", headers={"WWW-Authenticate": "Bearer"})


def current_tenant(
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    if credentials is None:
        if settings.auth_required:
            raise _unauthorized("this server needs an API key: send 'Authorization: Bearer <key>' "
                                "(an operator makes one with `distillery admin create-key --tenant NAME`)")
        return DEFAULT_TENANT
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(credentials.credentials),
                                              ApiKey.revoked_at.is_(None)))
    if key is None:
        raise _unauthorized("the API key is not valid (unknown or revoked); check DISTILLERY_API_KEY or --api-key")
    return key.tenant_id


TenantDep = Annotated[str, Depends(current_tenant)]
