"""The tamper-evident audit log: reading it, verifying it, signing checkpoints. Appending is
:mod:`safeshare.store.audit_append` (its names are given here too). Every reader writes the
session's deferred events first, so that a transaction reads its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from safeshare.audit import chain
from safeshare.store.audit_append import (
    HEAD_ID,
    OBJECT_ID_MAX,
    PENDING_EVENTS,
    Q_HEAD_FOR_UPDATE,
    Q_INSERT_EVENT,
    Q_MOVE_HEAD,
    READ_ONLY_SESSION,
    AuditDetailsError,
    AuditInReadingSessionError,
    CheckpointSigner,
    PendingEvent,
    Scalar,
    append_event,
    defer_event,
    flush_events,
    now,
    write_checkpoint,
)
from safeshare.store.models import AuditCheckpointRow, AuditEventRow, AuditHeadRow

__all__ = [
    "HEAD_ID",
    "OBJECT_ID_MAX",
    "PENDING_EVENTS",
    "Q_HEAD_FOR_UPDATE",
    "Q_INSERT_EVENT",
    "Q_MOVE_HEAD",
    "READ_ONLY_SESSION",
    "AuditDetailsError",
    "AuditInReadingSessionError",
    "CheckpointSigner",
    "PendingEvent",
    "Scalar",
    "append_event",
    "defer_event",
    "flush_events",
    "now",
]


def _lock_head(session: Session) -> AuditHeadRow:
    flush_events(session)
    head = session.execute(
        select(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID).with_for_update()
    ).scalar_one()
    return head


def checkpoint(session: Session, signer: CheckpointSigner) -> AuditCheckpointRow | None:
    """Signs a checkpoint at the current head (in the caller's transaction); the existing one
    when the head already has one; None when the chain is empty."""
    head = _lock_head(session)
    if head.seq == 0:
        return None
    existing = session.get(AuditCheckpointRow, head.seq)
    if existing is not None:
        return existing
    return write_checkpoint(session, signer, head.seq, head.hash, chain.utc_timestamp(now()))


def event_rows(session: Session) -> Sequence[tuple[int, bytes, bytes, bytes]]:
    flush_events(session)
    rows = session.execute(
        select(
            AuditEventRow.seq, AuditEventRow.body, AuditEventRow.prev_hash, AuditEventRow.hash
        ).order_by(AuditEventRow.seq)
    ).all()
    return [(r[0], bytes(r[1]), bytes(r[2]), bytes(r[3])) for r in rows]


EVENT_ROWS_SQL = "SELECT seq, body, prev_hash, hash FROM audit_events ORDER BY seq"
STREAM_BATCH = 20_000


def stream_event_rows(
    session: Session, batch: int = STREAM_BATCH
) -> Iterator[tuple[int, bytes, bytes, bytes]]:
    """Every event row in seq order, streamed in constant memory (for verification): the
    driver's own cursor, server-side on PostgreSQL, read ``batch`` rows at a time; no ORM
    and no per-row conversion unless the driver returns ``memoryview`` (then bytes)."""
    flush_events(session)
    conn = session.connection()
    pooled = conn.connection
    if conn.dialect.name == "postgresql":
        raw: Any = pooled.driver_connection
        cursor = raw.cursor(name=f"audit_events_{uuid.uuid4().hex}")
        cursor.itersize = batch
    else:
        cursor = pooled.cursor()
        cursor.arraysize = batch
    try:
        cursor.execute(EVENT_ROWS_SQL)
        while rows := cursor.fetchmany(batch):
            if type(rows[0][1]) is bytes:
                yield from rows
            else:
                yield from ((r[0], bytes(r[1]), bytes(r[2]), bytes(r[3])) for r in rows)
    finally:
        cursor.close()


def checkpoints(session: Session) -> list[Any]:
    flush_events(session)
    rows = session.scalars(select(AuditCheckpointRow).order_by(AuditCheckpointRow.seq)).all()
    return [
        chain.Checkpoint(
            seq=r.seq,
            head_hash=bytes(r.head_hash),
            at=r.at,
            key_id=r.key_id,
            signature=bytes(r.signature),
        )
        for r in rows
    ]


def verify(session: Session, public_keys: Mapping[str, Any]) -> Any:
    """Checks the whole chain and every checkpoint: a ``chain.VerificationResult``."""
    from safeshare.store.audit_verify import verify_fast  # noqa: PLC0415 - it imports this module

    flush_events(session)
    return verify_fast(session, public_keys)


def read_events(session: Session, after: int = 0, limit: int = 100) -> list[chain.AuditEventBody]:
    """Parsed event bodies after ``after`` (oldest first)."""
    flush_events(session)
    rows = session.scalars(
        select(AuditEventRow.body)
        .where(AuditEventRow.seq > after)
        .order_by(AuditEventRow.seq)
        .limit(limit)
    )
    return [chain.parse_body(bytes(b)) for b in rows]


def events_about(
    session: Session,
    *,
    objects: Iterable[tuple[str, str]] = (),
    subject_id: str | None = None,
    actions: tuple[str, ...] = (),
    limit: int = 50,
) -> list[chain.AuditEventBody]:
    """The newest ``limit`` events (newest first) about any of ``objects`` (type, id) or
    naming ``subject_id``, through the index columns; each body is parsed and checked to be
    about what was asked (the index is outside the hash chain), and its action to start
    with one of ``actions`` (all when empty)."""
    flush_events(session)
    wanted = set(objects)
    conditions: list[ColumnElement[bool]] = [
        and_(AuditEventRow.object_type == t, AuditEventRow.object_id == i[:OBJECT_ID_MAX])
        for t, i in wanted
    ]
    if subject_id is not None:
        conditions.append(AuditEventRow.subject_id == subject_id[:64])
    if not conditions:
        return []
    found: list[chain.AuditEventBody] = []
    after: int | None = None
    while len(found) < limit:
        query = select(AuditEventRow.seq, AuditEventRow.body).where(or_(*conditions))
        if after is not None:
            query = query.where(AuditEventRow.seq < after)
        rows = session.execute(query.order_by(AuditEventRow.seq.desc()).limit(limit * 4)).all()
        if not rows:
            break
        after = rows[-1][0]
        for _seq, raw in rows:
            event = chain.parse_body(bytes(raw))
            subject = event.details.get("subject") if event.details else None
            about = (event.object_type, event.object_id) in wanted or (
                subject_id is not None
                and (
                    subject == subject_id
                    or ("subject", subject_id) == (event.object_type, event.object_id)
                )
            )
            if about and (not actions or event.action.startswith(actions)):
                found.append(event)
                if len(found) == limit:
                    break
    return found
