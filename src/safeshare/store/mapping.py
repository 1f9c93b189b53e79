"""Rows to core values and back. Pure functions: no session, no cipher.

The protocol is kept as a canonical JSON document (sorted keys), so that loading the same
protocol twice is recognised by its hash and a changed one makes a new version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from safeshare.core.vocabulary import (
    AssessmentKind,
    BenefitKind,
    BestInterestsOutcome,
    CaseStatus,
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
)
from safeshare.store.models import (
    AssessmentRow,
    CaseRow,
    ConsentEntryRow,
    OrganisationRow,
    RecordRow,
    StaffRow,
    SubjectRow,
)

# --- lists kept as JSON text ------------------------------------------------------------


def dump_list(values: Iterable[str] | None) -> str | None:
    return None if values is None else json.dumps(sorted(values))


def load_list(text: str | None) -> frozenset[str] | None:
    return None if text is None else frozenset(json.loads(text))


# --- the protocol document --------------------------------------------------------------


def _period_doc(period: Period | None) -> dict[str, Any] | None:
    if period is None:
        return None
    return {
        "text": period.text,
        "years": period.years,
        "months": period.months,
        "days": period.days,
    }


def _period(doc: Mapping[str, Any] | None) -> Period | None:
    if doc is None:
        return None
    return Period(doc["text"], years=doc["years"], months=doc["months"], days=doc["days"])


def protocol_document(protocol: Protocol) -> dict[str, Any]:
    """The protocol as a document. ``endorsed`` and ``endorsed_by`` are left out on purpose:
    endorsement is a recorded act in the store, never a claim in a file."""
    return {
        "id": protocol.id,
        "consent_review": _period_doc(protocol.consent_review),
        "purposes": [
            {
                "id": p.id,
                "general": p.general.value,
                "benefit": p.benefit,
                "benefit_kind": p.benefit_kind.value,
                "services": list(p.services),
                "from": sorted(p.senders),
                "to": sorted(p.recipients),
                "data_elements": list(p.data_elements),
                "retention": _period_doc(p.retention),
                "access_roles": list(p.access_roles),
                "contact_methods": list(p.contact_methods),
                "feedback": list(p.feedback),
                "explanation": p.explanation,
                "label": p.label,
            }
            for p in protocol.purposes
        ],
    }


def canonical_document(doc: Mapping[str, Any]) -> tuple[str, str]:
    """The document's canonical JSON text and its SHA-256 (hex)."""
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def protocol_from_document(text: str, endorsed_by: Iterable[str]) -> Protocol:
    doc = json.loads(text)
    endorsers = tuple(endorsed_by)
    return Protocol(
        id=doc["id"],
        endorsed=bool(endorsers),
        consent_review=_period(doc["consent_review"]),
        endorsed_by=endorsers,
        purposes=tuple(
            Purpose(
                id=p["id"],
                general=GeneralPurpose(p["general"]),
                benefit=p["benefit"],
                benefit_kind=BenefitKind(p["benefit_kind"]),
                services=tuple(p["services"]),
                senders=frozenset(p["from"]),
                recipients=frozenset(p["to"]),
                data_elements=tuple(p["data_elements"]),
                retention=_period(p["retention"]),
                access_roles=tuple(p["access_roles"]),
                contact_methods=tuple(p["contact_methods"]),
                feedback=tuple(p["feedback"]),
                explanation=p["explanation"],
                label=p["label"],
            )
            for p in doc["purposes"]
        ),
    )


# --- rows to core values ----------------------------------------------------------------


def organisation(row: OrganisationRow) -> Organisation:
    return Organisation(
        id=row.id,
        kind=OrgKind(row.kind),
        dp_assessment=DPAssessment(row.dp_assessment),
        anonymity_only=row.anonymity_only,
        refoulement_risk=row.refoulement_risk,
        name=row.name,
    )


