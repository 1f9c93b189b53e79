"""Review: a consent entry dated after today is refused (422 naming ``date``), so it can
neither count as consent before its date nor outrank a withdrawal recorded since; the
service behind the API and the CLI refuses it too, recording nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from api_support import Api, audit_head
from matrix_world import TODAY, matrix_api
from sqlalchemy import select

from safeshare.audit.chain import parse_body
from safeshare.core.vocabulary import ConsentDecision
from safeshare.services import consent_effects
from safeshare.services.consent import FutureConsentDateError, consent_history, record_consent
from safeshare.settings import Settings
from safeshare.store.ledger import NewConsent
from safeshare.store.models import AuditEventRow
from safeshare.store.unit import Store

USER = "unhcr.caseworker2"  # holds c-029/s-029 (no consent) and c-030/s-030 (consent)
PURPOSE = "legal-aid-referral"
SHARE = {
    "to": "ngo-a",
    "purpose": PURPOSE,
    "subjects": ["s-030"],
    "data_elements": ["name", "phone"],
}


@pytest.fixture
def api(store: Store, store_settings: Settings, tmp_path: Path) -> Iterator[Api]:
    with matrix_api(store, store_settings, tmp_path) as (api, _referrals):
        yield api


def _decide(api: Api, subject: str) -> str:
    res = api.client.post(
        "/api/decisions", headers=api.headers(USER), json={**SHARE, "subjects": [subject]}
    )
    assert res.status_code == 200, res.text
    decision: str = res.json()["decision"]
    return decision


def _grant(api: Api, subject: str, day: str) -> tuple[int, object]:
    res = api.client.post(
        f"/api/subjects/{subject}/consents",
        headers=api.headers(USER),
        json={"decision": "granted", "purposes": [PURPOSE], "date": day},
    )
    return res.status_code, res.json()


def _actions_since(api: Api, seq: int) -> list[str]:
    with api.store.reading() as session:
        bodies = session.scalars(select(AuditEventRow.body).where(AuditEventRow.seq > seq))
        return [parse_body(bytes(b)).action for b in bodies]


def test_a_grant_dated_ahead_is_refused_naming_the_date_field(api: Api) -> None:
    ahead = (TODAY + timedelta(days=7)).isoformat()
    before, head = consent_history(api.store, "s-030"), audit_head(api.store)
    status, body = _grant(api, "s-030", ahead)
    assert status == 422, body
    assert isinstance(body, dict)
    (issue,) = body["detail"]
    assert issue["loc"] == ["body", "date"]
    assert issue["type"] == "value_error"
    assert "s-030" not in issue["msg"]
    assert consent_history(api.store, "s-030") == before  # nothing recorded
    assert not any(a.startswith("consent.") for a in _actions_since(api, head))


def test_today_and_earlier_dates_are_still_accepted(api: Api) -> None:
    assert _grant(api, "s-029", TODAY.isoformat())[0] == 201
    assert _grant(api, "s-029", (TODAY - timedelta(days=3)).isoformat())[0] == 201


def test_the_withdrawal_after_a_refused_future_grant_stops_sharing(api: Api) -> None:
    """The reviewer's repro (p3): the grant dated a week ahead no longer outranks the
    withdrawal made today; the evaluation denies and no referral is sent."""
    assert _decide(api, "s-030") == "allow"
    assert _grant(api, "s-030", (TODAY + timedelta(days=7)).isoformat())[0] == 422
    res = api.client.post(
        "/api/subjects/s-030/consents/withdraw",
        headers=api.headers(USER),
        json={"purposes": [PURPOSE]},
    )
    assert res.status_code == 201, res.text
    assert res.json()["date"] == TODAY.isoformat()
    assert _decide(api, "s-030") == "deny"
    sent = api.client.post(
        "/api/referrals",
        headers=api.headers(USER),
        json={
            **SHARE,
            "data_elements": ["referral_id", "name", "phone", "service_needed"],
            "contact_method": "phone",
        },
    )
    assert sent.status_code != 201 or sent.json().get("referral") is None, sent.text


def test_a_grant_dated_months_ahead_does_not_count_today(api: Api) -> None:
    assert _decide(api, "s-029") == "deny"
    assert _grant(api, "s-029", (TODAY + timedelta(days=184)).isoformat())[0] == 422
    assert _decide(api, "s-029") == "deny"


def test_the_service_refuses_a_future_dated_entry_for_every_caller(api: Api) -> None:
    """The CLI and the loaders record through the same service: refused, nothing kept."""
    entry = NewConsent(
        subject="s-029",
        decision=ConsentDecision.GRANTED,
        purposes=(PURPOSE,),
        date=TODAY + timedelta(days=1),
    )
    with pytest.raises(FutureConsentDateError) as refused:
        consent_effects.record_consent_and_apply(api.store, entry, actor="cli", today=TODAY)
    assert refused.value.field == "date"
    with pytest.raises(FutureConsentDateError):
        record_consent(api.store, entry, actor="loader", today=TODAY)
    with pytest.raises(FutureConsentDateError):
        consent_effects.withdraw_consent_and_apply(
            api.store,
            subject="s-029",
            purposes=(PURPOSE,),
            actor="cli",
            on=TODAY + timedelta(days=1),
            today=TODAY,
        )
    assert [e for e in consent_history(api.store, "s-029") if e.date > TODAY] == []
    # dated today: recorded
    dated_today = replace(entry, date=TODAY, id="ok-1")
    consent_effects.record_consent_and_apply(api.store, dated_today, actor="cli", today=TODAY)
    assert "ok-1" in {e.id for e in consent_history(api.store, "s-029")}
