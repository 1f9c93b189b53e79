"""The sharing operation of the API tests (:mod:`sharing_world`) served by the app, with its
staff signed in: UNHCR's caseworker holds c1-c3, NGO A's c4-c5, NGO B's none; each has a
bearer token. A uniquely named module (not conftest), imported by the test modules that use it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from api_client import api_client
from api_support import signed_in_staff

import sharing_world as w
from safeshare.api.app import create_app
from safeshare.api.config import WebSettings
from safeshare.services.accounts import AccessPolicy, Role
from safeshare.settings import Env, Settings
from safeshare.store.unit import Store

PASSWORD = "correct horse battery staple"
NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
USERS = {
    "unhcr-cw": ("unhcr", Role.CASEWORKER, ["c1", "c2", "c3"]),
    "unhcr-dp": ("unhcr", Role.DP_FOCAL_POINT, []),
    "ngoa-cw": ("ngo-a", Role.CASEWORKER, ["c4", "c5"]),
    "ngoa-dp": ("ngo-a", Role.DP_FOCAL_POINT, []),
    "ngob-cw": ("ngo-b", Role.CASEWORKER, []),
}


def client_policy(op: w.Operation) -> AccessPolicy:
    return WebSettings(env=Env.TEST, fast_password_hashing=True).access_policy()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


REFERRAL = {
    "to": "ngo-a",
    "purpose": w.REFERRAL,
    "subjects": ["s1"],
    "data_elements": ["name", "phone", "service_needed", "incident_description"],
    "label": "GBV survivor referral",
    "contact_method": "home-visit",
}

INVESTIGATION = {
    "to": "unhcr",
    "purpose": w.INVESTIGATION,
    "basis": "mandate",
    "subjects": ["s5"],
    "data_elements": ["individual_number", "name", "incident_description"],
    "risk_assessment": "risk-1",
    "detail": "Complaint against a named worker",
    "circumstance": {"kind": "investigation", "immediate": True, "individuals_named": True},
}


@contextmanager
def sharing_env(
    store: Store, store_settings: Settings, tmp_path: Path
) -> Iterator[tuple[httpx.Client, dict[str, dict[str, str]], Clock, w.Operation]]:
    """The app on ``store`` with the sharing operation loaded and its staff signed in."""
    op = w.build(store, tmp_path / "org-keys")
    clock = Clock()
    app = create_app(
        store_settings,
        store,
        web=WebSettings(env=Env.TEST, fast_password_hashing=True),
        clock=clock,
    )
    app.state.org_keys = op.keys
    tokens = signed_in_staff(store, USERS, password=PASSWORD, policy=app.state.policy, at=NOW)
    headers = {name: {"authorization": f"Bearer {token}"} for name, token in tokens.items()}
    with api_client(app) as client:
        yield client, headers, clock, op
