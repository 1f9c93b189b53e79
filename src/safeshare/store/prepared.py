"""Prepared reads: a Core ``SELECT`` compiled once per database and shape (how many ids each
``IN`` list holds), then run straight on the session connection's DBAPI cursor.

A decision is made on every read of personal data, so the dozen indexed reads that load a
person's world are the hot path of the server. Going through SQLAlchemy's execution for each
one (cache key, expanding ``IN`` lists, events, result objects) costs several times the query
itself. Here the statement text and the order of its parameters are worked out once, with
SQLAlchemy's own compiler (:meth:`~sqlalchemy.sql.compiler.SQLCompiler.construct_expanded_state`),
and each column's value is converted by the column type's own result processor for the
database (dates on SQLite, for instance), so that a row read here equals the row SQLAlchemy
would give (``tests/store/test_store_prepared.py`` compares them, on SQLite and PostgreSQL).

Only reads whose parameters are ``str``, ``int`` or ``None``, bound where the column's type
leaves the value as it is (an id, a count), take this path; any other statement or value (a
date, a JSON column) goes through SQLAlchemy as usual. The statement runs in the session's
transaction: the same snapshot, the same connection.

:func:`fetch_alone` runs a lone lookup (the session token of every request) outside any
session, on a connection the module keeps for it in autocommit (no pool checkout, no
``BEGIN``, no rollback, no ping: on PostgreSQL each of those is a round trip). The kept
connections are closed when their engine is disposed (``Store.dispose``).
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Insert, Select, Update, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from safeshare.store.database import READ_ONLY

Converter = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Slot:
    """Where one DBAPI parameter comes from: ``params[name]`` or ``params[name][index]``,
    or a constant the statement carries (a ``LIMIT``)."""

    name: str | None
    index: int | None = None
    constant: Any = None


class _Marker:
    """A stand-in value, to learn which DBAPI parameter each given value becomes."""

    __slots__ = ("index", "name")

    def __init__(self, name: str, index: int | None) -> None:
        self.name, self.index = name, index


@dataclass
class _Plan:
    sql: str
    slots: Sequence[tuple[str, _Slot]]  # (DBAPI parameter name, where its value comes from)
    positional: bool
    row: Any  # a named tuple type: the selected columns' keys
    columns: Sequence[Any]  # the selected columns' types
    converters: list[Converter] | None = None  # known after the first run (type codes)


_PLANS: dict[tuple[Select[Any], str, tuple[tuple[str, int], ...]], _Plan] = {}
_UNSUPPORTED: set[Select[Any]] = set()  # could not be prepared: SQLAlchemy runs them
MAX_PLANS = 2000
"""Plans kept (per statement, database and shape): the statements are the modules' own
constants, so this is reached only by ``IN`` lists of many different lengths; past it a read
goes through SQLAlchemy."""
_PLAIN = (str, int, type(None))


def _shape(params: Mapping[str, Any]) -> tuple[tuple[str, int], ...] | None:
    """Each parameter's name and list length (-1 for a single value), or None when a value
    is not plain (``str``, ``int``, ``None``)."""
    shape = []
    for name, value in sorted(params.items()):
        if isinstance(value, list | tuple):
            if not all(isinstance(v, _PLAIN) for v in value):
                return None
            shape.append((name, len(value)))
        elif isinstance(value, _PLAIN) and not isinstance(value, bool):
            shape.append((name, -1))
        else:
            return None
    return tuple(shape)


def _slots(expanded: Any) -> list[tuple[str, _Slot]]:
    """Each DBAPI parameter of an expanded statement (its ``ExpandedState``), in order, and
    where its value comes from: a given value (a marker) or one the statement carries."""
    slots = []
    for bound in expanded.positiontup or list(expanded.parameters):
        value = expanded.parameters[bound]
        if isinstance(value, _Marker):
            slots.append((bound, _Slot(value.name, value.index)))
        else:  # a constant of the statement (a LIMIT, a WHERE on a fixed id)
            slots.append((bound, _Slot(None, None, value)))
    return slots


def _plan_for(dialect: Dialect, query: Select[Any], params: Mapping[str, Any]) -> _Plan:
    markers = {
        name: [_Marker(name, i) for i in range(len(value))]
        if isinstance(value, list | tuple)
        else _Marker(name, None)
        for name, value in params.items()
    }
    compiled = query.compile(dialect=dialect)
    for bind in compiled.binds.values():
        if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
            # The column's type changes the value on the way in (JSON, an enum, a date):
            # only SQLAlchemy knows how, so the statement goes through it.
            raise TypeError(f"parameter {bind.key!r} is converted by its type")
    expanded = compiled.construct_expanded_state(markers)
    slots = _slots(expanded)
    keys = [str(c.key) for c in query.selected_columns]
    row = namedtuple("PreparedRow", keys)  # type: ignore[misc]  # a row type made at run time
    return _Plan(
        sql=expanded.statement,
        slots=slots,
        positional=expanded.positiontup is not None,
        row=row,
        columns=[c.type for c in query.selected_columns],
    )


def _arguments(plan: _Plan, params: Mapping[str, Any]) -> Any:
    def value_of(slot: _Slot) -> Any:
        if slot.name is None:
            return slot.constant
        given = params[slot.name]
        return given if slot.index is None else given[slot.index]

    if plan.positional:
        return tuple(value_of(slot) for _, slot in plan.slots)
    return {bound: value_of(slot) for bound, slot in plan.slots}


def _converters(plan: _Plan, dialect: Dialect, description: Any) -> list[Converter]:
    return [
        type_.dialect_impl(dialect).result_processor(dialect, column[1])
        for type_, column in zip(plan.columns, description, strict=True)
    ]


def _plan_of(dialect: Dialect, query: Select[Any], given: Mapping[str, Any]) -> _Plan | None:
    """The kept plan for this statement and shape, or None: SQLAlchemy runs it."""
    shape = _shape(given)
    if shape is None or query in _UNSUPPORTED:
        return None
    key = (query, dialect.name, shape)
    plan = _PLANS.get(key)
    if plan is None:
        if len(_PLANS) >= MAX_PLANS:
            return None
        try:
            plan = _plan_for(dialect, query, given)
        except (TypeError, ValueError, AttributeError):
            _UNSUPPORTED.add(query)
            return None
        _PLANS[key] = plan
    return plan


def _run(plan: _Plan, dialect: Dialect, driver: Any, given: Mapping[str, Any]) -> list[Any]:
    cursor = driver.cursor()
    try:
        cursor.execute(plan.sql, _arguments(plan, given))
        fetched = cursor.fetchall()
        return _made(plan, dialect, cursor.description, fetched)
    finally:
        cursor.close()


def _made(plan: _Plan, dialect: Dialect, description: Any, fetched: list[Any]) -> list[Any]:
    """The rows as :func:`fetch` gives them: named, each value converted by its column type."""
    if plan.converters is None:
        plan.converters = _converters(plan, dialect, description)
    converters, make = plan.converters, plan.row._make
    if not any(converters):
        return [make(r) for r in fetched]
    return [
        make([v if f is None else f(v) for f, v in zip(converters, r, strict=True)])
        for r in fetched
    ]


def fetch(
    session: Session, query: Select[Any], params: Mapping[str, Any] | None = None
) -> list[Any]:
    """Every row of ``query`` with these bind values, in the session's transaction. Rows are
    named tuples (``row.id``, ``row[0]``). ``query`` is a statement built once (a module's
    constant), never one built per call: its plan is kept."""
    given = params or {}
    conn = session.connection()
    plan = _plan_of(conn.dialect, query, given)
    driver = conn.connection.driver_connection
    if plan is None or driver is None:
        return list(conn.execute(query, dict(given)).all())
    return _run(plan, conn.dialect, driver, given)


def postgresql_plan(
    session: Session, query: Select[Any], params: Mapping[str, Any]
) -> tuple[str, dict[str, Any], tuple[str, ...]] | None:
    """The statement text :func:`fetch` would send for ``query`` with these values on this
    session's PostgreSQL connection, its named parameters and the selected columns' keys
    (for a caller that folds several reads into one statement); None elsewhere or when the
    read has no plan."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return None
    plan = _plan_of(conn.dialect, query, params)
    if plan is None or plan.positional:
        return None
    return plan.sql, dict(_arguments(plan, params)), tuple(plan.row._fields)


