"""The world for ONE request, loaded from the operation's records (never from what the request
claims): only the rows the request can reach, through indexed queries.

The statements are built once, at import, with bind parameters (SQLAlchemy Core on the
session's connection, no ORM objects): a decision is made on every read of personal data, so
loading its world is the hot path of the whole server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from safeshare.core.request import (
    Request,
    ShareRequest,
    StaffAccessRequest,
    SubjectAccessRequest,
)
from safeshare.core.vocabulary import Category
from safeshare.core.world import Organisation, Protocol, World
from safeshare.services.protocols import current_protocol
from safeshare.store import mapping
from safeshare.store import reference as reference_data
from safeshare.store.models import (
    AssessmentRow,
    CaseRow,
    ConsentEntryRow,
    DataElementRow,
    OrganisationRow,
    RecordRow,
    StaffCaseRow,
    StaffRow,
    SubjectCategoryRow,
    SubjectRow,
)
from safeshare.store.person_records import Part, PersonRecords
from safeshare.store.prepared import fetch
from safeshare.store.reads import OPERATION_ELEMENTS, WORLD_REFERENCE, keeps_reads, rows

NO_PROTOCOL = Protocol(id="(none loaded)", endorsed=False)


def _table(model: Any) -> Any:
    return model.__table__


_ORGS, _ELEMENTS = _table(OrganisationRow), _table(DataElementRow)
_SUBJECTS, _CATEGORIES = _table(SubjectRow), _table(SubjectCategoryRow)
_CASES, _ASSESSMENTS, _CONSENTS = _table(CaseRow), _table(AssessmentRow), _table(ConsentEntryRow)
_STAFF, _STAFF_CASES, _RECORDS = _table(StaffRow), _table(StaffCaseRow), _table(RecordRow)


def _by_ids(table: Any, column: str = "id") -> Select[Any]:
    return select(table).where(table.c[column].in_(bindparam("ids", expanding=True)))


Q_ORGANISATIONS = select(_ORGS)
Q_ELEMENTS = select(_ELEMENTS.c.id, _ELEMENTS.c.category)
Q_SUBJECTS = _by_ids(_SUBJECTS)
Q_CATEGORIES = select(_CATEGORIES.c.subject_id, _CATEGORIES.c.category).where(
    _CATEGORIES.c.subject_id.in_(bindparam("ids", expanding=True))
)
Q_ASSESSMENTS_OF = _by_ids(_ASSESSMENTS, "subject_id")
Q_ASSESSMENTS = _by_ids(_ASSESSMENTS)
Q_CASES_OF = _by_ids(_CASES, "subject_id")
Q_CASES = _by_ids(_CASES)
Q_STAFF = _by_ids(_STAFF)
Q_ASSIGNED = select(_STAFF_CASES.c.staff_id, _STAFF_CASES.c.case_id).where(
    _STAFF_CASES.c.staff_id.in_(bindparam("ids", expanding=True)),
    _STAFF_CASES.c.case_id.in_(bindparam("cases", expanding=True)),
)
Q_RECORDS = _by_ids(_RECORDS)
Q_RECORD_SUBJECTS = select(_RECORDS.c.subject_id).where(
    _RECORDS.c.id.in_(bindparam("ids", expanding=True))
)
Q_CONSENTS = _by_ids(_CONSENTS, "subject_id").order_by(_CONSENTS.c.seq)
PERSON_RECORDS = PersonRecords(
    (
        Part(Q_CATEGORIES, "subject_id"),
        Part(Q_SUBJECTS, "id"),
        Part(Q_ASSESSMENTS_OF, "subject_id"),
        Part(Q_CONSENTS, "subject_id", order="seq"),
    )
)
"""A share's persons' categories, rows, assessments and consents: one statement on
PostgreSQL (:mod:`safeshare.store.person_records`), four reads elsewhere."""


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
class Needs:
    """The ids one request can reach."""

    subjects: set[str] = field(default_factory=set)
    cases_of: set[str] = field(default_factory=set)  # subjects whose cases are loaded
    consents_of: set[str] = field(default_factory=set)
    cases: set[str] = field(default_factory=set)
    assessments: set[str] = field(default_factory=set)
    staff: set[str] = field(default_factory=set)
    records: set[str] = field(default_factory=set)


def needs_of(session: Session, request: Request) -> Needs:
    n = Needs()
    if isinstance(request, ShareRequest):
        n.subjects = set(request.subjects) | _selected_subjects(session, request)
        n.cases_of = set(n.subjects)
        n.consents_of = set(n.subjects)
        if request.risk_assessment:
            n.assessments.add(request.risk_assessment)
    elif isinstance(request, StaffAccessRequest):
        n.staff.add(request.actor)
        n.cases.add(request.case)
        found = rows(session, Q_CASES, [request.case])
        if found:
            n.subjects.add(found[0].subject_id)
    else:
        assert isinstance(request, SubjectAccessRequest)
        n.records = set(request.records)
        n.subjects = {request.requester}
        n.cases_of = {request.requester}
        n.subjects |= {r[0] for r in rows(session, Q_RECORD_SUBJECTS, n.records)}
    return n


REFERENCE = WORLD_REFERENCE


def operation_elements(session: Session) -> dict[str, Category]:
    """The operation's own data elements and their categories, read once per reading
    session (it sees one snapshot and changes nothing)."""
    kept: dict[str, Category] | None = session.info.get(OPERATION_ELEMENTS)
    if kept is None:
        kept = {r.id: Category(r.category) for r in fetch(session, Q_ELEMENTS)}
        if keeps_reads(session):
            session.info[OPERATION_ELEMENTS] = kept
    return kept


def reference(session: Session) -> tuple[list[Organisation], dict[str, Category]]:
    """The organisations and the operation's own data elements, read once per reading
    session: a request that decides twice (an access check, then the share) reads them
    once."""
    kept: list[Organisation] | None = session.info.get(REFERENCE)
    if kept is None and reference_data.prefetch(session):  # PostgreSQL: one statement
        kept = session.info[REFERENCE]
    if kept is None:
        kept = [mapping.organisation(r) for r in fetch(session, Q_ORGANISATIONS)]
        if keeps_reads(session):
            session.info[REFERENCE] = kept
    return kept, operation_elements(session)


def staff_access_world(session: Session, request: StaffAccessRequest, *, today: date) -> World:
    """The world a need-to-know decision is made from (:mod:`safeshare.core.need_to_know`):
    the staff member with her assignment to this case, the case, and the operation's data
    elements (which of them identify a person). Nothing else: a staff access is decided
    without the protocol, the organisations, the person's records or her consents, so a case
    read, made on every look at a file, reads four rows rather than a person's whole world.
    ``tests/unit/test_staff_access_world.py`` checks that need-to-know decides alike from
    this and from a whole world."""
    cases = [mapping.case(r) for r in rows(session, Q_CASES, [request.case])]
    assigned = [c for _, c in rows(session, Q_ASSIGNED, [request.actor], cases=[request.case])]
    staff = [mapping.staff(r, assigned) for r in rows(session, Q_STAFF, [request.actor])]
    return World.build(
        today=today,
        protocol=NO_PROTOCOL,
        organisations=(),
        cases=cases,
        staff=staff,
        extra_elements=operation_elements(session),
    )


def build_world(
    session: Session,
    request: Request,
    *,
    today: date,
    current: tuple[Protocol, str] | Literal["load"] | None = "load",
) -> World:
    """The core world for this one request (``current``: the current protocol and its
    version id, when the caller has already read them). A staff member's assigned cases are
    loaded only among the cases the request names (the engine asks about no other)."""
    needs = needs_of(session, request)
    if isinstance(request, ShareRequest):
        PERSON_RECORDS.prefetch(session, needs.subjects)  # PostgreSQL: the four reads as one
    found = current_protocol(session) if current == "load" else current
    organisations, extra_elements = reference(session)
    categories: dict[str, list[str]] = {}
    for sid, cat in rows(session, Q_CATEGORIES, needs.subjects):
        categories.setdefault(sid, []).append(cat)
    subjects = [
        mapping.subject(r, categories.get(r.id, ()))
        for r in rows(session, Q_SUBJECTS, needs.subjects)
    ]
    cases = {r.id: mapping.case(r) for r in rows(session, Q_CASES_OF, needs.cases_of)}
    cases |= {r.id: mapping.case(r) for r in rows(session, Q_CASES, needs.cases - set(cases))}
    assessments = {
        r.id: mapping.assessment(r) for r in rows(session, Q_ASSESSMENTS_OF, needs.subjects)
    }
    assessments |= {
        r.id: mapping.assessment(r) for r in rows(session, Q_ASSESSMENTS, needs.assessments)
    }
    assigned: dict[str, list[str]] = {}
    if needs.staff and needs.cases:
        for staff_id, case_id in rows(session, Q_ASSIGNED, needs.staff, cases=sorted(needs.cases)):
            assigned.setdefault(staff_id, []).append(case_id)
    staff = [mapping.staff(r, assigned.get(r.id, ())) for r in rows(session, Q_STAFF, needs.staff)]
    return World.build(
        today=today,
        protocol=found[0] if found else NO_PROTOCOL,
        organisations=organisations,
        subjects=subjects,
        cases=cases.values(),
        consents=sorted(
            (mapping.consent(r) for r in rows(session, Q_CONSENTS, needs.consents_of)),
            key=lambda c: c.seq,
        ),
        assessments=assessments.values(),
        staff=staff,
        records=[mapping.record(r) for r in rows(session, Q_RECORDS, needs.records)],
        extra_elements=extra_elements,
    )
