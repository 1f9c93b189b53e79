"""Protocols in the store: versioned (a changed protocol makes a new version), endorsed by a
recorded act (who, when). The engine decides only under the current version, and the world
carries ``endorsed=True`` only when that version has an endorsement."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeshare.core.world import Organisation, Protocol
from safeshare.scenario import load_protocol_file as read_protocol_file
from safeshare.services.common import NotFoundError, audit
from safeshare.services.registry import upsert_organisation
from safeshare.store import mapping
from safeshare.store import reference as reference_data
from safeshare.store.audit_log import now
from safeshare.store.models import EndorsementRow, ProtocolVersionRow
from safeshare.store.prepared import fetch
from safeshare.store.reads import CURRENT_PROTOCOL, keeps_reads
from safeshare.store.unit import Store


class NoProtocolLoadedError(LookupError):
    """No protocol has been loaded into the store: nothing may be shared."""


@dataclass(frozen=True)
class ProtocolVersion:
    id: str
    protocol_id: str
    version: int
    content_hash: str
    loaded_at: datetime
    created: bool
    endorsed_by: tuple[str, ...] = ()


def current_row(session: Session) -> ProtocolVersionRow | None:
    return session.scalars(
        select(ProtocolVersionRow).order_by(ProtocolVersionRow.seq.desc()).limit(1)
    ).first()


def endorsers(session: Session, version_id: str) -> tuple[str, ...]:
    return tuple(
        session.scalars(
            select(EndorsementRow.endorsed_by)
            .where(EndorsementRow.protocol_version_id == version_id)
            .order_by(EndorsementRow.endorsed_at, EndorsementRow.id)
        )
    )


_VERSIONS: Any = ProtocolVersionRow.__table__
_ENDORSEMENTS: Any = EndorsementRow.__table__
_HEAD = select(_VERSIONS.c.id, _VERSIONS.c.content_hash).order_by(_VERSIONS.c.seq.desc()).limit(1)
_HEAD_SQ = _HEAD.subquery()
Q_CURRENT = (
    select(_HEAD_SQ.c.id, _HEAD_SQ.c.content_hash, _ENDORSEMENTS.c.endorsed_by)
    .outerjoin(_ENDORSEMENTS, _ENDORSEMENTS.c.protocol_version_id == _HEAD_SQ.c.id)
    .order_by(_ENDORSEMENTS.c.endorsed_at, _ENDORSEMENTS.c.id)
)
"""The current version, its hash and its endorsers (in the order :func:`endorsers` gives),
in one statement: one row per endorsement, or one row with no endorser."""

CURRENT_SEEN = CURRENT_PROTOCOL
_PARSED: dict[tuple[str, str, tuple[str, ...]], Protocol] = {}
_PARSED_MAX = 64


def current_protocol(session: Session) -> tuple[Protocol, str] | None:
    """The current protocol version as a core value, and its version id.

    A version's document never changes (a changed protocol is a new version), so its parsed
    value is kept per (version id, content hash, endorsers): each call still reads which
    version is current and who endorsed it."""
    found = session.info.get(CURRENT_SEEN)
    if found is None and reference_data.prefetch(session):  # PostgreSQL: one statement
        found = session.info[CURRENT_SEEN]
    if found is None:
        found = fetch(session, Q_CURRENT)
        if keeps_reads(session):  # one snapshot: the answer cannot change
            session.info[CURRENT_SEEN] = found
    if not found:
        return None
    head = found[0]
    who = tuple(r.endorsed_by for r in found if r.endorsed_by is not None)
    key = (head.id, head.content_hash, who)
    parsed = _PARSED.get(key)
    if parsed is None:
        document = session.execute(
            select(ProtocolVersionRow.document).where(ProtocolVersionRow.id == head.id)
        ).scalar_one()
        parsed = mapping.protocol_from_document(document, who)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[key] = parsed
    return parsed, head.id


def _info(session: Session, row: ProtocolVersionRow, created: bool) -> ProtocolVersion:
    return ProtocolVersion(
        id=row.id,
        protocol_id=row.protocol_id,
        version=row.version,
        content_hash=row.content_hash,
        loaded_at=row.loaded_at,
        created=created,
        endorsed_by=endorsers(session, row.id),
    )


def put_protocol(
    store: Store,
    session: Session,
    protocol: Protocol,
    *,
    actor: str,
    organisations: Iterable[Organisation] = (),
) -> ProtocolVersion:
    """Loads a protocol in the caller's transaction; a new version only when it changed."""
    for org in organisations:
        upsert_organisation(session, org)
    text, digest = mapping.canonical_document(mapping.protocol_document(protocol))
    current = current_row(session)
    if current is not None and current.content_hash == digest:
        return _info(session, current, created=False)
    last = session.scalar(
        select(func.max(ProtocolVersionRow.version)).where(
            ProtocolVersionRow.protocol_id == protocol.id
        )
    )
    row = ProtocolVersionRow(
        id=uuid.uuid4().hex,
        protocol_id=protocol.id,
        version=(last or 0) + 1,
        content_hash=digest,
        document=text,
        loaded_by=actor,
        loaded_at=now(),
    )
    session.add(row)
    session.flush()
    audit(
        store,
        session,
        actor=actor,
        action="protocol.load",
        object_type="protocol_version",
        object_id=row.id,
        details={"protocol": protocol.id, "version": row.version, "sha256": digest},
    )
    return _info(session, row, created=True)


