"""A small operation in a store, for the sharing tests: UNHCR, two partners and a clinic,
an endorsed protocol (referral, feedback, emergency referral, closed-case transfer and
archiving, an investigation), subjects with cases, encrypted case elements and consent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from safeshare.core.request import ShareRequest
from safeshare.core.vocabulary import (
    AssessmentKind,
    Basis,
    BenefitKind,
    CaseStatus,
    ConsentDecision,
    ConsentMethod,
    ConsentStage,
    DPAssessment,
    GeneralPurpose,
    OrgKind,
)
from safeshare.core.world import (
    Assessment,
    Case,
    Organisation,
    Period,
    Protocol,
    Purpose,
    Record,
    Subject,
)
from safeshare.crypto.org_keys import OrgKeyDirectory
from safeshare.services.case_elements import set_case_elements
from safeshare.services.consent import record_consent
from safeshare.services.protocols import endorse_protocol, load_protocol
from safeshare.services.registry import add_record, open_case, record_assessment, register_subject
from safeshare.store.ledger import NewConsent
from safeshare.store.unit import Store

TODAY = date(2026, 3, 1)
ACTOR = "tester"

REFERRAL = "legal-aid-referral"
FEEDBACK = "legal-aid-feedback"
EMERGENCY = "emergency-mental-health"
TRANSFER = "closed-case-transfer"
ARCHIVING = "closed-case-archiving"
INVESTIGATION = "sea-investigation"


def _purpose(
    pid: str,
    general: GeneralPurpose,
    frm: str,
    to: str,
    elements: list[str],
    retention: Period,
    **kw: object,
) -> Purpose:
    values: dict[str, object] = {
        "id": pid,
        "general": general,
        "benefit": f"Benefit of {pid}",
        "benefit_kind": BenefitKind.DIRECT,
        "services": (f"service of {pid}",),
        "senders": frozenset({frm}),
        "recipients": frozenset({to}),
        "data_elements": tuple(elements),
        "retention": retention,
        "access_roles": ("caseworker",),
        "contact_methods": ("phone", "office"),
        "explanation": f"I will share your details with {to} for {pid}.",
    }
    values.update(kw)
    return Purpose(**values)  # type: ignore[arg-type]


ORGS = [
    Organisation("unhcr", OrgKind.UNHCR),
    Organisation("ngo-a", OrgKind.PARTNER, dp_assessment=DPAssessment.PASSED),
    Organisation("ngo-b", OrgKind.PARTNER, dp_assessment=DPAssessment.PASSED),
    Organisation("mh-clinic", OrgKind.PARTNER, dp_assessment=DPAssessment.PASSED),
]

PROTOCOL = Protocol(
    id="op-dsp",
    consent_review=Period("P1Y", years=1),
    purposes=(
        _purpose(
            REFERRAL,
            GeneralPurpose.IMMEDIATE_REFERRAL,
            "unhcr",
            "ngo-a",
            ["name", "phone", "service_needed", "referral_id"],
            Period("P6M", months=6),
            feedback=("referral_status", "status_dates", "services_provided"),
        ),
        _purpose(
            FEEDBACK,
            GeneralPurpose.REFERRAL_FEEDBACK,
            "ngo-a",
            "unhcr",
            [
                "referral_id",
                "referral_status",
                "status_dates",
                "services_provided",
                "service_outcome",
            ],
            Period("P6M", months=6),
            contact_methods=(),
        ),
        _purpose(
            EMERGENCY,
            GeneralPurpose.IMMEDIATE_REFERRAL,
            "unhcr",
            "mh-clinic",
            ["name", "phone", "location", "mental_health_status"],
            Period("P1M", months=1),
        ),
        _purpose(
            TRANSFER,
            GeneralPurpose.CLOSED_CASE_TRANSFER,
            "ngo-a",
            "unhcr",
            ["name", "individual_number", "case_summary"],
            Period("duration-of-status"),
            contact_methods=(),
        ),
        _purpose(
            ARCHIVING,
            GeneralPurpose.CLOSED_CASE_ARCHIVING,
            "ngo-a",
            "unhcr",
            ["name", "individual_number", "case_summary"],
            Period("permanent"),
            contact_methods=(),
        ),
        _purpose(
            INVESTIGATION,
            GeneralPurpose.INVESTIGATION,
            "ngo-a",
            "unhcr",
            ["individual_number", "name", "incident_description"],
            Period("P6M", months=6),
        ),
    ),
)

# subject -> (case, owner, status, elements)
PEOPLE = {
    "s1": ("c1", "unhcr", CaseStatus.OPEN, ["gbv"]),
    "s2": ("c2", "unhcr", CaseStatus.OPEN, ["legal"]),
    "s3": ("c3", "unhcr", CaseStatus.OPEN, ["mental-health"]),
    "s4": ("c4", "ngo-a", CaseStatus.CLOSED, ["disability"]),
    "s5": ("c5", "ngo-a", CaseStatus.OPEN, ["gbv"]),
}


@dataclass
class Operation:
    store: Store
    keys: OrgKeyDirectory


def values_of(sid: str) -> dict[str, str]:
    return {
        "name": f"Name of {sid}",
        "phone": f"+000-{sid}",
        "service_needed": "legal counselling",
        "location": f"Block 7, {sid}",
        "mental_health_status": f"MH status of {sid}",
        "individual_number": f"IND-{sid}",
        "case_summary": f"Summary of {sid}",
        "incident_description": f"Incident told by {sid}",
    }


def consent(
    sid: str,
    purposes: list[str],
    *,
    on: date = date(2026, 2, 20),
    decision: ConsentDecision = ConsentDecision.GRANTED,
    stage: ConsentStage | None = None,
) -> NewConsent:
    return NewConsent(
        subject=sid,
        decision=decision,
        purposes=tuple(purposes),
        date=on,
        method=ConsentMethod.ORAL_RECORDED,
        stage=stage,
    )


def build(store: Store, key_dir: Path) -> Operation:
    load_protocol(store, PROTOCOL, actor=ACTOR, organisations=ORGS)
    endorse_protocol(store, "current", by="unhcr", actor=ACTOR)
    for sid, (cid, owner, status, cats) in PEOPLE.items():
        register_subject(
            store,
            Subject(sid, age=30, categories=frozenset(cats)),
            actor=ACTOR,
            name=f"Name of {sid}",
            contact=f"+000-{sid}",
        )
        open_case(
            store,
            Case(
                cid,
                sid,
                owner,
                status=status,
                closed_on=date(2026, 1, 10) if status is CaseStatus.CLOSED else None,
            ),
            actor=ACTOR,
            details=f"Details of {sid}",
        )
        set_case_elements(store, cid, values_of(sid), actor=ACTOR)
    record_consent(store, consent("s1", [REFERRAL, FEEDBACK]), actor=ACTOR)
    record_consent(store, consent("s2", [REFERRAL]), actor=ACTOR)
    record_consent(
        store, consent("s4", [TRANSFER, ARCHIVING], stage=ConsentStage.CLOSURE), actor=ACTOR
    )
    record_consent(store, consent("s2", ["old-purpose"], on=date(2024, 1, 5)), actor=ACTOR)
    record_assessment(
        store,
        Assessment(
            "risk-1",
            AssessmentKind.RISK,
            date=TODAY,
            benefits_outweigh_risks=True,
            recipient_safe=True,
        ),
        actor=ACTOR,
    )
    add_record(
        store, Record("f1", "s1", "gbv"), actor=ACTOR, content="Her own file", holder="unhcr"
    )
    add_record(
        store, Record("f3", "s1", "gbv"), actor=ACTOR, content="Her file at NGO A", holder="ngo-a"
    )
    add_record(
        store,
        Record("f2", "s2", "gbv"),
        actor=ACTOR,
        content="Another person's file",
        holder="unhcr",
    )
    return Operation(store, OrgKeyDirectory(key_dir, generate_missing=True))


def referral_request(**kw: object) -> ShareRequest:
    """A legal-aid referral of s1 from UNHCR to ngo-a (consent), with ``kw`` changed."""
    values: dict[str, object] = {
        "sender": "unhcr",
        "recipient": "ngo-a",
        "purpose": REFERRAL,
        "basis": Basis.CONSENT,
        "subjects": ("s1",),
        "data_elements": ("name", "phone", "service_needed", "incident_description"),
        "label": "GBV survivor - legal aid",
        "contact_method": "home-visit",
    }
    values.update(kw)
    return ShareRequest(**values)  # type: ignore[arg-type]
