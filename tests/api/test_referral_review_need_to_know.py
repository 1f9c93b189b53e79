"""Referrals read with need-to-know (review fixes): on the sending side a referral names its
persons, so it is listed, read and closed only by staff who need to know every one of them
(as a case read decides), each read audited; at the receiving organisation only its
caseworkers open a packet or give feedback (oversight roles get the audited 404); a packet
that fails a check is refused with a 409 naming the rule, audited; a packet copied into
another referral's row is refused; a pending packet is openable only within the purpose's
retention period from sending. The world is the authorization matrix's (matrix_world.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import Api, audit_events_after, audit_head
from matrix_world import MISSING_REFERRAL, matrix_api
from sqlalchemy import delete

from safeshare.services import accounts
from safeshare.settings import Settings
from safeshare.store.models_sharing import OrgPublicKeyRow, ReferralRow
from safeshare.store.unit import Store

World = tuple[Api, dict[tuple[str, str], str]]
FEEDBACK = {
    "purpose": "referral-status-feedback",
    "values": {"status_dates": "2026-03-01", "services_provided": "counselling"},
}


@pytest.fixture
def world(store: Store, store_settings: Settings, tmp_path: Path) -> Iterator[World]:
    with matrix_api(store, store_settings, tmp_path) as made:
        yield made


def _events(api: Api, since: int) -> list[Any]:
    """The audit events after ``since`` (sign-ins left out)."""
    found = audit_events_after(api.store, since)
    return [e for e in found if not e.action.startswith(("auth.", "session"))]


def _missing(api: Api) -> bytes:
    res = api.client.get(
        f"/api/referrals/{MISSING_REFERRAL}", headers=api.headers("unhcr.caseworker")
    )
    assert res.status_code == 404
    return res.content


def _denied(events: list[Any], referral: str) -> bool:
    return any(
        e.action == "access.denied" and e.object_type == "referral" and e.object_id == referral
        for e in events
    )


def test_outgoing_lists_only_the_referrals_of_her_persons_each_read_audited(world: World) -> None:
    api, refs = world
    mine = {refs[("ngo-a", "unassigned")], refs[("ngo-a", "need")]}  # c-006, c-009: hers
    colleagues = {
        refs[("ngo-a", "assigned")],  # c-001
        refs[("unhcr", "shared")],  # c-003
        refs[("unhcr", "shared-expired")],  # c-004
    }
    before = audit_head(api.store)
    res = api.client.get("/api/referrals/outgoing", headers=api.headers("ngo-a.caseworker2"))
    assert res.status_code == 200, res.text
    assert {r["id"] for r in res.json()} == mine
    read = {e.object_id for e in _events(api, before) if e.action == "access.referral"}
    assert read == mine
    # her colleague, assigned the others, sees those and not hers
    res = api.client.get("/api/referrals/outgoing", headers=api.headers("ngo-a.caseworker"))
    assert {r["id"] for r in res.json()} == colleagues
    # oversight without a recorded need sees none
    res = api.client.get("/api/referrals/outgoing", headers=api.headers("ngo-a.supervisor"))
    assert res.status_code == 200
    assert res.json() == []


def test_a_referral_of_someone_elses_person_is_the_audited_404(world: World) -> None:
    api, refs = world
    referral = refs[("ngo-a", "assigned")]  # about c-001, not caseworker2's
    missing = _missing(api)
    for who in ("ngo-a.caseworker2", "ngo-a.supervisor", "ngo-a.dp-focal-point"):
        before = audit_head(api.store)
        res = api.client.get(f"/api/referrals/{referral}", headers=api.headers(who))
        assert (res.status_code, res.content) == (404, missing), who
        assert _denied(_events(api, before), referral), who
    before = audit_head(api.store)
    res = api.client.get(f"/api/referrals/{referral}", headers=api.headers("ngo-a.caseworker"))
    assert res.status_code == 200
    assert res.json()["subjects"] == ["s-001"]
    events = _events(api, before)
    assert [(e.action, e.object_id) for e in events if e.object_type == "referral"] == [
        ("access.referral", referral)
    ]
    assert any(e.action == "access.case" and e.object_id == "c-001" for e in events)


def test_a_recorded_need_lets_oversight_see_the_referral(world: World) -> None:
    api, refs = world
    referral = refs[("ngo-a", "assigned")]
    headers = api.headers("ngo-a.supervisor")
    assert api.client.get(f"/api/referrals/{referral}", headers=headers).status_code == 404
    accounts.record_need(
        api.store,
        staff_id=api.account("ngo-a.supervisor").staff_id,
        case_id="c-001",
        need="supervision-review",
        actor_staff=api.account("ngo-a.dp-focal-point").staff_id,
        actor_org="ngo-a",
        at=api.clock(),
    )
    assert api.client.get(f"/api/referrals/{referral}", headers=headers).status_code == 200
    listed = api.client.get("/api/referrals/outgoing", headers=headers).json()
    assert [r["id"] for r in listed] == [referral]


def test_closing_a_sent_referral_needs_to_know_its_persons(world: World) -> None:
    api, refs = world
    referral = refs[("ngo-a", "assigned")]
    before = audit_head(api.store)
    res = api.client.post(
        f"/api/referrals/{referral}/close", headers=api.headers("ngo-a.caseworker2")
    )
    assert (res.status_code, res.content) == (404, _missing(api))
    assert _denied(_events(api, before), referral)
    with api.store.reading() as session:
        row = session.get(ReferralRow, referral)
        assert row is not None
        assert row.status == "pending"
    res = api.client.post(
        f"/api/referrals/{referral}/close", headers=api.headers("ngo-a.caseworker")
    )
    assert res.status_code == 200, res.text
    assert res.json()["status"] == "closed"


@pytest.mark.parametrize("who", ["ngo-a.supervisor", "ngo-a.dp-focal-point"])
def test_oversight_at_the_recipient_neither_opens_the_packet_nor_gives_feedback(
    world: World, who: str
) -> None:
    api, refs = world
    referral = refs[("ngo-a", "shared")]  # UNHCR's case shared to ngo-a, accepted
    missing = _missing(api)
    headers = api.headers(who)
    for method, path, body in (
        ("GET", f"/api/referrals/{referral}/packet", None),
        ("POST", f"/api/referrals/{referral}/feedback", FEEDBACK),
    ):
        before = audit_head(api.store)
        res = api.client.request(method, path, headers=headers, json=body)
        assert (res.status_code, res.content) == (404, missing), path
        events = _events(api, before)
        assert _denied(events, referral), path
        assert not any(e.action == "referral.open" for e in events)
    # the referral itself (its persons not named) and its inbox stay hers to see
    res = api.client.get(f"/api/referrals/{referral}", headers=headers)
    assert res.status_code == 200
    assert "subjects" not in res.json()
    # any caseworker of the recipient opens it
    res = api.client.get(
        f"/api/referrals/{referral}/packet", headers=api.headers("ngo-a.caseworker2")
    )
    assert res.status_code == 200, res.text


def _tamper(api: Api, referral: str) -> None:
    with api.store.transaction() as session:
        row = session.get(ReferralRow, referral)
        assert row is not None
        assert row.ciphertext is not None
        changed = bytearray(row.ciphertext)
        changed[5] ^= 1
        row.ciphertext = bytes(changed)


def _refused(api: Api, referral: str, who: str) -> tuple[int, str, list[Any]]:
    before = audit_head(api.store)
    res = api.client.get(f"/api/referrals/{referral}/packet", headers=api.headers(who))
    events = [e for e in _events(api, before) if e.object_id == referral]
    return res.status_code, res.text, events


def test_a_tampered_packet_is_refused_409_and_audited_with_the_rule(world: World) -> None:
    api, refs = world
    referral = refs[("unhcr", "shared")]  # ngo-a -> UNHCR, accepted
    _tamper(api, referral)
    status, text, events = _refused(api, referral, "unhcr.caseworker")
    assert status == 409, text
    assert "signature" in text
    assert [(e.action, list(e.codes)) for e in events] == [
        ("referral.open-refused", ["packet-signature-invalid"])
    ]


def test_a_packet_without_the_senders_key_is_refused_409_and_audited(world: World) -> None:
    api, refs = world
    referral = refs[("unhcr", "shared")]
    with api.store.transaction() as session:
        session.execute(delete(OrgPublicKeyRow).where(OrgPublicKeyRow.org_id == "ngo-a"))
    status, text, events = _refused(api, referral, "unhcr.caseworker")
    assert status == 409, text
    assert [(e.action, list(e.codes)) for e in events] == [
        ("referral.open-refused", ["sender-key-missing"])
    ]


def test_a_packet_copied_into_another_referral_is_refused(world: World) -> None:
    """Two referrals from ngo-a to UNHCR: the packet of one, copied into the other's row,
    verifies and decrypts, but names the first referral: refused."""
    api, refs = world
    source, target = refs[("unhcr", "shared")], refs[("ngo-a", "assigned")]
    with api.store.transaction() as session:
        src = session.get(ReferralRow, source)
        dst = session.get(ReferralRow, target)
        assert src is not None
        assert dst is not None
        assert (src.sender, src.recipient) == (dst.sender, dst.recipient)
        dst.header, dst.ciphertext, dst.signature = src.header, src.ciphertext, src.signature
    status, text, events = _refused(api, target, "unhcr.caseworker")
    assert status == 409, text
    assert [(e.action, list(e.codes)) for e in events] == [
        ("referral.open-refused", ["packet-referral-mismatch"])
    ]
    # the first referral still opens under its own id
    ok = api.client.get(f"/api/referrals/{source}/packet", headers=api.headers("unhcr.caseworker"))
    assert ok.status_code == 200
    assert ok.json()["referral_id"] == source


def test_a_pending_packet_is_openable_only_within_retention_from_sending(world: World) -> None:
    """UNHCR's referral about c-029 to ngo-a (psychosocial support, retention P6M) was sent
    on the test's first day and never answered."""
    api, refs = world
    referral = refs[("unhcr", "unassigned")]
    path = f"/api/referrals/{referral}/packet"
    assert api.client.get(path, headers=api.headers("ngo-a.caseworker")).status_code == 200
    api.clock.advance(days=183)  # 2026-08-31: still within the six months from 2026-03-01
    api.tokens.clear()
    assert api.client.get(path, headers=api.headers("ngo-a.caseworker")).status_code == 200
    api.clock.advance(days=2)
    api.tokens.clear()
    headers = api.headers("ngo-a.caseworker")
    before = audit_head(api.store)
    res = api.client.get(path, headers=headers)
    assert (res.status_code, res.content) == (404, _missing(api))
    assert _denied(_events(api, before), referral)
    inbox = api.client.get("/api/referrals/inbox", headers=headers).json()
    assert referral not in {r["id"] for r in inbox}


def test_an_unknown_recipient_is_the_audited_404(world: World) -> None:
    api, _refs = world
    before = audit_head(api.store)
    res = api.client.post(
        "/api/referrals",
        headers=api.headers("unhcr.caseworker"),
        json={
            "to": "nope-org",
            "purpose": "cash-eligibility",
            "subjects": ["s-022"],
            "data_elements": ["name"],
        },
    )
    assert (res.status_code, res.content) == (404, _missing(api))
    assert any(
        e.action == "access.denied" and e.object_id == "nope-org" for e in _events(api, before)
    )


def test_the_packet_refusal_is_documented(world: World) -> None:
    api, _refs = world
    spec = api.client.get("/api/openapi.json").json()
    responses = spec["paths"]["/api/referrals/{referral_id}/packet"]["get"]["responses"]
    assert "409" in responses
    assert "signature" in responses["409"]["description"]
