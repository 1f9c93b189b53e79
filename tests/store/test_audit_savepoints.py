"""The audit chain inside savepoints. An append reuses the head its own transaction (or an
enclosing one, still open) wrote last instead of reading it again under its lock; a head moved
in a savepoint that was rolled back must never be reused. Random programs of appends, nested
savepoints, releases and rollbacks, each committed or rolled back as a whole: afterwards the
chain verifies, holds exactly the events that were kept, in order, and the head row is its
last link. SQLite, and PostgreSQL when SAFESHARE_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeshare.store import audit_log
from safeshare.store.models import AuditEventRow, AuditHeadRow
from safeshare.store.unit import Store


@dataclass(frozen=True)
class Block:
    """Appends, then inner blocks, then more appends; a savepoint unless it is the outer
    transaction, released (kept) or rolled back."""

    before: int
    inner: tuple[Block, ...]
    after: int
    kept: bool


def _blocks(depth: int) -> st.SearchStrategy[Block]:
    inner = st.just(()) if depth == 0 else st.lists(_blocks(depth - 1), max_size=2).map(tuple)
    return st.builds(Block, st.integers(0, 2), inner, st.integers(0, 2), st.booleans())


def _run(session: Session, block: Block, names: itertools.count[int], kept: list[str]) -> None:
    """Runs the block's appends in the current (sub)transaction; ``kept`` gets the actions
    of the events this block keeps, in order."""
    mine: list[str] = []
    for _ in range(block.before):
        action = f"a{next(names)}"
        audit_log.append_event(
            session, actor="t", action=action, object_type="test", object_id=action
        )
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
    for _ in range(block.after):
        action = f"a{next(names)}"
        audit_log.append_event(
            session, actor="t", action=action, object_type="test", object_id=action
        )
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
