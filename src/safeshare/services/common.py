"""What every service shares: the audit call bound to the store's signer, and errors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Unpack

from sqlalchemy.orm import Session

from safeshare.store.audit_append import EventFields, append_event, defer_event
from safeshare.store.unit import Store


class NotFoundError(LookupError):
    """A record the request names is not in the store."""


class AlreadyExistsError(ValueError):
    """An id is already taken: records are never silently overwritten."""


def audit(store: Store, session: Session, **fields: Unpack[EventFields]) -> None:
    """An audit event (actor, action, object_type, object_id, codes, details), written when
    the caller's transaction commits and rolled back with it: the chain's head is locked for
    the commit only (see :mod:`safeshare.store.audit_append`)."""
    defer_event(session, signer=store.signer, **fields)


def audit_now(store: Store, session: Session, **fields: Unpack[EventFields]) -> int:
    """:func:`audit` written at once, for a caller that needs the event's seq; the chain's
    head stays locked until the transaction ends."""
    return append_event(session, signer=store.signer, **fields)


def utc(at: datetime | None) -> datetime:
    """Aware UTC (SQLite gives naive datetimes back: they were stored as UTC)."""
    if at is None:
        return datetime.now(UTC)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _new_id() -> str:
    return uuid.uuid4().hex
