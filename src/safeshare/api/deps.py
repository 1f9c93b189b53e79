"""FastAPI dependencies every router builds on: the store, the clock, and who is calling.

    from safeshare.api.deps import Principal, current_principal, require_role, get_store

``current_principal`` reads ``Authorization: Bearer <token>`` (a person's session token or a
partner system's API token) or, for the web UI, the session cookie. ``require_role(...)`` and
``require_scope(...)`` answer **404 with the same body as a missing object** when refused, and
write the refusal to the audit log (ids and codes only).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from safeshare.api.config import WebSettings
from safeshare.core.vocabulary import Duty
from safeshare.services import accounts
from safeshare.services.accounts import AccessPolicy, Authenticated, Role, Scope
from safeshare.services.common import audit
from safeshare.store.unit import Store

SESSION_COOKIE = "safeshare_session"
CSRF_COOKIE = "safeshare_csrf"
CSRF_HEADER = "x-csrf-token"
NOT_FOUND_DETAIL = "not found"
UNAUTHENTICATED_DETAIL = "authentication required"

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a person (session) or a partner system (api-token) acting as one
    account of one organisation. ``scopes`` is None for a person's session."""

    user_id: str
    staff_id: str
    org_id: str
    role: Role
    duty: Duty
    kind: Literal["session", "api-token"]
    credential_id: str = ""
    scopes: frozenset[str] | None = None

    def has_scope(self, scope: Scope | str) -> bool:
        return self.scopes is None or str(scope) in self.scopes

    @classmethod
    def from_authenticated(cls, a: Authenticated) -> Principal:
        kind: Literal["session", "api-token"] = "api-token" if a.kind == "api-token" else "session"
        return cls(a.user_id, a.staff_id, a.org_id, a.role, a.duty, kind, a.credential_id, a.scopes)


def not_found() -> HTTPException:
    """The one answer for "does not exist" and "you may not see it"."""
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=NOT_FOUND_DETAIL)


def unauthenticated() -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=UNAUTHENTICATED_DETAIL,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_policy(request: Request) -> AccessPolicy:
    policy: AccessPolicy = request.app.state.policy
    return policy


async def get_web_settings(request: Request) -> WebSettings:
    web: WebSettings = request.app.state.web
    return web


StoreDep = Annotated[Store, Depends(get_store)]
ClockDep = Annotated[Clock, Depends(get_clock)]
PolicyDep = Annotated[AccessPolicy, Depends(get_policy)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def credential(request: Request) -> tuple[str, str] | None:
    """("bearer" | "cookie", token) — a bearer header wins over a cookie."""
    token = bearer_token(request)
    if token is not None:
        return "bearer", token
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return "cookie", cookie
    return None


async def current_principal(request: Request) -> Principal:
    """The authenticated caller, or 401. Cookie sessions carry no API token.

    A coroutine: the common case (a live session seen within the last minute) is one indexed
    read, answered on the event loop; a write (touching or ending a session, an API token)
    goes to the thread pool. The store, clock and policy are read off the app's state here
    rather than as dependencies of their own: this runs on every request, and each
    dependency FastAPI resolves costs about as much as the session lookup. Resolved once per
    request: the role checks below call it themselves (one dependency rather than two), and
    a second call (an endpoint asking for the principal beside a role check) is answered
    from the request's state."""
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    found = credential(request)
    if found is None:
        raise unauthenticated()
    how, token = found
    state = request.app.state
    store: Store = state.store
    policy: AccessPolicy = state.policy
    at: datetime = state.clock()
    try:
        resolved = accounts.peek_session(store, token, policy=policy, at=at)
    except accounts.NeedsWriteError:
        resolved = await run_in_threadpool(
            accounts.resolve_session, store, token, policy=policy, at=at
        )
    if resolved is None and how == "bearer":
        resolved = await run_in_threadpool(accounts.resolve_api_token, store, token, at=at)
    if resolved is None:
        raise unauthenticated()
    principal = Principal.from_authenticated(resolved)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def deny(
    store: Store,
    principal: Principal,
    *,
    object_type: str,
    object_id: str,
    codes: tuple[str, ...] = ("need-to-know",),
) -> HTTPException:
    """Audits a refusal and returns the 404 to raise."""
    with store.transaction() as session:
        audit(
            store,
            session,
            actor=principal.user_id,
            action="access.denied",
            object_type=object_type,
            object_id=object_id,
            codes=codes,
            details={"org": principal.org_id, "role": principal.role.value, "via": principal.kind},
        )
    return not_found()


async def _refuse(request: Request, store: Store, principal: Principal, code: str) -> HTTPException:
    """The audited 404 for an endpoint refused to this caller (the audit write off the
    event loop)."""
    route = request.scope.get("route")
    path = getattr(route, "path", "") or "endpoint"
    return await run_in_threadpool(
        deny, store, principal, object_type="endpoint", object_id=path, codes=(code,)
    )


# The checks below are coroutines: they only compare values (a refusal's audit write goes to
# the thread pool), so FastAPI runs them on the event loop instead of a thread of their own.
# Each takes only the request and finds the caller itself: one dependency, not two.


def require_role(*roles: Role | str) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting only these roles (others get the audited 404)."""
    allowed = frozenset(Role(r) for r in roles)

    async def dependency(request: Request) -> Principal:
        principal = await current_principal(request)
        if principal.role not in allowed:
            raise await _refuse(request, request.app.state.store, principal, "role-not-allowed")
        return principal

    return dependency


def require_scope(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    """A dependency refusing API tokens without ``scope`` (people's sessions pass)."""

    async def dependency(request: Request) -> Principal:
        principal = await current_principal(request)
        if not principal.has_scope(scope):
            raise await _refuse(request, request.app.state.store, principal, "scope-missing")
        return principal

    return dependency


def require(*roles: Role | str, scope: Scope | None = None) -> Callable[..., Awaitable[Principal]]:
    """Role and (for API tokens) scope in one dependency."""
    allowed = frozenset(Role(r) for r in roles)

    async def dependency(request: Request) -> Principal:
        principal = await current_principal(request)
        if principal.role not in allowed:
            raise await _refuse(request, request.app.state.store, principal, "role-not-allowed")
        if scope is not None and not principal.has_scope(scope):
            raise await _refuse(request, request.app.state.store, principal, "scope-missing")
        return principal

    return dependency


ALL_ROLES: tuple[Role, ...] = tuple(Role)
