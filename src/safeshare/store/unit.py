"""The unit of work: one store (engine, sessions, field cipher, audit signer). A service
function takes a :class:`Store` and owns its transaction: the change and its audit event
commit together or not at all.

A read of personal data or an evaluation changes nothing but the records of itself (its audit
events and decision records, append-only). :meth:`Store.recorded_read` runs it on a reading
session and writes those records in one short write transaction when it ends, before the
caller answers: on SQLite the write lock is then held for the appends only, not for the whole
decision. Shares, consent changes and every other change use :meth:`Store.transaction`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from safeshare.store import audit_append
from safeshare.store.audit_append import CheckpointSigner
from safeshare.store.database import ENDS_READS_WITH_COMMIT
from safeshare.store.fields import Sealer
from safeshare.store.writer_lock import WriterLock

PENDING_RECORDS = "safeshare.pending_records"
READ_ONLY_SESSION = audit_append.READ_ONLY_SESSION  # set on sessions of Store.reading()
T = TypeVar("T")


def record(
    session: Session, write: Callable[[Session], T], *, one_statement: bool = False
) -> T | None:
    """Runs an append-only ``write`` (an audit event, a decision record) in the session's
    transaction, or, in a :meth:`Store.recorded_read`, keeps it for the write transaction
    that ends the read (then None: its result is not known yet). ``one_statement``: the
    write appends audit events, and writes other rows only through
    :func:`~safeshare.store.audit_append.write_with_events` (see :meth:`Store.recorded_read`)."""
    pending: list[tuple[Callable[[Session], object], bool]] | None = session.info.get(
        PENDING_RECORDS
    )
    if pending is None:
        return write(session)
    pending.append((write, one_statement))
    return None


class ReadingSessionWriteError(RuntimeError):
    """A session of :meth:`Store.reading` was given changes to save: reads never write."""


@dataclass
class Store:
    engine: Engine
    sessions: sessionmaker[Session]
    sealer: Sealer
    signer: CheckpointSigner | None = None
    public_keys: Mapping[str, Any] = field(default_factory=dict)
    keyring: Any = None
    field_key_file: Any = None
    readers: sessionmaker[Session] | None = None
    statement_writers: sessionmaker[Session] | None = None  # PostgreSQL: AUTOCOMMIT sessions
    writer_lock: WriterLock | None = None  # SQLite files: writers queue without polling

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        queue = self.writer_lock.held() if self.writer_lock is not None else nullcontext()
        with queue, self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def recorded_read(self) -> Iterator[Session]:
        """A reading session whose records (see :func:`record`) are written in one write
        transaction when the block ends without error; nothing is written otherwise. On
        PostgreSQL, records that are one statement (audit events, and the rows that go with
        them: a case read's, an evaluation's) are written without a transaction around them:
        that statement commits by itself, all or nothing, and ``BEGIN`` and ``COMMIT`` would
        be two more round trips."""
        with self.reading() as session:
            pending: list[tuple[Callable[[Session], object], bool]] = []
            session.info[PENDING_RECORDS] = pending
            yield session
        if not pending:
            return
        alone = self.statement_writers is not None and all(only for _, only in pending)
        with self._statement_writer() if alone else self.transaction() as writer:
            for write, _only in pending:
                write(writer)

    @contextmanager
    def _statement_writer(self) -> Iterator[Session]:
        """A session of :attr:`statement_writers`: each statement its own transaction."""
        if self.statement_writers is None:  # only called when there are some
            raise RuntimeError("no statement writers on this database")
        with self.statement_writers() as session, session.begin():
            session.info[audit_append.STATEMENT_WRITER] = True
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads, ended without writing anything: rolled back, or on PostgreSQL,
        where its transaction is ``READ ONLY`` (the server refuses a write), committed when
        the block ends without error (see
        :data:`~safeshare.store.database.ENDS_READS_WITH_COMMIT`). On SQLite it holds no
        write lock: it sees one snapshot while writers go on."""
        readers = self.readers
        with (readers or self.sessions)() as session:
            session.info[READ_ONLY_SESSION] = True
            yield session
            if readers is not None and self.engine.dialect.name in ENDS_READS_WITH_COMMIT:
                if session.new or session.dirty or session.deleted:
                    raise ReadingSessionWriteError(
                        "a reading session holds unsaved changes: writes go through "
                        "Store.transaction()"
                    )
                session.commit()

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A reading session that holds the write lock on SQLite (``BEGIN IMMEDIATE``), so
        that another process opening the database meanwhile sees the same state (audit
        verification shares its work with a worker process this way)."""
        with self.sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self.writer_lock is not None:
            self.writer_lock.close()
