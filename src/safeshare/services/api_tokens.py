"""Partner API tokens: issued for an account (shown once; only the SHA-256 digest is
stored), listed, resolved and revoked, each an audit event."""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from safeshare.services.common import NotFoundError, _new_id, audit, utc
from safeshare.services.roles import Scope
from safeshare.services.sessions import TOUCH_EVERY, Authenticated, _principal, token_digest
from safeshare.store.models_access import (
    ApiTokenRow,
    UserAccountRow,
)
from safeshare.store.unit import Store

API_TOKEN_PREFIX = "ssk_"  # noqa: S105 - a prefix, not a secret


@dataclass(frozen=True)
class IssuedToken:
    token: str
    token_id: str
    org_id: str
    user_id: str
    scopes: tuple[str, ...]
    expires_at: datetime | None


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
    """The partner system's account behind a live token, or None. A read; the token's
    last use is written at most once a minute (:data:`TOUCH_EVERY`)."""
    if not token.startswith(API_TOKEN_PREFIX):
        return None
    stamp = utc(at)
    with store.reading() as session:
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
        principal = _principal(
            user,
            "api-token",
            row.id,
            frozenset(json.loads(row.scopes)),
            row.expires_at and utc(row.expires_at),
        )
        stale = row.last_used_at is None or stamp - utc(row.last_used_at) >= TOUCH_EVERY
    if stale:
        with store.transaction() as session:
            session.execute(
                update(ApiTokenRow)
                .where(ApiTokenRow.id == principal.credential_id)
                .values(last_used_at=stamp)
            )
    return principal


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
