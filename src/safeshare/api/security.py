"""Safe defaults for the web: security headers on every response (errors included), CSRF
protection for cookie sessions and form posts, and a last-resort 500 without a traceback.

Headers: a Content-Security-Policy with ``default-src 'self'`` and no inline script,
``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``, HSTS, ``nosniff``, no referrer,
a closed Permissions-Policy, cross-origin isolation, and ``Cache-Control: no-store`` on every
/api response (they may carry personal data) and on every error.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from fastapi import HTTPException, Request, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from safeshare.api.deps import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, bearer_token
from safeshare.services.sessions import token_digest

log = logging.getLogger("safeshare.api")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

SECURITY_HEADERS: dict[str, str] = {
    "content-security-policy": CSP,
    "strict-transport-security": "max-age=63072000; includeSubDomains",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "permissions-policy": (
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
        "interest-cohort=(), browsing-topics=()"
    ),
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "x-permitted-cross-domain-policies": "none",
}
NO_STORE = "no-store"
CSRF_FORM_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SIGN_IN_PATHS = frozenset({"/login", "/api/auth/login", "/api/auth/session"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
GENERIC_500 = b'{"detail":"internal error"}'


class SecurityHeadersMiddleware:
    """Pure ASGI: adds the headers to every response, and answers an unhandled exception
    with a generic JSON 500 (the traceback goes to the server log only)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = _secure(message.get("headers", []), path, message["status"])
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), path)
            if started:
                raise
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(GENERIC_500)).encode()),
                    ],
                }
            )
            await send_with_headers({"type": "http.response.body", "body": GENERIC_500})


def _secure(raw: Any, path: str, status_code: int) -> list[tuple[bytes, bytes]]:
    headers = [(bytes(k), bytes(v)) for k, v in raw]
    present = {k.lower() for k, _ in headers}
    for name, value in SECURITY_HEADERS.items():
        if name.encode() not in present:
            headers.append((name.encode(), value.encode()))
    if path.startswith("/api") or status_code >= 400:
        headers = [(k, v) for k, v in headers if k.lower() not in (b"cache-control", b"pragma")]
        headers.append((b"cache-control", NO_STORE.encode()))
        headers.append((b"pragma", b"no-cache"))
    headers = [(k, v) for k, v in headers if k.lower() != b"server"]
    return headers


# --- CSRF -----------------------------------------------------------------------------------


def session_csrf_token(secret: bytes, session_token: str) -> str:
    """The synchronizer token bound to a cookie session (derived, never stored)."""
    message = b"csrf:" + token_digest(session_token).encode("ascii")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


async def csrf_protect(request: Request) -> None:
    """App-wide dependency. Bearer requests are exempt (a browser never adds them on its
    own). A state-changing request carrying the session cookie, or any form post, must carry
    the CSRF token in the ``X-CSRF-Token`` header or the ``csrf_token`` form field: for a
    cookie session the token bound to the session, otherwise (a login form) the value of the
    double-submit cookie. Signing in (:data:`SIGN_IN_PATHS`) is always checked against the
    double-submit cookie: the form was rendered without a session, and a cookie left by a
    session that has ended (idle, expired) must not lock its holder out of signing in."""
    if request.method not in UNSAFE_METHODS or bearer_token(request) is not None:
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    signing_in = request.url.path in SIGN_IN_PATHS
    session_cookie = None if signing_in else request.cookies.get(SESSION_COOKIE)
    is_form = content_type in FORM_TYPES
    if not session_cookie and not is_form:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and is_form and content_type != "text/plain":
        form = await request.form()
        value = form.get(CSRF_FORM_FIELD)
        sent = value if isinstance(value, str) else ""
    secret: bytes = request.app.state.web.secret_bytes()
    if session_cookie:
        expected = session_csrf_token(secret, session_cookie)
    else:
        expected = request.cookies.get(CSRF_COOKIE, "")
        if len(expected) < 32:
            expected = ""
    if not _same(sent, expected):
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN, detail="CSRF token missing or invalid"
        )
