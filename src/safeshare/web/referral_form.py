"""Making a referral from a case: the form offers only the elements the purpose allows,
pre-filled from the case; the engine's decision and reasons update as the form changes (htmx,
or a Check button without JavaScript); sending decides again, records, and seals only what may
go with the conditions applied."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from safeshare.api.deps import ClockDep, Principal, StoreDep
from safeshare.api.referrals import org_keys_of
from safeshare.api.schemas import CaseOut
from safeshare.core.decision import Decision
from safeshare.core.request import Circumstance, ShareRequest
from safeshare.core.vocabulary import (
    AssessmentKind,
    Basis,
    CircumstanceKind,
    GeneralPurpose,
)
from safeshare.core.world import Assessment, Purpose
from safeshare.services import access, registry
from safeshare.services.referral_sending import REFERRAL_FAILURES, send_referral
from safeshare.store.unit import Store
from safeshare.web.case_pages import case_for, sender_purposes
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
from safeshare.web.render import page
from safeshare.web.sharing import case_values, preview

router = APIRouter()

REFERRAL_PURPOSES_EXCLUDED = frozenset(
    {GeneralPurpose.REFERRAL_FEEDBACK, GeneralPurpose.STATISTICS}
)
HOME_VISIT = "home-visit"


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
    case = case_for(store, principal, case_id, clock, request)
    if case is None or case.access == "shared":
        return not_found_page(request)
    purposes = sender_purposes(
        current_protocol(store), principal.org_id, REFERRAL_PURPOSES_EXCLUDED
    )
    chosen = next((p for p in purposes if p.id == purpose_id), None)
    return case, purposes, chosen


def _preview(
    store: Store, principal: Principal, case: CaseOut, form: ReferralForm | None, clock: ClockDep
) -> Decision | None:
    """The engine's decision on the form as it stands (nothing recorded), once a recipient is
    chosen."""
    if form is None or not form.to:
        return None
    return preview(store, form.request(principal.org_id, case.subject_id), today=clock().date())


def _referral_page(
    request: Request,
    *,
    store: Store,
    principal: Principal,
    case: CaseOut,
    purposes: list[Purpose],
    form: ReferralForm | None,
    decision: Decision | None,
    clock: ClockDep,
    incomplete: bool = False,
) -> Response:
    context = _referral_context(
        store,
        principal=principal,
        case=case,
        purposes=purposes,
        form=form,
        decision=decision,
        clock=clock,
    )
    if incomplete:
        return page(request, "referral.html", {**context, "incomplete": True}, status_code=422)
    return page(request, "referral.html", context)


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
    decision = _preview(store, principal, case, form, clock)
    return _referral_page(
        request,
        store=store,
        principal=principal,
        case=case,
        purposes=purposes,
        form=form,
        decision=decision,
        clock=clock,
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
    decision = _preview(store, principal, case, form, clock)
    if request.headers.get("hx-request") == "true":
        return page(
            request, "_decision.html", {"decision": decision, "names": org_names(store, principal)}
        )
    return _referral_page(
        request,
        store=store,
        principal=principal,
        case=case,
        purposes=purposes,
        form=form,
        decision=decision,
        clock=clock,
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
        return _referral_page(
            request,
            store=store,
            principal=principal,
            case=case,
            purposes=purposes,
            form=form,
            decision=None,
            clock=clock,
            incomplete=True,
        )
    if not form.risk_assessment and form.ra_benefits and form.ra_safe:
        form.risk_assessment = _record_risk_assessment(store, principal, form, at)
    try:
        outcome = send_referral(
            store,
            org_keys_of(request),
            form.request(principal.org_id, case.subject_id),
            actor=principal,
            at=at,
        )
    except REFERRAL_FAILURES:
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
    if outcome is None:  # the person is not the sender's to see: the refusal is audited
        return not_found_page(request)
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
