"""The case page (what this user may see of the person, the consent ledger as a timeline,
referrals made and received, who opened the case), recording consent with the plain-language
explanation, withdrawing it with one button, and making a referral with the engine's decision
updated as the form changes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from safeshare.api import cases as case_api
from safeshare.api import consent as consent_api
from safeshare.api.deps import ClockDep, Principal, StoreDep
from safeshare.api.referrals import get_org_keys
from safeshare.api.schemas import CaseOut, ConsentCreate, ConsentOut, SubjectOut, WithdrawRequest
from safeshare.core.decision import Decision
from safeshare.core.request import Circumstance, ShareRequest
from safeshare.core.vocabulary import (
    AssessmentKind,
    Basis,
    CircumstanceKind,
    ConsentDecision,
    ConsentKind,
    ConsentMethod,
    ConsentStage,
    GeneralPurpose,
    GivenBy,
)
from safeshare.core.world import Assessment, Protocol, Purpose
from safeshare.explanation import explain, language_of
from safeshare.services import access, referrals, registry
from safeshare.services.common import NotFoundError
from safeshare.services.org_keys import NoPublicKeyError
from safeshare.sharing.payload import NotShareableError
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
from safeshare.web.common import (
    fields as form_fields,
)
from safeshare.web.render import language, page
from safeshare.web.sharing import case_trail, case_values, preview

router = APIRouter()

CONSENT_PURPOSES_EXCLUDED = frozenset({GeneralPurpose.STATISTICS})
REFERRAL_PURPOSES_EXCLUDED = frozenset(
    {GeneralPurpose.REFERRAL_FEEDBACK, GeneralPurpose.STATISTICS}
)
HOME_VISIT = "home-visit"


def _case(store: Store, principal: Principal, case_id: str, clock: ClockDep) -> CaseOut | None:
    try:
        return case_api.get_case(case_id, principal, store, clock)
    except HTTPException:
        return None


def _subject(
    store: Store, principal: Principal, subject_id: str, clock: ClockDep
) -> SubjectOut | None:
    try:
        return case_api.get_subject(subject_id, principal, store, clock)
    except HTTPException:
        return None


def _timeline(
    store: Store, principal: Principal, subject_id: str, clock: ClockDep
) -> list[ConsentOut] | None:
    try:
        return consent_api.timeline(subject_id, principal, store, clock)
    except HTTPException:
        return None


def _sender_purposes(
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
    case = _case(store, principal, case_id, clock)
    if case is None:
        return not_found_page(request)
    subject = _subject(store, principal, case.subject_id, clock)
    own = case.access != "shared"
    timeline = _timeline(store, principal, case.subject_id, clock) if own else None
    day = clock().date()
    made = [
        r
        for r in referrals.outgoing(store, principal.org_id)
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
            "trail": case_trail(store, case_id=case_id),
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
    case = _case(store, principal, case_id, clock)
    if case is None or case.access == "shared":
        return not_found_page(request)
    subject = _subject(store, principal, case.subject_id, clock)
    protocol = current_protocol(store)
    purposes = _sender_purposes(protocol, principal.org_id, CONSENT_PURPOSES_EXCLUDED)
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
    case = _case(store, principal, case_id, clock)
    if case is None or case.access == "shared":
        return not_found_page(request)
    form = await request.form()
    protocol = current_protocol(store)
    purposes = {
        p.id: p for p in _sender_purposes(protocol, principal.org_id, CONSENT_PURPOSES_EXCLUDED)
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
    case = _case(store, principal, case_id, clock)
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


@dataclass
class ReferralForm:
    """The referral form's values, checked against the protocol (never echoed raw)."""

    purpose: Purpose
    to: str = ""
    elements: list[str] = field(default_factory=list)
    basis: Basis = Basis.CONSENT
    label: str = ""
    contact_method: str = ""
    circumstance: str = ""
    immediate: bool = False
    individuals_named: bool = False
    detail: str = ""
    risk_assessment: str = ""
    ra_benefits: str = ""
    ra_safe: str = ""
    alternative_available: bool = False

    @classmethod
    def initial(cls, purpose: Purpose) -> ReferralForm:
        recipients = sorted(purpose.recipients)
        return cls(
            purpose=purpose,
            to=recipients[0] if len(recipients) == 1 else "",
            elements=list(purpose.data_elements),
            contact_method=purpose.contact_methods[0] if purpose.contact_methods else "",
        )

    @classmethod
    def parse(cls, purpose: Purpose, form: object) -> ReferralForm:
        assert isinstance(form, FormData)
        to = form_field(form, "to")
        basis = form_field(form, "basis", "consent")
        circumstance = form_field(form, "circumstance")
        method = form_field(form, "contact_method")
        return cls(
            purpose=purpose,
            to=to if to in purpose.recipients else "",
            elements=[e for e in purpose.data_elements if e in set(form_fields(form, "elements"))],
            basis=Basis(basis) if basis in {b.value for b in Basis} else Basis.CONSENT,
            label=form_field(form, "label")[:200],
            contact_method=method if method in contact_choices(purpose) else "",
            circumstance=circumstance
            if circumstance in {c.value for c in CircumstanceKind}
            else "",
            immediate=form_field(form, "immediate") == "on",
            individuals_named=form_field(form, "individuals_named") == "on",
            detail=form_field(form, "detail")[:1000],
            risk_assessment=form_field(form, "risk_assessment")[:64],
            ra_benefits=form_field(form, "ra_benefits")
            if form_field(form, "ra_benefits") in ("yes", "no")
            else "",
            ra_safe=form_field(form, "ra_safe")
            if form_field(form, "ra_safe") in ("yes", "no")
            else "",
            alternative_available=form_field(form, "alternative_available") == "on",
        )

    def request(self, sender: str, subject_id: str) -> ShareRequest:
        circumstance = None
        if self.circumstance:
            circumstance = Circumstance(
                CircumstanceKind(self.circumstance),
                immediate=self.immediate,
                detail=self.detail,
                individuals_named=self.individuals_named,
            )
        return ShareRequest(
            sender=sender,
            recipient=self.to,
            purpose=self.purpose.id,
            basis=self.basis,
            data_elements=tuple(self.elements),
            subjects=(subject_id,),
            label=self.label,
            contact_method=self.contact_method,
            circumstance=circumstance,
            risk_assessment=self.risk_assessment or None,
            alternative_available=self.alternative_available,
        )


