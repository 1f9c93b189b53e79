"""What the hot requests read, made ahead in one round trip on PostgreSQL
(:mod:`safeshare.store.read_ahead`): a case read's need-to-know rows, and an evaluation's
people, staff and reference data. Each function names the reads the request is about to
make, with the same statements and the same ids; the request's own code then finds them
kept. Reads whose ids depend on another read's rows (a person's cases, then their
assignments) are made when they are needed, as before."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from safeshare.core.vocabulary import Category
from safeshare.services.needs import Q_NEEDS_OF_STAFF
from safeshare.services.world_loader import (
    PERSON_RECORDS,
    Q_ASSIGNED,
    Q_CASES,
    Q_CASES_OF,
    Q_CATEGORIES,
    Q_ELEMENTS,
    Q_STAFF,
)
from safeshare.store import reference
from safeshare.store.models import CaseRow, StaffCaseRow, SubjectCategoryRow
from safeshare.store.read_ahead import Ahead, read_ahead, rows_ahead
from safeshare.store.reads import OPERATION_ELEMENTS, keeps_reads, remember, rows

_CASES: Any = CaseRow.__table__
_CATEGORIES: Any = SubjectCategoryRow.__table__
Q_CATEGORIES_OF_CASE = select(_CATEGORIES.c.subject_id, _CATEGORIES.c.category).where(
    _CATEGORIES.c.subject_id.in_(
        select(_CASES.c.subject_id).where(_CASES.c.id.in_(bindparam("ids", expanding=True)))
    )
)
"""A case's person's categories, by the case's id (``Q_CATEGORIES`` by the person's)."""
_STAFF_CASES: Any = StaffCaseRow.__table__
Q_ASSIGNED_FOR_SUBJECT = select(_STAFF_CASES.c.staff_id, _STAFF_CASES.c.case_id).where(
    _STAFF_CASES.c.staff_id.in_(bindparam("ids", expanding=True)),
    _STAFF_CASES.c.case_id.in_(
        select(_CASES.c.id).where(_CASES.c.subject_id.in_(bindparam("subjects", expanding=True)))
    ),
)
"""A staff member's assignments among a person's cases (``Q_ASSIGNED`` by the cases' ids)."""
MAX_SUBJECTS_AHEAD = 20  # an evaluation naming more persons reads their cases one by one


def _elements_ahead(session: Session) -> Ahead | None:
    """The operation's data elements, kept as ``world_loader.operation_elements`` keeps them."""
    if session.info.get(OPERATION_ELEMENTS) is not None or not keeps_reads(session):
        return None

    def keep(found: list[Any]) -> None:
        session.info[OPERATION_ELEMENTS] = {r.id: Category(r.category) for r in found}

    return Ahead(Q_ELEMENTS, {}, keep)


def _categories_ahead(session: Session, case_id: str) -> Ahead | None:
    """The case's person's categories, kept as ``rows(Q_CATEGORIES, [her id])`` (her id from
    the case's row, read in the same round trip and kept before this)."""

    def keep(found: list[Any]) -> None:
        case = rows(session, Q_CASES, [case_id])  # kept: read ahead with these
        if case:
            remember(session, Q_CATEGORIES, [case[0].subject_id], found)

    return Ahead(Q_CATEGORIES_OF_CASE, {"ids": [case_id]}, keep)


def _assigned_ahead(session: Session, staff_id: str, subject_id: str) -> Ahead | None:
    """The staff member's assignments among the person's cases, kept as
    ``rows(Q_ASSIGNED, [staff], cases=<her cases' ids>)`` as ``access.subject_access_in``
    asks for them (the ids in the order of her cases' rows, read in the same statement and
    kept before this)."""
    if not keeps_reads(session):
        return None

    def keep(found: list[Any]) -> None:
        cases = [r.id for r in rows(session, Q_CASES_OF, [subject_id])]  # kept: read with these
        if cases:
            remember(session, Q_ASSIGNED, [staff_id], found, cases=cases)

    return Ahead(Q_ASSIGNED_FOR_SUBJECT, {"ids": [staff_id], "subjects": [subject_id]}, keep)


def case_read(session: Session, staff_id: str, case_id: str, *, categories: bool) -> bool:
    """A case read's rows: the case, the reader's recorded needs, her assignment to this
    case, her staff row, the operation's data elements and, with ``categories``, the case's
    person's categories."""
    case = rows_ahead(session, Q_CASES, [case_id])
    return read_ahead(
        session,
        [
            case,
            rows_ahead(session, Q_NEEDS_OF_STAFF, [staff_id]),
            rows_ahead(session, Q_ASSIGNED, [staff_id], cases=[case_id]),
            rows_ahead(session, Q_STAFF, [staff_id]),
            _elements_ahead(session),
            _categories_ahead(session, case_id) if categories and case is not None else None,
        ],
    )


def evaluation(session: Session, staff_id: str, subject_ids: Sequence[str]) -> bool:
    """An evaluation's rows: the reference data (organisations, data elements, the current
    protocol), each named person's cases, the evaluator's needs and staff row, and the
    persons' records (categories, rows, assessments, consents)."""
    subjects = sorted(set(subject_ids))
    if len(subjects) > MAX_SUBJECTS_AHEAD:
        return False
    return read_ahead(
        session,
        [
            reference.ahead(session),
            *(rows_ahead(session, Q_CASES_OF, [s]) for s in subjects),
            *(_assigned_ahead(session, staff_id, s) for s in subjects),
            rows_ahead(session, Q_NEEDS_OF_STAFF, [staff_id]),
            rows_ahead(session, Q_STAFF, [staff_id]),
            PERSON_RECORDS.ahead(session, subjects),
        ],
    )
