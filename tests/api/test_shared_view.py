"""A recipient sees only what was shared to it: a case or a person read through a share
shows the values of the packets the recipient holds, as they were shared, never the sender's
current record (a value changed after the share reaches the recipient only in a new share,
decided again); each read names the packets it opened in its audit event, and a packet that
fails a check is left out, its refusal audited. On SQLite and PostgreSQL (the ``store``
fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import audit_events_after, audit_head
from sharing_env import REFERRAL, Clock, sharing_env
from sqlalchemy import select

import sharing_world as w
from safeshare.api.deps import SESSION_COOKIE
from safeshare.services.case_elements import set_case_elements
from safeshare.settings import Settings
from safeshare.store.models_sharing import ReferralRow
from safeshare.store.unit import Store

Env = tuple[httpx.Client, dict[str, dict[str, str]], Clock, w.Operation]
SHARED = {"name": "Name of s1", "phone": "+000-s1", "service_needed": "legal counselling"}
CHANGED = {"name": "Changed name of s1", "phone": "+000-changed", "service_needed": "shelter"}


@pytest.fixture
def env(store: Store, store_settings: Settings, tmp_path: Path) -> Iterator[Env]:
    with sharing_env(store, store_settings, tmp_path) as opened:
        yield opened


def _accepted_referral(client: httpx.Client, h: dict[str, dict[str, str]]) -> str:
    made = client.post("/api/referrals", json=REFERRAL, headers=h["unhcr-cw"])
    assert made.status_code == 201, made.text
    rid: str = made.json()["referral"]["id"]
    accepted = client.post(f"/api/referrals/{rid}/accept", headers=h["ngoa-cw"])
    assert accepted.status_code == 200, accepted.text
    return rid


def _values(packet: dict[str, Any]) -> dict[str, str]:
    return {v["element"]: v["value"] for v in packet["values"]}


def test_the_recipient_reads_the_values_as_shared_not_the_senders_current_ones(env: Env) -> None:
    client, h, _clock, op = env
    rid = _accepted_referral(client, h)
    packet = client.get(f"/api/referrals/{rid}/packet", headers=h["ngoa-cw"]).json()
    assert packet["subjects"][0]["elements"] == SHARED
    # The sender changes the person's record after the share.
    set_case_elements(op.store, "c1", CHANGED, actor="test")
    owner = client.get("/api/cases/c1", headers=h["unhcr-cw"]).json()
    assert (owner["status"], owner["details"]) == ("open", "Details of s1")

    seen = client.get("/api/cases/c1", headers=h["ngoa-cw"])
    assert seen.status_code == 200, seen.text
    case = seen.json()
    assert case["access"] == "shared"
    assert [p["referral_id"] for p in case["shared"]] == [rid]
    assert _values(case["shared"][0]) == SHARED
    assert sorted(case["data_elements"]) == sorted(SHARED)
    # Nothing of the sender's current record: its values, status, details, categories.
    assert (case["status"], case["closed_on"], case["details"], case["notes"]) == (None,) * 4
    assert case["categories"] == []
    for value in CHANGED.values():
        assert value not in seen.text

    person = client.get("/api/subjects/s1", headers=h["ngoa-cw"]).json()
    assert (person["name"], person["contact"]) == (SHARED["name"], SHARED["phone"])
    assert person["age"] is None  # her age was not shared
    assert person["categories"] == []
    assert sorted(person["data_elements"]) == ["name", "phone"]
    assert [_values(p) for p in person["shared"]] == [
        {"name": SHARED["name"], "phone": SHARED["phone"]}
    ]


def test_a_change_reaches_the_recipient_only_in_a_new_share(env: Env) -> None:
    client, h, clock, op = env
    first = _accepted_referral(client, h)
    set_case_elements(op.store, "c1", CHANGED, actor="test")
    clock.now += timedelta(minutes=10)
    second = _accepted_referral(client, h)  # a new decision, a new packet

    case = client.get("/api/cases/c1", headers=h["ngoa-cw"]).json()
    assert [p["referral_id"] for p in case["shared"]] == [second, first]  # newest first
    assert [_values(p) for p in case["shared"]] == [CHANGED, SHARED]
    person = client.get("/api/subjects/s1", headers=h["ngoa-cw"]).json()
    assert (person["name"], person["contact"]) == (CHANGED["name"], CHANGED["phone"])


def test_each_read_names_the_packets_it_opened(env: Env) -> None:
    client, h, _clock, op = env
    rid = _accepted_referral(client, h)
    seq = audit_head(op.store)
    case = client.get("/api/cases/c1", headers=h["ngoa-cw"]).json()
    events = audit_events_after(op.store, seq)
    assert [e.action for e in events] == ["access.shared"]
    assert events[0].details["referrals"] == rid
    assert events[0].details["elements"] == ",".join(case["data_elements"])
    assert list(events[0].codes) == ["shared-to-recipient"]


def test_a_packet_failing_a_check_is_left_out_and_its_refusal_audited(env: Env) -> None:
    client, h, _clock, op = env
    rid = _accepted_referral(client, h)
    with op.store.transaction() as session:
        row = session.get(ReferralRow, rid)
        assert row is not None
        assert row.ciphertext is not None
        changed = bytearray(row.ciphertext)
        changed[-1] ^= 0x01
        row.ciphertext = bytes(changed)
    seq = audit_head(op.store)
    seen = client.get("/api/cases/c1", headers=h["ngoa-cw"])
    assert seen.status_code == 200, seen.text
    assert seen.json()["shared"] == []
    assert seen.json()["data_elements"] == []
    for value in SHARED.values():
        assert value not in seen.text
    person = client.get("/api/subjects/s1", headers=h["ngoa-cw"]).json()
    assert (person["name"], person["contact"]) == (None, None)
    refused = [e for e in audit_events_after(op.store, seq) if e.action == "referral.open-refused"]
    assert [(e.object_id, list(e.codes)) for e in refused] == [
        (rid, ["packet-signature-invalid"]),
        (rid, ["packet-signature-invalid"]),
    ]


def test_the_recipients_case_list_shows_no_status_of_the_senders(env: Env) -> None:
    client, h, _clock, _op = env
    _accepted_referral(client, h)
    listed = {c["id"]: c for c in client.get("/api/cases", headers=h["ngoa-cw"]).json()}
    assert listed["c1"]["access"] == "shared"
    assert (listed["c1"]["status"], listed["c1"]["closed_on"]) == (None, None)
    assert listed["c4"]["status"] is not None  # its own case


def test_the_recipients_case_page_shows_what_was_shared(env: Env) -> None:
    client, h, _clock, op = env
    _accepted_referral(client, h)
    set_case_elements(op.store, "c1", CHANGED, actor="test")
    client.cookies.set(SESSION_COOKIE, h["ngoa-cw"]["authorization"].removeprefix("Bearer "))
    page = client.get("/cases/c1")
    client.cookies.clear()
    assert page.status_code == 200
    shared = page.text.split('id="h-shared"', 1)[1]
    for value in SHARED.values():
        assert value in shared
    for value in CHANGED.values():
        assert value not in page.text
    assert "Details of s1" not in page.text


def test_a_packet_about_two_persons_shows_each_only_her_own_values(env: Env) -> None:
    client, h, _clock, _op = env
    both = {**REFERRAL, "subjects": ["s1", "s2"]}
    made = client.post("/api/referrals", json=both, headers=h["unhcr-cw"])
    assert made.status_code == 201, made.text
    rid = made.json()["referral"]["id"]
    assert client.post(f"/api/referrals/{rid}/accept", headers=h["ngoa-cw"]).status_code == 200
    first = client.get("/api/cases/c1", headers=h["ngoa-cw"])
    second = client.get("/api/cases/c2", headers=h["ngoa-cw"])
    assert [_values(p)["phone"] for p in first.json()["shared"]] == ["+000-s1"]
    assert [_values(p)["phone"] for p in second.json()["shared"]] == ["+000-s2"]
    assert "s2" not in first.text.replace('"subject_id":"s1"', "")
    assert "Name of s1" not in second.text


def test_a_list_of_cases_opens_nothing_and_records_no_element(env: Env) -> None:
    client, h, _clock, op = env
    _accepted_referral(client, h)
    seq = audit_head(op.store)
    listed = {c["id"]: c for c in client.get("/api/cases", headers=h["ngoa-cw"]).json()}
    assert listed["c1"]["access"] == "shared"
    shared = [e for e in audit_events_after(op.store, seq) if e.action == "access.shared"]
    assert [(e.object_id, e.details["elements"]) for e in shared] == [("c1", "")]
    assert "referrals" not in shared[0].details


def test_the_recipient_may_not_decide_or_make_a_share_from_the_senders_record(env: Env) -> None:
    """A person held only through a share is not the recipient's record to decide from: an
    evaluation would be made from the sender's current record, and its reasons tell it (her
    age, her consent). Refused like a person it may not see, and audited."""
    client, h, _clock, op = env
    _accepted_referral(client, h)
    feedback = {
        "to": "unhcr",
        "purpose": w.FEEDBACK,
        "subjects": ["s1"],
        "data_elements": ["status_dates"],
        "contact_method": "home-visit",
    }
    seq = audit_head(op.store)
    for path in ("/api/decisions", "/api/referrals"):
        refused = client.post(path, json=feedback, headers=h["ngoa-cw"])
        assert refused.status_code == 404, (path, refused.text)
        assert refused.json() == {"detail": "not found"}  # no decision, no reasons
    events = audit_events_after(op.store, seq)
    # One refusal each, and no access granted first.
    assert [(e.action, list(e.codes)) for e in events] == [
        ("access.denied", ["held-only-through-a-share"])
    ] * 2
    with op.store.reading() as session:
        kinds = session.scalars(select(ReferralRow.kind).where(ReferralRow.sender == "ngo-a"))
        assert list(kinds) == []


def test_a_packet_whose_header_is_not_json_is_refused_not_a_server_error(env: Env) -> None:
    client, h, _clock, op = env
    rid = _accepted_referral(client, h)
    with op.store.transaction() as session:
        row = session.get(ReferralRow, rid)
        assert row is not None
        row.header = "{not json"
    seq = audit_head(op.store)
    seen = client.get("/api/cases/c1", headers=h["ngoa-cw"])
    assert seen.status_code == 200, seen.text
    assert seen.json()["shared"] == []
    opened = client.get(f"/api/referrals/{rid}/packet", headers=h["ngoa-cw"])
    assert opened.status_code == 409, opened.text
    events = audit_events_after(op.store, seq)
    assert [e.action for e in events] == [
        "referral.open-refused",
        "access.shared",
        "referral.open-refused",
    ]
    assert {tuple(e.codes) for e in events if e.action == "referral.open-refused"} == {
        ("packet-signature-invalid",)
    }
