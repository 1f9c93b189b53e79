"""Reads on one snapshot, kept for the rest of a reading session.

A reading session (:meth:`safeshare.store.unit.Store.reading`) sees one snapshot and writes
nothing, so the same query with the same ids must give the same rows: a request that decides
twice about one person (an access check, then the share) reads each of her rows once. Writing
sessions are never served from what was kept.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy.orm import Session

from safeshare.store.prepared import fetch
from safeshare.store.unit import READ_ONLY_SESSION

CHUNK = 500  # ids per IN list
ROWS_SEEN = "safeshare.rows_seen"


def _chunks(ids: Iterable[str], size: int = CHUNK) -> Iterable[list[str]]:
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), size):
        yield ordered[i : i + size]


def rows(session: Session, query: Any, ids: Collection[str], **params: Any) -> list[Any]:
    """Every row of ``query`` for these ids, ``CHUNK`` ids at a time. A reading session (one
    snapshot, no writes) keeps what it read: a request deciding twice about one person (the
    access check, then the share) reads her rows once."""
    out: list[Any] = []
    if not ids:
        return out
    seen: dict[Any, list[Any]] | None = None
    key: Any = None
    if session.info.get(READ_ONLY_SESSION):
        seen = session.info.setdefault(ROWS_SEEN, {})
        key = (id(query), frozenset(ids), tuple(sorted((k, tuple(v)) for k, v in params.items())))
        if key in seen:
            return list(seen[key])  # a copy: callers may extend what they get
    for chunk in _chunks(ids):
        out += fetch(session, query, {"ids": chunk, **params})
    if seen is not None:
        seen[key] = list(out)
    return out
