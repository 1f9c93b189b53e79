"""Audit events indexed by what they are about: ``object_type``, ``object_id`` and
``subject_id`` (the person an event names, from ``details.subject`` or the object itself),
filled on append and here for the events already written. These columns are a lookup aid
only: the hash chain still covers the canonical body alone (unchanged), and readers check
the body they find.

Revision ID: 0004_audit_object_index
Revises: 0003_sharing
Create Date: 2026-03-09
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0004_audit_object_index"
down_revision = "0003_sharing"
branch_labels = None
depends_on = None

OBJECT_ID_MAX = 200
BATCH = 5000


def index_values(body: bytes) -> dict[str, str | None]:
    """The index columns of one event body (as :func:`safeshare.store.audit_log.append_event`
    fills them)."""
    data = json.loads(body)
    object_type = str(data.get("object_type") or "")[:64] or None
    object_id = str(data.get("object_id") or "")[:OBJECT_ID_MAX] or None
    details = data.get("details") or {}
    subject = details.get("subject") if isinstance(details, dict) else None
    if not isinstance(subject, str) or not subject:
        subject = object_id if object_type == "subject" else None
    return {
        "object_type": object_type,
        "object_id": object_id,
        "subject_id": subject[:64] if subject else None,
    }


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("object_type", sa.String(64), nullable=True))
        batch.add_column(sa.Column("object_id", sa.String(OBJECT_ID_MAX), nullable=True))
        batch.add_column(sa.Column("subject_id", sa.String(64), nullable=True))
    op.create_index("ix_audit_events_object", "audit_events", ["object_type", "object_id"])
    op.create_index("ix_audit_events_subject_id", "audit_events", ["subject_id"])
    bind = op.get_bind()
    events = sa.table(
        "audit_events",
        sa.column("seq", sa.Integer),
        sa.column("body", sa.LargeBinary),
        sa.column("object_type", sa.String),
        sa.column("object_id", sa.String),
        sa.column("subject_id", sa.String),
    )
    after = 0
    while True:
        rows = bind.execute(
            sa.select(events.c.seq, events.c.body)
            .where(events.c.seq > after)
            .order_by(events.c.seq)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        after = rows[-1][0]
        params = []
        for seq, body in rows:
            found = index_values(bytes(body))
            params.append(
                {
                    "_seq": seq,
                    "_type": found["object_type"],
                    "_id": found["object_id"],
                    "_subject": found["subject_id"],
                }
            )
        bind.execute(
            events.update()
            .where(events.c.seq == sa.bindparam("_seq"))
            .values(
                object_type=sa.bindparam("_type"),
                object_id=sa.bindparam("_id"),
                subject_id=sa.bindparam("_subject"),
            ),
            params,
        )


def downgrade() -> None:
    op.drop_index("ix_audit_events_subject_id", table_name="audit_events")
    op.drop_index("ix_audit_events_object", table_name="audit_events")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("subject_id")
        batch.drop_column("object_id")
        batch.drop_column("object_type")
