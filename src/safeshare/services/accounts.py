"""People and access: staff accounts, login with lockout, sessions, partner API tokens and
recorded case-specific needs.

Passwords are hashed with argon2id (rehashed at login when the parameters change). Session
and API tokens are opaque random strings shown once; only their SHA-256 digest is stored.
A login answers the same for an unknown user, a bad password and a locked account, and
spends about the same time on each. Every login, logout, failure, token and need is an audit
event holding ids and codes only (never a username or a password).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from safeshare.core.vocabulary import Duty
from safeshare.core.world import Staff
from safeshare.services.common import AlreadyExistsError, NotFoundError, audit
from safeshare.services.registry import insert_staff
from safeshare.store.models import CaseRow, OrganisationRow, StaffCaseRow, StaffRow
from safeshare.store.models_access import (
    AccessNeedRow,
    ApiTokenRow,
    LoginAttemptRow,
    SessionRow,
    UserAccountRow,
)
from safeshare.store.unit import Store

SESSION_PREFIX = "sss_"
API_TOKEN_PREFIX = "ssk_"  # noqa: S105 - a prefix, not a secret
ANONYMOUS = "anonymous"


class Role(StrEnum):
    CASEWORKER = "caseworker"
    SUPERVISOR = "supervisor"
    DP_FOCAL_POINT = "dp-focal-point"
    IM_OFFICER = "im-officer"
    ARCHIVIST = "archivist"
    ADMINISTRATOR = "administrator"


# The engine's duty for each role: only caseworkers manage cases; oversight, monitoring and
# archive duties see what does not identify a person unless a case-specific need is recorded.
ROLE_DUTY: dict[Role, Duty] = {
    Role.CASEWORKER: Duty.CASE_MANAGEMENT,
    Role.SUPERVISOR: Duty.OVERSIGHT,
    Role.DP_FOCAL_POINT: Duty.OVERSIGHT,
    Role.IM_OFFICER: Duty.MONITORING,
    Role.ARCHIVIST: Duty.ARCHIVE,
    Role.ADMINISTRATOR: Duty.OVERSIGHT,
}


# Roles that may ever be shown personal data (still case by case, by need-to-know): the
# administrator manages accounts and tokens and sees none.
PERSONAL_DATA_ROLES: tuple[Role, ...] = (
    Role.CASEWORKER,
    Role.SUPERVISOR,
    Role.DP_FOCAL_POINT,
    Role.IM_OFFICER,
    Role.ARCHIVIST,
)


class Scope(StrEnum):
    """What a partner system's API token may do (sessions of people have every scope their
    role allows)."""

    CASES_READ = "cases:read"
    CONSENT_WRITE = "consent:write"
    DECISIONS_EVALUATE = "decisions:evaluate"
    PROTOCOL_READ = "protocol:read"
    STATS_READ = "stats:read"
    REFERRALS_READ = "referrals:read"
    REFERRALS_WRITE = "referrals:write"


class InvalidCredentialsError(PermissionError):
    """Unknown user, wrong password or locked account: one answer for all three."""


class WeakPasswordError(ValueError):
    """A password shorter than the minimum."""


MIN_PASSWORD_LENGTH = 12


def production_hasher() -> PasswordHasher:
    """argon2id with RFC 9106's low-memory recommendation (t=3, m=64 MiB, p=4)."""
    return PasswordHasher(
        time_cost=3, memory_cost=65536, parallelism=4, hash_len=32, salt_len=16, type=Type.ID
    )


def fast_hasher() -> PasswordHasher:
    """argon2id with small costs: for the test suite only (still argon2id, still salted)."""
    return PasswordHasher(
        time_cost=1, memory_cost=1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
    )


@dataclass(frozen=True)
class AccessPolicy:
    """Session lifetimes, lockout thresholds and the password hasher."""

    idle_timeout: timedelta = timedelta(minutes=30)
    absolute_timeout: timedelta = timedelta(hours=12)
    max_failures: int = 5
    failure_window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)
    hasher: PasswordHasher = field(default_factory=production_hasher)
    _dummy: list[str] = field(default_factory=list, repr=False, compare=False)

    def dummy_hash(self) -> str:
        """A hash to verify against when there is no account (same time as a real one)."""
        if not self._dummy:
            self._dummy.append(self.hasher.hash(secrets.token_urlsafe(16)))
        return self._dummy[0]


@dataclass(frozen=True)
class Authenticated:
    """Who is calling, resolved from a session or an API token."""

    user_id: str
    staff_id: str
    org_id: str
    role: Role
    duty: Duty
    kind: str  # "session" | "api-token"
    credential_id: str
    scopes: frozenset[str] | None = None  # None: a person's session (every scope)
    expires_at: datetime | None = None


@dataclass(frozen=True)
class IssuedSession:
    token: str
    session_id: str
    user_id: str
    expires_at: datetime
    idle_expires_at: datetime


