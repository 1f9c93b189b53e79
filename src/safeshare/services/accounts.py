"""People and access: staff accounts, login with lockout, sessions, partner API tokens and
recorded case-specific needs.

Passwords are hashed with argon2id (rehashed at login when the parameters change). Session
and API tokens are opaque random strings shown once; only their SHA-256 digest is stored.
A login answers the same for an unknown user, a bad password and a locked account, and
spends about the same time on each. Every login, logout, failure, token and need is an audit
event holding ids and codes only (never a username or a password).

The module is split by idea: :mod:`~safeshare.services.roles` (roles, duties, scopes),
:mod:`~safeshare.services.passwords` (argon2 hashing), :mod:`~safeshare.services.sessions`
(login, lockout, sessions), :mod:`~safeshare.services.api_tokens` and
:mod:`~safeshare.services.needs`; this module manages accounts and re-exports their public
names.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from safeshare.core.vocabulary import Duty
from safeshare.core.world import Staff
from safeshare.services.api_tokens import (
    API_TOKEN_PREFIX,
    IssuedToken,
    TokenInfo,
    issue_api_token,
    list_api_tokens,
    resolve_api_token,
    revoke_api_token,
    same_secret,
)
from safeshare.services.common import AlreadyExistsError, NotFoundError, _new_id, audit, utc
from safeshare.services.needs import active_need, cases_with_need, record_need
from safeshare.services.passwords import (
    MIN_PASSWORD_LENGTH,
    WeakPasswordError,
    fast_hasher,
    production_hasher,
)
from safeshare.services.registry import insert_staff
from safeshare.services.roles import PERSONAL_DATA_ROLES, ROLE_DUTY, Role, Scope
from safeshare.services.sessions import (
    ANONYMOUS,
    SESSION_PREFIX,
    AccessPolicy,
    Authenticated,
    InvalidCredentialsError,
    IssuedSession,
    NeedsWriteError,
    _end_sessions,
    login,
    logout,
    normalise_username,
    peek_session,
    resolve_session,
    token_digest,
    username_key,
)
from safeshare.store.models import OrganisationRow, StaffCaseRow, StaffRow
from safeshare.store.models_access import (
    ApiTokenRow,
    UserAccountRow,
)
from safeshare.store.unit import Store

__all__ = [
    "ANONYMOUS",
    "API_TOKEN_PREFIX",
    "MIN_PASSWORD_LENGTH",
    "PERSONAL_DATA_ROLES",
    "ROLE_DUTY",
    "SESSION_PREFIX",
    "AccessPolicy",
    "AccountInfo",
    "Authenticated",
    "InvalidCredentialsError",
    "IssuedSession",
    "IssuedToken",
    "NeedsWriteError",
    "Role",
    "Scope",
    "TokenInfo",
    "WeakPasswordError",
    "account_for_staff",
    "active_need",
    "assign_case",
    "cases_with_need",
    "create_account",
    "fast_hasher",
    "get_account",
    "issue_api_token",
    "list_accounts",
    "list_api_tokens",
    "login",
    "logout",
    "normalise_username",
    "peek_session",
    "production_hasher",
    "record_need",
    "resolve_api_token",
    "resolve_session",
    "revoke_api_token",
    "same_secret",
    "set_active",
    "token_digest",
    "username_key",
    "utc",
]


@dataclass(frozen=True)
class AccountInfo:
    user_id: str
    username: str
    staff_id: str
    org_id: str
    role: Role
    duty: Duty
    active: bool
    cases: tuple[str, ...] = ()


def create_account(
    store: Store,
    *,
    username: str,
    password: str,
    org: str,
    role: Role,
    actor: str,
    policy: AccessPolicy,
    staff_id: str | None = None,
    cases: Collection[str] = (),
    at: datetime | None = None,
) -> AccountInfo:
    """Creates a core ``Staff`` record (org, role, duty, assigned cases) and its account."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    name = normalise_username(username)
    stamp = utc(at)
    with store.transaction() as session:
        if session.get(OrganisationRow, org) is None:
            raise NotFoundError(f"organisation {org!r} is not in the store")
        taken = session.scalar(select(UserAccountRow.id).where(UserAccountRow.username == name))
        if taken is not None:
            raise AlreadyExistsError("that username is taken")
        sid = staff_id or f"st-{_new_id()[:16]}"
        if session.get(StaffRow, sid) is not None:
            raise AlreadyExistsError(f"staff {sid!r} already exists")
        duty = ROLE_DUTY[role]
        insert_staff(
            session, Staff(id=sid, org=org, role=role.value, duty=duty, cases=frozenset(cases))
        )
        row = UserAccountRow(
            id=_new_id(),
            username=name,
            staff_id=sid,
            org_id=org,
            role=role.value,
            password_hash=policy.hasher.hash(password),
            active=True,
            created_at=stamp,
            password_changed_at=stamp,
        )
        session.add(row)
        session.flush()
        audit(
            store,
            session,
            actor=actor,
            action="account.create",
            object_type="account",
            object_id=row.id,
            codes=[role.value],
            details={"staff": sid, "org": org},
        )
        return AccountInfo(row.id, name, sid, org, role, duty, True, tuple(sorted(cases)))