def subject(row: SubjectRow, categories: Iterable[str]) -> Subject:
    caregiver = None
    if row.caregiver_reachable is not None or row.caregiver_involve is not None:
        caregiver = Caregiver(
            reachable=row.caregiver_reachable if row.caregiver_reachable is not None else True,
            involve_in_best_interests=(
                row.caregiver_involve if row.caregiver_involve is not None else True
            ),
        )
    return Subject(
        id=row.id,
        age=row.age,
        born=row.born,
        categories=frozenset(categories),
        reachable=row.reachable,
        can_consent=row.can_consent,
        caregiver=caregiver,
        unaccompanied=row.unaccompanied,
    )


def case(row: CaseRow) -> Case:
    return Case(
        id=row.id,
        subject=row.subject_id,
        owner=row.owner,
        status=CaseStatus(row.status),
        closed_on=row.closed_on,
    )


def consent(row: ConsentEntryRow) -> ConsentRecord:
    return ConsentRecord(
        subject=row.subject_id,
        kind=ConsentKind(row.kind),
        given_by=GivenBy(row.given_by),
        decision=ConsentDecision(row.decision),
        purposes=load_list(row.purposes) or frozenset(),
        date=row.date,
        recipients=load_list(row.recipients),
        data_elements=load_list(row.data_elements),
        stage=ConsentStage(row.stage) if row.stage else None,
        method=ConsentMethod(row.method) if row.method else None,
        seq=row.seq,
        id=row.id,
    )


def assessment(row: AssessmentRow) -> Assessment:
    return Assessment(
        id=row.id,
        kind=AssessmentKind(row.kind),
        date=row.date,
        subject=row.subject_id,
        outcome=BestInterestsOutcome(row.outcome) if row.outcome else None,
        benefits_outweigh_risks=row.benefits_outweigh_risks,
        recipient_safe=row.recipient_safe,
    )


def staff(row: StaffRow, cases: Iterable[str]) -> Staff:
    return Staff(id=row.id, org=row.org, role=row.role, duty=Duty(row.duty), cases=frozenset(cases))


def record(row: RecordRow) -> Record:
    return Record(id=row.id, subject=row.subject_id, category=row.category)


# --- core values to row values (dicts for Core inserts) ---------------------------------


def organisation_values(org: Organisation) -> dict[str, Any]:
    return {
        "id": org.id,
        "kind": org.kind.value,
        "dp_assessment": org.dp_assessment.value,
        "anonymity_only": org.anonymity_only,
        "refoulement_risk": org.refoulement_risk,
        "name": org.name,
    }


def subject_values(s: Subject) -> dict[str, Any]:
    return {
        "id": s.id,
        "age": s.age,
        "born": s.born,
        "reachable": s.reachable,
        "can_consent": s.can_consent,
        "unaccompanied": s.unaccompanied,
        "caregiver_reachable": None if s.caregiver is None else s.caregiver.reachable,
        "caregiver_involve": (
            None if s.caregiver is None else s.caregiver.involve_in_best_interests
        ),
        "name_enc": None,
        "contact_enc": None,
    }


def case_values(c: Case) -> dict[str, Any]:
    return {
        "id": c.id,
        "subject_id": c.subject,
        "owner": c.owner,
        "status": c.status.value,
        "closed_on": c.closed_on,
        "details_enc": None,
        "notes_enc": None,
    }


def assessment_values(a: Assessment) -> dict[str, Any]:
    return {
        "id": a.id,
        "kind": a.kind.value,
        "date": a.date,
        "subject_id": a.subject,
        "outcome": a.outcome.value if a.outcome else None,
        "benefits_outweigh_risks": a.benefits_outweigh_risks,
        "recipient_safe": a.recipient_safe,
        "notes_enc": None,
    }


def staff_values(s: Staff) -> dict[str, Any]:
    return {"id": s.id, "org": s.org, "role": s.role, "duty": s.duty.value}


def record_values(r: Record) -> dict[str, Any]:
    return {"id": r.id, "subject_id": r.subject, "category": r.category, "content_enc": None}
