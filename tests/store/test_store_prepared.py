"""Prepared reads (store/prepared.py) give exactly the rows SQLAlchemy gives: the same values,
converted the same way (dates on SQLite), under the same names, for IN lists of any length,
on SQLite and PostgreSQL; values that are not plain go through SQLAlchemy."""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, String, Table, TypeDecorator, bindparam, select
from sqlalchemy.orm import Session

from safeshare.api.config import WebSettings
from safeshare.demo import load_demo
from safeshare.services import sessions, world_loader
from safeshare.services.protocols import Q_CURRENT
from safeshare.settings import Env
from safeshare.store import prepared
from safeshare.store.models import AssessmentRow, CaseRow, StaffRow, SubjectRow
from safeshare.store.unit import Store

POLICY = WebSettings(env=Env.TEST, fast_password_hashing=True).access_policy()
Q_CASES_CLOSED_AFTER = select(CaseRow.__table__).where(
    CaseRow.__table__.c.closed_on > bindparam("after")
)


def _by_sqlalchemy(session: Session, query: Any, params: dict[str, Any]) -> list[Any]:
    return list(session.connection().execute(query, params).all())


def _same(session: Session, query: Any, params: dict[str, Any]) -> list[Any]:
    """The prepared rows, checked against SQLAlchemy's: values, types and names."""
    expected = _by_sqlalchemy(session, query, params)
    got = prepared.fetch(session, query, params)
    assert [tuple(r) for r in got] == [tuple(r) for r in expected]
    assert [[type(v) for v in r] for r in got] == [[type(v) for v in r] for r in expected]
    if got:
        assert got[0]._fields == tuple(expected[0]._fields)
    return got


@pytest.fixture
def demo(store: Store) -> Store:
    load_demo(store, policy=POLICY, today=date(2026, 11, 26))
    return store


def _ids(session: Session, model: Any) -> list[str]:
    return sorted(session.scalars(select(model.id)))


def test_the_world_statements_give_sqlalchemys_rows(demo: Store) -> None:
    with demo.reading() as session:
        subjects, cases = _ids(session, SubjectRow), _ids(session, CaseRow)
        staff, assessments = _ids(session, StaffRow), _ids(session, AssessmentRow)
        assert len(subjects) > 10
        assert len(cases) > 10
        assert staff
        assert assessments
        many = 0
        for n in (1, 2, 3, 7, len(subjects)):  # IN lists of several lengths
            some = subjects[:n]
            many += len(_same(session, world_loader.Q_SUBJECTS, {"ids": some}))
            _same(session, world_loader.Q_CATEGORIES, {"ids": some})
            _same(session, world_loader.Q_ASSESSMENTS_OF, {"ids": some})
            _same(session, world_loader.Q_CASES_OF, {"ids": some})
            _same(session, world_loader.Q_CONSENTS, {"ids": some})
        assert many > len(subjects)
        assert _same(session, world_loader.Q_CASES, {"ids": cases})
        assert _same(session, world_loader.Q_ASSESSMENTS, {"ids": assessments})
        assert _same(session, world_loader.Q_STAFF, {"ids": staff})
        _same(session, world_loader.Q_ASSIGNED, {"ids": staff, "cases": cases})
        assert _same(session, world_loader.Q_ORGANISATIONS, {})
        _same(session, world_loader.Q_ELEMENTS, {})
        assert _same(session, Q_CURRENT, {})  # a LIMIT the statement carries itself
        assert _same(session, world_loader.Q_CASES_OF, {"ids": subjects[:1]})
        assert not _same(session, world_loader.Q_CASES_OF, {"ids": ["no-such-person"]})


def test_a_session_row_keeps_its_times(demo: Store) -> None:
    account = load_demo_account(demo)
    issued = sessions.login(demo, account[0], account[1], policy=POLICY)
    with demo.reading() as session:
        (row,) = _same(session, sessions.Q_SESSION, {"digest": sessions.token_digest(issued.token)})
        assert row.expires_at > row.last_seen_at  # datetimes, not text, on SQLite too