def load_protocol(
    store: Store,
    protocol: Protocol,
    *,
    actor: str,
    organisations: Iterable[Organisation] = (),
) -> ProtocolVersion:
    with store.transaction() as session:
        return put_protocol(store, session, protocol, actor=actor, organisations=organisations)


def load_protocol_file(store: Store, path: str | Path, *, actor: str) -> ProtocolVersion:
    """Reads a protocol YAML (``protocol:`` with ``organisations:`` beside it) and loads it.
    An ``endorsed:`` claim in the file is ignored: endorsement is a recorded act."""
    protocol, orgs = read_protocol_file(path)
    return load_protocol(store, protocol, actor=actor, organisations=(orgs or {}).values())


def put_endorsement(
    store: Store,
    session: Session,
    version_id: str,
    *,
    by: str,
    actor: str,
    at: datetime | None = None,
) -> str:
    if (
        session.scalars(
            select(ProtocolVersionRow).where(ProtocolVersionRow.id == version_id)
        ).first()
        is None
    ):
        raise NotFoundError(f"protocol version {version_id!r} is not in the store")
    endorsement = EndorsementRow(
        id=uuid.uuid4().hex,
        protocol_version_id=version_id,
        endorsed_by=by,
        endorsed_at=at or now(),
        recorded_by=actor,
    )
    session.add(endorsement)
    session.flush()
    audit(
        store,
        session,
        actor=actor,
        action="protocol.endorse",
        object_type="protocol_version",
        object_id=version_id,
        details={"endorsement": endorsement.id},
    )
    return endorsement.id


def endorse_protocol(
    store: Store, version_id: str, *, by: str, actor: str, at: datetime | None = None
) -> str:
    """Records that ``by`` endorsed the protocol version ``version_id``; returns its id.
    ``version_id`` may also be ``current``."""
    with store.transaction() as session:
        if version_id == "current":
            row = current_row(session)
            if row is None:
                raise NoProtocolLoadedError("no protocol has been loaded")
            version_id = row.id
        return put_endorsement(store, session, version_id, by=by, actor=actor, at=at)


def list_versions(store: Store) -> list[ProtocolVersion]:
    with store.reading() as session:
        rows = session.scalars(select(ProtocolVersionRow).order_by(ProtocolVersionRow.seq))
        return [_info(session, r, created=False) for r in rows]


def current_version(store: Store) -> ProtocolVersion | None:
    with store.reading() as session:
        row = current_row(session)
        return None if row is None else _info(session, row, created=False)
