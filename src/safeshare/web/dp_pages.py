"""The data protection focal point's pages: the escalation queue and its decisions, consent
due for re-verification, the protocol with the Note's findings on it, the audit log's
integrity."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safeshare.api import audit as audit_api
from safeshare.api import protocol as protocol_api
from safeshare.api.deps import ClockDep, Principal, StoreDep
from safeshare.api.referrals import org_keys_of
from safeshare.api.schemas import FindingsOut, ProtocolOut
from safeshare.services import consent_effects, escalations
from safeshare.services.common import NotFoundError
from safeshare.services.org_keys import NoPublicKeyError
from safeshare.services.referral_store import ReferralStateError
from safeshare.services.roles import Role
from safeshare.sharing.payload import NotShareableError
from safeshare.store.unit import Store
from safeshare.web.common import WebUser, field, not_found_page, org_names, refuse
from safeshare.web.render import page

router = APIRouter(prefix="/dp")
MAX_REASONS = 2000


def _focal_point(store: Store, principal: Principal, request: Request) -> Response | None:
    if principal.role is not Role.DP_FOCAL_POINT:
        return refuse(store, principal, request, object_type="endpoint", object_id=request.url.path)
    return None


@router.get("/escalations", response_class=HTMLResponse)
def escalation_queue(request: Request, principal: WebUser, store: StoreDep) -> Response:
    refused = _focal_point(store, principal, request)
    if refused is not None:
        return refused
    mine = escalations.escalation_queue(
        store, actor=principal.user_id, org=principal.org_id, status=None
    )
    return page(
        request,
        "dp_escalations.html",
        {
            "pending": [e for e in mine if e.status == "pending"],
            "decided": [e for e in mine if e.status != "pending"][-20:],
            "names": org_names(store, principal),
        },
    )


@router.post("/escalations/{escalation_id}")
async def decide(
    escalation_id: str, request: Request, principal: WebUser, store: StoreDep, clock: ClockDep
) -> Response:
    refused = _focal_point(store, principal, request)
    if refused is not None:
        return refused
    form = await request.form()
    mine = {
        e.id
        for e in escalations.escalation_queue(store, actor=principal.user_id, org=principal.org_id)
    }
    if escalation_id not in mine:
        return not_found_page(request)
    approve = field(form, "decision") == "approve"
    reasons = field(form, "reasons")[:MAX_REASONS]
    if not reasons:
        return RedirectResponse("/dp/escalations?missing=reasons", status_code=303)
    try:
        escalations.decide_escalation(
            store,
            org_keys_of(request),
            escalation_id,
            approve=approve,
            reasons=reasons,
            actor=principal.user_id,
            today=clock().date(),
        )
    except NotFoundError:
        return not_found_page(request)
    except (ReferralStateError, NotShareableError, NoPublicKeyError):
        return page(request, "referral_conflict.html", {"referral_id": ""}, status_code=409)
    return RedirectResponse("/dp/escalations?done=1", status_code=303)


@router.get("/reverification", response_class=HTMLResponse)
def reverification(
    request: Request, principal: WebUser, store: StoreDep, clock: ClockDep
) -> Response:
    refused = _focal_point(store, principal, request)
    if refused is not None:
        return refused
    due = consent_effects.reverification_queue(store, today=clock().date(), org_id=principal.org_id)
    return page(request, "dp_reverification.html", {"due": due})


@router.get("/protocol", response_class=HTMLResponse)
def protocol(request: Request, principal: WebUser, store: StoreDep) -> Response:
    refused = _focal_point(store, principal, request)
    if refused is not None:
        return refused
    current: ProtocolOut | None = None
    found: FindingsOut | None = None
    try:
        current = protocol_api.get_protocol(principal, store)
        found = protocol_api.findings(principal, store)
    except HTTPException:  # no protocol loaded: the page says so
        current = found = None
    return page(
        request,
        "dp_protocol.html",
        {
            "protocol": current,
            "findings": found,
            "names": org_names(store, principal),
        },
    )


@router.get("/audit", response_class=HTMLResponse)
def audit_status(request: Request, principal: WebUser, store: StoreDep) -> Response:
    refused = _focal_point(store, principal, request)
    if refused is not None:
        return refused
    result = audit_api.verify(principal, store)
    return page(request, "dp_audit.html", {"result": result})