def postgresql_row(
    session: Session, sql: str, params: Mapping[str, Any] | None = None
) -> tuple[Any, ...] | None:
    """The first row of a fixed PostgreSQL statement (a module's constant, values bound), run
    on the session connection's cursor in its transaction, values as psycopg gives them (JSON
    parsed); None on another database, where the caller reads another way."""
    conn = session.connection()
    driver = conn.connection.driver_connection
    if conn.dialect.name != "postgresql" or driver is None:
        return None
    cursor = driver.cursor()
    try:
        cursor.execute(sql, dict(params or {}))
        row = cursor.fetchone()
    finally:
        cursor.close()
    return None if row is None else tuple(row)


_WRITES: dict[tuple[Any, str, tuple[str, ...]], _Plan | None] = {}
_WRITE_VALUES = (str, int, bytes, type(None))


def _write_plan(
    dialect: Dialect, statement: Insert | Update, names: tuple[str, ...]
) -> _Plan | None:
    """The plan of ``statement`` given values for ``names``, or None when a bind's type
    would convert its value (then SQLAlchemy runs it)."""
    key = (statement, dialect.name, names)
    if key in _WRITES:
        return _WRITES[key]
    if len(_WRITES) >= MAX_PLANS:
        return None
    compiled = statement.compile(dialect=dialect, column_keys=list(names))
    plan: _Plan | None = None
    if all(
        b.type.dialect_impl(dialect).bind_processor(dialect) is None
        for b in compiled.binds.values()
    ):
        expanded = compiled.construct_expanded_state({n: _Marker(n, None) for n in names})
        plan = _Plan(
            sql=expanded.statement,
            slots=_slots(expanded),
            positional=expanded.positiontup is not None,
            row=None,
            columns=[],
        )
    _WRITES[key] = plan
    return plan


