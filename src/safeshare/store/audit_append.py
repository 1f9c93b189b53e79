"""Appending to the tamper-evident audit log, in the caller's transaction.

Every event is a link of a hash chain (:mod:`safeshare.audit.chain`). Writing links locks the
single chain-head row first (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the
transaction already began with ``BEGIN IMMEDIATE``, which serialises writers), so two writers
can never both extend the same head. Events hold ids and codes, never personal data in clear:
details are checked to be flat scalars and the caller passes ids only.

An event is *deferred* (:func:`defer_event`): kept with the session and written when its
transaction commits, so that the head is locked for the commit's last moment only. Every
request appends at least one event; a writer that locked the head at its first event and
kept it through its work (a packet sealed, a decision made) held up every other request.
:func:`append_event` writes at once, for the callers that need the event's seq.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NotRequired, TypedDict, Unpack

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session

from safeshare.audit import chain
from safeshare.store import audit_statement
from safeshare.store.models import AuditCheckpointRow, AuditEventRow, AuditHeadRow
from safeshare.store.prepared import fetch, postgresql_write, write

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


_HEAD: Any = AuditHeadRow.__table__
_EVENTS: Any = AuditEventRow.__table__
Q_HEAD_FOR_UPDATE = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == HEAD_ID).with_for_update()
Q_INSERT_EVENT = _EVENTS.insert()
Q_MOVE_HEAD = (
    _HEAD.update()
    .where(_HEAD.c.id == HEAD_ID)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


PENDING_EVENTS = "safeshare.audit_pending"  # session.info: the events deferred, in order
WITH_EVENTS = "safeshare.with_events"  # session.info: writes made by the events' statement
STATEMENT_WRITER = "safeshare.statement_writer"  # session.info: each statement commits alone
# session.info: the events written in the transaction so far, each with the (sub)transaction
# it was written in: a deferred event written inside a savepoint that is then rolled back is
# deferred again, unless it was appended inside that savepoint too.
WRITTEN_EVENTS = "safeshare.audit_written"
READ_ONLY_SESSION = "safeshare.read_only"  # session.info: set on sessions of Store.reading()


class AuditInReadingSessionError(RuntimeError):
    """An audit event was appended in a reading session, which never writes: the event
    would be lost. Reads record their events through ``Store.recorded_read``."""


@dataclass(frozen=True)
class PendingEvent:
    """An event deferred to the end of its transaction, and the (sub)transaction it was
    appended in: a savepoint rolled back drops the events appended inside it."""

    transaction: Any
    actor: str
    action: str
    object_type: str
    object_id: str
    codes: tuple[str, ...]
    details: dict[str, Scalar]
    subject: str | None
    signer: CheckpointSigner | None
    at: datetime | None


class EventFields(TypedDict):
    """What an event says: who did what to which object, with codes and scalar details."""

    actor: str
    action: str
    object_type: str
    object_id: str
    codes: NotRequired[Iterable[str]]
    details: NotRequired[Mapping[str, Scalar] | None]


def defer_event(
    session: Session,
    *,
    signer: CheckpointSigner | None = None,
    at: datetime | None = None,
    **fields: Unpack[EventFields],
) -> None:
    """Appends one event to the chain when the caller's transaction commits (or when the
    audit log is read in it first), after the events deferred before it. The chain's head
    is then locked for the last moment of the transaction only, not from this call to its
    end: every request appends, and a writer holding the head holds up all the others.
    Rolled back with the transaction, or with the savepoint it was appended in."""
    action, object_type, object_id = fields["action"], fields["object_type"], fields["object_id"]
    clean = dict(fields.get("details") or {})
    for key, value in clean.items():
        if not isinstance(value, str | int | bool | type(None)):
            raise AuditDetailsError(f"audit detail {key!r} must be a scalar id, code or count")
    if session.info.get(READ_ONLY_SESSION):
        raise AuditInReadingSessionError(
            f"audit event {action!r} appended in a reading session: it would never be written"
        )
    subject = clean.get("subject")
    if not isinstance(subject, str) or not subject:
        subject = object_id if object_type == "subject" else None
    # The innermost transaction: a savepoint's own (get_transaction() is the outermost).
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        session.connection()  # begins the session's transaction
        transaction = session.get_transaction()
    deferred = PendingEvent(
        transaction=transaction,
        actor=fields["actor"],
        action=action,
        object_type=object_type,
        object_id=object_id,
        codes=tuple(sorted(set(fields.get("codes", ())))),
        details=clean,
        subject=subject,
        signer=signer,
        at=at,
    )
    session.info.setdefault(PENDING_EVENTS, []).append(deferred)


class WriteWithEventsError(RuntimeError):
    """A write that must go with the audit events in their one statement cannot be made a
    part of it (a value its column's type would convert): it would commit alone."""


def write_with_events(session: Session, statement: Any, params: Mapping[str, Any]) -> None:
    """Writes a row that goes with the session's audit events (a decision's record). In a
    session whose statements commit by themselves (``Store.recorded_read`` on PostgreSQL,
    :data:`STATEMENT_WRITER`) it is made a part of the events' one statement, so that the
    row and its events are written together or not at all; elsewhere it is written at once,
    in the session's transaction."""
    if not session.info.get(STATEMENT_WRITER):
        session.connection().execute(statement, dict(params))
        return
    found = postgresql_write(session, statement, params)
    if found is None:
        raise WriteWithEventsError("this write cannot be a part of the audit events' statement")
    session.info.setdefault(WITH_EVENTS, []).append(found)


@event.listens_for(Session, "before_commit")
def _write_at_commit(session: Session) -> None:
    """Before a commit (of the transaction, or the release of a savepoint, which keeps its
    events in the enclosing transaction) the deferred events are written."""
    if session.info.get(PENDING_EVENTS) or session.info.get(WITH_EVENTS):
        flush_events(session)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: Any) -> None:
    """The events appended in a (sub)transaction rolled back, or in one inside it, go with
    it. Those appended outside it but written inside it (an event appended at once in a
    savepoint writes every event deferred before it) are deferred again, first, in order."""
    ended = previous_transaction
    written: list[tuple[PendingEvent, Any]] = session.info.get(WRITTEN_EVENTS) or []
    lost = [(e, where) for e, where in written if _inside(where, ended)]
    pending: list[PendingEvent] = session.info.get(PENDING_EVENTS) or []
    if not lost and not pending:
        return
    again = [e for e, _where in lost if not _inside(e.transaction, ended)]
    if lost:
        written[:] = [(e, where) for e, where in written if not _inside(where, ended)]
    kept = [e for e in pending if not _inside(e.transaction, ended)]
    session.info[PENDING_EVENTS] = again + kept


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the whole transaction ended: nothing can be pending
        session.info.pop(PENDING_EVENTS, None)
        session.info.pop(WRITTEN_EVENTS, None)
        session.info.pop(WITH_EVENTS, None)


