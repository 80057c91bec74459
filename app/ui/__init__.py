"""What people look at in a browser: the dashboard under ``/ui/`` and the API docs at ``/docs`` and
``/redoc``, all from files that ship with the project (``app/static``), never from a CDN.

The dashboard is one static page and a script that calls the public ``/v1`` API, exactly as the client
and the CLI do; the server only hands out files. Every path under ``/ui/`` that is not a file answers
the same page, which routes itself by its path.
"""

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent.parent / "static"
VENDOR = "/static/vendor"
SWAGGER = f"{VENDOR}/swagger-ui-5.32.0"
REDOC = f"{VENDOR}/redoc-2.5.4"
FAVICON = "/static/ui/favicon.svg"

router = APIRouter(include_in_schema=False)


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui")
def ui_no_slash() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


# The page runs only its own scripts and talks only to this server: an API key typed into it cannot leave.
UI_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
}


@router.get("/ui/{path:path}")
def ui(path: str) -> FileResponse:
    return FileResponse(STATIC / "ui" / "index.html", media_type="text/html", headers=UI_HEADERS)


def install(app: FastAPI) -> None:
    """Mount the static files, the dashboard and the offline docs. Create the app with
    ``docs_url=None, redoc_url=None`` so that FastAPI's CDN-loading pages are not there too."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui():
        return get_swagger_ui_html(
            openapi_url=app.openapi_url, title=f"{app.title} — API docs",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js", swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=FAVICON,
            # No badge from validator.swagger.io: nothing leaves the server.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc():
        return get_redoc_html(openapi_url=app.openapi_url, title=f"{app.title} — API reference",
                              redoc_js_url=f"{REDOC}/redoc.standalone.js", redoc_favicon_url=FAVICON,
                              with_google_fonts=False)

    app.include_router(router)