def _info(session: Session, row: UserAccountRow) -> AccountInfo:
    cases = session.scalars(
        select(StaffCaseRow.case_id).where(StaffCaseRow.staff_id == row.staff_id)
    )
    role = Role(row.role)
    return AccountInfo(
        row.id,
        row.username,
        row.staff_id,
        row.org_id,
        role,
        ROLE_DUTY[role],
        row.active,
        tuple(sorted(cases)),
    )


def list_accounts(store: Store, *, org: str) -> list[AccountInfo]:
    with store.reading() as session:
        rows = session.scalars(
            select(UserAccountRow)
            .where(UserAccountRow.org_id == org)
            .order_by(UserAccountRow.username)
        )
        return [_info(session, r) for r in rows]


def get_account(store: Store, user_id: str) -> AccountInfo | None:
    with store.reading() as session:
        row = session.get(UserAccountRow, user_id)
        return None if row is None else _info(session, row)


def account_for_staff(store: Store, staff_id: str) -> AccountInfo | None:
    with store.reading() as session:
        row = session.scalar(select(UserAccountRow).where(UserAccountRow.staff_id == staff_id))
        return None if row is None else _info(session, row)


def set_active(
    store: Store, user_id: str, active: bool, *, actor: str, at: datetime | None = None
) -> None:
    """Deactivates (or reactivates) an account; deactivating ends its sessions and tokens."""
    stamp = utc(at)
    with store.transaction() as session:
        row = session.get(UserAccountRow, user_id)
        if row is None:
            raise NotFoundError("no such account")
        row.active = active
        if not active:
            _end_sessions(session, user_id, stamp, "deactivated")
            session.execute(
                update(ApiTokenRow)
                .where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked_at.is_(None))
                .values(revoked_at=stamp)
            )
        audit(
            store,
            session,
            actor=actor,
            action="account.activate" if active else "account.deactivate",
            object_type="account",
            object_id=user_id,
        )


def assign_case(store: Store, *, staff_id: str, case_id: str, actor: str, assign: bool) -> None:
    """Assigns (or unassigns) a case to a staff member (the engine's ``cases``)."""
    with store.transaction() as session:
        existing = session.get(StaffCaseRow, (staff_id, case_id))
        if assign and existing is None:
            session.add(StaffCaseRow(staff_id=staff_id, case_id=case_id))
        elif not assign and existing is not None:
            session.delete(existing)
        audit(
            store,
            session,
            actor=actor,
            action="case.assign" if assign else "case.unassign",
            object_type="case",
            object_id=case_id,
            details={"staff": staff_id},
        )
