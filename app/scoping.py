"""Reading a tenant's own rows: one resource by id (404 for anyone else's), or one page of a list."""

from typing import Annotated, TypeVar

from fastapi import Query
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.problems import MAX_OFFSET, not_found

Row = TypeVar("Row")

Limit = Annotated[int, Query(ge=1, le=100, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]


def owned(session: Session, model: type[Row], ident: str, tenant: str) -> Row | None:
    """The row, if it exists and belongs to ``tenant``: another tenant's row does not exist for you."""
    row = session.get(model, ident)
    return row if row is not None and row.tenant_id == tenant else None


def fetch_owned(session: Session, model: type[Row], ident: str, tenant: str, what: str) -> Row:
    row = owned(session, model, ident, tenant)
    if row is None:
        raise not_found(what, ident)
    return row


def page(session: Session, query: Select, *order, limit: int, offset: int) -> tuple[list, int]:
    """One page of ``query`` in ``order``, and how many rows there are in all."""
    count = session.scalar(select(func.count()).select_from(query.subquery()))
    return list(session.scalars(query.order_by(*order).limit(limit).offset(offset))), count
