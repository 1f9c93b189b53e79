"""Sharing tables (migration ``0003_sharing``): organisations' public keys, per-subject data
keys and the case elements they encrypt, referrals (sealed packets), their subjects,
escalations to the data protection focal point, inform-the-person tasks, notices to
recipients (consent withdrawn, data erased) and subject access requests.

Nothing personal is in clear: packets are HPKE ciphertexts to the recipient organisation;
case element values are AES-GCM under the subject's own data key, which is itself sealed
with the store's field keys (destroying it crypto-shreds the subject's values); free text
(a label, a circumstance's detail, the focal point's reasons) is sealed with the field keys.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safeshare.store.models import ID, Base

TS = DateTime(timezone=True)


class OrgPublicKeyRow(Base):
    """An organisation's current public keys (X25519 receives, Ed25519 signs)."""

    __tablename__ = "org_public_keys"
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    x25519: Mapped[bytes] = mapped_column(LargeBinary)
    ed25519: Mapped[bytes] = mapped_column(LargeBinary)
    registered_at: Mapped[datetime] = mapped_column(TS)
    registered_by: Mapped[str] = mapped_column(String(200))


class SubjectKeyRow(Base):
    """The subject's data key, sealed with the field keys; NULL once crypto-shredded."""

    __tablename__ = "subject_keys"
    subject_id: Mapped[str] = mapped_column(ID, ForeignKey("subjects.id"), primary_key=True)
    key_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS)
    shredded_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class CaseElementRow(Base):
    """One data element of a case, encrypted under the case subject's data key."""

    __tablename__ = "case_elements"
    case_id: Mapped[str] = mapped_column(ID, ForeignKey("cases.id"), primary_key=True)
    element: Mapped[str] = mapped_column(String(64), primary_key=True)
    value_enc: Mapped[bytes] = mapped_column(LargeBinary)


class ReferralRow(Base):
    """A share made (or asked for) under a purpose: its decision, status and sealed packet.

    ``status``: escalated (awaiting the focal point), refused (by her), pending (sent, not yet
    accepted), accepted, rejected (by the recipient), closed, stopped (consent withdrawn
    before acceptance), lapsed (never answered within its window: the packet erased), erased
    (the subject's data was erased)."""

    __tablename__ = "referrals"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(ID, index=True)
    general: Mapped[str] = mapped_column(String(40))
    sender: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    recipient: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    basis: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    answers: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    decision_id: Mapped[str] = mapped_column(ID, ForeignKey("decisions.id"))
    outcome: Mapped[str] = mapped_column(String(32))
    elements: Mapped[str] = mapped_column(Text)  # JSON list of element names (no values)
    contact_method: Mapped[str] = mapped_column(String(40), default="")
    without_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    request_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    header: Mapped[str | None] = mapped_column(Text, nullable=True)
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS)
    created_by: Mapped[str] = mapped_column(String(200))
    sent_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    accepted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    access_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    open_ended: Mapped[bool] = mapped_column(Boolean, default=False)
    responded_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reject_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    stopped_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class ReferralSubjectRow(Base):
    __tablename__ = "referral_subjects"
    referral_id: Mapped[str] = mapped_column(ID, ForeignKey("referrals.id"), primary_key=True)
    subject_id: Mapped[str] = mapped_column(ID, ForeignKey("subjects.id"), primary_key=True)
    __table_args__ = (Index("ix_referral_subjects_subject", "subject_id"),)


class EscalationRow(Base):
    """An exceptional circumstance in the data protection focal point's queue."""

    __tablename__ = "escalations"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    referral_id: Mapped[str] = mapped_column(ID, ForeignKey("referrals.id"), index=True)
    circumstance: Mapped[str | None] = mapped_column(String(32), nullable=True)
    immediate: Mapped[bool] = mapped_column(Boolean, default=False)
    detail_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    risk_assessment: Mapped[str | None] = mapped_column(ID, nullable=True)
    benefits_outweigh_risks: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    recipient_safe: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    reason_codes: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(TS)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    reasons_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class InformTaskRow(Base):
    """After a share without consent: tell the person what was done."""

    __tablename__ = "inform_tasks"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    referral_id: Mapped[str] = mapped_column(ID, ForeignKey("referrals.id"), index=True)
    subject_id: Mapped[str] = mapped_column(ID, ForeignKey("subjects.id"), index=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    basis: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(TS)
    done_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    done_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ShareNoticeRow(Base):
    """A notice to a recipient about a share it received: consent withdrawn, data erased."""

    __tablename__ = "share_notices"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    referral_id: Mapped[str] = mapped_column(ID, ForeignKey("referrals.id"), index=True)
    recipient: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    subject_id: Mapped[str] = mapped_column(ID, ForeignKey("subjects.id"))
    purpose: Mapped[str] = mapped_column(ID)
    consent_entry_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS)
    acknowledged_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class SubjectAccessRow(Base):
    """A subject access request and what was released or withheld (ids only)."""

    __tablename__ = "subject_access_requests"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    subject_id: Mapped[str] = mapped_column(ID, ForeignKey("subjects.id"), index=True)
    requested: Mapped[str] = mapped_column(Text)
    released: Mapped[str] = mapped_column(Text)
    withheld: Mapped[str] = mapped_column(Text)
    decision_id: Mapped[str] = mapped_column(ID, ForeignKey("decisions.id"))
    outcome: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(TS)
    by: Mapped[str] = mapped_column(String(200))


SHARING_ENCRYPTED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("subject_keys", "subject_id", "key_enc"),
    ("referrals", "id", "request_enc"),
    ("escalations", "id", "detail_enc"),
    ("escalations", "id", "reasons_enc"),
)
