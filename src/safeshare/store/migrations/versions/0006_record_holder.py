"""Records name the organisation that holds them: a subject access request answered by one
organisation releases that organisation's records, not another's (each answers for its own).
A record from before (or from a scenario, whose records name no holder) has none.

Revision ID: 0006_record_holder
Revises: 0005_cases_subject_owner_index
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_record_holder"
down_revision = "0005_cases_subject_owner_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("holder", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.drop_column("holder")
