"""Small factories for engine tests: a world and a request built in code, each with keyword
overrides so that a test states only what matters to the rule it checks.

The default world is one operation: UNHCR and two partners (ngo-a, ngo-b) that passed their
joint data protection assessment, an endorsed protocol with a referral purpose (UNHCR to
ngo-a), a feedback purpose (ngo-a to UNHCR), an eligibility purpose, a closed-case transfer
and an archiving purpose (ngo-a to UNHCR), and a statistics purpose; one adult subject
``s1`` with an open case held by UNHCR.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from safeshare.core.decision import Decision, Outcome
from safeshare.core.request import Circumstance, Selection, ShareRequest, StaffAccessRequest
from safeshare.core.vocabulary import (
    AssessmentKind,
    Basis,
    BenefitKind,
    BestInterestsOutcome,
    CaseStatus,
    CircumstanceKind,
    ConsentDecision,
    ConsentKind,
    ConsentMethod,
    ConsentStage,
    DPAssessment,
    Duty,
    GeneralPurpose,
    GivenBy,
    OrgKind,
)
from safeshare.core.world import (
    Assessment,
    Caregiver,
    Case,
    ConsentRecord,
    Organisation,
    Period,
    Protocol,
    Purpose,
    Record,
    Staff,
    Subject,
    World,
)

TODAY = date(2026, 3, 1)
RECENT = date(2026, 2, 20)

REFERRAL = "legal-aid-referral"
FEEDBACK = "referral-feedback"
ELIGIBILITY = "cash-eligibility"
TRANSFER = "closed-case-transfer"
ARCHIVING = "closed-case-archiving"
STATISTICS = "protection-statistics"

REFERRAL_ELEMENTS = ("name", "phone", "service_needed", "referral_id")
FEEDBACK_ELEMENTS = (
    "referral_id",
    "referral_status",
    "status_dates",
    "services_provided",
    "service_dates",
    "service_outcome",
    "case_file",
)
ELIGIBILITY_ELEMENTS = ("name", "individual_number", "specific_needs_codes", "priority")
TRANSFER_ELEMENTS = ("name", "individual_number", "case_summary", "specific_needs_codes")
ARCHIVING_ELEMENTS = ("name", "individual_number", "case_file")
STATISTICS_ELEMENTS = ("name", "age", "sex", "nationality", "specific_needs_codes", "priority")


def period(text: str) -> Period:
    """``P6M``, ``P1Y``, ``P30D`` (no weeks) or an open-ended word."""
    if not text.startswith("P"):
        return Period(text)
    years = months = days = 0
    number = ""
    for ch in text[1:]:
        if ch.isdigit():
            number += ch
            continue
        value = int(number)
        number = ""
        if ch == "Y":
            years = value
        elif ch == "M":
            months = value
        elif ch == "D":
            days = value
    return Period(text, years=years, months=months, days=days)


# --- organisations -------------------------------------------------------------------------


def unhcr(**kw: Any) -> Organisation:
    return Organisation(**{"id": "unhcr", "kind": OrgKind.UNHCR, **kw})


def partner(org_id: str = "ngo-a", **kw: Any) -> Organisation:
    return Organisation(
        **{"id": org_id, "kind": OrgKind.PARTNER, "dp_assessment": DPAssessment.PASSED, **kw}
    )


def default_organisations() -> list[Organisation]:
    return [unhcr(), partner("ngo-a"), partner("ngo-b")]


# --- purposes ------------------------------------------------------------------------------


def purpose(purpose_id: str = REFERRAL, **kw: Any) -> Purpose:
    """A complete referral purpose, UNHCR to ngo-a, with overrides."""
    fields: dict[str, Any] = {
        "id": purpose_id,
        "general": GeneralPurpose.IMMEDIATE_REFERRAL,
        "benefit": "Free legal counselling for a pending court case",
        "benefit_kind": BenefitKind.DIRECT,
        "services": ("legal counselling",),
        "senders": frozenset({"unhcr"}),
        "recipients": frozenset({"ngo-a"}),
        "data_elements": REFERRAL_ELEMENTS,
        "retention": period("P6M"),
        "access_roles": ("legal-caseworker",),
        "contact_methods": ("phone", "office"),
        "explanation": "If you want free legal counselling, I will share your name and phone.",
    }
    fields.update(kw)
    for key in ("senders", "recipients"):
        fields[key] = frozenset(fields[key])
    for key in ("services", "data_elements", "access_roles", "contact_methods", "feedback"):
        if key in fields:
            fields[key] = tuple(fields[key])
    return Purpose(**fields)


def referral_purpose(**kw: Any) -> Purpose:
    return purpose(REFERRAL, **kw)


def feedback_purpose(**kw: Any) -> Purpose:
    """Feedback from ngo-a to UNHCR; lists the whole case file (which must still not go)."""
    base: dict[str, Any] = {
        "general": GeneralPurpose.REFERRAL_FEEDBACK,
        "benefit": "UNHCR follows up the legal aid referral it made",
        "services": ("legal counselling",),
        "senders": {"ngo-a"},
        "recipients": {"unhcr"},
        "data_elements": FEEDBACK_ELEMENTS,
        "contact_methods": (),
    }
    base.update(kw)
    return purpose(FEEDBACK, **base)


def eligibility_purpose(**kw: Any) -> Purpose:
    base: dict[str, Any] = {
        "general": GeneralPurpose.ELIGIBILITY,
        "benefit": "Assess eligibility for multipurpose cash assistance",
        "services": ("cash assistance",),
        "senders": {"ngo-a"},
        "recipients": {"unhcr"},
        "data_elements": ELIGIBILITY_ELEMENTS,
        "contact_methods": (),
    }
    base.update(kw)
    return purpose(ELIGIBILITY, **base)


def transfer_purpose(**kw: Any) -> Purpose:
    base: dict[str, Any] = {
        "general": GeneralPurpose.CLOSED_CASE_TRANSFER,
        "benefit": "UNHCR can offer future protection and assistance",
        "services": ("future protection services",),
        "senders": {"ngo-a"},
        "recipients": {"unhcr"},
        "data_elements": TRANSFER_ELEMENTS,
        "retention": period("duration-of-status"),
        "contact_methods": (),
    }
    base.update(kw)
    return purpose(TRANSFER, **base)


def archiving_purpose(**kw: Any) -> Purpose:
    base: dict[str, Any] = {
        "general": GeneralPurpose.CLOSED_CASE_ARCHIVING,
        "benefit": "The person can later ask UNHCR for her own file",
        "services": ("archive access",),
        "senders": {"ngo-a"},
        "recipients": {"unhcr"},
        "data_elements": ARCHIVING_ELEMENTS,
        "retention": period("permanent"),
        "contact_methods": (),
    }
    base.update(kw)
    return purpose(ARCHIVING, **base)


def statistics_purpose(**kw: Any) -> Purpose:
    base: dict[str, Any] = {
        "general": GeneralPurpose.STATISTICS,
        "benefit": "Monthly protection trends for programme planning",
        "benefit_kind": BenefitKind.INDIRECT,
        "services": ("protection monitoring",),
        "senders": {"ngo-a"},
        "recipients": {"unhcr"},
        "data_elements": STATISTICS_ELEMENTS,
        "contact_methods": (),
    }
    base.update(kw)
    return purpose(STATISTICS, **base)


def default_purposes() -> list[Purpose]:
    return [
        referral_purpose(),
        feedback_purpose(),
        eligibility_purpose(),
        transfer_purpose(),
        archiving_purpose(),
        statistics_purpose(),
    ]


def protocol(
    purposes: Iterable[Purpose] | None = None,
    *,
    endorsed: bool = True,
    consent_review: str | None = None,
    protocol_id: str = "op-dsp",
) -> Protocol:
    return Protocol(
        id=protocol_id,
        endorsed=endorsed,
        consent_review=period(consent_review) if consent_review else None,
        purposes=tuple(default_purposes() if purposes is None else purposes),
    )


# --- subjects, cases, consents, assessments ------------------------------------------------


def adult(subject_id: str = "s1", **kw: Any) -> Subject:
    fields: dict[str, Any] = {"id": subject_id, "age": 30, **kw}
    fields["categories"] = frozenset(fields.get("categories", ()))
    return Subject(**fields)


def child(
    subject_id: str = "s1",
    *,
    age: int | None = 15,
    caregiver_reachable: bool = True,
    involve_caregiver: bool = True,
    **kw: Any,
) -> Subject:
    fields: dict[str, Any] = {
        "id": subject_id,
        "age": age,
        "caregiver": Caregiver(
            reachable=caregiver_reachable, involve_in_best_interests=involve_caregiver
        ),
        **kw,
    }
    fields["categories"] = frozenset(fields.get("categories", ()))
    return Subject(**fields)


def case(
    case_id: str = "c1",
    subject: str = "s1",
    owner: str = "unhcr",
    *,
    closed_on: date | None = None,
) -> Case:
    return Case(
        id=case_id,
        subject=subject,
        owner=owner,
        status=CaseStatus.CLOSED if closed_on else CaseStatus.OPEN,
        closed_on=closed_on,
    )


def entry(
    subject: str = "s1",
    purposes: Sequence[str] | str = REFERRAL,
    decision: ConsentDecision = ConsentDecision.GRANTED,
    *,
    on: date = RECENT,
    kind: ConsentKind = ConsentKind.CONSENT,
    given_by: GivenBy = GivenBy.SELF,
    recipients: Iterable[str] | None = None,
    data_elements: Iterable[str] | None = None,
    stage: ConsentStage | None = None,
    method: ConsentMethod = ConsentMethod.ORAL_RECORDED,
) -> ConsentRecord:
    """One consent ledger entry (default: s1's own consent to the referral, granted)."""
    return ConsentRecord(
        subject=subject,
        kind=kind,
        given_by=given_by,
        decision=decision,
        purposes=frozenset([purposes] if isinstance(purposes, str) else purposes),
        date=on,
        recipients=None if recipients is None else frozenset(recipients),
        data_elements=None if data_elements is None else frozenset(data_elements),
        stage=stage,
        method=method,
    )


def grant(
    subject: str = "s1", purposes: Sequence[str] | str = REFERRAL, **kw: Any
) -> ConsentRecord:
    return entry(subject, purposes, ConsentDecision.GRANTED, **kw)


def refuse(
    subject: str = "s1", purposes: Sequence[str] | str = REFERRAL, **kw: Any
) -> ConsentRecord:
    return entry(subject, purposes, ConsentDecision.REFUSED, **kw)


def withdraw(
    subject: str = "s1", purposes: Sequence[str] | str = REFERRAL, **kw: Any
) -> ConsentRecord:
    return entry(subject, purposes, ConsentDecision.WITHDRAWN, **kw)


def assent(
    subject: str = "s1",
    purposes: Sequence[str] | str = REFERRAL,
    decision: ConsentDecision = ConsentDecision.GRANTED,
    **kw: Any,
) -> ConsentRecord:
    """A child's own agreement."""
    return entry(subject, purposes, decision, kind=ConsentKind.ASSENT, **kw)


def caregiver_consent(
    subject: str = "s1",
    purposes: Sequence[str] | str = REFERRAL,
    decision: ConsentDecision = ConsentDecision.GRANTED,
    *,
    given_by: GivenBy = GivenBy.PARENT,
    **kw: Any,
) -> ConsentRecord:
    return entry(subject, purposes, decision, given_by=given_by, **kw)


def bia(
    subject: str = "s1",
    outcome: BestInterestsOutcome = BestInterestsOutcome.SHARE,
    *,
    assessment_id: str = "bia-1",
    on: date = date(2026, 2, 1),
) -> Assessment:
    return Assessment(
        id=assessment_id,
        kind=AssessmentKind.BEST_INTERESTS,
        subject=subject,
        outcome=outcome,
        date=on,
    )


def risk(
    assessment_id: str = "risk-1",
    *,
    benefits_outweigh_risks: bool = True,
    recipient_safe: bool = True,
    on: date = date(2026, 2, 28),
) -> Assessment:
    return Assessment(
        id=assessment_id,
        kind=AssessmentKind.RISK,
        benefits_outweigh_risks=benefits_outweigh_risks,
        recipient_safe=recipient_safe,
        date=on,
    )


def staff(
    staff_id: str = "u1",
    org: str = "unhcr",
    *,
    duty: Duty = Duty.CASE_MANAGEMENT,
    cases: Iterable[str] = (),
    role: str = "caseworker",
) -> Staff:
    return Staff(id=staff_id, org=org, role=role, duty=duty, cases=frozenset(cases))


def record(record_id: str, subject: str, category: str = "protection") -> Record:
    return Record(id=record_id, subject=subject, category=category)


# --- the world -----------------------------------------------------------------------------


def world(
    *,
    subjects: Iterable[Subject] | None = None,
    consents: Iterable[ConsentRecord] = (),
    purposes: Iterable[Purpose] | None = None,
    organisations: Iterable[Organisation] | None = None,
    cases: Iterable[Case] | None = None,
    assessments: Iterable[Assessment] = (),
    staff_members: Iterable[Staff] = (),
    records: Iterable[Record] = (),
    endorsed: bool = True,
    consent_review: str | None = None,
    today: date = TODAY,
) -> World:
    """The default operation; every part can be replaced."""
    subject_list = [adult()] if subjects is None else list(subjects)
    case_list = (
        [case(f"c-{s.id}", s.id, "unhcr") for s in subject_list] if cases is None else list(cases)
    )
    return World.build(
        today=today,
        protocol=protocol(purposes, endorsed=endorsed, consent_review=consent_review),
        organisations=default_organisations() if organisations is None else organisations,
        subjects=subject_list,
        cases=case_list,
        consents=consents,
        assessments=assessments,
        staff=staff_members,
        records=records,
    )


def with_purpose(w: World, updated: Purpose) -> World:
    """The same world with one purpose replaced (or added)."""
    purposes = [p for p in w.protocol.purposes if p.id != updated.id] + [updated]
    return World.build(
        today=w.today,
        protocol=replace(w.protocol, purposes=tuple(purposes)),
        organisations=w.organisations.values(),
        subjects=w.subjects.values(),
        cases=w.cases.values(),
        consents=[c for ledger in w.consents_by_subject.values() for c in ledger],
        assessments=w.assessments.values(),
        staff=w.staff.values(),
        records=w.records.values(),
    )


# --- requests ------------------------------------------------------------------------------

_PURPOSE_PARTIES = {
    REFERRAL: ("unhcr", "ngo-a"),
    FEEDBACK: ("ngo-a", "unhcr"),
    ELIGIBILITY: ("ngo-a", "unhcr"),
    TRANSFER: ("ngo-a", "unhcr"),
    ARCHIVING: ("ngo-a", "unhcr"),
    STATISTICS: ("ngo-a", "unhcr"),
}


def share(
    purpose_id: str = REFERRAL,
    *,
    subjects: Sequence[str] = ("s1",),
    data_elements: Sequence[str] = ("name", "phone", "service_needed"),
    basis: Basis = Basis.CONSENT,
    sender: str | None = None,
    recipient: str | None = None,
    select: Selection | None = None,
    label: str = "High priority referral",
    contact_method: str = "",
    routine: bool = False,
    circumstance: Circumstance | None = None,
    risk_assessment: str | None = None,
    alternative_available: bool = False,
) -> ShareRequest:
    """A share request; sender and recipient default to the purpose's parties."""
    default_sender, default_recipient = _PURPOSE_PARTIES.get(purpose_id, ("unhcr", "ngo-a"))
    return ShareRequest(
        sender=sender or default_sender,
        recipient=recipient or default_recipient,
        purpose=purpose_id,
        basis=basis,
        data_elements=tuple(data_elements),
        subjects=() if select is not None else tuple(subjects),
        select=select,
        label=label,
        contact_method=contact_method,
        routine=routine,
        circumstance=circumstance,
        risk_assessment=risk_assessment,
        alternative_available=alternative_available,
    )


def emergency(
    *, immediate: bool = True, detail: str = "Stated plan to end her life tonight"
) -> Circumstance:
    return Circumstance(kind=CircumstanceKind.EMERGENCY, immediate=immediate, detail=detail)


def investigation(*, individuals_named: bool = True) -> Circumstance:
    return Circumstance(
        kind=CircumstanceKind.INVESTIGATION,
        immediate=True,
        detail="Alleged sexual exploitation by a staff member",
        individuals_named=individuals_named,
    )


def security_threat() -> Circumstance:
    return Circumstance(
        kind=CircumstanceKind.SECURITY_THREAT,
        immediate=True,
        detail="Armed groups are about to overrun the office",
    )


def staff_access(
    actor: str = "u1",
    case_id: str = "c-s1",
    data_elements: Sequence[str] = ("name", "case_summary"),
    need: str | None = None,
) -> StaffAccessRequest:
    return StaffAccessRequest(
        actor=actor, case=case_id, data_elements=tuple(data_elements), need=need
    )


# --- reading decisions ---------------------------------------------------------------------


def codes(decision: Decision) -> set[str]:
    return {r.code for r in decision.reasons}


def condition_codes(decision: Decision) -> set[str]:
    return {c.code for c in decision.conditions}


def subject_outcome(decision: Decision, subject_id: str) -> Outcome:
    for s in decision.subjects:
        if s.id == subject_id:
            return s.outcome
    raise KeyError(subject_id)


def shared(decision: Decision) -> tuple[set[str], set[str]]:
    return set(decision.share_subjects), set(decision.share_elements)


def assert_denied(decision: Decision, *expected_codes: str) -> None:
    assert decision.outcome is Outcome.DENY, decision.to_dict()
    assert set(expected_codes) <= codes(decision), decision.to_dict()
    assert decision.share_subjects == ()
    assert decision.share_elements == ()
