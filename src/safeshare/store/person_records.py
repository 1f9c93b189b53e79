"""A person's records for a share's decision — her categories, her row, her assessments and
her consent ledger — read in ONE statement on PostgreSQL.

The world loader reads each with a prepared read of its own (:mod:`safeshare.store.reads`):
four round trips on PostgreSQL, where each statement is also a share of the server's CPU. In
a session that keeps its reads (one snapshot), :func:`prefetch` reads the four together, each
table's rows aggregated to JSON by the server, decodes each column by its type as the
driver would (dates, times, bytes), and keeps the rows under the keys the separate reads use,
so that those reads find them kept. ``tests/store/test_store_person_records.py`` checks that
the rows equal the separate reads' rows: values, types and names.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from safeshare.store.read_ahead import Ahead, column_decoder, read_alone
from safeshare.store.reads import CHUNK, is_kept, keeps_reads, remember


@dataclass(frozen=True)
class Part:
    """One of the reads folded into the statement: its query (a ``select`` of one table's
    columns filtered by ``IN :ids`` on ``by``), and how its rows come back."""

    query: Select[Any]
    by: str
    order: str | None = None

    @property
    def columns(self) -> list[Any]:
        return list(self.query.selected_columns)

    def sql(self) -> str:
        table = self.columns[0].table.name
        cells = ", ".join(f't."{c.name}"' for c in self.columns)
        order = f' ORDER BY t."{self.order}"' if self.order else ""
        # Names from the models' own metadata (module constants); the ids are bound.
        return (
            f"(SELECT coalesce(json_agg(json_build_array({cells}){order}), '[]') "  # noqa: S608
            f'FROM {table} t WHERE t."{self.by}" = ANY(%(ids)s))'
        )

    @cached_property
    def _shape(self) -> tuple[Any, list[Callable[[Any], Any] | None]]:
        """The row type (named as the query's columns) and each column's decoder, made once."""
        make = namedtuple("PreparedRow", [str(c.key) for c in self.columns])  # type: ignore[misc]
        return make, [column_decoder(c) for c in self.columns]

    def rows(self, found: list[list[Any]]) -> list[Any]:
        make, decoders = self._shape
        return [
            make(*[v if d is None or v is None else d(v) for d, v in zip(decoders, r, strict=True)])
            for r in found
        ]


class PersonRecords:
    """One statement for several reads of a person's rows (the world loader's
    ``PERSON_RECORDS``)."""

    def __init__(self, parts: tuple[Part, ...]) -> None:
        self.parts = parts
        self.sql = "SELECT " + ",\n       ".join(p.sql() for p in parts)

    def prefetch(self, session: Session, subject_ids: Collection[str]) -> bool:
        """On PostgreSQL, in a session that keeps its reads: reads the parts for these
        persons in one statement and keeps each part's rows as its own read would (then
        True). Nothing for an empty set, more persons than one read takes at a time
        (``CHUNK``), rows already kept, or another database."""
        return read_alone(session, self.ahead(session, subject_ids))

    def ahead(self, session: Session, subject_ids: Collection[str]) -> Ahead | None:
        """:meth:`prefetch` as a read to make ahead with others
        (:func:`safeshare.store.read_ahead.read_ahead`); None where it would read nothing."""
        ids = sorted(set(subject_ids))
        if not ids or len(ids) > CHUNK or not keeps_reads(session):
            return None
        if any(is_kept(session, p.query, ids) for p in self.parts):
            return None
        return Ahead(
            self.sql,
            {"ids": ids},
            lambda found: self._keep(session, ids, found[0]),
            columns=len(self.parts),
        )

    def _keep(self, session: Session, ids: list[str], found: Sequence[Any]) -> None:
        for part, value in zip(self.parts, found, strict=True):
            remember(session, part.query, ids, part.rows(value))
