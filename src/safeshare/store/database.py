"""Engines and sessions. Built by :func:`safeshare.bootstrap.bootstrap`, never at import.

SQLite: every connection gets WAL, foreign keys, a busy timeout and ``synchronous=FULL``, and
every writing transaction starts with ``BEGIN IMMEDIATE`` so that writers are serialised from the
start (the audit chain cannot fork and no transaction fails late on a lock upgrade). Sessions of
:func:`read_session_factory` begin with a plain (deferred) ``BEGIN``: a read holds no lock, sees
one snapshot (WAL) and runs beside the writer.
PostgreSQL: the audit appender locks the single chain-head row (``SELECT ... FOR UPDATE``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=FULL",
)


POOL: dict[str, Any] = {"pool_size": 8, "max_overflow": 32}
"""Connections kept open per server process: requests run in a thread pool of up to 40
threads, and a connection opened and closed per request (SQLAlchemy's default keeps 5) costs
more than the query it serves."""
READ_ONLY = "safeshare_read_only"  # an execution option: this session only reads
ENDS_READS_WITH_COMMIT = frozenset({"postgresql"})
"""Databases on which a reading session ends with ``COMMIT`` rather than ``ROLLBACK``. The
two are the same for a transaction the server keeps read-only, but psycopg forgets every
prepared statement of the connection at a ``ROLLBACK`` (and sends ``DEALLOCATE ALL``): a
server whose reads all rolled back would parse and plan each of its statements anew on
every request. On SQLite a reading transaction is not read-only, so it is rolled back."""


class UnsupportedDatabaseError(ValueError):
    """Only SQLite and PostgreSQL (psycopg 3) are supported."""


def make_engine(url: str, *, busy_timeout_ms: int = 10_000, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **{**POOL, **kwargs})
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(parsed, **{**POOL, **kwargs})
        _ping_when_idle(engine)
        return engine
    raise UnsupportedDatabaseError(f"unsupported database {backend!r}: use sqlite or postgresql")


PING_AFTER_IDLE_S = 10.0
"""A pooled PostgreSQL connection idle this long is pinged before it is handed out (a server
restart or a dropped link then costs a reconnect, not a failed request). One used more
recently is handed out as it is: under load that saves a round trip on every checkout, and
a connection that broke meanwhile fails its request, after which SQLAlchemy replaces every
pooled connection."""
IDLE_SINCE = "safeshare_idle_since"


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, only for connections idle over
    :data:`PING_AFTER_IDLE_S` (the pool's own ping runs on every checkout)."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(IDLE_SINCE)
        if since is not None and time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error:
            alive = False
        if not alive:
            raise exc.DisconnectionError("the pooled connection is gone")  # the pool retries


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module: we emit BEGIN IMMEDIATE ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(
            "BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE"
        )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def statement_session_factory(engine: Engine) -> sessionmaker[Session] | None:
    """On PostgreSQL, sessions whose every statement commits by itself (``AUTOCOMMIT``: no
    ``BEGIN``, no ``COMMIT``, each a round trip of its own), for a write that is one
    statement: the audit events of a read, appended by one statement
    (:data:`safeshare.store.audit_append.PG_APPEND_SQL`). None on another database."""
    if engine.dialect.name != "postgresql":
        return None
    return sessionmaker(
        bind=engine.execution_options(isolation_level="AUTOCOMMIT"),
        expire_on_commit=False,
        autoflush=False,
    )


def read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that only read, each on one snapshot: on SQLite a deferred transaction that
    takes no write lock (see the module's note), on PostgreSQL ``REPEATABLE READ READ ONLY``
    (a transaction that only reads never fails there for it, and the server refuses any
    write in it, so that :meth:`~safeshare.store.unit.Store.reading` may end it with
    ``COMMIT``: see :data:`ENDS_READS_WITH_COMMIT`)."""
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
        options["postgresql_readonly"] = True
    return sessionmaker(
        bind=engine.execution_options(**options),
        expire_on_commit=False,
        autoflush=False,
    )