def postgresql_write(
    session: Session, statement: Insert | Update, params: Mapping[str, Any]
) -> tuple[str, dict[str, Any]] | None:
    """The text and named values of a write built once (a module's constant) for this
    session's PostgreSQL connection, for a caller that makes it a part of a larger
    statement; None elsewhere, or when a bind's type would convert its value."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return None
    plan = _write_plan(conn.dialect, statement, tuple(sorted(params)))
    if plan is None or plan.positional:
        return None
    return plan.sql, dict(_arguments(plan, params))


def write(session: Session, statement: Insert | Update, params: Mapping[str, Any]) -> None:
    """Runs an ``INSERT`` or ``UPDATE`` built once (a module's constant) with these values, in
    the session's transaction, straight on the connection's cursor (compiled once per
    database and set of names). Values must be ``str``, ``int``, ``bytes`` or ``None`` for
    column types that leave them as they are; anything else goes through SQLAlchemy. For the
    audit chain's appends, made on every request."""
    conn = session.connection()
    plain = all(isinstance(v, _WRITE_VALUES) and not isinstance(v, bool) for v in params.values())
    plan = _write_plan(conn.dialect, statement, tuple(sorted(params))) if plain else None
    driver = conn.connection.driver_connection
    if plan is None or driver is None:
        conn.execute(statement, dict(params))
        return
    cursor = driver.cursor()
    try:
        cursor.execute(plan.sql, _arguments(plan, params))
    finally:
        cursor.close()


class _LoneConnections:
    """Connections of one engine kept for :func:`fetch_alone`: taken from the engine once (its
    connect-time settings applied) and detached from its pool, in autocommit, each statement
    its own transaction. A lookup takes one from the free list and puts it back: no pool
    checkout, no ``BEGIN``, no rollback on return and, on PostgreSQL, no ping (each of which
    is a round trip to the server). Closed when the engine is disposed."""

    def __init__(self) -> None:
        self.free: list[Any] = []
        self.lock = threading.Lock()
        self.closed = False

    def take(self, engine: Engine) -> Any:
        with self.lock:
            if self.free:
                return self.free.pop()
        fairy = engine.raw_connection()
        driver = fairy.driver_connection
        fairy.detach()  # ours until closed: never returned to the engine's pool
        if engine.dialect.name == "postgresql":
            driver.autocommit = True  # type: ignore[union-attr]  # psycopg's connection
        return driver

    def give_back(self, driver: Any) -> None:
        with self.lock:
            if not self.closed and len(self.free) < LONE_KEPT:
                self.free.append(driver)
                return
        driver.close()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            kept, self.free = self.free, []
        for driver in kept:
            with contextlib.suppress(Exception):  # closing: a dead connection is gone anyway
                driver.close()


LONE_KEPT = 8  # per engine: the threads that look up at once, at most
_LONE: weakref.WeakKeyDictionary[Engine, _LoneConnections] = weakref.WeakKeyDictionary()
_LONE_LOCK = threading.Lock()


def _lone(engine: Engine) -> _LoneConnections:
    """The engine's kept connections (made at its first lookup; gone with the engine)."""
    found = _LONE.get(engine)
    if found is not None:
        return found
    with _LONE_LOCK:
        found = _LONE.get(engine)
        if found is None:
            found = _LONE[engine] = _LoneConnections()
            event.listen(engine, "engine_disposed", _disposed)
        return found


def _disposed(engine: Engine) -> None:
    """Closes the engine's kept connections; an engine used again after ``dispose()`` (as
    SQLAlchemy allows) keeps new ones."""
    with _LONE_LOCK:
        kept = _LONE.pop(engine, None)
    if kept is not None:
        kept.close()


def fetch_alone(
    engine: Engine, query: Select[Any], params: Mapping[str, Any] | None = None
) -> list[Any]:
    """:func:`fetch` for ONE statement that needs no transaction of its own (a single
    ``SELECT`` sees one state of the store anyway), on a kept autocommit connection
    (:class:`_LoneConnections`). For a lookup on every request (a session token). A
    connection that fails (the database restarted) is dropped and the lookup tried once more
    on a new one."""
    given = params or {}
    plan = _plan_of(engine.dialect, query, given)
    if plan is None:
        with engine.connect() as conn:
            return list(
                conn.execution_options(**{READ_ONLY: True}).execute(query, dict(given)).all()
            )
    lone = _lone(engine)
    for attempt in (1, 2):
        driver = lone.take(engine)
        try:
            rows = _run(plan, engine.dialect, driver, given)
        except engine.dialect.loaded_dbapi.OperationalError:
            with contextlib.suppress(Exception):
                driver.close()
            if attempt == 2:
                raise
            continue
        except BaseException:
            driver.close()  # in an unknown state: not kept
            raise
        lone.give_back(driver)
        return rows
    raise AssertionError("unreachable")  # pragma: no cover
