"""Login with lockout, and the sessions of people: opening, resolving (with idle
and absolute timeouts) and ending them.

Session tokens are opaque random strings shown once; only their SHA-256 digest is stored. A
login answers the same for an unknown user, a bad password and a locked account, and spends
about the same time on each. Every login, logout and failure is an audit event holding ids
and codes only (never a username or a password).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from safeshare.core.vocabulary import Duty
from safeshare.services.common import _new_id, audit, utc
from safeshare.services.passwords import production_hasher
from safeshare.services.roles import ROLE_DUTY, Role
from safeshare.store.models_access import (
    LoginAttemptRow,
    SessionRow,
    UserAccountRow,
)
from safeshare.store.prepared import fetch_alone
from safeshare.store.unit import Store

SESSION_PREFIX = "sss_"
ANONYMOUS = "anonymous"


class InvalidCredentialsError(PermissionError):
    """Unknown user, wrong password or locked account: one answer for all three."""


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


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def username_key(username: str) -> str:
    return hashlib.sha256(normalise_username(username).encode("utf-8")).hexdigest()


def normalise_username(username: str) -> str:
    return username.strip().casefold()


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


_SESSIONS: Any = SessionRow.__table__
_USERS: Any = UserAccountRow.__table__
Q_SESSION = (
    select(
        _SESSIONS.c.id,
        _SESSIONS.c.ended_at,
        _SESSIONS.c.expires_at,
        _SESSIONS.c.last_seen_at,
        _USERS.c.id.label("user_id"),
        _USERS.c.staff_id,
        _USERS.c.org_id,
        _USERS.c.role,
        _USERS.c.active,
    )
    .join(_USERS, _USERS.c.id == _SESSIONS.c.user_id)
    .where(_SESSIONS.c.token_hash == bindparam("digest"))
)
TOUCH_EVERY = timedelta(minutes=1)
"""How stale ``last_seen_at`` may get before a request writes it again: the idle timeout is
counted from the last write, so it runs out at most this much early (never late), and a
busy session costs one write a minute instead of one per request."""


class NeedsWriteError(LookupError):
    """:func:`peek_session` cannot answer by reading alone: call :func:`resolve_session`."""


def peek_session(
    store: Store, token: str, *, policy: AccessPolicy, at: datetime | None = None
) -> Authenticated | None:
    """:func:`resolve_session` when a read answers (one indexed query, no lock taken): the
    holder of a live session seen within :data:`TOUCH_EVERY`, or None for a token that is
    not a live session. Raises :class:`NeedsWriteError` when the session must be touched or
    ended (a write)."""
    if not token.startswith(SESSION_PREFIX):
        return None
    stamp = utc(at)
    hits = fetch_alone(store.engine, Q_SESSION, {"digest": token_digest(token)})
    found = hits[0] if hits else None
    if found is None or found.ended_at is not None:
        return None
    expires, last_seen = utc(found.expires_at), utc(found.last_seen_at)
    stale = stamp - last_seen >= TOUCH_EVERY
    if stamp < expires and stamp - last_seen < policy.idle_timeout and found.active and not stale:
        role = Role(found.role)
        return Authenticated(
            found.user_id,
            found.staff_id,
            found.org_id,
            role,
            ROLE_DUTY[role],
            "session",
            found.id,
            None,
            expires,
        )
    raise NeedsWriteError("the session must be touched or ended")


def resolve_session(
    store: Store, token: str, *, policy: AccessPolicy, at: datetime | None = None
) -> Authenticated | None:
    """The session's holder, or None (unknown, ended, idle or past its absolute lifetime —
    an expired session is ended and the end audited). A read, except when the session must
    be ended or its last-seen time is older than :data:`TOUCH_EVERY`."""
    try:
        return peek_session(store, token, policy=policy, at=at)
    except NeedsWriteError:
        return _resolve_and_touch(store, token_digest(token), policy, utc(at))


def _resolve_and_touch(
    store: Store, digest: str, policy: AccessPolicy, stamp: datetime
) -> Authenticated | None:
    """The writing path of :func:`resolve_session`, under the write lock: ends an expired
    session (audited) or records that it was seen."""
    with store.transaction() as session:
        sess = session.scalar(select(SessionRow).where(SessionRow.token_hash == digest))
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
        if stamp > utc(sess.last_seen_at):
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
