"""Injected dependencies as ``Annotated`` aliases, so a route's signature says what it needs."""

from functools import lru_cache
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.db import get_db
from app.store import ArtifactStore, open_store


@lru_cache
def get_store() -> ArtifactStore:
    return open_store(get_settings())


SessionDep = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[ArtifactStore, Depends(get_store)]
