"""Reading sessions take no write lock on SQLite (a plain deferred BEGIN under WAL): a read
runs beside the writer and keeps its snapshot; writing transactions still begin with
BEGIN IMMEDIATE, and ``snapshot()`` holds the write lock (for audit verification)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import bindparam, func, select, update

from safeshare.core.vocabulary import OrgKind
from safeshare.core.world import Organisation
from safeshare.services.registry import upsert_organisation
from safeshare.store.models import OrganisationRow
from safeshare.store.unit import Store


def _count(store: Store) -> int:
    with store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(OrganisationRow)) or 0)


def _add(store: Store, org_id: str) -> None:
    with store.transaction() as session:
        upsert_organisation(session, Organisation(id=org_id, kind=OrgKind.PARTNER))


def test_a_read_does_not_block_a_writer_and_keeps_its_snapshot(store: Store) -> None:
    before = _count(store)
    with store.reading() as session:
        seen = session.scalar(select(func.count()).select_from(OrganisationRow))
        started = time.perf_counter()
        _add(store, "ngo-new")  # would wait for the busy timeout if the read held the lock
        assert time.perf_counter() - started < 2
        again = session.scalar(select(func.count()).select_from(OrganisationRow))
        assert seen == again == before  # one snapshot for the whole read
    assert _count(store) == before + 1


def test_snapshot_holds_the_write_lock_on_sqlite(store: Store, backend: str) -> None:
    done = threading.Event()

    def writer() -> None:
        _add(store, "ngo-late")
        done.set()

    with store.snapshot() as session:
        before = session.scalar(select(func.count()).select_from(OrganisationRow))
        thread = threading.Thread(target=writer)
        thread.start()
        time.sleep(0.5)
        if backend == "sqlite":
            assert not done.is_set()  # the writer waits for the snapshot to end
            assert session.scalar(select(func.count()).select_from(OrganisationRow)) == before
    thread.join(timeout=30)
    assert done.is_set()
    assert _count(store) == (before or 0) + 1


def test_a_writing_session_keeps_its_world_reads_only_inside_stable_world(store: Store) -> None:
    from safeshare.store.reads import keeps_reads, rows, stable_world  # noqa: PLC0415

    _add(store, "ngo-kept")
    with store.transaction() as session:
        assert not keeps_reads(session)
        query = select(OrganisationRow.__table__).where(
            OrganisationRow.__table__.c.id.in_(bindparam("ids", expanding=True))
        )
        with stable_world(session):
            assert keeps_reads(session)
            seen = rows(session, query, ["ngo-kept"])
            session.execute(
                update(OrganisationRow).where(OrganisationRow.id == "ngo-kept").values(name="X")
            )
            kept = rows(session, query, ["ngo-kept"])  # kept: read before the (forbidden) write
            assert [r.name for r in kept] == [r.name for r in seen]
        assert not keeps_reads(session)
        fresh = rows(session, query, ["ngo-kept"])  # the block's reads are dropped
        assert [r.name for r in fresh] == ["X"]


def test_a_reading_session_never_saves_changes(store: Store, backend: str) -> None:
    """Unsaved ORM changes in a reading session fail the block on PostgreSQL (where it ends
    with COMMIT) and are rolled back on SQLite: neither backend writes them."""
    from safeshare.store.unit import ReadingSessionWriteError  # noqa: PLC0415

    before = _count(store)
    expected = (ReadingSessionWriteError,) if backend == "postgresql" else ()
    try:
        with store.reading() as session:
            session.add(OrganisationRow(id="ngo-sneaky", kind="partner", name="S"))
    except expected:
        pass
    assert _count(store) == before


def test_postgresql_refuses_a_write_in_a_reading_session(store: Store, backend: str) -> None:
    if backend != "postgresql":
        return  # SQLite's reading transaction is a plain deferred BEGIN, rolled back at the end
    from sqlalchemy.exc import InternalError  # noqa: PLC0415

    _add(store, "ngo-ro")
    with (
        pytest.raises(InternalError, match="read-only transaction"),
        store.reading() as session,
    ):
        session.execute(
            update(OrganisationRow).where(OrganisationRow.id == "ngo-ro").values(name="X")
        )
    with store.reading() as session:
        name = session.scalar(select(OrganisationRow.name).where(OrganisationRow.id == "ngo-ro"))
    assert name is not None
    assert name != "X"


def test_prepared_statements_outlive_reads_on_postgresql(store: Store, backend: str) -> None:
    """psycopg prepares a statement on the server after a few runs and forgets them all at a
    ROLLBACK: reads end with COMMIT on PostgreSQL so that the server keeps them."""
    from sqlalchemy import text  # noqa: PLC0415

    if backend != "postgresql":
        return
    from safeshare.store import prepared  # noqa: PLC0415

    query = select(OrganisationRow.__table__.c.id).where(
        OrganisationRow.__table__.c.id == bindparam("id")
    )
    store.engine.dispose()  # a fresh pool: used one read at a time, it opens one connection
    connections = set()
    for _ in range(8):
        with store.reading() as session:
            prepared.fetch(session, query, {"id": "ngo-none"})
            connections.add(id(session.connection().connection.driver_connection))
    with store.reading() as session:
        kept = session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
        on = id(session.connection().connection.driver_connection)
    assert connections == {on}  # one pooled connection served every read
    assert kept is not None
    assert kept >= 1
