"""API keys and tenants. Every teacher, transfer set and job belongs to a tenant; a request acts as
the tenant of its key (``Authorization: Bearer <key>``), and sees nothing of any other tenant.

With ``DISTILLERY_AUTH_REQUIRED`` off (the embedded default) a request without a key acts as the
default tenant, and the server says so loudly at start.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.deps import SettingsDep
from app.problems import Problem
from app.quotas import check_rate
from core.config import Settings
from core.ids import new_id
from core.tables import DEFAULT_TENANT, ApiKey, Tenant

KEY_PREFIX = "dk_"
bearer = HTTPBearer(auto_error=False, description="An API key made by `distillery admin create-key`.")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, tenant_name: str, *, expires_at: datetime | None = None) -> tuple[Tenant, str]:
    """A new key for the tenant (created if new). The key itself is returned once and never stored."""
    tenant = session.scalar(select(Tenant).where(Tenant.name == tenant_name))
    if tenant is None:
        tenant = Tenant(id=new_id("tenant"), name=tenant_name)
        session.add(tenant)
        session.flush()
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(id=new_id("api_key"), tenant_id=tenant.id, key_hash=hash_key(key), prefix=key[:10],
                       expires_at=expires_at))
    session.commit()
    return tenant, key


def list_keys(session: Session, *, tenant_name: str | None = None) -> list[tuple[ApiKey, Tenant]]:
    query = select(ApiKey, Tenant).join(Tenant, Tenant.id == ApiKey.tenant_id).order_by(Tenant.name, ApiKey.created_at)
    if tenant_name:
        query = query.where(Tenant.name == tenant_name)
    return [(k, t) for k, t in session.execute(query).all()]


def revoke_key(session: Session, *, key_ref: str) -> ApiKey:
    """Revoke by key id (``key_…``), by the prefix that ``list-keys`` shows, or by the key itself.
    A prefix that matches several keys is refused rather than guessed."""
    matches = list(session.scalars(select(ApiKey).where(
        (ApiKey.id == key_ref) | (ApiKey.prefix == key_ref) | (ApiKey.key_hash == hash_key(key_ref)))))
    if not matches:
        raise LookupError(f"no API key has the id or prefix {key_ref!r}; see `distillery admin list-keys`")
    if len(matches) > 1:
        raise LookupError(f"{len(matches)} keys share the prefix {key_ref!r}; revoke by id instead: "
                          + ", ".join(k.id for k in matches))
    key = matches[0]
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        session.commit()
    return key


def list_tenants(session: Session) -> list[tuple[Tenant, int]]:
    """Every tenant with its count of keys still usable (not revoked, not expired)."""
    rows = []
    for tenant in session.scalars(select(Tenant).order_by(Tenant.name)):
        keys = session.scalars(select(ApiKey).where(ApiKey.tenant_id == tenant.id, ApiKey.revoked_at.is_(None)))
        rows.append((tenant, sum(1 for k in keys if not _expired(k))))
    return rows


def _expired(key: ApiKey) -> bool:
    return key.expires_at is not None and key.expires_at <= datetime.now(UTC)


def _unrevoked(session: Session, raw_key: str) -> ApiKey | None:
    return session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(raw_key), ApiKey.revoked_at.is_(None)))


def _unauthorized(detail: str) -> Problem:
    return Problem(401, detail, kind="unauthorized", headers={"WWW-Authenticate": "Bearer"})


@dataclass(frozen=True)
class Caller:
    """Who a request acts as: its tenant, and the id of the key it came with (None: keyless, auth off)."""

    tenant_id: str
    key_id: str | None


# Where app/key_gate.py leaves the caller it resolved from the headers, before the body was read.
CALLER_STATE = "distillery.caller"


def authenticate(raw_key: str | None, settings: Settings) -> Caller:
    """The caller of a request that came with ``raw_key`` (None: no key), or the 401 or 429 it gets. Opens a
    short session of its own: a request that lasts (an event stream) holds no connection for it."""
    from core.db import session_scope

    if raw_key is None:
        if settings.auth_required:
            raise _unauthorized("this server needs an API key: send 'Authorization: Bearer <key>' "
                                "(an operator makes one with `distillery admin create-key --tenant NAME`)")
        return Caller(DEFAULT_TENANT, None)
    with session_scope() as s:
        key = _unrevoked(s, raw_key)
    if key is None:
        raise _unauthorized("the API key is not valid (unknown or revoked); check DISTILLERY_API_KEY or --api-key")
    if _expired(key):
        raise _unauthorized(f"the API key {key.prefix}… expired at {key.expires_at.isoformat(timespec='seconds')}; "
                            "ask an operator for a new one (`distillery admin create-key`)")
    check_rate(key.id, settings)
    return Caller(key.tenant_id, key.id)


def bearer_key(authorization: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header, as FastAPI's HTTPBearer reads it."""
    scheme, token = get_authorization_scheme_param(authorization)
    return token if authorization and scheme.lower() == "bearer" and token else None


async def current_caller(
    request: Request,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    caller = request.scope.get("state", {}).get(CALLER_STATE)
    if caller is None:  # an app without the gate in front (it is in app.main's): the same checks, here
        caller = await run_in_threadpool(authenticate, credentials.credentials if credentials else None, settings)
    return caller


async def current_tenant(caller: Annotated[Caller, Depends(current_caller)]) -> str:
    return caller.tenant_id


TenantDep = Annotated[str, Depends(current_tenant)]
CallerDep = Annotated[Caller, Depends(current_caller)]


def key_still_valid(authorization: str | None) -> bool:
    """For a request that lasts (an event stream): whether the key it came with is still neither revoked nor
    expired. A request without a key was let in by the server's settings, which a stream does not re-read."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return True
    from core.db import session_scope

    with session_scope() as s:
        key = _unrevoked(s, authorization[7:].strip())
        return key is not None and not _expired(key)
