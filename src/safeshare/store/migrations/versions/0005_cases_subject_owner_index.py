"""Cases indexed by (subject, owner): the lookup of a person's cases held by one organisation
(building a referral packet, deciding from the store). Without it SQLite, which has no planner
statistics after a bulk import, chose the (owner, status) index and read most of the table.

Revision ID: 0005_cases_subject_owner_index
Revises: 0004_audit_object_index
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0005_cases_subject_owner_index"
down_revision = "0004_audit_object_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_subject_owner", "cases", ["subject_id", "owner"])


def downgrade() -> None:
    op.drop_index("ix_cases_subject_owner", table_name="cases")