@dataclass(frozen=True)
class IssuedToken:
    token: str
    token_id: str
    org_id: str
    user_id: str
    scopes: tuple[str, ...]
    expires_at: datetime | None


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


@dataclass(frozen=True)
class TokenInfo:
    token_id: str
    org_id: str
    user_id: str
    label: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def utc(at: datetime | None) -> datetime:
    """Aware UTC (SQLite gives naive datetimes back: they were stored as UTC)."""
    if at is None:
        return datetime.now(UTC)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def username_key(username: str) -> str:
    return hashlib.sha256(normalise_username(username).encode("utf-8")).hexdigest()


def normalise_username(username: str) -> str:
    return username.strip().casefold()


def _new_id() -> str:
    return uuid.uuid4().hex


# --- accounts -------------------------------------------------------------------------------


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


# --- login, sessions ------------------------------------------------------------------------


def _locked(session: Session, key: str, policy: AccessPolicy, stamp: datetime) -> bool:
    """Locked when ``max_failures`` failures fell within ``failure_window`` (since the last
    success) and the lockout that started at the last of them has not run out."""
    horizon = stamp - policy.failure_window - policy.lockout
    rows = list(
        session.execute(
            select(LoginAttemptRow.at, LoginAttemptRow.succeeded)
            .where(LoginAttemptRow.username_key == key, LoginAttemptRow.at >= horizon)
            .order_by(LoginAttemptRow.at, LoginAttemptRow.seq)
        )
    )
    failures: list[datetime] = []
    for at, ok in rows:
        failures = [] if ok else [*failures, utc(at)]
    n = policy.max_failures
    for i in range(len(failures) - n + 1):
        first, last = failures[i], failures[i + n - 1]
        if last - first <= policy.failure_window and stamp < last + policy.lockout:
            return True
    return False


def _end_sessions(session: Session, user_id: str, stamp: datetime, reason: str) -> None:
    session.execute(
        update(SessionRow)
        .where(SessionRow.user_id == user_id, SessionRow.ended_at.is_(None))
        .values(ended_at=stamp, end_reason=reason)
    )


def login(
    store: Store,
    username: str,
    password: str,
    *,
    policy: AccessPolicy,
    at: datetime | None = None,
) -> IssuedSession:
    """Checks the password and opens a new session (ending any earlier one of the account).

    Raises :class:`InvalidCredentialsError` for an unknown user, a wrong password, an
    inactive or a locked account alike."""
    stamp = utc(at)
    key = username_key(username)
    name = normalise_username(username)
    with store.transaction() as session:
        row = (
            None
            if not name.isprintable()  # never a username; PostgreSQL refuses NUL in text
            else session.scalar(select(UserAccountRow).where(UserAccountRow.username == name))
        )
        locked = _locked(session, key, policy, stamp)
        ok = _verify(policy, row.password_hash if row is not None else None, password)
        success = ok and row is not None and row.active and not locked
        if not locked:  # attempts during a lockout do not extend it
            session.add(LoginAttemptRow(username_key=key, at=stamp, succeeded=success))
        if not success or row is None:
            code = "locked" if locked else "invalid-credentials"
            audit(
                store,
                session,
                actor=ANONYMOUS,
                action="auth.login-failed",
                object_type="account",
                object_id=row.id if row is not None else "unknown",
                codes=[code],
            )
            failed = True
        else:
            failed = False
            if policy.hasher.check_needs_rehash(row.password_hash):
                row.password_hash = policy.hasher.hash(password)
            _end_sessions(session, row.id, stamp, "new-login")
            token = SESSION_PREFIX + secrets.token_urlsafe(32)
            sess = SessionRow(
                id=_new_id(),
                token_hash=token_digest(token),
                user_id=row.id,
                created_at=stamp,
                last_seen_at=stamp,
                expires_at=stamp + policy.absolute_timeout,
            )
            session.add(sess)
            session.flush()
            audit(
                store,
                session,
                actor=row.id,
                action="auth.login",
                object_type="session",
                object_id=sess.id,
                codes=[row.role],
            )
            issued = IssuedSession(
                token, sess.id, row.id, sess.expires_at, stamp + policy.idle_timeout
            )
    # The failure is raised after the transaction commits, so the attempt is recorded.
    if failed:
        raise InvalidCredentialsError("invalid username or password")
    return issued


