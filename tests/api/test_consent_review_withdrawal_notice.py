"""Review: a withdrawal that stops a one-person referral still pending — already in the
recipient's inbox, its packet perhaps opened — tells the recipient (a ``referral-stopped``
notice with its ``notice.create`` audit event), as it does for a referral about several."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import Api, audit_events_after, audit_head
from matrix_world import matrix_api

from safeshare.settings import Settings
from safeshare.store.models_sharing import ReferralRow
from safeshare.store.unit import Store

World = tuple[Api, dict[tuple[str, str], str]]


@pytest.fixture
def world(store: Store, store_settings: Settings, tmp_path: Path) -> Iterator[World]:
    with matrix_api(store, store_settings, tmp_path) as made:
        yield made


def _events_since(api: Api, seq: int) -> list[tuple[str, str, str | None, dict[str, object]]]:
    return [
        (e.action, e.object_type, e.object_id, dict(e.details or {}))
        for e in audit_events_after(api.store, seq)
    ]


def test_withdrawal_stopping_a_one_person_pending_referral_notifies_its_recipient(
    world: World,
) -> None:
    api, referrals = world
    pending = referrals[("ngo-a", "assigned")]  # ngo-a -> UNHCR about s-001, pending
    opened = api.client.get(
        f"/api/referrals/{pending}/packet", headers=api.headers("unhcr.caseworker")
    )
    assert opened.status_code == 200, opened.text
    assert [s["subject"] for s in opened.json()["subjects"]] == ["s-001"]

    head = audit_head(api.store)
    res = api.client.post(
        "/api/subjects/s-001/consents/withdraw",
        headers=api.headers("ngo-a.caseworker"),
        json={"purposes": ["cash-eligibility"]},
    )
    assert res.status_code == 201, res.text
    with api.store.reading() as session:
        row = session.get(ReferralRow, pending)
        assert row is not None
        assert row.status == "stopped"

    notices = api.client.get("/api/notices?all=true", headers=api.headers("unhcr.caseworker"))
    assert notices.status_code == 200, notices.text
    (notice,) = [n for n in notices.json() if n["referral_id"] == pending]
    assert notice["kind"] == "referral-stopped"
    assert notice["recipient"] == "unhcr"
    assert notice["purpose"] == "cash-eligibility"
    # the sender is not asked to resend others: there were none
    sender = api.client.get("/api/notices?all=true", headers=api.headers("ngo-a.caseworker"))
    assert [n for n in sender.json() if n["referral_id"] == pending] == []

    events = _events_since(api, head)
    created = [e for e in events if e[0] == "notice.create"]
    assert [(e[1], e[2]) for e in created] == [("share_notice", notice["id"])]
    assert created[0][3] == {"referral": pending, "recipient": "unhcr"}
    stop = next(e for e in events if e[0] == "referral.stop")
    assert stop[2] == pending
    assert [e[0] for e in events].index("referral.stop") < [e[0] for e in events].index(
        "notice.create"
    )
