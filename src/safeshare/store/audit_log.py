"""The tamper-evident audit log, in the caller's transaction.

Every event is a link of a hash chain (:mod:`safeshare.audit.chain`). Appending locks the single
chain-head row first (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the transaction
already began with ``BEGIN IMMEDIATE``, which serialises writers), so two writers can never
both extend the same head. Events hold ids and codes, never personal data in clear: details
are checked to be flat scalars and the caller passes ids only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from safeshare.audit import chain
from safeshare.store.models import AuditCheckpointRow, AuditEventRow, AuditHeadRow
from safeshare.store.prepared import fetch, write

HEAD_ID = 1
OBJECT_ID_MAX = 200  # the index column's width (a longer object id is indexed by its prefix)
Scalar = str | int | bool | None


class AuditDetailsError(ValueError):
    """Audit details must be flat scalars (ids, codes, counts): never free text or records."""


@dataclass(frozen=True)
class CheckpointSigner:
    """The Ed25519 key that signs checkpoints, and how often to sign one."""

    private_key: Any
    key_id: str
    every: int = 1000
    public_keys: Mapping[str, Any] = field(default_factory=dict)


def now() -> datetime:
    return datetime.now(UTC)


def _iso(at: datetime) -> str:
    return chain.utc_timestamp(at)


HEAD_SEEN = "safeshare.audit_head"  # (the transaction, the head it wrote)
_HEAD: Any = AuditHeadRow.__table__
_EVENTS: Any = AuditEventRow.__table__
Q_HEAD_FOR_UPDATE = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == HEAD_ID).with_for_update()
Q_INSERT_EVENT = _EVENTS.insert()
Q_MOVE_HEAD = (
    _HEAD.update()
    .where(_HEAD.c.id == HEAD_ID)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


def _lock_head(session: Session) -> AuditHeadRow:
    head = session.execute(
        select(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID).with_for_update()
    ).scalar_one()
    return head


def _still_holds(mover: Any, transaction: Any) -> bool:
    """Whether the head that ``mover`` (the transaction or savepoint that appended last in
    this session) wrote is still the head for ``transaction``: ``mover`` is ``transaction``
    itself or one of its enclosing transactions, all still open. Every append records its
    own (innermost) transaction as the mover, so a head moved in a savepoint that was rolled
    back, or in one released since, is never taken: the head is read again under its lock."""
    while transaction is not None:
        if transaction is mover:
            return True
        transaction = transaction.parent
    return False


def append_event(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    codes: Iterable[str] = (),
    details: Mapping[str, Scalar] | None = None,
    signer: CheckpointSigner | None = None,
    at: datetime | None = None,
) -> int:
    """Appends one event to the chain inside the caller's transaction; returns its seq."""
    clean = dict(details or {})
    for key, value in clean.items():
        if not isinstance(value, str | int | bool | type(None)):
            raise AuditDetailsError(f"audit detail {key!r} must be a scalar id, code or count")
    session.flush()  # the caller's pending rows first (the events' order is the chain's)
    # The innermost transaction: a savepoint's own (get_transaction() is the outermost).
    transaction = session.get_nested_transaction() or session.get_transaction()
    known = session.info.get(HEAD_SEEN)
    if known is not None and _still_holds(known[0], transaction):
        # This transaction holds the head's lock and moved it last: no other writer could.
        head_seq, head_hash = known[1], known[2]
    else:
        (head_seq, head_hash), *_ = fetch(session, Q_HEAD_FOR_UPDATE)
    prev_hash = bytes(head_hash) if head_seq else chain.GENESIS_HASH
    seq = int(head_seq) + 1
    stamp = _iso(at or now())
    body = chain.AuditEventBody(
        seq=seq,
        at=stamp,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        codes=tuple(sorted(set(codes))),
        details=clean,
    )
    body_bytes, new_hash = chain.next_link(prev_hash, body)
    subject = clean.get("subject")
    if not isinstance(subject, str) or not subject:
        subject = object_id if object_type == "subject" else None
    write(
        session,
        Q_INSERT_EVENT,
        {
            "seq": seq,
            "body": body_bytes,
            "prev_hash": prev_hash,
            "hash": new_hash,
            "object_type": object_type[:64] or None,
            "object_id": object_id[:OBJECT_ID_MAX] or None,
            "subject_id": subject[:64] if subject else None,
        },
    )
    write(session, Q_MOVE_HEAD, {"new_seq": seq, "new_hash": new_hash})
    session.info[HEAD_SEEN] = (transaction, seq, new_hash)
    # The ORM's copy of the head (if loaded in this session) is now stale.
    cached = session.identity_map.get(session.identity_key(AuditHeadRow, (HEAD_ID,)))
    if cached is not None:
        session.expire(cached)
    if signer is not None and seq % signer.every == 0:
        _write_checkpoint(session, signer, seq, new_hash, stamp)
    return seq


def _write_checkpoint(
    session: Session, signer: CheckpointSigner, seq: int, head_hash: bytes, stamp: str
) -> AuditCheckpointRow:
    cp = chain.sign_checkpoint(signer.private_key, signer.key_id, seq, head_hash, stamp)
    row = AuditCheckpointRow(
        seq=cp.seq, head_hash=cp.head_hash, at=cp.at, key_id=cp.key_id, signature=cp.signature
    )
    session.add(row)
    session.flush()
    return row


def checkpoint(session: Session, signer: CheckpointSigner) -> AuditCheckpointRow | None:
    """Signs a checkpoint at the current head (in the caller's transaction); the existing one
    when the head already has one; None when the chain is empty."""
    head = _lock_head(session)
    if head.seq == 0:
        return None
    existing = session.get(AuditCheckpointRow, head.seq)
    if existing is not None:
        return existing
    return _write_checkpoint(session, signer, head.seq, head.hash, _iso(now()))


def event_rows(session: Session) -> Sequence[tuple[int, bytes, bytes, bytes]]:
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

    return verify_fast(session, public_keys)


def read_events(session: Session, after: int = 0, limit: int = 100) -> list[chain.AuditEventBody]:
    """Parsed event bodies after ``after`` (oldest first)."""
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
