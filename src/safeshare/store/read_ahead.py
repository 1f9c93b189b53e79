"""Reads made ahead, as ONE statement: the reads a request is about to make, folded into a
single PostgreSQL statement and kept as each read would keep its rows
(:mod:`safeshare.store.reads`).

A case read or an evaluation reads a handful of small things it knows from the start (the
case or the person, the staff member, her recorded needs, the reference data). One by one,
each is a statement: its round trip, its wait on both sides of the socket and its share of
the driver's and the server's CPU. Made ahead with :func:`read_ahead`, each read is a
subquery of one statement, its rows aggregated to JSON by the server and decoded by column
type as the driver would decode them (dates, times, bytes); the code that reads them
afterwards is unchanged and finds them kept. The subqueries are the very statements the
separate reads send (:func:`safeshare.store.prepared.postgresql_plan`), so the rows are the
same rows (``tests/store/test_store_read_ahead.py`` compares them: values, types and names).
Nothing is read ahead on SQLite (in process: a read costs no round trip), in a session that
does not keep its reads, or for a read with a column of another type."""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Integer, LargeBinary, Select, String
from sqlalchemy.orm import Session

from safeshare.store.prepared import postgresql_plan, postgresql_row
from safeshare.store.reads import CHUNK, is_kept, keeps_reads, remember


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:])  # PostgreSQL's JSON of bytea: "\\x" and hex digits


def column_decoder(column: Any) -> Callable[[Any], Any] | None:
    """How a column's value comes back from PostgreSQL's JSON: dates and times as ISO text,
    bytes as hex; text, numbers and booleans as JSON's own (None)."""
    kind = column.type
    if isinstance(kind, DateTime):
        return datetime.fromisoformat
    if isinstance(kind, Date):
        return date.fromisoformat
    if isinstance(kind, LargeBinary):
        return _bytes
    return None


_AS_JSON = (String, Integer, Boolean, Date, DateTime, LargeBinary)
"""The column types whose JSON :func:`column_decoder` turns back into the driver's values."""
_PARAMETER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Ahead:
    """One read to make ahead: a module's constant ``select`` and its values (its rows
    given to ``keep`` as :func:`safeshare.store.prepared.fetch` would give them), or a fixed
    statement's text returning one row of ``columns`` JSON values (``keep`` gets that row)."""

    statement: Select[Any] | str
    params: Mapping[str, Any]
    keep: Callable[[list[Any]], None]
    columns: int = 1


def rows_ahead(session: Session, query: Any, ids: Collection[str], **params: Any) -> Ahead | None:
    """The read ``reads.rows(session, query, ids, **params)`` would make, to make ahead; None
    when its rows are kept already (or it would take more than one statement)."""
    wanted = sorted(set(ids))
    if not wanted or len(wanted) > CHUNK or is_kept(session, query, wanted, **params):
        return None

    def keep(found: list[Any]) -> None:
        remember(session, query, wanted, found, **params)

    return Ahead(query, {"ids": wanted, **params}, keep)


@dataclass(frozen=True)
class _Folded:
    """One read as a part of the statement: its text (parameters renamed), how its values
    are named, how its rows are decoded, and how many of the statement's columns it takes."""

    sql: str
    decode: Callable[[list[Any]], list[Any]]
    width: int


_FOLDED: dict[tuple[Any, ...], _Folded | None] = {}
MAX_FOLDED = 500  # parts kept (per read, position and shape of its values)


def _shape(params: Mapping[str, Any]) -> tuple[tuple[str, int], ...]:
    return tuple(
        sorted((k, len(v) if isinstance(v, list | tuple) else -1) for k, v in params.items())
    )


def _part(
    n: int, ahead: Ahead, plan: tuple[str, dict[str, Any], tuple[str, ...]] | None
) -> _Folded | None:
    """The part for this read at position ``n``, made once per read and shape of values."""
    key = (n, ahead.statement, _shape(ahead.params))
    if key in _FOLDED:
        return _FOLDED[key]
    made = _make_part(n, ahead, plan)
    if len(_FOLDED) < MAX_FOLDED:
        _FOLDED[key] = made
    return made


def _make_part(
    n: int, ahead: Ahead, plan: tuple[str, dict[str, Any], tuple[str, ...]] | None
) -> _Folded | None:
    if isinstance(ahead.statement, str):
        sql = _PARAMETER.sub(lambda m: f"%(a{n}_{m.group(1)})s", ahead.statement)
        return _Folded(f"({sql}) AS a{n}", lambda row: [tuple(row)], ahead.columns)
    columns = list(ahead.statement.selected_columns)
    if plan is None or not all(isinstance(c.type, _AS_JSON) for c in columns):
        return None
    inner, _given, keys = plan
    sql = _PARAMETER.sub(lambda m: f"%(a{n}_{m.group(1)})s", inner)
    cells = ", ".join(f't."{k}"' for k in keys)
    make = namedtuple("PreparedRow", keys)  # type: ignore[misc]  # as prepared.fetch names them
    decoders = [column_decoder(c) for c in columns]

    def decode(row: list[Any]) -> list[Any]:
        return [
            make(*[v if d is None or v is None else d(v) for d, v in zip(decoders, r, strict=True)])
            for r in row[0]
        ]

    # The subquery is the read's own compiled statement, its keys the columns' (constants).
    wrapped = (
        f"(SELECT coalesce(json_agg(json_build_array({cells})), '[]') "  # noqa: S608
        f"FROM ({sql}) AS t) AS a{n}"
    )
    return _Folded(wrapped, decode, 1)


def read_ahead(session: Session, wanted: Iterable[Ahead | None]) -> bool:
    """Makes the reads ``wanted`` (None: nothing to read) in one statement and keeps their
    rows. True when it did; False on another database than PostgreSQL, in a session that
    does not keep its reads, with fewer than two reads to make, or when a read cannot be
    folded (then each is read when it is needed)."""
    if not keeps_reads(session) or session.get_bind().dialect.name != "postgresql":
        return False
    todo = [a for a in wanted if a is not None]
    if len(todo) < 2:
        return False
    parts: list[_Folded] = []
    params: dict[str, Any] = {}
    for n, ahead in enumerate(todo):
        if isinstance(ahead.statement, str):
            given: Mapping[str, Any] = ahead.params
            part = _part(n, ahead, None)
        else:
            plan = postgresql_plan(session, ahead.statement, ahead.params)
            if plan is None:
                return False
            given = plan[1]
            part = _part(n, ahead, plan)
        if part is None:
            return False
        parts.append(part)
        params.update({f"a{n}_{k}": v for k, v in given.items()})
    sql = "SELECT * FROM " + ", ".join(p.sql for p in parts)  # noqa: S608 - as above
    row = postgresql_row(session, sql, params)
    if row is None:
        return False
    at = 0
    for ahead, part in zip(todo, parts, strict=True):
        ahead.keep(part.decode(list(row[at : at + part.width])))
        at += part.width
    return True


def read_alone(session: Session, ahead: Ahead | None) -> bool:
    """One read of a fixed statement's text (``ahead``) made by itself, its row kept. True when
    it did; False for nothing to read, or on another database than PostgreSQL."""
    if ahead is None or not isinstance(ahead.statement, str):
        return False
    found = postgresql_row(session, ahead.statement, ahead.params)
    if found is None:
        return False
    ahead.keep([found])
    return True
