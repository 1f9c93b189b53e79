"""A recorded read's records written as one statement on PostgreSQL (``Store.recorded_read``
with ``record(..., one_statement=True)``): the rows that go with the audit events
(``write_with_events``) and the events commit together or not at all, without a transaction
around them; a read whose records are not all one statement gets a transaction as before.
On SQLite every write goes through a transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import JSON, String, column, func, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safeshare.services.common import audit
from safeshare.services.decisions import Q_INSERT_DECISION
from safeshare.store import audit_log
from safeshare.store.audit_append import STATEMENT_WRITER, WriteWithEventsError, write_with_events
from safeshare.store.models import AuditHeadRow, DecisionRow
from safeshare.store.unit import Store, record


def _decision(decision_id: str) -> dict[str, Any]:
    return {
        "id": decision_id,
        "at": datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
        "actor": "t",
        "kind": "share",
        "outcome": "allow",
        "reason_codes": json.dumps([]),
        "condition_codes": json.dumps([]),
        "request_summary": json.dumps({"kind": "share"}),
        "protocol_version_id": None,
    }


def _recorded(store: Store, decision_id: str, seen: list[bool]) -> None:
    def write(writer: Session) -> None:
        seen.append(bool(writer.info.get(STATEMENT_WRITER)))
        write_with_events(writer, Q_INSERT_DECISION, _decision(decision_id))
        audit(
            store,
            writer,
            actor="t",
            action="decision",
            object_type="decision",
            object_id=decision_id,
        )

    with store.recorded_read() as session:
        record(session, write, one_statement=True)


def _state(store: Store) -> tuple[int, int]:
    with store.reading() as session:
        decisions = session.scalar(select(func.count()).select_from(DecisionRow)) or 0
        head = session.scalar(select(AuditHeadRow.seq)) or 0
        assert audit_log.verify(session, store.public_keys).ok
    return decisions, head


def test_a_record_and_its_event_are_written_together(store: Store, backend: str) -> None:
    seen: list[bool] = []
    before = _state(store)
    _recorded(store, "d-1", seen)
    assert seen == [backend == "postgresql"]  # one statement, no transaction, on PostgreSQL
    assert _state(store) == (before[0] + 1, before[1] + 1)
    with store.reading() as session:
        events = audit_log.events_about(session, objects=[("decision", "d-1")])
    assert [e.action for e in events] == ["decision"]


def test_a_failing_record_leaves_no_event(store: Store) -> None:
    """The same decision id twice: the second statement fails on the key, and its event
    (part of the same statement on PostgreSQL, of the same transaction on SQLite) is not
    written either."""
    _recorded(store, "d-2", [])
    before = _state(store)
    with pytest.raises(IntegrityError):
        _recorded(store, "d-2", [])
    assert _state(store) == before


def test_records_that_are_not_one_statement_get_a_transaction(store: Store) -> None:
    seen: list[bool] = []

    def write(writer: Session) -> None:
        seen.append(bool(writer.info.get(STATEMENT_WRITER)))
        audit(store, writer, actor="t", action="x", object_type="test", object_id="1")

    with store.recorded_read() as session:
        record(session, write, one_statement=True)
        record(session, write)  # not marked: the whole writer is a transaction
    assert seen == [False, False]


def test_a_record_without_events_is_still_written(store: Store) -> None:
    """A row meant to go with events that never come is written by itself at the commit."""

    def write(writer: Session) -> None:
        write_with_events(writer, Q_INSERT_DECISION, _decision("d-3"))

    before = _state(store)
    with store.recorded_read() as session:
        record(session, write, one_statement=True)
    assert _state(store) == (before[0] + 1, before[1])
    with store.reading() as session:
        assert session.get(DecisionRow, "d-3") is not None


def test_a_write_that_cannot_join_the_statement_is_refused(store: Store, backend: str) -> None:
    """A value its column's type would convert (JSON, here) cannot be bound into the events'
    statement as it is: refused, rather than committed alone."""
    if backend != "postgresql":
        return  # elsewhere the write is made at once, in the transaction
    documents = table("documents", column("id", String), column("body", JSON))

    def write(writer: Session) -> None:
        write_with_events(writer, documents.insert(), {"id": "x", "body": {"a": 1}})

    before = _state(store)
    with pytest.raises(WriteWithEventsError), store.recorded_read() as session:
        record(session, write, one_statement=True)
    assert _state(store) == before