def contact_choices(purpose: Purpose) -> list[str]:
    """The purpose's agreed methods, and a home visit (which the engine judges)."""
    return [
        *purpose.contact_methods,
        *([] if HOME_VISIT in purpose.contact_methods else [HOME_VISIT]),
    ]


def _referral_context(
    store: Store,
    *,
    principal: Principal,
    case: CaseOut,
    purposes: list[Purpose],
    form: ReferralForm | None,
    decision: Decision | None,
    clock: ClockDep,
) -> dict[str, object]:
    values: dict[str, str | None] = {}
    if form is not None:
        grant = access.case_access(
            store, principal, case.id, form.purpose.data_elements, at=clock()
        )
        if grant is not None:
            values = case_values(store, case.subject_id, grant.elements, owner=case.owner)
    return {
        "case": case,
        "purposes": purposes,
        "form": form,
        "decision": decision,
        "values": values,
        "names": org_names(store, principal),
        "bases": list(Basis),
        "circumstances": list(CircumstanceKind),
        "contact_choices": contact_choices(form.purpose) if form else [],
    }


def _referral_setup(
    case_id: str,
    *,
    request: Request,
    principal: Principal,
    store: Store,
    clock: ClockDep,
    purpose_id: str,
) -> tuple[CaseOut, list[Purpose], Purpose | None] | Response:
    if principal.role not in CASE_ROLES:
        return refuse(store, principal, request, object_type="case", object_id=case_id)
    case = _case(store, principal, case_id, clock)
    if case is None or case.access == "shared":
        return not_found_page(request)
    purposes = _sender_purposes(
        current_protocol(store), principal.org_id, REFERRAL_PURPOSES_EXCLUDED
    )
    chosen = next((p for p in purposes if p.id == purpose_id), None)
    return case, purposes, chosen


@router.get("/cases/{case_id}/referral", response_class=HTMLResponse)
def referral_form(
    case_id: str, request: Request, principal: WebUser, store: StoreDep, clock: ClockDep
) -> Response:
    found = _referral_setup(
        case_id,
        request=request,
        principal=principal,
        store=store,
        clock=clock,
        purpose_id=request.query_params.get("purpose", ""),
    )
    if isinstance(found, Response):
        return found
    case, purposes, chosen = found
    form = ReferralForm.initial(chosen) if chosen else None
    decision = None
    if form is not None and form.to:
        decision = preview(
            store, form.request(principal.org_id, case.subject_id), today=clock().date()
        )
    return page(
        request,
        "referral.html",
        _referral_context(
            store,
            principal=principal,
            case=case,
            purposes=purposes,
            form=form,
            decision=decision,
            clock=clock,
        ),
    )


