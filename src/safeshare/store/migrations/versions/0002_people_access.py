"""People and access: staff accounts (argon2id password hashes), login attempts (lockout),
sessions and partner API tokens (only SHA-256 digests of tokens are stored), and recorded
case-specific needs (need-to-know).

Revision ID: 0002_people_access
Revises: 0001
Create Date: 2026-03-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_people_access"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.String(64)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "user_accounts",
        sa.Column("id", ID, primary_key=True),
        sa.Column("username", sa.String(120), nullable=False, unique=True),
        sa.Column("staff_id", ID, sa.ForeignKey("staff.id"), nullable=False, unique=True),
        sa.Column("org_id", ID, sa.ForeignKey("organisations.id"), nullable=False, index=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("password_changed_at", TS, nullable=False),
    )
    op.create_table(
        "login_attempts",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username_key", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("succeeded", sa.Boolean, nullable=False),
    )
    op.create_index("ix_login_attempts_key_at", "login_attempts", ["username_key", "at"])
    op.create_table(
        "user_sessions",
        sa.Column("id", ID, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", ID, sa.ForeignKey("user_accounts.id"), nullable=False, index=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("ended_at", TS),
        sa.Column("end_reason", sa.String(32)),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", ID, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", ID, sa.ForeignKey("user_accounts.id"), nullable=False, index=True),
        sa.Column("org_id", ID, sa.ForeignKey("organisations.id"), nullable=False, index=True),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("label", sa.String(120), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", ID, nullable=False),
        sa.Column("expires_at", TS),
        sa.Column("revoked_at", TS),
        sa.Column("last_used_at", TS),
    )
    op.create_table(
        "access_needs",
        sa.Column("id", ID, primary_key=True),
        sa.Column("staff_id", ID, sa.ForeignKey("staff.id"), nullable=False, index=True),
        sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("need", sa.String(64), nullable=False),
        sa.Column("recorded_by", ID, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
    )


def downgrade() -> None:
    for table in ("access_needs", "api_tokens", "user_sessions", "login_attempts"):
        op.drop_table(table)
    op.drop_table("user_accounts")
