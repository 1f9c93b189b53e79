"""People and access (migration ``0002_people_access``): staff accounts, login attempts,
sessions, partner API tokens and recorded case-specific needs, on the same ``Base``.

No secret is stored in clear: passwords as argon2id hashes, session and API tokens as the
SHA-256 digest of the random token (the token itself is shown once, to its holder).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safeshare.store.models import ID, Base

TS = DateTime(timezone=True)


class UserAccountRow(Base):
    """A person who signs in, linked one-to-one to a core ``Staff`` record."""

    __tablename__ = "user_accounts"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    staff_id: Mapped[str] = mapped_column(ID, ForeignKey("staff.id"), unique=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TS)
    password_changed_at: Mapped[datetime] = mapped_column(TS)


class LoginAttemptRow(Base):
    """One login attempt, keyed by a digest of the normalised username (known or not)."""

    __tablename__ = "login_attempts"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username_key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(TS)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    __table_args__ = (Index("ix_login_attempts_key_at", "username_key", "at"),)


class SessionRow(Base):
    __tablename__ = "user_sessions"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("user_accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(TS)
    last_seen_at: Mapped[datetime] = mapped_column(TS)
    expires_at: Mapped[datetime] = mapped_column(TS)
    ended_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ApiTokenRow(Base):
    """A partner system's token: acts as one (service) account of one organisation, limited
    to its scopes; revocable."""

    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("user_accounts.id"), index=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    scopes: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(TS)
    created_by: Mapped[str] = mapped_column(ID)
    expires_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class AccessNeedRow(Base):
    """A recorded, case-specific need to know (the engine's ``need``), granted by someone
    else (never by the person who uses it), for a limited time."""

    __tablename__ = "access_needs"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    staff_id: Mapped[str] = mapped_column(ID, ForeignKey("staff.id"), index=True)
    case_id: Mapped[str] = mapped_column(ID, ForeignKey("cases.id"), index=True)
    need: Mapped[str] = mapped_column(String(64))
    recorded_by: Mapped[str] = mapped_column(ID)
    recorded_at: Mapped[datetime] = mapped_column(TS)
    expires_at: Mapped[datetime] = mapped_column(TS)
    revoked_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