def load_demo_account(store: Store) -> tuple[str, str]:
    """A fresh caseworker account (the demo's passwords are not kept by the fixture)."""
    from safeshare.services import accounts  # noqa: PLC0415 - only this test needs it
    from safeshare.services.accounts import Role  # noqa: PLC0415

    accounts.create_account(
        store,
        username="prepared.reader",
        password="a long enough password 1",
        org="unhcr",
        role=Role.CASEWORKER,
        actor="test",
        policy=POLICY,
    )
    return "prepared.reader", "a long enough password 1"


def test_a_value_that_is_not_plain_goes_through_sqlalchemy(demo: Store) -> None:
    with demo.reading() as session:
        params = {"after": date(2000, 1, 1)}
        got = _same(session, Q_CASES_CLOSED_AFTER, params)
        assert all(r.closed_on > date(2000, 1, 1) for r in got)
    assert not any(key[0] is Q_CASES_CLOSED_AFTER for key in prepared._PLANS)


class _Lowered(TypeDecorator[str]):
    """A column type that changes the value on the way in."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return value.lower() if value is not None else None


_ORGS_LOWERED = Table("organisations", MetaData(), Column("id", _Lowered(), primary_key=True))
Q_ORG_LOWERED = select(_ORGS_LOWERED.c.id).where(_ORGS_LOWERED.c.id == bindparam("id"))


def test_a_parameter_its_type_converts_goes_through_sqlalchemy(demo: Store) -> None:
    """A plain value bound where the column's type converts it is not sent as it is: the
    statement is left to SQLAlchemy, which finds the row."""
    with demo.reading() as session:
        assert [tuple(r) for r in _same(session, Q_ORG_LOWERED, {"id": "UNHCR"})] == [("unhcr",)]
    assert Q_ORG_LOWERED in prepared._UNSUPPORTED


def test_a_prepared_read_sees_its_transaction(store: Store) -> None:
    """The DBAPI cursor is the session's own connection: a row added in a transaction is
    seen by a prepared read in it, and not by a reading session opened before the commit."""
    from safeshare.core.vocabulary import OrgKind  # noqa: PLC0415
    from safeshare.core.world import Organisation  # noqa: PLC0415
    from safeshare.services.registry import upsert_organisation  # noqa: PLC0415

    with store.reading() as before:
        seen = {r.id for r in prepared.fetch(before, world_loader.Q_ORGANISATIONS)}
        with store.transaction() as session:
            upsert_organisation(session, Organisation(id="ngo-prepared", kind=OrgKind.PARTNER))
            session.flush()
            inside = {r.id for r in prepared.fetch(session, world_loader.Q_ORGANISATIONS)}
            assert "ngo-prepared" in inside
        again = {r.id for r in prepared.fetch(before, world_loader.Q_ORGANISATIONS)}
        assert again == seen
        assert "ngo-prepared" not in again


def _idle(driver: Any, dialect: str) -> bool:
    if dialect == "sqlite":
        return not driver.in_transaction
    return bool(driver.info.transaction_status.name == "IDLE")


def test_a_lookup_alone_gives_the_same_row_and_holds_nothing(demo: Store) -> None:
    """``fetch_alone`` (the session-token lookup of every request): the row SQLAlchemy gives,
    on a kept connection that is out of any transaction afterwards, and reused."""
    username, password = load_demo_account(demo)
    issued = sessions.login(demo, username, password, policy=POLICY)
    params = {"digest": sessions.token_digest(issued.token)}
    with demo.reading() as session:
        expected = _by_sqlalchemy(session, sessions.Q_SESSION, params)
    got = prepared.fetch_alone(demo.engine, sessions.Q_SESSION, params)
    assert [tuple(r) for r in got] == [tuple(r) for r in expected]
    assert got[0].expires_at > got[0].last_seen_at
    assert prepared.fetch_alone(demo.engine, sessions.Q_SESSION, {"digest": "none"}) == []
    kept = prepared._lone(demo.engine).free
    assert len(kept) == 1  # one connection, used for both lookups and kept
    assert _idle(kept[0], demo.engine.dialect.name)


def test_a_lookup_alone_sees_each_commit(demo: Store) -> None:
    """The kept connection holds no snapshot: a session ended (committed) after one lookup
    is seen ended by the next."""
    username, password = load_demo_account(demo)
    issued = sessions.login(demo, username, password, policy=POLICY)
    params = {"digest": sessions.token_digest(issued.token)}
    assert prepared.fetch_alone(demo.engine, sessions.Q_SESSION, params)[0].ended_at is None
    sessions.logout(demo, issued.token)
    assert prepared.fetch_alone(demo.engine, sessions.Q_SESSION, params)[0].ended_at is not None


def test_a_broken_kept_connection_is_replaced(demo: Store) -> None:
    """PostgreSQL: a dropped connection (the server restarted) is replaced within the lookup.
    SQLite has no server to drop it; a connection closed under it fails that lookup only."""
    params = {"digest": "none"}
    assert prepared.fetch_alone(demo.engine, sessions.Q_SESSION, params) == []
    lone = prepared._lone(demo.engine)
    broken = lone.free[0]
    broken.close()  # as if the database had dropped it
    if demo.engine.dialect.name == "sqlite":
        with pytest.raises(sqlite3.ProgrammingError):
            prepared.fetch_alone(demo.engine, sessions.Q_SESSION, params)
        assert lone.free == []  # not kept
    assert prepared.fetch_alone(demo.engine, sessions.Q_SESSION, params) == []
    assert len(lone.free) == 1
    assert lone.free[0] is not broken


def test_disposing_the_engine_closes_the_kept_connections(demo: Store) -> None:
    assert prepared.fetch_alone(demo.engine, sessions.Q_SESSION, {"digest": "none"}) == []
    lone = prepared._lone(demo.engine)
    driver = lone.free[0]
    demo.engine.dispose()
    assert lone.closed
    assert lone.free == []
    if demo.engine.dialect.name == "sqlite":
        with pytest.raises(sqlite3.ProgrammingError):
            driver.execute("SELECT 1")
    else:
        assert driver.closed


def test_a_prepared_write_stores_what_sqlalchemy_stores(store: Store) -> None:
    """``write`` (the audit chain's appends): an INSERT and an UPDATE with bytes, str, int and
    None values leave the rows SQLAlchemy's own statements leave, in the same transaction."""
    from safeshare.store.audit_log import Q_INSERT_EVENT, Q_MOVE_HEAD  # noqa: PLC0415

    events, head = Q_INSERT_EVENT.table, Q_MOVE_HEAD.table
    row = {
        "body": b"{}",
        "prev_hash": bytes(32),
        "hash": b"\x01" * 32,
        "object_type": "case",
        "object_id": "c-1",
        "subject_id": None,
    }
    with store.transaction() as session:
        start = int(session.execute(select(head.c.seq)).scalar_one())
        prepared.write(session, Q_INSERT_EVENT, {**row, "seq": start + 1})
        session.connection().execute(Q_INSERT_EVENT, {**row, "seq": start + 2})
        prepared.write(session, Q_MOVE_HEAD, {"new_seq": start + 2, "new_hash": b"\x02" * 32})
        seen = session.execute(
            select(events).where(events.c.seq > start).order_by(events.c.seq)
        ).all()
        assert [tuple(r)[1:] for r in seen[:1]] == [tuple(r)[1:] for r in seen[1:]]
        assert [type(v) for v in seen[0]] == [type(v) for v in seen[1]]
        assert seen[0].body == b"{}"
        moved = session.execute(select(head.c.seq, head.c.hash)).one()
        assert (moved.seq, bytes(moved.hash)) == (start + 2, b"\x02" * 32)
        session.rollback()  # a test: the chain is left as it was


def test_a_write_its_types_convert_goes_through_sqlalchemy(store: Store) -> None:
    """A value that is not plain (a date) is never put on the cursor as it is."""
    cases = CaseRow.__table__
    update = (
        cases.update().where(cases.c.id == bindparam("case")).values(closed_on=bindparam("closed"))
    )
    with store.transaction() as session:
        prepared.write(session, update, {"case": "none", "closed": date(2026, 1, 1)})
        assert (update, store.engine.dialect.name, ("case", "closed")) not in prepared._WRITES
