"""A synchronous httpx client that drives the ASGI app in-process (httpx's ASGITransport in a
blocking portal; Starlette's TestClient is deprecated with httpx)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal

BASE_URL = "https://testserver"


class _PortalTransport(httpx.BaseTransport):
    def __init__(self, app: Any, portal: BlockingPortal) -> None:
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def run() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            inner = httpx.Request(
                request.method, request.url, headers=request.headers, content=body
            )
            response = await self._asgi.handle_async_request(inner)
            content = await response.aread()
            return response.status_code, response.headers.raw, content

        status, headers, content = self._portal.call(run)
        return httpx.Response(status, headers=headers, content=content, request=request)


@contextmanager
def asgi_client(app: Any) -> Iterator[httpx.Client]:
    with (
        start_blocking_portal() as portal,
        httpx.Client(transport=_PortalTransport(app, portal), base_url=BASE_URL) as client,
    ):
        yield client
