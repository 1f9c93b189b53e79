"""What every service shares: the audit call bound to the store's signer, and errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from safeshare.store.audit_log import Scalar, append_event
from safeshare.store.unit import Store


class NotFoundError(LookupError):
    """A record the request names is not in the store."""


class AlreadyExistsError(ValueError):
    """An id is already taken: records are never silently overwritten."""


def audit(
    store: Store,
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    codes: Iterable[str] = (),
    details: Mapping[str, Scalar] | None = None,
) -> int:
    return append_event(
        session,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        codes=codes,
        details=details,
        signer=store.signer,
    )


def utc(at: datetime | None) -> datetime:
    """Aware UTC (SQLite gives naive datetimes back: they were stored as UTC)."""
    if at is None:
        return datetime.now(UTC)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _new_id() -> str:
    return uuid.uuid4().hex
