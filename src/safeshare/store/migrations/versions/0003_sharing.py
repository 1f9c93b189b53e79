"""Sharing: organisations' public keys, per-subject data keys and encrypted case elements,
referrals (sealed packets) and their subjects, escalations, inform-the-person tasks, notices
to recipients and subject access requests.

Revision ID: 0003_sharing
Revises: 0002_people_access
Create Date: 2026-03-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_sharing"
down_revision = "0002_people_access"
branch_labels = None
depends_on = None

ID = sa.String(64)
TS = sa.DateTime(timezone=True)


def _fk(
    name: str,
    target: str,
    *,
    primary_key: bool = False,
    nullable: bool = True,
    index: bool = False,
) -> sa.Column[str]:
    return sa.Column(
        name,
        ID,
        sa.ForeignKey(target),
        primary_key=primary_key,
        nullable=nullable and not primary_key,
        index=index,
    )


def upgrade() -> None:
    op.create_table(
        "org_public_keys",
        _fk("org_id", "organisations.id", primary_key=True),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("x25519", sa.LargeBinary, nullable=False),
        sa.Column("ed25519", sa.LargeBinary, nullable=False),
        sa.Column("registered_at", TS, nullable=False),
        sa.Column("registered_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "subject_keys",
        _fk("subject_id", "subjects.id", primary_key=True),
        sa.Column("key_enc", sa.LargeBinary),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("shredded_at", TS),
    )
    op.create_table(
        "case_elements",
        _fk("case_id", "cases.id", primary_key=True),
        sa.Column("element", sa.String(64), primary_key=True),
        sa.Column("value_enc", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "referrals",
        sa.Column("id", ID, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("purpose", ID, nullable=False, index=True),
        sa.Column("general", sa.String(40), nullable=False),
        _fk("sender", "organisations.id", nullable=False, index=True),
        _fk("recipient", "organisations.id", nullable=False, index=True),
        sa.Column("basis", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("answers", ID, index=True),
        _fk("decision_id", "decisions.id", nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("elements", sa.Text, nullable=False),
        sa.Column("contact_method", sa.String(40), nullable=False),
        sa.Column("without_consent", sa.Boolean, nullable=False),
        sa.Column("request_enc", sa.LargeBinary),
        sa.Column("header", sa.Text),
        sa.Column("ciphertext", sa.LargeBinary),
        sa.Column("signature", sa.LargeBinary),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("sent_on", sa.Date),
        sa.Column("accepted_on", sa.Date),
        sa.Column("access_until", sa.Date),
        sa.Column("open_ended", sa.Boolean, nullable=False),
        sa.Column("responded_by", sa.String(200)),
        sa.Column("reject_reason", sa.String(64)),
        sa.Column("closed_at", TS),
        sa.Column("stopped_at", TS),
    )
    op.create_table(
        "referral_subjects",
        _fk("referral_id", "referrals.id", primary_key=True),
        _fk("subject_id", "subjects.id", primary_key=True),
    )
    op.create_index("ix_referral_subjects_subject", "referral_subjects", ["subject_id"])
    op.create_table(
        "escalations",
        sa.Column("id", ID, primary_key=True),
        _fk("referral_id", "referrals.id", nullable=False, index=True),
        sa.Column("circumstance", sa.String(32)),
        sa.Column("immediate", sa.Boolean, nullable=False),
        sa.Column("detail_enc", sa.LargeBinary),
        sa.Column("risk_assessment", ID),
        sa.Column("benefits_outweigh_risks", sa.Boolean),
        sa.Column("recipient_safe", sa.Boolean),
        sa.Column("reason_codes", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("decided_by", sa.String(200)),
        sa.Column("decided_at", TS),
        sa.Column("reasons_enc", sa.LargeBinary),
    )
    op.create_table(
        "inform_tasks",
        sa.Column("id", ID, primary_key=True),
        _fk("referral_id", "referrals.id", nullable=False, index=True),
        _fk("subject_id", "subjects.id", nullable=False, index=True),
        _fk("org_id", "organisations.id", nullable=False, index=True),
        sa.Column("basis", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("done_at", TS),
        sa.Column("done_by", sa.String(200)),
    )
    op.create_table(
        "share_notices",
        sa.Column("id", ID, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        _fk("referral_id", "referrals.id", nullable=False, index=True),
        _fk("recipient", "organisations.id", nullable=False, index=True),
        _fk("subject_id", "subjects.id", nullable=False),
        sa.Column("purpose", ID, nullable=False),
        sa.Column("consent_entry_id", ID),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("acknowledged_at", TS),
        sa.Column("acknowledged_by", sa.String(200)),
    )
    op.create_table(
        "subject_access_requests",
        sa.Column("id", ID, primary_key=True),
        _fk("subject_id", "subjects.id", nullable=False, index=True),
        sa.Column("requested", sa.Text, nullable=False),
        sa.Column("released", sa.Text, nullable=False),
        sa.Column("withheld", sa.Text, nullable=False),
        _fk("decision_id", "decisions.id", nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "subject_access_requests",
        "share_notices",
        "inform_tasks",
        "escalations",
        "referral_subjects",
        "referrals",
        "case_elements",
        "subject_keys",
        "org_public_keys",
    ):
        op.drop_table(table)