def _verify(policy: AccessPolicy, stored: str | None, password: str) -> bool:
    try:
        return policy.hasher.verify(stored or policy.dummy_hash(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _principal(
    row: UserAccountRow,
    kind: str,
    credential: str,
    scopes: frozenset[str] | None,
    expires: datetime | None,
) -> Authenticated:
    role = Role(row.role)
    return Authenticated(
        row.id, row.staff_id, row.org_id, role, ROLE_DUTY[role], kind, credential, scopes, expires
    )


def resolve_session(
    store: Store, token: str, *, policy: AccessPolicy, at: datetime | None = None
) -> Authenticated | None:
    """The session's holder, or None (unknown, ended, idle or past its absolute lifetime —
    an expired session is ended and the end audited)."""
    if not token.startswith(SESSION_PREFIX):
        return None
    stamp = utc(at)
    with store.transaction() as session:
        sess = session.scalar(
            select(SessionRow).where(SessionRow.token_hash == token_digest(token))
        )
        if sess is None or sess.ended_at is not None:
            return None
        reason = None
        if stamp >= utc(sess.expires_at):
            reason = "absolute-timeout"
        elif stamp - utc(sess.last_seen_at) >= policy.idle_timeout:
            reason = "idle-timeout"
        user = session.get(UserAccountRow, sess.user_id)
        if reason is None and (user is None or not user.active):
            reason = "deactivated"
        if reason is not None:
            sess.ended_at, sess.end_reason = stamp, reason
            audit(
                store,
                session,
                actor=sess.user_id,
                action="auth.session-expired",
                object_type="session",
                object_id=sess.id,
                codes=[reason],
            )
            return None
        assert user is not None
        sess.last_seen_at = stamp
        return _principal(user, "session", sess.id, None, utc(sess.expires_at))


def logout(store: Store, token: str, *, at: datetime | None = None) -> bool:
    """Ends the session; True if one was ended."""
    stamp = utc(at)
    with store.transaction() as session:
        sess = session.scalar(
            select(SessionRow).where(SessionRow.token_hash == token_digest(token))
        )
        if sess is None or sess.ended_at is not None:
            return False
        sess.ended_at, sess.end_reason = stamp, "logout"
        audit(
            store,
            session,
            actor=sess.user_id,
            action="auth.logout",
            object_type="session",
            object_id=sess.id,
        )
        return True


# --- API tokens -----------------------------------------------------------------------------


def issue_api_token(
    store: Store,
    *,
    user_id: str,
    scopes: Iterable[Scope],
    label: str,
    actor: str,
    actor_org: str,
    expires_at: datetime | None = None,
    at: datetime | None = None,
) -> IssuedToken:
    """Issues a token for an account of the actor's own organisation (shown once)."""
    stamp = utc(at)
    wanted = tuple(sorted({s.value for s in scopes}))
    with store.transaction() as session:
        user = session.get(UserAccountRow, user_id)
        if user is None or user.org_id != actor_org or not user.active:
            raise NotFoundError("no such account")
        token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = ApiTokenRow(
            id=_new_id(),
            token_hash=token_digest(token),
            user_id=user_id,
            org_id=user.org_id,
            scopes=json.dumps(wanted),
            label=label,
            created_at=stamp,
            created_by=actor,
            expires_at=expires_at,
        )
        session.add(row)
        session.flush()
        audit(
            store,
            session,
            actor=actor,
            action="token.issue",
            object_type="api_token",
            object_id=row.id,
            codes=wanted,
            details={"org": user.org_id, "account": user_id},
        )
        return IssuedToken(token, row.id, user.org_id, user_id, wanted, expires_at)


def revoke_api_token(
    store: Store, token_id: str, *, actor: str, actor_org: str, at: datetime | None = None
) -> None:
    stamp = utc(at)
    with store.transaction() as session:
        row = session.get(ApiTokenRow, token_id)
        if row is None or row.org_id != actor_org:
            raise NotFoundError("no such token")
        if row.revoked_at is None:
            row.revoked_at = stamp
        audit(
            store,
            session,
            actor=actor,
            action="token.revoke",
            object_type="api_token",
            object_id=row.id,
        )


def list_api_tokens(store: Store, *, org: str) -> list[TokenInfo]:
    with store.reading() as session:
        rows = session.scalars(
            select(ApiTokenRow).where(ApiTokenRow.org_id == org).order_by(ApiTokenRow.created_at)
        )
        return [
            TokenInfo(
                r.id,
                r.org_id,
                r.user_id,
                r.label,
                tuple(json.loads(r.scopes)),
                utc(r.created_at),
                r.expires_at and utc(r.expires_at),
                r.revoked_at and utc(r.revoked_at),
                r.last_used_at and utc(r.last_used_at),
            )
            for r in rows
        ]


def resolve_api_token(
    store: Store, token: str, *, at: datetime | None = None
) -> Authenticated | None:
    if not token.startswith(API_TOKEN_PREFIX):
        return None
    stamp = utc(at)
    with store.transaction() as session:
        row = session.scalar(
            select(ApiTokenRow).where(ApiTokenRow.token_hash == token_digest(token))
        )
        if row is None or row.revoked_at is not None:
            return None
        if row.expires_at is not None and stamp >= utc(row.expires_at):
            return None
        user = session.get(UserAccountRow, row.user_id)
        if user is None or not user.active or user.org_id != row.org_id:
            return None
        row.last_used_at = stamp
        return _principal(
            user,
            "api-token",
            row.id,
            frozenset(json.loads(row.scopes)),
            row.expires_at and utc(row.expires_at),
        )


# --- recorded needs -------------------------------------------------------------------------


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


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
