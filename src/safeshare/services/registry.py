"""The operation's registry: organisations, subjects, cases, assessments, staff and records.
Sensitive values (names, contacts, protection details, free text) are sealed before insert
with the row's own id bound as associated data; reading them back is an audited access."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from safeshare.core.world import Assessment, Case, Organisation, Record, Staff, Subject
from safeshare.services.common import AlreadyExistsError, NotFoundError, audit
from safeshare.store import mapping
from safeshare.store.models import (
    AssessmentRow,
    CaseRow,
    OrganisationRow,
    RecordRow,
    StaffCaseRow,
    StaffRow,
    SubjectCategoryRow,
    SubjectRow,
)
from safeshare.store.unit import Store


@dataclass(frozen=True)
class SubjectDetails:
    """A subject's personal details, opened from their sealed fields."""

    id: str
    name: str | None
    contact: str | None


@dataclass(frozen=True)
class CaseDetails:
    id: str
    details: str | None
    notes: str | None


def upsert_organisation(session: Session, org: Organisation) -> bool:
    """Adds or updates an organisation (in the caller's transaction); True if it changed."""
    values = mapping.organisation_values(org)
    row = session.get(OrganisationRow, org.id)
    if row is None:
        session.execute(insert(OrganisationRow), [values])
        return True
    if mapping.organisation(row) == org:
        return False
    for key, value in values.items():
        setattr(row, key, value)
    return True


def save_organisation(store: Store, org: Organisation, *, actor: str) -> None:
    with store.transaction() as session:
        if upsert_organisation(session, org):
            audit(
                store,
                session,
                actor=actor,
                action="organisation.save",
                object_type="organisation",
                object_id=org.id,
            )


def insert_subject(
    store: Store, session: Session, subject: Subject, *, name: str | None, contact: str | None
) -> None:
    if session.get(SubjectRow, subject.id) is not None:
        raise AlreadyExistsError(f"subject {subject.id!r} already exists")
    values = mapping.subject_values(subject)
    seal = store.sealer.seal
    values["name_enc"] = seal(name, table="subjects", column="name_enc", row_id=subject.id)
    values["contact_enc"] = seal(contact, table="subjects", column="contact_enc", row_id=subject.id)
    session.execute(insert(SubjectRow), [values])
    if subject.categories:
        session.execute(
            insert(SubjectCategoryRow),
            [{"subject_id": subject.id, "category": c} for c in sorted(subject.categories)],
        )


def register_subject(
    store: Store,
    subject: Subject,
    *,
    actor: str,
    name: str | None = None,
    contact: str | None = None,
) -> str:
    with store.transaction() as session:
        insert_subject(store, session, subject, name=name, contact=contact)
        audit(
            store,
            session,
            actor=actor,
            action="subject.register",
            object_type="subject",
            object_id=subject.id,
        )
    return subject.id


def insert_case(
    store: Store, session: Session, case: Case, *, details: str | None, notes: str | None
) -> None:
    if session.get(CaseRow, case.id) is not None:
        raise AlreadyExistsError(f"case {case.id!r} already exists")
    values = mapping.case_values(case)
    seal = store.sealer.seal
    values["details_enc"] = seal(details, table="cases", column="details_enc", row_id=case.id)
    values["notes_enc"] = seal(notes, table="cases", column="notes_enc", row_id=case.id)
    session.execute(insert(CaseRow), [values])


def open_case(
    store: Store,
    case: Case,
    *,
    actor: str,
    details: str | None = None,
    notes: str | None = None,
) -> str:
    """Records a case; ``details`` is the protection detail (incident description)."""
    with store.transaction() as session:
        insert_case(store, session, case, details=details, notes=notes)
        audit(
            store,
            session,
            actor=actor,
            action="case.open",
            object_type="case",
            object_id=case.id,
            codes=[case.status.value],
        )
    return case.id


def record_assessment(
    store: Store, assessment: Assessment, *, actor: str, notes: str | None = None
) -> str:
    with store.transaction() as session:
        values = mapping.assessment_values(assessment)
        values["notes_enc"] = store.sealer.seal(
            notes, table="assessments", column="notes_enc", row_id=assessment.id
        )
        session.execute(insert(AssessmentRow), [values])
        audit(
            store,
            session,
            actor=actor,
            action="assessment.record",
            object_type="assessment",
            object_id=assessment.id,
            codes=[assessment.kind.value],
        )
    return assessment.id


def insert_staff(session: Session, staff: Staff) -> None:
    session.execute(insert(StaffRow), [mapping.staff_values(staff)])
    if staff.cases:
        session.execute(
            insert(StaffCaseRow),
            [{"staff_id": staff.id, "case_id": c} for c in sorted(staff.cases)],
        )


def add_staff(store: Store, staff: Staff, *, actor: str) -> str:
    with store.transaction() as session:
        insert_staff(session, staff)
        audit(
            store,
            session,
            actor=actor,
            action="staff.add",
            object_type="staff",
            object_id=staff.id,
            codes=[staff.duty.value],
        )
    return staff.id


def add_record(
    store: Store,
    record: Record,
    *,
    actor: str,
    content: str | None = None,
    holder: str | None = None,
) -> str:
    """Stores a record about a person (its content sealed), held by ``holder``."""
    with store.transaction() as session:
        values = mapping.record_values(record)
        values["holder"] = holder
        values["content_enc"] = store.sealer.seal(
            content, table="records", column="content_enc", row_id=record.id
        )
        session.execute(insert(RecordRow), [values])
        audit(
            store,
            session,
            actor=actor,
            action="record.add",
            object_type="record",
            object_id=record.id,
        )
    return record.id


def subject_details(store: Store, subject_id: str, *, actor: str) -> SubjectDetails:
    """Opens a subject's name and contact: an access, written to the audit log."""
    with store.transaction() as session:
        row = session.get(SubjectRow, subject_id)
        if row is None:
            raise NotFoundError(f"subject {subject_id!r} is not in the store")
        audit(
            store,
            session,
            actor=actor,
            action="access.subject",
            object_type="subject",
            object_id=subject_id,
        )
        open_ = store.sealer.open
        return SubjectDetails(
            id=subject_id,
            name=open_(row.name_enc, table="subjects", column="name_enc", row_id=subject_id),
            contact=open_(
                row.contact_enc, table="subjects", column="contact_enc", row_id=subject_id
            ),
        )


def case_details(store: Store, case_id: str, *, actor: str) -> CaseDetails:
    """Opens a case's protection details and notes: an access, written to the audit log."""
    with store.transaction() as session:
        row = session.get(CaseRow, case_id)
        if row is None:
            raise NotFoundError(f"case {case_id!r} is not in the store")
        audit(
            store, session, actor=actor, action="access.case", object_type="case", object_id=case_id
        )
        return open_details(store, row)


def open_details(store: Store, row: Any) -> CaseDetails:
    """Decrypts a case's details and notes, for a caller that has audited the access."""
    open_ = store.sealer.open
    return CaseDetails(
        id=row.id,
        details=open_(row.details_enc, table="cases", column="details_enc", row_id=row.id),
        notes=open_(row.notes_enc, table="cases", column="notes_enc", row_id=row.id),
    )


def subject_ids_exist(session: Session, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    return set(session.scalars(select(SubjectRow.id).where(SubjectRow.id.in_(ids))))