def _inside(transaction: Any, ended: Any) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


def append_event(
    session: Session,
    *,
    signer: CheckpointSigner | None = None,
    at: datetime | None = None,
    **fields: Unpack[EventFields],
) -> int:
    """Appends one event to the chain now, inside the caller's transaction (after the events
    deferred before it, in order), taking the head's lock until the transaction ends;
    returns its seq. Where the seq is not needed, :func:`defer_event` holds the lock for
    less time."""
    defer_event(session, signer=signer, at=at, **fields)
    seq = flush_events(session)
    if seq is None:  # cannot be: the event was just deferred
        raise RuntimeError("the audit event was not written")
    return seq


def _body_of(queued: PendingEvent, seq: int, stamp: str) -> chain.AuditEventBody:
    return chain.AuditEventBody(
        seq=seq,
        at=stamp,
        actor=queued.actor,
        action=queued.action,
        object_type=queued.object_type,
        object_id=queued.object_id,
        codes=queued.codes,
        details=queued.details,
    )


def _index_columns(queued: PendingEvent) -> tuple[str | None, str | None, str | None]:
    return (
        queued.object_type[:64] or None,
        queued.object_id[:OBJECT_ID_MAX] or None,
        queued.subject[:64] if queued.subject else None,
    )


Link = tuple[int, bytes, str]  # an event written: its seq, its hash, its time stamp


