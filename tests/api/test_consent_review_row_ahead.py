"""Review: a grant dated ahead that is already in the ledger (written before recording
refused such dates, or by a path that bypasses the consent service) does not count as
consent before its date, and does not outrank the withdrawal made today."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from api_support import Api
from matrix_world import TODAY, matrix_api

from safeshare.core.vocabulary import ConsentDecision
from safeshare.settings import Settings
from safeshare.store import ledger
from safeshare.store.audit_append import now
from safeshare.store.ledger import NewConsent
from safeshare.store.unit import Store

USER = "unhcr.caseworker2"  # holds c-029/s-029 (no consent) and c-030/s-030 (consent)
PURPOSE = "legal-aid-referral"


@pytest.fixture
def api(store: Store, store_settings: Settings, tmp_path: Path) -> Iterator[Api]:
    with matrix_api(store, store_settings, tmp_path) as (api, _referrals):
        yield api


def _row_ahead(api: Api, subject: str, days: int) -> None:
    entry = NewConsent(
        subject=subject,
        decision=ConsentDecision.GRANTED,
        purposes=(PURPOSE,),
        date=TODAY + timedelta(days=days),
    )
    with api.store.transaction() as session:
        values = ledger.entry_values(entry, api.store.sealer, recorded_by="x", recorded_at=now())
        ledger.append(session, [values])


def _decide(api: Api, subject: str) -> str:
    res = api.client.post(
        "/api/decisions",
        headers=api.headers(USER),
        json={
            "to": "ngo-a",
            "purpose": PURPOSE,
            "subjects": [subject],
            "data_elements": ["name", "phone"],
        },
    )
    assert res.status_code == 200, res.text
    decision: str = res.json()["decision"]
    return decision


def test_a_grant_dated_ahead_in_the_ledger_is_not_consent_today(api: Api) -> None:
    _row_ahead(api, "s-029", 184)
    assert _decide(api, "s-029") == "deny"
    api.clock.advance(days=184)  # on its day, it counts (a new sign-in: sessions end)
    api.tokens.clear()
    assert _decide(api, "s-029") == "allow"


def test_the_withdrawal_made_today_outranks_a_grant_dated_ahead(api: Api) -> None:
    assert _decide(api, "s-030") == "allow"
    _row_ahead(api, "s-030", 7)
    res = api.client.post(
        "/api/subjects/s-030/consents/withdraw",
        headers=api.headers(USER),
        json={"purposes": [PURPOSE]},
    )
    assert res.status_code == 201, res.text
    assert _decide(api, "s-030") == "deny"
