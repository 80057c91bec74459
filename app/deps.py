"""Injected dependencies as ``Annotated`` aliases, so a route's signature says what it needs."""

from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from core.config import Settings, get_settings
from core.db import get_db
from core.store import ArtifactStore, get_store

SessionDep = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[ArtifactStore, Depends(get_store)]