def _links_here(session: Session, pending: list[PendingEvent]) -> list[Link]:
    """The append where the head is read, each body hashed here and each row written by a
    statement of its own (SQLite, in process: a round trip costs nothing)."""
    (head_seq, head_hash), *_ = fetch(session, Q_HEAD_FOR_UPDATE)
    prev_hash = bytes(head_hash) if head_seq else chain.GENESIS_HASH
    seq = int(head_seq)
    written: list[Link] = []
    for queued in pending:
        seq += 1
        stamp = _iso(queued.at or now())
        body_bytes, new_hash = chain.next_link(prev_hash, _body_of(queued, seq, stamp))
        object_type, object_id, subject_id = _index_columns(queued)
        link = {"seq": seq, "body": body_bytes, "prev_hash": prev_hash, "hash": new_hash}
        index = {"object_type": object_type, "object_id": object_id, "subject_id": subject_id}
        write(session, Q_INSERT_EVENT, link | index)
        written.append((seq, new_hash, stamp))
        prev_hash = new_hash
    write(session, Q_MOVE_HEAD, {"new_seq": seq, "new_hash": prev_hash})
    return written


def _links_on_postgresql(
    session: Session,
    driver: Any,
    pending: list[PendingEvent],
    writes: list[tuple[str, dict[str, Any]]],
) -> list[Link]:
    """The append as one statement per ``PG_APPEND_BATCH`` events
    (:mod:`safeshare.store.audit_statement`)."""
    stamps = [_iso(q.at or now()) for q in pending]
    links = [
        (chain.canonical_prefix(_body_of(q, 1, stamp)), *_index_columns(q))
        for q, stamp in zip(pending, stamps, strict=True)
    ]
    dbapi_error = session.connection().dialect.loaded_dbapi.Error
    numbered = audit_statement.append(driver, links, writes, dbapi_error)
    return [(seq, digest, stamp) for (seq, digest), stamp in zip(numbered, stamps, strict=True)]


def _write_alone(session: Session, writes: list[tuple[str, dict[str, Any]]]) -> None:
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for sql, values in writes:
            cursor.execute(sql, values)
    finally:
        cursor.close()


def flush_events(session: Session) -> int | None:
    """Writes the session's deferred events (see :func:`defer_event`) as links of the chain:
    the head locked (``SELECT ... FOR UPDATE``; SQLite's writer already holds the database),
    each body stamped and hashed onto the one before, the events and the head's move
    written (on PostgreSQL all in one statement: :mod:`safeshare.store.audit_statement`),
    checkpoints signed where due. Returns the last event's seq (None when nothing was
    pending). Runs by itself when the transaction commits; the audit log's readers call it
    first, so that a transaction reads its own events."""
    writes: list[tuple[str, dict[str, Any]]] = session.info.pop(WITH_EVENTS, None) or []
    pending: list[PendingEvent] | None = session.info.get(PENDING_EVENTS)
    if not pending:
        if writes:  # rows that were to go with events that never came: written alone
            _write_alone(session, writes)
        return None
    session.flush()  # the caller's pending rows first (as when each event was written at once)
    conn = session.connection()
    driver = conn.connection.driver_connection
    if conn.dialect.name == "postgresql" and driver is not None:
        written = _links_on_postgresql(session, driver, pending, writes)
    else:
        written = _links_here(session, pending)
    due = [
        (q.signer, seq, digest, stamp)
        for q, (seq, digest, stamp) in zip(pending, written, strict=True)
        if q.signer is not None and seq % q.signer.every == 0
    ]
    # Written: a failure above leaves them pending (the transaction fails anyway).
    where = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(WRITTEN_EVENTS, []).extend((e, where) for e in pending)
    pending.clear()
    # The ORM's copy of the head (if loaded in this session) is now stale.
    cached = session.identity_map.get(session.identity_key(AuditHeadRow, (HEAD_ID,)))
    if cached is not None:
        session.expire(cached)
    for signer, at_seq, at_hash, stamp in due:
        write_checkpoint(session, signer, at_seq, at_hash, stamp)
    return written[-1][0]


def write_checkpoint(
    session: Session, signer: CheckpointSigner, seq: int, head_hash: bytes, stamp: str
) -> AuditCheckpointRow:
    cp = chain.sign_checkpoint(signer.private_key, signer.key_id, seq, head_hash, stamp)
    row = AuditCheckpointRow(
        seq=cp.seq, head_hash=cp.head_hash, at=cp.at, key_id=cp.key_id, signature=cp.signature
    )
    session.add(row)
    session.flush()
    return row
