"""The operation's reference data — its organisations, its own data elements and the current
protocol version with its endorsers — read in ONE statement on PostgreSQL.

A decision reads all three, each with a statement of its own on SQLite (where a statement is a
function call). On PostgreSQL each statement is a round trip and a share of the server's CPU,
so a session that keeps its reads (one snapshot: see :mod:`safeshare.store.reads`) reads them
together, each table aggregated to JSON by the server, and keeps them under the same keys the
separate reads use (:data:`~safeshare.store.reads.WORLD_REFERENCE`,
:data:`~safeshare.store.reads.OPERATION_ELEMENTS`,
:data:`~safeshare.store.reads.CURRENT_PROTOCOL`). The values kept equal the separate reads'
(``tests/store/test_store_reference.py`` compares them).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from safeshare.core.vocabulary import Category
from safeshare.store import mapping
from safeshare.store.models import (
    DataElementRow,
    EndorsementRow,
    OrganisationRow,
    ProtocolVersionRow,
)
from safeshare.store.read_ahead import Ahead, read_alone
from safeshare.store.reads import (
    CURRENT_PROTOCOL,
    OPERATION_ELEMENTS,
    WORLD_REFERENCE,
    keeps_reads,
)

ORGANISATION_COLUMNS = ("id", "kind", "dp_assessment", "anonymity_only", "refoulement_risk", "name")
OrganisationValues = namedtuple("OrganisationValues", ORGANISATION_COLUMNS)  # type: ignore[misc]
CurrentRow = namedtuple("CurrentRow", ("id", "content_hash", "endorsed_by"))
TABLES = (
    OrganisationRow.__tablename__,
    DataElementRow.__tablename__,
    ProtocolVersionRow.__tablename__,
    EndorsementRow.__tablename__,
)  # the tables REFERENCE_SQL names (a test checks they are these)

REFERENCE_SQL = """
SELECT
  (SELECT coalesce(json_agg(json_build_array(o.id, o.kind, o.dp_assessment, o.anonymity_only,
                                             o.refoulement_risk, o.name) ORDER BY o.id), '[]')
     FROM organisations o),
  (SELECT coalesce(json_agg(json_build_array(e.id, e.category) ORDER BY e.id), '[]')
     FROM data_elements e),
  (SELECT coalesce(json_agg(json_build_array(h.id, h.content_hash, pe.endorsed_by)
                            ORDER BY pe.endorsed_at, pe.id), '[]')
     FROM (SELECT id, content_hash FROM protocol_versions ORDER BY seq DESC LIMIT 1) h
     LEFT OUTER JOIN protocol_endorsements pe ON pe.protocol_version_id = h.id)
"""
"""The three reads as one: each table's rows as a JSON array of arrays (organisations and
elements in id order; the current version's endorsements in the order
:data:`safeshare.services.protocols.Q_CURRENT` gives: one row per endorsement, or one row with
no endorser, or none when there is no protocol)."""


def prefetch(session: Session) -> bool:
    """On PostgreSQL, in a session that keeps its reads and has not read them yet: reads the
    organisations, the operation's data elements and the current protocol version in one
    statement and keeps them. True when it did (the separate reads then find them kept)."""
    return read_alone(session, ahead(session))


def ahead(session: Session) -> Ahead | None:
    """:func:`prefetch` as a read to make ahead with others
    (:func:`safeshare.store.read_ahead.read_ahead`); None when kept already or not kept."""
    if session.info.get(WORLD_REFERENCE) is not None or not keeps_reads(session):
        return None
    return Ahead(REFERENCE_SQL, {}, lambda found: _keep(session, found[0]), columns=3)


def _keep(session: Session, found: Sequence[Any]) -> None:
    organisations, elements, current = found
    values: list[Any] = [OrganisationValues(*o) for o in organisations]  # rows, by name
    session.info[WORLD_REFERENCE] = [mapping.organisation(o) for o in values]
    session.info[OPERATION_ELEMENTS] = {e[0]: Category(e[1]) for e in elements}
    session.info[CURRENT_PROTOCOL] = [CurrentRow(*c) for c in current]
