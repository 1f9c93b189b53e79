"""Helpers for the API tests: an injectable clock, the Api bundle (app, in-process client,
store, demo passwords) and test web settings. A uniquely named module (not conftest), so
that test modules can import it whatever other conftest.py files the suite holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from safeshare.api.config import WebSettings
from safeshare.demo import DemoLoad
from safeshare.settings import Env
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
