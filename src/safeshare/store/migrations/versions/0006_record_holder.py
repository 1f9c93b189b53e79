"""Records name the organisation that holds them: a subject access request answered by one
organisation releases that organisation's records only (each answers for its own). A record
from before is given the organisation holding the person's cases, when only one does; else
it has none, and no organisation's answer releases it.

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
    # No HAVING without GROUP BY: SQLite accepts it only from 3.39.
    op.execute(
        "UPDATE records SET holder = (SELECT CASE WHEN count(DISTINCT cases.owner) = 1"
        " THEN min(cases.owner) END FROM cases WHERE cases.subject_id = records.subject_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.drop_column("holder")
