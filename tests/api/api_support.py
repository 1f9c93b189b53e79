"""Helpers for the API tests: an injectable clock, the Api bundle (app, in-process client,
store, demo passwords), test web settings, staff accounts signed in at once, and the audit
events a request left. A uniquely named module (not conftest), so
that test modules can import it whatever other conftest.py files the suite holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from safeshare.api.config import WebSettings
from safeshare.audit.chain import AuditEventBody, parse_body
from safeshare.demo import DemoLoad
from safeshare.services.accounts import AccessPolicy, Role, create_account, login
from safeshare.settings import Env
from safeshare.store.models import AuditEventRow
from safeshare.store.unit import Store

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: Any) -> None:
        self.now = self.now + timedelta(**kwargs)


@dataclass
class Api:
    app: FastAPI
    client: httpx.Client
    store: Store
    clock: Clock
    demo: DemoLoad
    web: WebSettings
    tokens: dict[str, str] = field(default_factory=dict)

    def password(self, username: str) -> str:
        return next(a.password for a in self.demo.accounts if a.username == username)

    def account(self, username: str) -> Any:
        return next(a for a in self.demo.accounts if a.username == username)

    def login(self, username: str) -> str:
        res = self.client.post(
            "/api/auth/login", json={"username": username, "password": self.password(username)}
        )
        assert res.status_code == 200, res.text
        token: str = res.json()["token"]
        return token

    def headers(self, username: str) -> dict[str, str]:
        """A bearer header for ``username`` (one login per user per test)."""
        if username not in self.tokens:
            self.tokens[username] = self.login(username)
        return {"Authorization": f"Bearer {self.tokens[username]}"}


def web_settings(**overrides: Any) -> WebSettings:
    return WebSettings(env=Env.TEST, fast_password_hashing=True, **overrides)


def signed_in_staff(
    store: Store,
    users: dict[str, tuple[str, Role, list[str]]],
    *,
    password: str,
    policy: AccessPolicy,
    at: datetime,
) -> dict[str, str]:
    """Creates each account (username → organisation, role, assigned cases) and signs it in:
    username → bearer session token."""
    tokens = {}
    for name, (org, role, cases) in users.items():
        create_account(
            store,
            username=name,
            password=password,
            org=org,
            role=role,
            actor="admin",
            policy=policy,
            cases=cases,
            at=at,
        )
        tokens[name] = login(store, name, password, policy=policy, at=at).token
    return tokens


def audit_head(store: Store) -> int:
    """The seq of the audit chain's last event (0 when empty)."""
    with store.reading() as session:
        return int(session.scalar(select(func.max(AuditEventRow.seq))) or 0)


def audit_events_after(store: Store, seq: int) -> list[AuditEventBody]:
    """The audit events after ``seq``, in order."""
    with store.reading() as session:
        bodies = session.scalars(
            select(AuditEventRow.body).where(AuditEventRow.seq > seq).order_by(AuditEventRow.seq)
        )
        return [parse_body(bytes(b)) for b in bodies]
