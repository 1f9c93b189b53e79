"""The demo operation shares real (fictional) values: a fresh demo store, its organisations'
keys registered by the loader, a referral made through the API, and the recipient opens a
packet holding the case's values, dropped elements absent. And the consent API's withdrawal
is one transaction with its effects."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_client import api_client
from api_support import START, Clock, web_settings
from sqlalchemy import func, select

from safeshare.api.app import create_app
from safeshare.audit.chain import parse_body
from safeshare.crypto.org_keys import OrgKeyDirectory
from safeshare.demo import DemoLoad, load_demo, raw_operation
from safeshare.services import consent_effects
from safeshare.services.org_keys import public_keys_of
from safeshare.settings import Settings
from safeshare.store.models import AuditEventRow, ConsentEntryRow
from safeshare.store.models_sharing import ReferralRow, ShareNoticeRow
from safeshare.store.unit import Store

PURPOSE = "psychosocial-support-referral"
CHANGE_ACTIONS = ("consent.", "notice.", "referral.stop")
CASE, SUBJECT = "c-022", "s-022"  # UNHCR's caseworker's case; consent on record


@dataclass
class Demo:
    client: httpx.Client
    store: Store
    keys: OrgKeyDirectory
    load: DemoLoad
    tokens: dict[str, str]

    def headers(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            password = next(a.password for a in self.load.accounts if a.username == username)
            res = self.client.post(
                "/api/auth/login", json={"username": username, "password": password}
            )
            assert res.status_code == 200, res.text
            self.tokens[username] = res.json()["token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}


@pytest.fixture
def demo(store: Store, store_settings: Settings, tmp_path: Path) -> Iterator[Demo]:
    web = web_settings()
    load = load_demo(
        store,
        policy=web.access_policy(),
        today=START.date(),
        keys=OrgKeyDirectory(tmp_path / "org-keys", generate_missing=True),
    )
    app = create_app(store_settings, store, web=web, clock=Clock())
    # The server's key directory generates nothing: the loader registered every key.
    keys = OrgKeyDirectory(tmp_path / "org-keys", generate_missing=False)
    app.state.org_keys = keys
    with api_client(app) as client:
        yield Demo(client, store, keys, load, {})


def test_the_loader_registers_every_demo_organisation_key(demo: Demo) -> None:
    orgs = sorted(o["id"] for o in raw_operation()["world"]["organisations"])
    assert list(demo.load.keys_registered) == orgs
    with demo.store.reading() as session:
        for org in orgs:
            registered = public_keys_of(session, org)
            assert registered is not None
            assert registered.key_id == demo.keys.public(org).key_id


def test_a_demo_referral_carries_the_case_values(demo: Demo) -> None:
    res = demo.client.post(
        "/api/referrals",
        json={
            "to": "ngo-a",
            "purpose": PURPOSE,
            "subjects": [SUBJECT],
            # age is not agreed for this purpose: dropped from the packet
            "data_elements": ["referral_id", "name", "phone", "service_needed", "language"],
            "contact_method": "phone",
        },
        headers=demo.headers("unhcr.caseworker"),
    )
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["referral"] is not None, body["decision"]
    referral_id = body["referral"]["id"]

    opened = demo.client.get(
        f"/api/referrals/{referral_id}/packet", headers=demo.headers("ngo-a.caseworker")
    )
    assert opened.status_code == 200, opened.text
    packet = opened.json()
    (entry,) = packet["subjects"]
    values: dict[str, Any] = entry["elements"]
    assert values["name"] == "Hassan Q. (fictional)"
    assert values["phone"] == "+44 7700 900022"  # Ofcom's range for drama: nobody's phone
    assert values["service_needed"] == "psychosocial support"
    assert values["language"]
    assert all(v for v in values.values())
    assert "age" not in values
    assert "legal_case_details" not in values
    assert packet["referral_id"] == referral_id


def test_a_dropped_element_is_absent_from_the_packet(demo: Demo) -> None:
    res = demo.client.post(
        "/api/referrals",
        json={
            "to": "ngo-a",
            "purpose": PURPOSE,
            "subjects": [SUBJECT],
            "data_elements": ["name", "phone", "service_needed", "age", "sex"],
            "contact_method": "phone",
        },
        headers=demo.headers("unhcr.caseworker"),
    )
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["referral"] is not None, body["decision"]
    referral_id = body["referral"]["id"]
    assert "age" not in body["referral"]["elements"]
    packet = demo.client.get(
        f"/api/referrals/{referral_id}/packet", headers=demo.headers("ngo-a.caseworker")
    ).json()
    (entry,) = packet["subjects"]
    assert entry["elements"]["name"] == "Hassan Q. (fictional)"
    assert "age" not in entry["elements"]
    assert "sex" not in entry["elements"]


def _counts(store: Store) -> tuple[int, int, int]:
    """Audit events of the change (the API's need-to-know check records its own access
    decision first, in its own transaction), ledger entries, notices."""
    with store.reading() as session:
        bodies = session.scalars(select(AuditEventRow.body))
        changes = [b for b in bodies if parse_body(bytes(b)).action.startswith(CHANGE_ACTIONS)]
        return (
            len(changes),
            int(session.scalar(select(func.count()).select_from(ConsentEntryRow)) or 0),
            int(session.scalar(select(func.count()).select_from(ShareNoticeRow)) or 0),
        )


def test_the_consent_api_withdrawal_is_one_transaction(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = demo.client.post(
        "/api/referrals",
        json={
            "to": "ngo-a",
            "purpose": PURPOSE,
            "subjects": [SUBJECT],
            "data_elements": ["name", "phone", "service_needed"],
            "contact_method": "phone",
        },
        headers=demo.headers("unhcr.caseworker"),
    )
    assert made.status_code == 201, made.text
    referral_id = made.json()["referral"]["id"]
    before = _counts(demo.store)

    def fail(*_a: object, **_k: object) -> object:
        raise RuntimeError("injected after the ledger entry")

    monkeypatch.setattr(consent_effects, "_apply", fail)
    res = demo.client.post(
        f"/api/subjects/{SUBJECT}/consents/withdraw",
        json={"purposes": [PURPOSE]},
        headers=demo.headers("unhcr.caseworker"),
    )
    assert res.status_code == 500
    assert _counts(demo.store) == before  # no ledger entry, no audit event, no notice
    with demo.store.reading() as session:
        row = session.get(ReferralRow, referral_id)
        assert row is not None
        assert row.status == "pending"
        assert row.ciphertext is not None

    monkeypatch.undo()
    res = demo.client.post(
        f"/api/subjects/{SUBJECT}/consents/withdraw",
        json={"purposes": [PURPOSE]},
        headers=demo.headers("unhcr.caseworker"),
    )
    assert res.status_code == 201, res.text
    with demo.store.reading() as session:
        row = session.get(ReferralRow, referral_id)
        assert row is not None
        assert row.status == "stopped"
        assert row.ciphertext is None
