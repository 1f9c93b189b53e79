"""Decisions from the store: the world is built from the operation's records for ONE request
(only the rows it needs, through indexed queries), never from what the request claims; the
decision and its audit event are recorded in the same transaction."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeshare import core
from safeshare.core.decision import Decision
from safeshare.core.request import (
    Request,
    ShareRequest,
    StaffAccessRequest,
    SubjectAccessRequest,
)
from safeshare.core.vocabulary import Category
from safeshare.core.world import Protocol, World
from safeshare.services.common import audit
from safeshare.services.protocols import current_protocol
from safeshare.store import ledger, mapping
from safeshare.store.audit_log import now
from safeshare.store.models import (
    AssessmentRow,
    CaseRow,
    DataElementRow,
    DecisionRow,
    OrganisationRow,
    RecordRow,
    StaffCaseRow,
    StaffRow,
    SubjectCategoryRow,
    SubjectRow,
)
from safeshare.store.unit import Store

NO_PROTOCOL = Protocol(id="(none loaded)", endorsed=False)


@dataclass(frozen=True)
class RecordedDecision:
    id: str
    decision: Decision
    protocol_version_id: str | None
    audit_seq: int


def _chunks(ids: list[str], size: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _selected_subjects(session: Session, request: ShareRequest) -> set[str]:
    """A superset of the subjects a blanket selection can reach (the engine filters)."""
    sel = request.select
    if sel is None:
        return set()
    query = select(CaseRow.subject_id).distinct()
    if sel.owner is not None:
        query = query.where(CaseRow.owner == sel.owner)
    if sel.status is not None:
        query = query.where(CaseRow.status == sel.status)
    if sel.categories:
        query = query.join(
            SubjectCategoryRow, SubjectCategoryRow.subject_id == CaseRow.subject_id
        ).where(SubjectCategoryRow.category.in_(sorted(sel.categories)))
    found = set(session.scalars(query))
    if sel.owner is None and sel.status is None:
        cats = select(SubjectCategoryRow.subject_id).distinct()
        if sel.categories:
            cats = cats.where(SubjectCategoryRow.category.in_(sorted(sel.categories)))
            found |= set(session.scalars(cats))
        else:
            found |= set(session.scalars(select(SubjectRow.id)))
    return found


@dataclass
class _Needs:
    subjects: set[str]
    cases_of: set[str]
    consents_of: set[str]
    cases: set[str]
    assessments: set[str]
    staff: set[str]
    records: set[str]


def _needs(session: Session, request: Request) -> _Needs:
    n = _Needs(set(), set(), set(), set(), set(), set(), set())
    if isinstance(request, ShareRequest):
        n.subjects = set(request.subjects) | _selected_subjects(session, request)
        n.cases_of = n.consents_of = set(n.subjects)
        if request.risk_assessment:
            n.assessments.add(request.risk_assessment)
    elif isinstance(request, StaffAccessRequest):
        n.staff.add(request.actor)
        n.cases.add(request.case)
        subject = session.scalar(select(CaseRow.subject_id).where(CaseRow.id == request.case))
        if subject is not None:
            n.subjects.add(subject)
    else:
        assert isinstance(request, SubjectAccessRequest)
        n.records = set(request.records)
        n.subjects = {request.requester}
        n.cases_of = {request.requester}
        rows = session.scalars(select(RecordRow.subject_id).where(RecordRow.id.in_(n.records)))
        n.subjects |= set(rows)
    return n


def build_world(session: Session, request: Request, *, today: date) -> World:
    """The core world for this one request, loaded from the store."""
    needs = _needs(session, request)
    found = current_protocol(session)
    protocol = found[0] if found else NO_PROTOCOL
    organisations = [mapping.organisation(r) for r in session.scalars(select(OrganisationRow))]
    extra = {r.id: Category(r.category) for r in session.scalars(select(DataElementRow))}

    subjects, cases, assessments = [], [], []
    for chunk in _chunks(sorted(needs.subjects)):
        cats: dict[str, list[str]] = {}
        for sid, cat in session.execute(
            select(SubjectCategoryRow.subject_id, SubjectCategoryRow.category).where(
                SubjectCategoryRow.subject_id.in_(chunk)
            )
        ):
            cats.setdefault(sid, []).append(cat)
        rows = session.scalars(select(SubjectRow).where(SubjectRow.id.in_(chunk)))
        subjects += [mapping.subject(r, cats.get(r.id, ())) for r in rows]
        bia = session.scalars(select(AssessmentRow).where(AssessmentRow.subject_id.in_(chunk)))
        assessments += [mapping.assessment(r) for r in bia]
    case_query = select(CaseRow).where(CaseRow.subject_id.in_(sorted(needs.cases_of)))
    cases += [mapping.case(r) for r in session.scalars(case_query)] if needs.cases_of else []
    if needs.cases:
        cases += [
            mapping.case(r)
            for r in session.scalars(select(CaseRow).where(CaseRow.id.in_(sorted(needs.cases))))
        ]
    if needs.assessments:
        rows_a = session.scalars(
            select(AssessmentRow).where(AssessmentRow.id.in_(sorted(needs.assessments)))
        )
        assessments += [mapping.assessment(r) for r in rows_a]
    staff = []
    for row in session.scalars(select(StaffRow).where(StaffRow.id.in_(sorted(needs.staff)))):
        assigned = session.scalars(
            select(StaffCaseRow.case_id).where(StaffCaseRow.staff_id == row.id)
        )
        staff.append(mapping.staff(row, assigned))
    records = [
        mapping.record(r)
        for r in session.scalars(select(RecordRow).where(RecordRow.id.in_(sorted(needs.records))))
    ]
    return World.build(
        today=today,
        protocol=protocol,
        organisations=organisations,
        subjects=subjects,
        cases={c.id: c for c in cases}.values(),
        consents=ledger.entries_for(session, needs.consents_of),
        assessments={a.id: a for a in assessments}.values(),
        staff=staff,
        records=records,
        extra_elements=extra,
    )


def request_summary(request: Request, protocol: Protocol) -> dict[str, Any]:
    """What the request asked, as ids and codes only: free text (the label, a purpose not in
    the protocol, a circumstance's detail) is never kept in clear."""
    if isinstance(request, StaffAccessRequest):
        return {
            "kind": "staff-access",
            "actor": request.actor,
            "case": request.case,
            "data_elements": list(request.data_elements),
            "need": bool(request.need),
        }
    if isinstance(request, SubjectAccessRequest):
        return {
            "kind": "subject-access",
            "requester": request.requester,
            "records": list(request.records),
        }
    in_protocol = protocol.purpose(request.purpose) is not None
    purpose: str = request.purpose if in_protocol else "(not in protocol)"
    out: dict[str, Any] = {
        "kind": "share",
        "from": request.sender,
        "to": request.recipient,
        "purpose": purpose,
        "basis": request.basis.value,
        "subjects": list(request.subjects),
        "data_elements": list(request.data_elements),
        "routine": request.routine,
        "risk_assessment": request.risk_assessment,
        "alternative_available": request.alternative_available,
        "has_label": bool(request.label),
    }
    if not in_protocol:
        out["purpose_sha256"] = hashlib.sha256(request.purpose.encode()).hexdigest()
    if request.select is not None:
        out["select"] = {
            "categories": sorted(request.select.categories),
            "owner": request.select.owner,
            "status": request.select.status,
        }
    if request.circumstance is not None:
        out["circumstance"] = {
            "kind": request.circumstance.kind.value,
            "immediate": request.circumstance.immediate,
            "individuals_named": request.circumstance.individuals_named,
        }
    return out


def decide_request_in(
    store: Store, session: Session, request: Request, *, actor: str, today: date | None = None
) -> RecordedDecision:
    """Builds the world from the store, decides, and records the decision with its audit
    event in the caller's transaction (composite services record what they do with the
    decision in the same transaction)."""
    world = build_world(session, request, today=today or date.today())
    decision = core.decide(world, request)
    found = current_protocol(session)
    version_id = found[1] if found else None
    row = DecisionRow(
        id=uuid.uuid4().hex,
        at=now(),
        actor=actor,
        kind=decision.kind,
        outcome=decision.outcome.value,
        reason_codes=json.dumps(sorted(decision.codes)),
        condition_codes=json.dumps(sorted(decision.condition_codes)),
        request_summary=json.dumps(request_summary(request, world.protocol), sort_keys=True),
        protocol_version_id=version_id,
    )
    session.add(row)
    session.flush()
    seq = audit(
        store,
        session,
        actor=actor,
        action="decision",
        object_type="decision",
        object_id=row.id,
        codes=[*decision.codes, *decision.condition_codes],
        details={
            "kind": decision.kind,
            "outcome": decision.outcome.value,
            "protocol_version": version_id,
        },
    )
    return RecordedDecision(row.id, decision, version_id, seq)


def decide_request(
    store: Store, request: Request, *, actor: str, today: date | None = None
) -> RecordedDecision:
    """Builds the world from the store, decides, and records the decision with its audit
    event in one transaction. Nothing is recorded when deciding fails."""
    with store.transaction() as session:
        return decide_request_in(store, session, request, actor=actor, today=today)
