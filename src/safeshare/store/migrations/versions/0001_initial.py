"""The operation's store: organisations, protocol versions, subjects, cases, the consent
ledger (append-only, enforced by the database), assessments, staff, records, decisions and
the hash-chained audit log.

Revision ID: 0001
Revises:
Create Date: 2026-03-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(64)
TS = sa.DateTime(timezone=True)

LEDGER_REFUSAL = "consent ledger is append-only: UPDATE and DELETE are refused"


def _id(name: str = "id") -> sa.Column[str]:
    return sa.Column(name, ID, primary_key=True)


def upgrade() -> None:
    op.create_table(
        "organisations",
        _id(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("dp_assessment", sa.String(16), nullable=False),
        sa.Column("anonymity_only", sa.Boolean, nullable=False),
        sa.Column("refoulement_risk", sa.Boolean, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_table("data_elements", _id(), sa.Column("category", sa.String(32), nullable=False))
    op.create_table(
        "protocol_versions",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", ID, nullable=False, unique=True),
        sa.Column("protocol_id", ID, nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("loaded_by", sa.String(200), nullable=False),
        sa.Column("loaded_at", TS, nullable=False),
        sa.UniqueConstraint("protocol_id", "version"),
    )
    op.create_table(
        "protocol_endorsements",
        _id(),
        sa.Column(
            "protocol_version_id",
            ID,
            sa.ForeignKey("protocol_versions.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("endorsed_by", sa.String(200), nullable=False),
        sa.Column("endorsed_at", TS, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "subjects",
        _id(),
        sa.Column("age", sa.Integer),
        sa.Column("born", sa.Date),
        sa.Column("reachable", sa.Boolean, nullable=False),
        sa.Column("can_consent", sa.Boolean, nullable=False),
        sa.Column("unaccompanied", sa.Boolean, nullable=False),
        sa.Column("caregiver_reachable", sa.Boolean),
        sa.Column("caregiver_involve", sa.Boolean),
        sa.Column("name_enc", sa.LargeBinary),
        sa.Column("contact_enc", sa.LargeBinary),
    )
    op.create_table(
        "subject_categories",
        sa.Column("subject_id", ID, sa.ForeignKey("subjects.id"), primary_key=True),
        sa.Column("category", sa.String(64), primary_key=True),
    )
    op.create_index("ix_subject_categories_category", "subject_categories", ["category"])
    op.create_table(
        "cases",
        _id(),
        sa.Column("subject_id", ID, sa.ForeignKey("subjects.id"), nullable=False, index=True),
        sa.Column("owner", ID, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("closed_on", sa.Date),
        sa.Column("details_enc", sa.LargeBinary),
        sa.Column("notes_enc", sa.LargeBinary),
    )
    op.create_index("ix_cases_owner_status", "cases", ["owner", "status"])
    op.create_table(
        "consent_ledger",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", ID, nullable=False, unique=True),
        sa.Column("subject_id", ID, sa.ForeignKey("subjects.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("given_by", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("purposes", sa.Text, nullable=False),
        sa.Column("recipients", sa.Text),
        sa.Column("data_elements", sa.Text),
        sa.Column("method", sa.String(16)),
        sa.Column("evidence_ref_enc", sa.LargeBinary),
        sa.Column("explanation_language", sa.String(35)),
        sa.Column("explanation_version", sa.String(64)),
        sa.Column("stage", sa.String(16)),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
    )
    op.create_table(
        "assessments",
        _id(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("date", sa.Date),
        sa.Column("subject_id", ID, sa.ForeignKey("subjects.id"), index=True),
        sa.Column("outcome", sa.String(32)),
        sa.Column("benefits_outweigh_risks", sa.Boolean),
        sa.Column("recipient_safe", sa.Boolean),
        sa.Column("notes_enc", sa.LargeBinary),
    )
    op.create_table(
        "staff",
        _id(),
        sa.Column("org", ID, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("role", sa.String(100), nullable=False),
        sa.Column("duty", sa.String(32), nullable=False),
    )
    op.create_table(
        "staff_cases",
        sa.Column("staff_id", ID, sa.ForeignKey("staff.id"), primary_key=True),
        sa.Column("case_id", ID, primary_key=True),
    )
    op.create_table(
        "records",
        _id(),
        sa.Column("subject_id", ID, sa.ForeignKey("subjects.id"), nullable=False, index=True),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("content_enc", sa.LargeBinary),
    )
    op.create_table(
        "decisions",
        _id(),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("reason_codes", sa.Text, nullable=False),
        sa.Column("condition_codes", sa.Text, nullable=False),
        sa.Column("request_summary", sa.Text, nullable=False),
        sa.Column("protocol_version_id", ID),
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("prev_hash", sa.LargeBinary, nullable=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
    )
    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
    )
    # The one chain-head row every appender locks; seq 0 means "at the genesis hash".
    op.bulk_insert(audit_head, [{"id": 1, "seq": 0, "hash": b""}])
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("head_hash", sa.LargeBinary, nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("key_id", sa.String(128), nullable=False),
        sa.Column("signature", sa.LargeBinary, nullable=False),
    )
    _append_only_ledger()


# Every ledger column but the sealed evidence reference: none may ever change. The evidence
# reference may only be re-encrypted (key rotation): neither added nor removed.
LEDGER_FIXED = (
    "seq",
    "id",
    "subject_id",
    "kind",
    "given_by",
    "decision",
    "purposes",
    "recipients",
    "data_elements",
    "method",
    "explanation_language",
    "explanation_version",
    "stage",
    "date",
    "recorded_by",
    "recorded_at",
)


def _changed(distinct: str) -> str:
    fixed = " OR ".join(f"NEW.{c} {distinct} OLD.{c}" for c in LEDGER_FIXED)
    return f"{fixed} OR (NEW.evidence_ref_enc IS NULL) <> (OLD.evidence_ref_enc IS NULL)"


def _append_only_ledger() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER consent_ledger_no_delete BEFORE DELETE ON consent_ledger "
            f"BEGIN SELECT RAISE(ABORT, '{LEDGER_REFUSAL}'); END"
        )
        op.execute(
            "CREATE TRIGGER consent_ledger_no_update BEFORE UPDATE ON consent_ledger "
            f"WHEN {_changed('IS NOT')} "
            f"BEGIN SELECT RAISE(ABORT, '{LEDGER_REFUSAL}'); END"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION consent_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            f"IF TG_OP = 'UPDATE' AND NOT ({_changed('IS DISTINCT FROM')}) THEN RETURN NEW; "
            "END IF; "
            f"RAISE EXCEPTION '{LEDGER_REFUSAL}' USING ERRCODE = 'restrict_violation'; "
            "END $$"
        )
        op.execute(
            "CREATE TRIGGER consent_ledger_append_only BEFORE UPDATE OR DELETE ON consent_ledger "
            "FOR EACH ROW EXECUTE FUNCTION consent_ledger_append_only()"
        )
        op.execute(
            "CREATE TRIGGER consent_ledger_no_truncate BEFORE TRUNCATE ON consent_ledger "
            "FOR EACH STATEMENT EXECUTE FUNCTION consent_ledger_append_only()"
        )
    else:  # pragma: no cover
        raise NotImplementedError(f"no append-only trigger for dialect {dialect}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS consent_ledger_no_truncate ON consent_ledger")
        op.execute("DROP TRIGGER IF EXISTS consent_ledger_append_only ON consent_ledger")
        op.execute("DROP FUNCTION IF EXISTS consent_ledger_append_only()")
    for table in (
        "audit_checkpoints",
        "audit_head",
        "audit_events",
        "decisions",
        "records",
        "staff_cases",
        "staff",
        "assessments",
        "consent_ledger",
        "cases",
        "subject_categories",
        "subjects",
        "protocol_endorsements",
        "protocol_versions",
        "data_elements",
        "organisations",
    ):
        op.drop_table(table)
