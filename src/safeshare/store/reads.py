"""Reads on one snapshot, kept for the rest of a reading session.

A reading session (:meth:`safeshare.store.unit.Store.reading`) sees one snapshot and writes
nothing, so the same query with the same ids must give the same rows: a request that decides
twice about one person (an access check, then the share) reads each of her rows once. A
writing session keeps what it reads only inside :func:`stable_world`, a block in which it
writes nothing the world is loaded from.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from safeshare.store.prepared import fetch
from safeshare.store.unit import READ_ONLY_SESSION

CHUNK = 500  # ids per IN list
ROWS_SEEN = "safeshare.rows_seen"
WORLD_REFERENCE = "safeshare.world_reference"  # the organisations
OPERATION_ELEMENTS = "safeshare.operation_elements"  # the operation's own data elements
CURRENT_PROTOCOL = "safeshare.current_protocol"
STABLE_WORLD = "safeshare.stable_world"
KEPT = (ROWS_SEEN, WORLD_REFERENCE, OPERATION_ELEMENTS, CURRENT_PROTOCOL)
"""What a session keeps while it keeps its reads (rows; organisations; data elements; the
current protocol)."""


def keeps_reads(session: Session) -> bool:
    """Whether what this session reads may be kept for its later reads: a reading session,
    or a writing one inside :func:`stable_world`."""
    return bool(session.info.get(READ_ONLY_SESSION) or session.info.get(STABLE_WORLD))


@contextmanager
def stable_world(session: Session) -> Iterator[Session]:
    """A block of a writing transaction that changes nothing the world is loaded from (the
    people, their cases, consents and assessments, staff, organisations, the protocol): only
    decisions, referrals, packets and audit events. Its world reads are kept meanwhile, so
    deciding twice about one person (her sender's access, then the share) reads her rows
    once; they are dropped when the block ends."""
    session.info[STABLE_WORLD] = True
    try:
        yield session
    finally:
        session.info.pop(STABLE_WORLD, None)
        for key in KEPT:
            session.info.pop(key, None)


def _chunks(ids: Iterable[str], size: int = CHUNK) -> Iterable[list[str]]:
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), size):
        yield ordered[i : i + size]


def _key(query: Any, ids: Collection[str], params: dict[str, Any]) -> Any:
    return (id(query), frozenset(ids), tuple(sorted((k, tuple(v)) for k, v in params.items())))


def remember(
    session: Session, query: Any, ids: Collection[str], found: Iterable[Any], **params: Any
) -> None:
    """Keeps ``found`` as what :func:`rows` would read for ``query`` with these ids, in a
    session that keeps its reads (otherwise nothing): for rows already read by a wider query
    on the same snapshot (a person's cases, read by person, are each case's row by id)."""
    if keeps_reads(session):
        seen: dict[Any, list[Any]] = session.info.setdefault(ROWS_SEEN, {})
        seen[_key(query, ids, params)] = list(found)


def is_kept(session: Session, query: Any, ids: Collection[str], **params: Any) -> bool:
    """Whether :func:`rows` would answer this read from what the session kept."""
    seen: dict[Any, list[Any]] = session.info.get(ROWS_SEEN, {})
    return _key(query, ids, params) in seen


def rows(session: Session, query: Any, ids: Collection[str], **params: Any) -> list[Any]:
    """Every row of ``query`` for these ids, ``CHUNK`` ids at a time. A reading session (one
    snapshot, no writes) keeps what it read: a request deciding twice about one person (the
    access check, then the share) reads her rows once."""
    out: list[Any] = []
    if not ids:
        return out
    seen: dict[Any, list[Any]] | None = None
    key: Any = None
    if keeps_reads(session):
        seen = session.info.setdefault(ROWS_SEEN, {})
        key = _key(query, ids, params)
        if key in seen:
            return list(seen[key])  # a copy: callers may extend what they get
    for chunk in _chunks(ids):
        out += fetch(session, query, {"ids": chunk, **params})
    if seen is not None:
        seen[key] = list(out)
    return out
