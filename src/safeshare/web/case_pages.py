"""The case page (what this user may see of the person, the consent ledger as a timeline,
referrals made and received, who opened the case), recording consent with the plain-language
explanation, withdrawing it with one button, and making a referral with the engine's decision
updated as the form changes (the form itself: :mod:`safeshare.web.referral_form`)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from safeshare.api import cases as case_api
from safeshare.api import consent as consent_api
from safeshare.api.deps import ClockDep, Principal, StoreDep
from safeshare.api.referrals import org_keys_of
from safeshare.api.schemas import CaseOut, ConsentCreate, ConsentOut, SubjectOut, WithdrawRequest
from safeshare.core.vocabulary import (
    ConsentDecision,
    ConsentKind,
    ConsentMethod,
    ConsentStage,
    GeneralPurpose,
    GivenBy,
)
from safeshare.core.world import Protocol, Purpose
from safeshare.explanation import explain, language_of
from safeshare.services import referrals
from safeshare.store.unit import Store
from safeshare.web.common import (
    CASE_ROLES,
    WebUser,
    current_protocol,
    not_found_page,
    org_names,
    refuse,
)
from safeshare.web.common import (
    field as form_field,
)
from safeshare.web.render import language, page
from safeshare.web.sharing import case_trail

router = APIRouter()

CONSENT_PURPOSES_EXCLUDED = frozenset({GeneralPurpose.STATISTICS})


def case_for(
    store: Store, principal: Principal, case_id: str, clock: ClockDep, request: Request
) -> CaseOut | None:
    """The case as the API reads it (through a share: the values as shared), or None."""
    try:
        return case_api.read_case(case_id, principal, store, clock, org_keys_of(request))
    except HTTPException:
        return None


def _subject(
    store: Store, principal: Principal, subject_id: str, clock: ClockDep, request: Request
) -> SubjectOut | None:
    try:
        return case_api.get_subject(subject_id, principal, store, clock, org_keys_of(request))
    except HTTPException:
        return None


def _timeline(
    store: Store, principal: Principal, subject_id: str, clock: ClockDep
) -> list[ConsentOut] | None:
    try:
        return consent_api.timeline(subject_id, principal, store, clock)
    except HTTPException:
        return None


def sender_purposes(
    protocol: Protocol | None, org: str, excluded: frozenset[GeneralPurpose]
) -> list[Purpose]:
    if protocol is None:
        return []
    return [p for p in protocol.purposes if org in p.senders and p.general not in excluded]


def _current_grants(timeline: list[ConsentOut]) -> list[ConsentOut]:
    """Purposes whose latest entry (for the person herself or her caregiver) is a grant:
    each gets a one-button withdrawal."""
    out: dict[tuple[str, str, str], ConsentOut] = {}
    for entry in timeline:
        for purpose in entry.purposes:
            out[(purpose, entry.kind.value, entry.given_by.value)] = entry
    return [e for e in out.values() if e.decision is ConsentDecision.GRANTED]


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    case_id: str, request: Request, principal: WebUser, store: StoreDep, clock: ClockDep
) -> Response:
    case = case_for(store, principal, case_id, clock, request)
    if case is None:
        return not_found_page(request)
    own = case.access != "shared"
    # Through a share, the person is what this case's packets hold (the page's shared
    # section), not what another case of hers shared to the organisation says.
    subject = _subject(store, principal, case.subject_id, clock, request) if own else None
    timeline = _timeline(store, principal, case.subject_id, clock) if own else None
    day = clock().date()
    made = [  # as the API lists them: every person of the referral hers to know
        r
        for r in referrals.outgoing_for(store, principal, at=clock())
        if case.subject_id in r.subjects and r.kind != "feedback"
    ]
    received = [
        r
        for r in referrals.inbox(store, principal.org_id, today=day)
        if case.subject_id in r.subjects
    ]
    grants = _current_grants(timeline or [])
    return page(
        request,
        "case.html",
        {
            "case": case,
            "subject": subject,
            "timeline": list(reversed(timeline or [])),
            "grants": grants,
            "own": own,
            "can_act": own and principal.role in CASE_ROLES,
            "made": made,
            "received": received,
            "trail": case_trail(store, case_id=case_id, org=None if own else principal.org_id),
            "names": org_names(store, principal),
        },
    )


# --- consent --------------------------------------------------------------------------------


@router.get("/cases/{case_id}/consent", response_class=HTMLResponse)
def consent_form(
    case_id: str, request: Request, principal: WebUser, store: StoreDep, clock: ClockDep
) -> Response:
    if principal.role not in CASE_ROLES:
        return refuse(store, principal, request, object_type="case", object_id=case_id)
    case = case_for(store, principal, case_id, clock, request)
    if case is None or case.access == "shared":
        return not_found_page(request)
    subject = _subject(store, principal, case.subject_id, clock, request)
    protocol = current_protocol(store)
    purposes = sender_purposes(protocol, principal.org_id, CONSENT_PURPOSES_EXCLUDED)
    chosen_id = request.query_params.get("purpose", "")
    chosen = next((p for p in purposes if p.id == chosen_id), None)
    person_lang = language_of(request.query_params.get("in") or language(request))
    names = org_names(store, principal)
    explanation = None
    if chosen is not None:
        explanation = explain(
            chosen,
            language=person_lang,
            recipient_names=names,
            child=bool(subject and subject.child),
        )
    return page(
        request,
        "consent.html",
        {
            "case": case,
            "subject": subject,
            "purposes": purposes,
            "chosen": chosen,
            "explanation": explanation,
            "person_lang": person_lang,
            "names": names,
            "kinds": list(ConsentKind),
            "givers": list(GivenBy),
            "methods": list(ConsentMethod),
            "stages": list(ConsentStage),
        },
    )


@router.post("/cases/{case_id}/consent", response_class=HTMLResponse)
async def record_consent(
    case_id: str, request: Request, principal: WebUser, store: StoreDep, clock: ClockDep
) -> Response:
    if principal.role not in CASE_ROLES:
        return refuse(store, principal, request, object_type="case", object_id=case_id)
    case = case_for(store, principal, case_id, clock, request)
    if case is None or case.access == "shared":
        return not_found_page(request)
    form = await request.form()
    protocol = current_protocol(store)
    purposes = {
        p.id: p for p in sender_purposes(protocol, principal.org_id, CONSENT_PURPOSES_EXCLUDED)
    }
    purpose = purposes.get(form_field(form, "purpose"))
    if purpose is None:
        return not_found_page(request)
    person_lang = language_of(form_field(form, "explanation_language"))
    explanation = explain(
        purpose, language=person_lang, recipient_names=org_names(store, principal)
    )
    try:
        body = ConsentCreate(
            decision=ConsentDecision(form_field(form, "decision", "granted")),
            purposes=[purpose.id],
            kind=ConsentKind(form_field(form, "kind", "consent")),
            given_by=GivenBy(form_field(form, "given_by", "self")),
            method=ConsentMethod(form_field(form, "method", "oral-recorded")),
            stage=ConsentStage(form_field(form, "stage")) if form_field(form, "stage") else None,
            explanation_language=person_lang,
            explanation_version=explanation.version,
        )
    except (ValueError, ValidationError):
        return not_found_page(request)
    try:
        entry = consent_api.record(case.subject_id, body, principal, store, clock)
    except HTTPException:
        return not_found_page(request)
    return RedirectResponse(
        f"/cases/{case_id}?recorded={entry.decision.value}#consent", status_code=303
    )


@router.post("/cases/{case_id}/consent/withdraw", response_class=HTMLResponse)
async def withdraw_consent(
    case_id: str, request: Request, principal: WebUser, store: StoreDep, clock: ClockDep
) -> Response:
    """One button: the withdrawal is recorded and applied at once (shares not yet accepted
    are stopped, recipients that hold one are notified)."""
    if principal.role not in CASE_ROLES:
        return refuse(store, principal, request, object_type="case", object_id=case_id)
    case = case_for(store, principal, case_id, clock, request)
    if case is None or case.access == "shared":
        return not_found_page(request)
    form = await request.form()
    try:
        body = WithdrawRequest(
            purposes=[form_field(form, "purpose")],
            kind=ConsentKind(form_field(form, "kind", "consent")),
            given_by=GivenBy(form_field(form, "given_by", "self")),
            method=ConsentMethod.ORAL_RECORDED,
        )
        consent_api.withdraw(case.subject_id, body, principal, store, clock)
    except (ValueError, ValidationError, HTTPException):
        return not_found_page(request)
    return RedirectResponse(f"/cases/{case_id}?recorded=withdrawn#consent", status_code=303)


# --- referrals ------------------------------------------------------------------------------
