"""The operation's records as tables (SQLAlchemy 2, typed).

Ids are application-generated (natural ids from scenarios and imports, or uuid4 hex), so an
encrypted field can bind its row id as associated data before the row is inserted. Columns
ending in ``_enc`` are AES-GCM blobs made by :mod:`safeshare.store.fields`; nothing personal is
kept in clear. Lists (purposes, recipients, elements) are JSON text: they are read whole, never
searched. The schema itself is made by the Alembic migrations in ``store/migrations``; these
models must match them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = String(64)


class Base(DeclarativeBase):
    pass


class OrganisationRow(Base):
    __tablename__ = "organisations"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    dp_assessment: Mapped[str] = mapped_column(String(16), default="none")
    anonymity_only: Mapped[bool] = mapped_column(Boolean, default=False)
    refoulement_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(200), default="")


class DataElementRow(Base):
    """Elements beyond the standard catalogue."""

    __tablename__ = "data_elements"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    category: Mapped[str] = mapped_column(String(32))


class ProtocolVersionRow(Base):
    """One version of the operation's data sharing protocol; the highest ``seq`` is current."""

    __tablename__ = "protocol_versions"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(ID, unique=True)
    protocol_id: Mapped[str] = mapped_column(ID, index=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)
    loaded_by: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (UniqueConstraint("protocol_id", "version"),)


class EndorsementRow(Base):
    __tablename__ = "protocol_endorsements"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    protocol_version_id: Mapped[str] = mapped_column(
        ID, ForeignKey("protocol_versions.id"), index=True
    )
    endorsed_by: Mapped[str] = mapped_column(String(200))
    endorsed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(200))


class SubjectRow(Base):
    __tablename__ = "subjects"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    born: Mapped[date | None] = mapped_column(Date, nullable=True)
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    can_consent: Mapped[bool] = mapped_column(Boolean, default=True)
    unaccompanied: Mapped[bool] = mapped_column(Boolean, default=False)
    caregiver_reachable: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    caregiver_involve: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    contact_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class SubjectCategoryRow(Base):
    __tablename__ = "subject_categories"
    subject_id: Mapped[str] = mapped_column(ID, ForeignKey("subjects.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    __table_args__ = (Index("ix_subject_categories_category", "category"),)


class CaseRow(Base):
    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    subject_id: Mapped[str] = mapped_column(ID, ForeignKey("subjects.id"), index=True)
    owner: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    details_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    notes_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    __table_args__ = (
        Index("ix_cases_owner_status", "owner", "status"),
        Index("ix_cases_subject_owner", "subject_id", "owner"),
    )


class ConsentEntryRow(Base):
    """The consent ledger: append-only (the database refuses UPDATE and DELETE)."""

    __tablename__ = "consent_ledger"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(ID, unique=True)
    subject_id: Mapped[str] = mapped_column(ID, ForeignKey("subjects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    given_by: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(16))
    purposes: Mapped[str] = mapped_column(Text)
    recipients: Mapped[str | None] = mapped_column(Text, nullable=True)
    data_elements: Mapped[str | None] = mapped_column(Text, nullable=True)
    method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    evidence_ref_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    explanation_language: Mapped[str | None] = mapped_column(String(35), nullable=True)
    explanation_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    stage: Mapped[str | None] = mapped_column(String(16), nullable=True)
    date: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AssessmentRow(Base):
    __tablename__ = "assessments"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    date: Mapped[date | None] = mapped_column(Date, nullable=True)
    subject_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("subjects.id"), nullable=True, index=True
    )
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    benefits_outweigh_risks: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    recipient_safe: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    notes_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class StaffRow(Base):
    __tablename__ = "staff"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    org: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(String(100), default="")
    duty: Mapped[str] = mapped_column(String(32), default="case-management")


class StaffCaseRow(Base):
    __tablename__ = "staff_cases"
    staff_id: Mapped[str] = mapped_column(ID, ForeignKey("staff.id"), primary_key=True)
    case_id: Mapped[str] = mapped_column(ID, primary_key=True)


class RecordRow(Base):
    __tablename__ = "records"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    subject_id: Mapped[str] = mapped_column(ID, ForeignKey("subjects.id"), index=True)
    category: Mapped[str] = mapped_column(String(64), default="")
    content_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # The organisation that holds it (None: not recorded, e.g. a scenario's record).
    holder: Mapped[str | None] = mapped_column(ID, nullable=True)


class DecisionRow(Base):
    """A decision made from the store: outcome, codes and a request summary holding ids only."""

    __tablename__ = "decisions"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(32))
    reason_codes: Mapped[str] = mapped_column(Text)
    condition_codes: Mapped[str] = mapped_column(Text)
    request_summary: Mapped[str] = mapped_column(Text)
    protocol_version_id: Mapped[str | None] = mapped_column(ID, nullable=True)


class AuditEventRow(Base):
    """One link of the hash chain. ``object_type``, ``object_id`` and ``subject_id`` are an
    index filled on append (migration 0004), outside the hashed body: a lookup aid only;
    readers check the body they find."""

    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary)
    hash: Mapped[bytes] = mapped_column(LargeBinary)
    object_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    object_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    subject_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)


class AuditHeadRow(Base):
    """The single chain-head row: locked by every appender, so the chain cannot fork."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class AuditCheckpointRow(Base):
    __tablename__ = "audit_checkpoints"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    head_hash: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(128))
    signature: Mapped[bytes] = mapped_column(LargeBinary)


# Every encrypted column: (table, primary key column, encrypted column). Key rotation walks these.
ENCRYPTED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("subjects", "id", "name_enc"),
    ("subjects", "id", "contact_enc"),
    ("cases", "id", "details_enc"),
    ("cases", "id", "notes_enc"),
    ("consent_ledger", "id", "evidence_ref_enc"),
    ("assessments", "id", "notes_enc"),
    ("records", "id", "content_enc"),
)
