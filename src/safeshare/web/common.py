"""What every web route shares: who is signed in (or a redirect to the sign-in page), the
role checks (an audited 404 page, as the API answers), form parsing that never echoes a
value, and the organisations' names."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from safeshare.api.deps import (
    SESSION_COOKIE,
    ClockDep,
    Principal,
    current_principal,
)
from safeshare.api.organisations import list_organisations
from safeshare.core.world import Protocol
from safeshare.services import access, protocols
from safeshare.services.roles import Role
from safeshare.store.unit import Store
from safeshare.web.render import page

LOGIN_PATH = "/login"
CASE_ROLES = (Role.CASEWORKER, Role.SUPERVISOR, Role.DP_FOCAL_POINT)
MAX_FIELD = 2000


class LoginRequiredError(HTTPException):
    """The redirect to the sign-in page; ``ended_cookie``: also delete the session cookie
    the request carried (its session has ended: idle, expired, logged out elsewhere)."""

    def __init__(self, ended_cookie: str | None = None) -> None:
        headers = {"location": LOGIN_PATH, "cache-control": "no-store"}
        if ended_cookie is not None:
            headers["set-cookie"] = ended_cookie
        super().__init__(status_code=status.HTTP_303_SEE_OTHER, detail="sign in", headers=headers)


def _ended_session_cookie(request: Request) -> str:
    """The ``Set-Cookie`` value that deletes the session cookie (the same attributes it
    was set with)."""
    response = Response()
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=request.app.state.web.secure_cookies,
        httponly=True,
        samesite="strict",
    )
    return response.headers["set-cookie"]


async def web_principal(request: Request) -> Principal:
    """The signed-in person (cookie session only), or a redirect to the sign-in page (which
    deletes a session cookie whose session has ended)."""
    if not request.cookies.get(SESSION_COOKIE) or request.headers.get("authorization"):
        raise LoginRequiredError()
    try:
        principal = await current_principal(request)
    except HTTPException:
        raise LoginRequiredError(_ended_session_cookie(request)) from None
    if principal.kind != "session":
        raise LoginRequiredError()
    request.state.web_principal = principal
    return principal


WebUser = Annotated[Principal, Depends(web_principal)]


def not_found_page(request: Request) -> HTMLResponse:
    return page(request, "not_found.html", status_code=status.HTTP_404_NOT_FOUND)


def refuse(
    store: Store,
    principal: Principal,
    request: Request,
    *,
    object_type: str,
    object_id: str,
    code: str = "role-not-allowed",
) -> HTMLResponse:
    """Audits the refusal and answers the same 404 page as for a missing object."""
    access.denied(store, principal, object_type=object_type, object_id=object_id, codes=[code])
    return not_found_page(request)


def has_role(principal: Principal, roles: Iterable[Role]) -> bool:
    return principal.role in set(roles)


def field(form: FormData, name: str, default: str = "") -> str:
    value = form.get(name)
    if not isinstance(value, str):
        return default
    return value.strip()[:MAX_FIELD]


def fields(form: FormData, name: str) -> list[str]:
    return [v.strip()[:MAX_FIELD] for v in form.getlist(name) if isinstance(v, str)]


def today(clock: ClockDep) -> date:
    return clock().date()


def org_names(store: Store, principal: Principal) -> dict[str, str]:
    return {o.id: o.name or o.id for o in list_organisations(principal, store)}


def current_protocol(store: Store) -> Protocol | None:
    with store.reading() as session:
        found = protocols.current_protocol(session)
    return found[0] if found else None
