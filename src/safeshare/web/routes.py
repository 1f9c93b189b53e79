"""The caseworkers' and focal points' web pages (server-rendered; htmx only enhances): sign
in and out, a home page per role, static files. The case, consent, referral and focal point
pages are in the modules included below. Every page calls the same services as the API."""

from __future__ import annotations

import secrets
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safeshare.api.config import WebSettings
from safeshare.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    ClockDep,
    PolicyDep,
    StoreDep,
    get_web_settings,
)
from safeshare.services import access, accounts, consent_effects, escalations, referrals
from safeshare.services.accounts import InvalidCredentialsError, Role
from safeshare.web import case_pages, dp_pages, referral_form, referral_pages
from safeshare.web.common import CASE_ROLES, WebUser, org_names
from safeshare.web.render import page

router = APIRouter(include_in_schema=False)
router.include_router(case_pages.router)
router.include_router(referral_form.router)
router.include_router(referral_pages.router)
router.include_router(dp_pages.router)

WebDep = Annotated[WebSettings, Depends(get_web_settings)]
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
STATIC_FILES = frozenset({"app.css", "htmx.min.js", "swagger-ui-bundle.js", "swagger-ui.css"})


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The UI's own CSS and JavaScript (no personal data: cacheable)."""
    if name not in STATIC_FILES:
        return Response(status_code=404)
    body = resources.files("safeshare.web").joinpath("static", name).read_bytes()
    suffix = name[name.rfind(".") :]
    return Response(
        body, media_type=STATIC_TYPES[suffix], headers={"cache-control": "public, max-age=86400"}
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, web: WebDep) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", {"error": False}, csrf=token)
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, secure=web.secure_cookies, samesite="strict", path="/"
    )
    return response


@router.post("/login", response_class=HTMLResponse)
def login(  # noqa: PLR0917 - FastAPI injects each dependency as a parameter
    request: Request,
    store: StoreDep,
    clock: ClockDep,
    policy: PolicyDep,
    web: WebDep,
    username: Annotated[str, Form(max_length=120)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """The CSRF dependency has checked the double-submit token already."""
    try:
        issued = accounts.login(store, username, password, policy=policy, at=clock())
    except (InvalidCredentialsError, ValueError):
        token = secrets.token_urlsafe(32)
        response: Response = page(
            request, "login.html", {"error": True}, csrf=token, status_code=401
        )
        response.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=True,
            secure=web.secure_cookies,
            samesite="strict",
            path="/",
        )
        return response
    response = RedirectResponse("/", status_code=303, headers={"cache-control": "no-store"})
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
    return response


@router.post("/logout")
def logout(
    request: Request, principal: WebUser, store: StoreDep, clock: ClockDep, web: WebDep
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.logout(store, token, at=clock())
    del principal
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=web.secure_cookies, httponly=True, samesite="strict"
    )
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, principal: WebUser, store: StoreDep, clock: ClockDep) -> Response:
    """My cases, my organisation's inbox of received referrals, the referrals about my cases,
    the people to inform; for the focal point, the queues."""
    at = clock()
    day = at.date()
    context: dict[str, object] = {"names": org_names(store, principal)}
    if principal.role in CASE_ROLES or principal.role in accounts.PERSONAL_DATA_ROLES:
        cases = []
        for case_id in access.my_case_ids(store, principal, at=at):
            grant = access.case_access(store, principal, case_id, access.CASE_LIST_ELEMENTS, at=at)
            if grant is not None:
                cases.append(grant)
        context["cases"] = cases
        mine = {c.subject_id for c in cases}
        if principal.role in CASE_ROLES:
            context["inbox"] = [
                r
                for r in referrals.inbox(store, principal.org_id, today=day)
                if r.kind != "feedback"
            ]
            context["outgoing"] = [  # as the API lists them: every person hers to know
                r for r in referrals.outgoing_for(store, principal, at=at) if r.kind != "feedback"
            ]
            context["tasks"] = [
                t for t in escalations.inform_tasks(store, principal.org_id) if t.subject_id in mine
            ]
            context["notices"] = consent_effects.notices_for(store, principal.org_id)
    if principal.role is Role.DP_FOCAL_POINT:
        context["escalations"] = escalations.escalation_queue(
            store, actor=principal.user_id, org=principal.org_id
        )
        context["reverifications"] = consent_effects.reverification_queue(
            store, today=day, org_id=principal.org_id
        )
    return page(request, "home.html", context)
