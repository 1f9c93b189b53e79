"""Factories for store tests: small worlds and records built in code."""

from __future__ import annotations

from datetime import date

from safeshare.core.request import ShareRequest
from safeshare.core.vocabulary import (
    Basis,
    BenefitKind,
    CaseStatus,
    ConsentDecision,
    ConsentMethod,
    DPAssessment,
    GeneralPurpose,
    OrgKind,
)
from safeshare.core.world import (
    Case,
    Organisation,
    Period,
    Protocol,
    Purpose,
    Subject,
    World,
)
from safeshare.store.ledger import NewConsent

TODAY = date(2026, 3, 1)


def organisations() -> list[Organisation]:
    return [
        Organisation("unhcr", OrgKind.UNHCR),
        Organisation("ngo-a", OrgKind.PARTNER, dp_assessment=DPAssessment.PASSED),
    ]


def purpose(pid: str = "legal-aid-referral", **kw: object) -> Purpose:
    values: dict[str, object] = {
        "id": pid,
        "general": GeneralPurpose.IMMEDIATE_REFERRAL,
        "benefit": "Free legal counselling",
        "benefit_kind": BenefitKind.DIRECT,
        "services": ("legal counselling",),
        "senders": frozenset({"unhcr"}),
        "recipients": frozenset({"ngo-a"}),
        "data_elements": ("name", "phone", "service_needed"),
        "retention": Period("P6M", months=6),
        "access_roles": ("legal-caseworker",),
        "contact_methods": ("phone",),
    }
    values.update(kw)
    return Purpose(**values)  # type: ignore[arg-type]


def protocol(*purposes: Purpose, pid: str = "op-dsp", endorsed: bool = True) -> Protocol:
    return Protocol(
        id=pid,
        endorsed=endorsed,
        consent_review=Period("P1Y", years=1),
        purposes=purposes or (purpose(),),
    )


def subject(sid: str = "s1", **kw: object) -> Subject:
    values: dict[str, object] = {"id": sid, "age": 30, "categories": frozenset({"gbv"})}
    values.update(kw)
    return Subject(**values)  # type: ignore[arg-type]


def case(cid: str = "c1", sid: str = "s1", owner: str = "unhcr", **kw: object) -> Case:
    return Case(id=cid, subject=sid, owner=owner, status=kw.get("status", CaseStatus.OPEN))  # type: ignore[arg-type]


def consent(
    sid: str = "s1",
    decision: ConsentDecision = ConsentDecision.GRANTED,
    purposes: tuple[str, ...] = ("legal-aid-referral",),
    on: date = date(2026, 2, 20),
    **kw: object,
) -> NewConsent:
    values: dict[str, object] = {
        "subject": sid,
        "decision": decision,
        "purposes": purposes,
        "date": on,
        "method": ConsentMethod.ORAL_RECORDED,
    }
    values.update(kw)
    return NewConsent(**values)  # type: ignore[arg-type]


def world(**kw: object) -> World:
    values: dict[str, object] = {
        "today": TODAY,
        "protocol": protocol(),
        "organisations": organisations(),
        "subjects": [subject()],
        "cases": [case()],
    }
    values.update(kw)
    return World.build(**values)  # type: ignore[arg-type]


def share_request(**kw: object) -> ShareRequest:
    values: dict[str, object] = {
        "sender": "unhcr",
        "recipient": "ngo-a",
        "purpose": "legal-aid-referral",
        "basis": Basis.CONSENT,
        "data_elements": ("name", "phone"),
        "subjects": ("s1",),
    }
    values.update(kw)
    return ShareRequest(**values)  # type: ignore[arg-type]
