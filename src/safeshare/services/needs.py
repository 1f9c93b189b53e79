"""Recorded case-specific needs to know: granted by someone else in the case owner's
organisation, for a limited time, each an audit event; never for a role that may not read
personal data (an administrator: see :data:`~safeshare.services.roles.PERSONAL_DATA_ROLES`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from safeshare.services.common import NotFoundError, _new_id, audit, utc
from safeshare.services.roles import PERSONAL_DATA_ROLES, Role
from safeshare.store.models import CaseRow, StaffRow
from safeshare.store.models_access import AccessNeedRow, UserAccountRow
from safeshare.store.reads import rows
from safeshare.store.unit import Store


class NeedRoleNotAllowedError(PermissionError):
    """A case-specific need to know is recorded only for staff whose role may read personal
    data (need-to-know grants access to the case's personal data; an administrator manages
    accounts and tokens and sees none)."""


def _role_without_personal_data(session: Session, staff: StaffRow) -> Role | None:
    """The staff member's role (her record's, or her account's if she has one) when it is
    one that may not read personal data, else None. A role the application does not know (a
    scenario's staff, who cannot sign in) is left to the engine, which decides by duty."""
    roles = {staff.role}
    roles.update(
        session.scalars(select(UserAccountRow.role).where(UserAccountRow.staff_id == staff.id))
    )
    known = sorted(Role(r) for r in roles if r in {k.value for k in Role})
    return next((r for r in known if r not in PERSONAL_DATA_ROLES), None)


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
    organisation, for a limited time. Raises :class:`NeedRoleNotAllowedError` for a staff
    member whose role may not read personal data."""
    stamp = utc(at)
    with store.transaction() as session:
        case = session.get(CaseRow, case_id)
        staff = session.get(StaffRow, staff_id)
        if case is None or staff is None or case.owner != actor_org or staff.org != actor_org:
            raise NotFoundError("no such case or staff member")
        if staff_id == actor_staff:
            raise PermissionError("a need to know is recorded by someone else")
        refused = _role_without_personal_data(session, staff)
        if refused is not None:
            raise NeedRoleNotAllowedError(
                "a need to know is recorded only for staff whose role may read personal "
                f"data (role {refused.value!r} may not)"
            )
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


_NEEDS: Any = AccessNeedRow.__table__
Q_NEEDS_OF_STAFF = select(_NEEDS.c.case_id, _NEEDS.c.need, _NEEDS.c.expires_at).where(
    _NEEDS.c.staff_id.in_(bindparam("ids", expanding=True)), _NEEDS.c.revoked_at.is_(None)
)


def _in_force(session: Session, staff_id: str, at: datetime) -> list[Any]:
    """The staff member's recorded needs in force at ``at`` (one query per reading session:
    see :mod:`safeshare.store.reads`)."""
    return [r for r in rows(session, Q_NEEDS_OF_STAFF, [staff_id]) if utc(r.expires_at) > at]


def active_need(session: Session, staff_id: str, case_id: str, at: datetime) -> str | None:
    """The recorded need of this staff member for this case, if one is in force."""
    for row in _in_force(session, staff_id, at):
        if row.case_id == case_id:
            need: str = row.need
            return need
    return None


def cases_with_need(session: Session, staff_id: str, at: datetime) -> set[str]:
    return {r.case_id for r in _in_force(session, staff_id, at)}
