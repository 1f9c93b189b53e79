"""Recorded case-specific needs to know: granted by someone else in the case owner's
organisation, for a limited time, each an audit event."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeshare.services.common import NotFoundError, _new_id, audit, utc
from safeshare.store.models import CaseRow, StaffRow
from safeshare.store.models_access import (
    AccessNeedRow,
)
from safeshare.store.unit import Store


def record_need(
    store: Store,
    *,
    staff_id: str,
    case_id: str,
    need: str,
    actor_staff: str,
    actor_org: str,
    valid_for: timedelta = timedelta(days=7),
    at: datetime | None = None,
) -> str:
    """Records that ``staff_id`` has a case-specific need to know ``case_id`` (e.g.
    technical-assistance, supervision-review), granted by someone else in the case owner's
    organisation, for a limited time."""
    stamp = utc(at)
    with store.transaction() as session:
        case = session.get(CaseRow, case_id)
        staff = session.get(StaffRow, staff_id)
        if case is None or staff is None or case.owner != actor_org or staff.org != actor_org:
            raise NotFoundError("no such case or staff member")
        if staff_id == actor_staff:
            raise PermissionError("a need to know is recorded by someone else")
        row = AccessNeedRow(
            id=_new_id(),
            staff_id=staff_id,
            case_id=case_id,
            need=need,
            recorded_by=actor_staff,
            recorded_at=stamp,
            expires_at=stamp + valid_for,
        )
        session.add(row)
        session.flush()
        audit(
            store,
            session,
            actor=actor_staff,
            action="need.record",
            object_type="case",
            object_id=case_id,
            codes=[need],
            details={"staff": staff_id, "need_id": row.id},
        )
        return row.id


def active_need(session: Session, staff_id: str, case_id: str, at: datetime) -> str | None:
    """The recorded need of this staff member for this case, if one is in force."""
    for row in session.scalars(
        select(AccessNeedRow).where(
            AccessNeedRow.staff_id == staff_id,
            AccessNeedRow.case_id == case_id,
            AccessNeedRow.revoked_at.is_(None),
        )
    ):
        if utc(row.expires_at) > at:
            return row.need
    return None


def cases_with_need(session: Session, staff_id: str, at: datetime) -> set[str]:
    return {
        r.case_id
        for r in session.scalars(
            select(AccessNeedRow).where(
                AccessNeedRow.staff_id == staff_id, AccessNeedRow.revoked_at.is_(None)
            )
        )
        if utc(r.expires_at) > at
    }
