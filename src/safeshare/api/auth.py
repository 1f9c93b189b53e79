"""Login, logout, who am I; partner API tokens (issue, list, revoke)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response, status

from safeshare.api.answers import on_event_loop
from safeshare.api.config import WebSettings
from safeshare.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    ClockDep,
    PolicyDep,
    Principal,
    PrincipalDep,
    StoreDep,
    credential,
    get_web_settings,
    not_found,
    require,
    unauthenticated,
)
from safeshare.api.schemas import (
    NO_CONTROL,
    CsrfOut,
    ErrorOut,
    LoginOut,
    LoginRequest,
    MeOut,
    PathId,
    SessionOut,
    TokenIssuedOut,
    TokenIssueRequest,
    TokenOut,
)
from safeshare.api.security import session_csrf_token
from safeshare.services import accounts
from safeshare.services.accounts import InvalidCredentialsError, Role
from safeshare.services.common import NotFoundError

router = APIRouter(prefix="/api/auth", tags=["auth"])
WebDep = Annotated[WebSettings, Depends(get_web_settings)]
Admin = Annotated[Principal, Depends(require(Role.ADMINISTRATOR))]
INVALID = "invalid username or password"
LOGIN_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut, "description": "Unknown user, wrong password or locked: one answer."}
}


@router.post("/login", response_model=LoginOut, responses=LOGIN_RESPONSES)
def login(
    body: LoginRequest, store: StoreDep, clock: ClockDep, policy: PolicyDep, web: WebDep
) -> LoginOut:
    """Signs in and returns a new bearer session token (any earlier session of the account
    ends). Five failures in 15 minutes lock the account for 15 minutes."""
    try:
        issued = accounts.login(store, body.username, body.password, policy=policy, at=clock())
    except InvalidCredentialsError:
        raise _invalid() from None
    return LoginOut(
        token=issued.token,
        session_id=issued.session_id,
        expires_at=issued.expires_at,
        idle_timeout_seconds=int(policy.idle_timeout.total_seconds()),
        csrf_token=session_csrf_token(web.secret_bytes(), issued.token),
    )


def _invalid() -> Exception:
    exc = unauthenticated()
    exc.detail = INVALID
    return exc


@router.get("/csrf", response_model=CsrfOut)
@on_event_loop
def csrf(response: Response, web: WebDep) -> CsrfOut:
    """A double-submit token for the web UI's login form (set as a cookie and returned)."""
    token = secrets.token_urlsafe(32)
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, secure=web.secure_cookies, samesite="strict", path="/"
    )
    return CsrfOut(csrf_token=token)


@router.post("/session", response_model=SessionOut, responses=LOGIN_RESPONSES)
def session_login(
    *,
    username: Annotated[str, Form(min_length=1, max_length=120, pattern=NO_CONTROL)],
    password: Annotated[str, Form(min_length=1, max_length=1024)],
    csrf_token: Annotated[str, Form(min_length=1, max_length=200)],
    response: Response,
    store: StoreDep,
    clock: ClockDep,
    policy: PolicyDep,
    web: WebDep,
) -> SessionOut:
    """The web UI's login form: a cookie session (HttpOnly, SameSite=Strict, Secure unless in
    development). Needs the double-submit CSRF token from ``GET /api/auth/csrf``."""
    del csrf_token  # checked by the CSRF dependency
    try:
        issued = accounts.login(store, username, password, policy=policy, at=clock())
    except InvalidCredentialsError:
        raise _invalid() from None
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        httponly=True,
        secure=web.secure_cookies,
        samesite="strict",
        path="/",
        max_age=int(policy.absolute_timeout.total_seconds()),
    )
    response.delete_cookie(CSRF_COOKIE, path="/")
    return SessionOut(
        session_id=issued.session_id,
        expires_at=issued.expires_at,
        idle_timeout_seconds=int(policy.idle_timeout.total_seconds()),
        csrf_token=session_csrf_token(web.secret_bytes(), issued.token),
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(
    request: Request, principal: PrincipalDep, store: StoreDep, clock: ClockDep, web: WebDep
) -> Response:
    """Ends the current session (an API token is revoked through DELETE /api/auth/tokens)."""
    found = credential(request)
    if principal.kind == "session" and found is not None:
        accounts.logout(store, found[1], at=clock())
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=web.secure_cookies, httponly=True, samesite="strict"
    )
    return response


@router.get("/me", response_model=MeOut)
@on_event_loop
def me(principal: PrincipalDep, store: StoreDep) -> MeOut:
    account = accounts.get_account(store, principal.user_id)
    scopes = (
        None if principal.scopes is None else sorted(accounts.Scope(s) for s in principal.scopes)
    )
    return MeOut(
        user_id=principal.user_id,
        staff_id=principal.staff_id,
        org_id=principal.org_id,
        role=principal.role,
        duty=principal.duty,
        kind=principal.kind,
        scopes=scopes,
        cases=list(account.cases) if account else [],
    )


@router.post("/tokens", response_model=TokenIssuedOut, status_code=status.HTTP_201_CREATED)
def issue_token(
    body: TokenIssueRequest, principal: Admin, store: StoreDep, clock: ClockDep
) -> TokenIssuedOut:
    """Issues a partner system's token for an account of the administrator's organisation.
    The token is shown once."""
    if principal.kind != "session":
        raise not_found()
    at = clock()
    expires = at + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    try:
        issued = accounts.issue_api_token(
            store,
            user_id=body.user_id,
            scopes=body.scopes,
            label=body.label,
            actor=principal.user_id,
            actor_org=principal.org_id,
            expires_at=expires,
            at=at,
        )
    except NotFoundError:
        raise not_found() from None
    return TokenIssuedOut(
        token=issued.token,
        token_id=issued.token_id,
        org_id=issued.org_id,
        user_id=issued.user_id,
        scopes=[accounts.Scope(s) for s in issued.scopes],
        expires_at=issued.expires_at,
    )


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(principal: Admin, store: StoreDep) -> list[TokenOut]:
    return [
        TokenOut(
            token_id=t.token_id,
            org_id=t.org_id,
            user_id=t.user_id,
            label=t.label,
            scopes=[accounts.Scope(s) for s in t.scopes],
            created_at=t.created_at,
            expires_at=t.expires_at,
            revoked_at=t.revoked_at,
            last_used_at=t.last_used_at,
        )
        for t in accounts.list_api_tokens(store, org=principal.org_id)
    ]


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: PathId, principal: Admin, store: StoreDep, clock: ClockDep) -> Response:
    try:
        accounts.revoke_api_token(
            store, token_id, actor=principal.user_id, actor_org=principal.org_id, at=clock()
        )
    except NotFoundError:
        raise not_found() from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)