@router.post("/cases/{case_id}/referral/evaluate", response_class=HTMLResponse)
async def referral_evaluate(
    case_id: str, request: Request, principal: WebUser, store: StoreDep, clock: ClockDep
) -> Response:
    """The engine's decision on the form as it stands: a fragment for htmx, the whole page
    without JavaScript. Nothing is recorded or sent."""
    raw = await request.form()
    found = _referral_setup(
        case_id,
        request=request,
        principal=principal,
        store=store,
        clock=clock,
        purpose_id=form_field(raw, "purpose"),
    )
    if isinstance(found, Response):
        return found
    case, purposes, chosen = found
    if chosen is None:
        return not_found_page(request)
    form = ReferralForm.parse(chosen, raw)
    decision = (
        preview(store, form.request(principal.org_id, case.subject_id), today=clock().date())
        if form.to
        else None
    )
    if request.headers.get("hx-request") == "true":
        return page(
            request, "_decision.html", {"decision": decision, "names": org_names(store, principal)}
        )
    return page(
        request,
        "referral.html",
        _referral_context(
            store,
            principal=principal,
            case=case,
            purposes=purposes,
            form=form,
            decision=decision,
            clock=clock,
        ),
    )


@router.post("/cases/{case_id}/referral", response_class=HTMLResponse)
async def referral_send(
    case_id: str, request: Request, principal: WebUser, store: StoreDep, clock: ClockDep
) -> Response:
    """Decided again by the engine (recorded); on allow the sharing service seals only what
    may go, conditions applied; on escalate it waits for the focal point; on deny nothing
    leaves."""
    raw = await request.form()
    found = _referral_setup(
        case_id,
        request=request,
        principal=principal,
        store=store,
        clock=clock,
        purpose_id=form_field(raw, "purpose"),
    )
    if isinstance(found, Response):
        return found
    case, purposes, chosen = found
    if chosen is None:
        return not_found_page(request)
    form = ReferralForm.parse(chosen, raw)
    at = clock()
    if not form.to or not form.elements:
        decision = None
        return page(
            request,
            "referral.html",
            {
                **_referral_context(
                    store,
                    principal=principal,
                    case=case,
                    purposes=purposes,
                    form=form,
                    decision=decision,
                    clock=clock,
                ),
                "incomplete": True,
            },
            status_code=422,
        )
    if not form.risk_assessment and form.ra_benefits and form.ra_safe:
        form.risk_assessment = _record_risk_assessment(store, principal, form, at)
    if (
        access.subject_access(store, principal, case.subject_id, tuple(form.elements), at=at)
        is None
    ):
        return not_found_page(request)
    try:
        outcome = referrals.create_referral(
            store,
            get_org_keys(request),
            form.request(principal.org_id, case.subject_id),
            actor=principal.user_id,
            today=at.date(),
        )
    except (NoPublicKeyError, NotShareableError, NotFoundError, KeyError):
        return page(
            request,
            "referral_result.html",
            {
                "case": case,
                "decision": None,
                "referral": None,
                "failed": True,
                "names": org_names(store, principal),
            },
            status_code=409,
        )
    return page(
        request,
        "referral_result.html",
        {
            "case": case,
            "decision": outcome.decision,
            "referral": outcome.referral,
            "escalation_id": outcome.escalation_id,
            "failed": False,
            "names": org_names(store, principal),
        },
    )


def _record_risk_assessment(
    store: Store, principal: Principal, form: ReferralForm, at: datetime
) -> str:
    """The benefit and risk assessment filled in on the form, recorded for the focal point."""
    assessment = Assessment(
        id=f"risk-{uuid.uuid4().hex[:12]}",
        kind=AssessmentKind.RISK,
        date=at.date(),
        benefits_outweigh_risks=form.ra_benefits == "yes",
        recipient_safe=form.ra_safe == "yes",
    )
    return registry.record_assessment(store, assessment, actor=principal.user_id)
