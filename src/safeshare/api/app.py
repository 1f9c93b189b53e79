"""The web application: :func:`create_app` builds it from validated settings (the store comes
from the bootstrap when not given; nothing connects at import).

Routers are listed in :data:`ROUTERS` as module names, each module exposing ``router`` (an
``APIRouter``); another area adds its own with one line.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from safeshare.api import errors
from safeshare.api.config import WebSettings
from safeshare.api.deps import Clock, system_clock
from safeshare.api.schemas import ErrorOut, ValidationErrorOut
from safeshare.api.security import SecurityHeadersMiddleware, csrf_protect
from safeshare.bootstrap import bootstrap
from safeshare.services.accounts import AccessPolicy
from safeshare.settings import Settings
from safeshare.store.unit import Store

ROUTERS: tuple[str, ...] = (
    # The busiest first: FastAPI tries the routers in this order, each route's pattern in turn
    # (the prefixes do not overlap, so the order changes only how soon a request is matched).
    "safeshare.api.cases",
    "safeshare.api.decisions",
    "safeshare.api.referrals",
    "safeshare.api.auth",
    "safeshare.api.consent",
    "safeshare.api.sharing",
    "safeshare.api.organisations",
    "safeshare.api.staff",
    "safeshare.api.protocol",
    "safeshare.api.audit",
    "safeshare.web.routes",
)

OPENAPI_URL = "/api/openapi.json"
DOCS_URL = "/api/docs"
# Swagger UI is served from the package (web/static, vendored from swagger-ui-dist 5): the
# docs page loads nothing from another origin.
SWAGGER_JS = "/static/swagger-ui-bundle.js"
SWAGGER_CSS = "/static/swagger-ui.css"

COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Not authenticated (or the session ended)."},
    403: {"model": ErrorOut, "description": "CSRF token missing or invalid (cookie sessions)."},
    404: {"model": ErrorOut, "description": "Not found, or not yours to see: the same answer."},
    422: {"model": ValidationErrorOut, "description": "Invalid request (values not echoed)."},
}


def _docs_page() -> HTMLResponse:
    """Swagger UI under a strict CSP: its assets from this server only, its one inline
    script allowed by hash only."""
    page = get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title="safeshare API",
        swagger_js_url=SWAGGER_JS,
        swagger_css_url=SWAGGER_CSS,
        swagger_favicon_url="data:,",
    )
    body = bytes(page.body).decode("utf-8")
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in re.findall(r"<script>(.*?)</script>", body, flags=re.DOTALL)
    ]
    csp = (
        "default-src 'self'; "
        f"script-src 'self' {' '.join(hashes)}; "
        "style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    return HTMLResponse(body, headers={"content-security-policy": csp})


def create_app(
    settings: Settings,
    store: Store | None = None,
    *,
    web: WebSettings | None = None,
    clock: Clock | None = None,
    routers: tuple[str, ...] = ROUTERS,
) -> FastAPI:
    """The API. ``store`` defaults to ``bootstrap(settings)`` (not migrated here: ``safeshare
    serve`` migrates first); ``clock`` is injectable for tests (timeouts, lockout)."""
    web = web or WebSettings(env=settings.env)
    owned = store is None
    the_store = store if store is not None else bootstrap(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = web.request_threads
        yield
        if owned:
            the_store.dispose()

    app = FastAPI(
        title="safeshare",
        version="0.1.0",
        summary="Share personal protection data only when the UNHCR Technical Note on Sharing "
        "Personal Protection Data (2020) allows it.",
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
        debug=False,
        lifespan=lifespan,
        dependencies=[Depends(csrf_protect)],
    )
    app.state.settings = settings
    app.state.web = web
    app.state.store = the_store
    app.state.clock = clock or system_clock
    policy: AccessPolicy = web.access_policy()
    app.state.policy = policy
    errors.install(app)
    app.add_middleware(SecurityHeadersMiddleware)

    for name in routers:
        module = importlib.import_module(name)
        router: APIRouter = module.router
        app.include_router(router, responses=COMMON_RESPONSES)

    @app.get(DOCS_URL, include_in_schema=False)
    def docs() -> HTMLResponse:
        return _docs_page()

    return app
