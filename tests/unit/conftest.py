import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from core.config import get_settings
from core.db import upgrade


@pytest.fixture
def client(embedded_env):
    """The app in-process on a fresh embedded database (jobs go to a broker no worker reads)."""
    upgrade(get_settings().resolved_database_url)
    with TestClient(create_app()) as c:
        yield c
