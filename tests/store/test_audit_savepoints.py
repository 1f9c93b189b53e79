"""The audit chain inside savepoints. An event is appended at once (``append_event``) or
deferred to the commit (``defer_event``): a deferred event appended in a savepoint that is
rolled back must go with it, one appended in a savepoint released must stay, and the chain's
order is the order of the calls either way. Random programs of both kinds of appends, nested
savepoints, releases and rollbacks, each committed or rolled back as a whole: afterwards the
chain verifies, holds exactly the events that were kept, in order, and the head row is its
last link. SQLite, and PostgreSQL when SAFESHARE_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from safeshare.store import audit_log
from safeshare.store.models import AuditEventRow, AuditHeadRow
from safeshare.store.unit import Store


@dataclass(frozen=True)
class Block:
    """Appends, then inner blocks, then more appends; a savepoint unless it is the outer
    transaction, released (kept) or rolled back."""

    before: tuple[bool, ...]  # each append: deferred (True) or at once
    inner: tuple[Block, ...]
    after: tuple[bool, ...]
    kept: bool


def _blocks(depth: int) -> st.SearchStrategy[Block]:
    inner = st.just(()) if depth == 0 else st.lists(_blocks(depth - 1), max_size=2).map(tuple)
    appends = st.lists(st.booleans(), max_size=2).map(tuple)
    return st.builds(Block, appends, inner, appends, st.booleans())


def _append(session: Session, deferred: bool, action: str) -> None:
    append = audit_log.defer_event if deferred else audit_log.append_event
    append(session, actor="t", action=action, object_type="test", object_id=action)


def _run(session: Session, block: Block, names: itertools.count[int], kept: list[str]) -> None:
    """Runs the block's appends in the current (sub)transaction; ``kept`` gets the actions
    of the events this block keeps, in order."""
    mine: list[str] = []
    for deferred in block.before:
        action = f"a{next(names)}"
        _append(session, deferred, action)
        mine.append(action)
    for inner in block.inner:
        inner_kept: list[str] = []
        savepoint = session.begin_nested()
        _run(session, inner, names, inner_kept)
        if inner.kept:
            savepoint.commit()
            mine.extend(inner_kept)
        else:
            savepoint.rollback()
    for deferred in block.after:
        action = f"a{next(names)}"
        _append(session, deferred, action)
        mine.append(action)
    kept.extend(mine)


def _actions(store: Store) -> list[str]:
    with store.reading() as session:
        return [e.action for e in audit_log.read_events(session, after=0, limit=100_000)]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(programs=st.lists(_blocks(2), min_size=1, max_size=3))
def test_the_chain_holds_exactly_the_kept_events(store: Store, programs: list[Block]) -> None:
    names = itertools.count()
    expected = _actions(store)
    for block in programs:
        kept: list[str] = []
        try:
            with store.transaction() as session:
                _run(session, block, names, kept)
                if not block.kept:
                    raise _Abandoned
        except _Abandoned:
            continue
        expected.extend(kept)
    assert _actions(store) == expected
    with store.reading() as session:
        result = audit_log.verify(session, store.public_keys)
        head = session.execute(select(AuditHeadRow.seq, AuditHeadRow.hash)).one()
        last = session.execute(
            select(AuditEventRow.seq, AuditEventRow.hash)
            .order_by(AuditEventRow.seq.desc())
            .limit(1)
        ).one_or_none()
    assert result.ok, result
    if last is None:
        assert head.seq == 0
    else:
        assert (head.seq, bytes(head.hash)) == (last.seq, bytes(last.hash))
    assert head.seq == len(expected)  # no gap: seqs of rolled-back events were reused


def test_a_head_moved_in_a_rolled_back_savepoint_is_read_again(store: Store) -> None:
    """The case the shortcut must not take: append, savepoint, append, roll the savepoint
    back, append. The last event links to the first, not to the rolled-back one."""
    with store.transaction() as session:
        first = audit_log.append_event(
            session, actor="t", action="first", object_type="test", object_id="1"
        )
        savepoint = session.begin_nested()
        audit_log.append_event(
            session, actor="t", action="dropped", object_type="test", object_id="2"
        )
        savepoint.rollback()
        last = audit_log.append_event(
            session, actor="t", action="last", object_type="test", object_id="3"
        )
    assert last == first + 1
    with store.reading() as session:
        assert audit_log.verify(session, store.public_keys).ok
        events = audit_log.read_events(session, after=first - 1)
    assert [e.action for e in events] == ["first", "last"]


class _Abandoned(Exception):
    """Rolls a whole program back."""


def test_a_deferred_event_leaves_the_head_unlocked_until_the_commit(
    store: Store, backend: str
) -> None:
    """What deferring is for: while the transaction goes on after its event, another
    writer can still take the chain's head (on PostgreSQL, ``FOR UPDATE NOWAIT`` from a
    second connection succeeds); an event appended at once holds it to the end."""
    if backend != "postgresql":
        return  # SQLite's writer holds the whole database from BEGIN IMMEDIATE: no row lock
    with store.transaction() as session:
        audit_log.defer_event(session, actor="t", action="later", object_type="test", object_id="1")
        assert _head_is_free(store)
        audit_log.append_event(session, actor="t", action="now", object_type="test", object_id="2")
        assert not _head_is_free(store)
    assert _head_is_free(store)
    with store.reading() as session:
        actions = [e.action for e in audit_log.read_events(session, after=0, limit=100_000)]
    assert actions[-2:] == ["later", "now"]


def _head_is_free(store: Store) -> bool:
    with store.engine.connect() as other:
        try:
            other.execute(text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE NOWAIT")).all()
        except OperationalError:
            return False
        finally:
            other.rollback()
    return True


def test_a_transaction_reads_its_own_deferred_events(store: Store) -> None:
    with store.transaction() as session:
        audit_log.defer_event(session, actor="t", action="mine", object_type="test", object_id="7")
        found = audit_log.events_about(session, objects=[("test", "7")])
        assert [e.action for e in found] == ["mine"]
    with store.reading() as session:
        assert [e.action for e in audit_log.events_about(session, objects=[("test", "7")])] == [
            "mine"
        ]


def test_a_reading_session_refuses_an_audit_event(store: Store) -> None:
    """A reading session never writes: an event appended there would be lost silently."""
    with store.reading() as session, pytest.raises(audit_log.AuditInReadingSessionError):
        audit_log.defer_event(session, actor="t", action="x", object_type="test", object_id="1")


def test_a_rolled_back_transaction_writes_none_of_its_deferred_events(store: Store) -> None:
    """The same session, one transaction rolled back, then another committed: only the
    second's event is written."""
    with store.sessions() as session:
        session.begin()
        audit_log.defer_event(session, actor="t", action="gone", object_type="test", object_id="9")
        session.rollback()
        session.begin()
        audit_log.defer_event(session, actor="t", action="kept", object_type="test", object_id="9")
        session.commit()
    with store.reading() as session:
        found = audit_log.events_about(session, objects=[("test", "9")])
        assert [e.action for e in found] == ["kept"]
        assert audit_log.verify(session, store.public_keys).ok
