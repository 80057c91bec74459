"""The dashboard and the docs pages are served from files in the repository: no CDN, licenses beside the
vendored files. (What they do in a browser is tests/integration/test_dashboard.py.)"""

import re

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.ui import STATIC


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app())  # no lifespan: these pages need no database


def local_assets(html: str) -> list[str]:
    urls = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
    assert all(u.startswith("/") for u in urls), f"an asset from elsewhere: {urls}"
    return urls


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/ui/", "/ui/jobs/job_x", "/ui/teachers"])
def test_pages_load_only_files_the_server_has(client, path):
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    for url in local_assets(r.text):
        if url.startswith("/ui/"):
            continue
        assert client.get(url).status_code == 200, url


def test_root_goes_to_the_dashboard_and_the_pages_stay_out_of_the_api_schema(client):
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/ui/"
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p in ("/", "/docs", "/redoc") or p.startswith(("/ui", "/static"))]


def test_vendored_files_carry_their_licenses_and_fetch_nothing_from_a_cdn():
    vendored = [d for d in (STATIC / "vendor").iterdir() if d.is_dir()]
    assert {d.name.split("-")[0] for d in vendored} == {"uplot", "swagger", "redoc"}
    for folder in vendored:
        assert (folder / "LICENSE").is_file(), folder
        assert re.search(r"-\d+\.\d+\.\d+$", folder.name), f"{folder.name} names no pinned version"
    redoc = next(d for d in vendored if d.name.startswith("redoc")) / "redoc.standalone.js"
    assert "cdn.redoc.ly" not in redoc.read_text(encoding="utf-8")
