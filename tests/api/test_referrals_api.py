"""Sharing end to end through the API: referral with conditions applied, inbox within
retention, packet opened by the recipient organisation only, accept/reject, feedback,
closing, escalation, inform tasks, withdrawal effects, re-verification, subject access and
erasure (audit verify stays ok). Forbidden and missing answer the same 404."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from api_support import audit_events_after, audit_head
from sharing_env import (
    INVESTIGATION,
    NOW,
    PASSWORD,
    REFERRAL,
    Clock,
    client_policy,
    sharing_env,
)
from sqlalchemy import select

import sharing_world as w
from safeshare.api.deps import SESSION_COOKIE
from safeshare.services import audit as audit_service
from safeshare.services.accounts import login
from safeshare.services.common import audit
from safeshare.services.escalations import SelfApprovalError, decide_escalation
from safeshare.services.needs import record_need
from safeshare.settings import Settings
from safeshare.store.models_access import UserAccountRow
from safeshare.store.unit import Store


@pytest.fixture
def env(
    store: Store, store_settings: Settings, tmp_path: Path
) -> Iterator[tuple[httpx.Client, dict[str, dict[str, str]], Clock, w.Operation]]:
    with sharing_env(store, store_settings, tmp_path) as opened:
        yield opened


def test_referral_lifecycle(env: tuple) -> None:  # type: ignore[type-arg]
    client, h, clock, op = env
    r = client.post("/api/referrals", json=REFERRAL, headers=h["unhcr-cw"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["decision"]["decision"] == "allow-with-conditions"
    ref = body["referral"]
    assert ref["status"] == "pending"
    assert ref["contact_method"] == "phone"
    assert "incident_description" not in ref["elements"]
    rid = ref["id"]
    assert [
        x["id"] for x in client.get("/api/referrals/outgoing", headers=h["unhcr-cw"]).json()
    ] == [rid]
    inbox = client.get("/api/referrals/inbox", headers=h["ngoa-cw"]).json()
    assert [x["id"] for x in inbox] == [rid]
    assert "subjects" not in inbox[0]
    # the sender cannot open the packet; another organisation sees nothing; same 404
    for who in ("unhcr-cw", "ngob-cw"):
        assert client.get(f"/api/referrals/{rid}/packet", headers=h[who]).status_code == 404
    assert client.get(f"/api/referrals/{rid}", headers=h["ngob-cw"]).status_code == 404
    assert client.get("/api/referrals/ref-nope/packet", headers=h["ngob-cw"]).json() == {
        "detail": "not found"
    }
    packet = client.get(f"/api/referrals/{rid}/packet", headers=h["ngoa-cw"]).json()
    assert packet["label"] == "High priority referral"
    assert packet["subjects"][0]["elements"] == {
        "name": "Name of s1",
        "phone": "+000-s1",
        "service_needed": "legal counselling",
    }
    assert client.post(f"/api/referrals/{rid}/accept", headers=h["ngob-cw"]).status_code == 404
    accepted = client.post(f"/api/referrals/{rid}/accept", headers=h["ngoa-cw"]).json()
    assert accepted["access_until"] == "2026-09-01"
    assert client.post(f"/api/referrals/{rid}/accept", headers=h["ngoa-cw"]).status_code == 409
    fb = client.post(
        f"/api/referrals/{rid}/feedback",
        headers=h["ngoa-cw"],
        json={
            "purpose": w.FEEDBACK,
            "values": {
                "status_dates": "2026-03-01",
                "services_provided": "counselling",
                "service_outcome": "not agreed",
            },
        },
    )
    assert fb.status_code == 201, fb.text
    fid = fb.json()["referral"]["id"]
    fpacket = client.get(f"/api/referrals/{fid}/packet", headers=h["unhcr-cw"]).json()
    assert fpacket["answers"] == rid
    assert fpacket["subjects"][0]["elements"] == {
        "referral_id": rid,
        "referral_status": "accepted",
        "status_dates": "2026-03-01",
        "services_provided": "counselling",
    }
    closed = client.post(f"/api/referrals/{rid}/close", headers=h["ngoa-cw"])
    assert closed.json()["status"] == "closed"
    # after the retention period the recipient sees nothing
    clock.now = datetime(2026, 9, 2, 10, 0, tzinfo=UTC)
    issued = login(op.store, "ngoa-cw", PASSWORD, policy=client_policy(op), at=clock.now)
    later = {"authorization": f"Bearer {issued.token}"}
    assert client.get("/api/referrals/inbox", headers=later).json() == []
    assert client.get(f"/api/referrals/{rid}/packet", headers=later).status_code == 404


def test_reject_and_deny(env: tuple) -> None:  # type: ignore[type-arg]
    client, h, _clock, _op = env
    rid = client.post("/api/referrals", json=REFERRAL, headers=h["unhcr-cw"]).json()["referral"][
        "id"
    ]
    r = client.post(
        f"/api/referrals/{rid}/reject", json={"reason": "no-capacity"}, headers=h["ngoa-cw"]
    )
    assert r.json()["status"] == "rejected"
    assert client.get(f"/api/referrals/{rid}/packet", headers=h["ngoa-cw"]).status_code == 404
    denied = client.post(
        "/api/referrals", json={**REFERRAL, "subjects": ["s3"]}, headers=h["unhcr-cw"]
    )
    assert denied.status_code == 201
    assert denied.json()["decision"]["decision"] == "deny"
    assert denied.json()["referral"] is None
    # a subject the caller has no need to know: the same 404 as a missing one
    assert (
        client.post(
            "/api/referrals", json={**REFERRAL, "subjects": ["s5"]}, headers=h["unhcr-cw"]
        ).status_code
        == 404
    )


def test_escalation_and_inform_task(env: tuple) -> None:  # type: ignore[type-arg]
    client, h, _clock, _op = env
    out = client.post("/api/referrals", json=INVESTIGATION, headers=h["ngoa-cw"]).json()
    assert out["decision"]["decision"] == "escalate"
    assert client.get("/api/escalations", headers=h["ngoa-cw"]).status_code == 404
    assert client.get("/api/escalations", headers=h["unhcr-dp"]).json() == []
    (item,) = client.get("/api/escalations", headers=h["ngoa-dp"]).json()
    assert item["detail"] == "Complaint against a named worker"
    assert item["recipient_safe"] is True
    assert (
        client.post(
            f"/api/escalations/{item['id']}/decide",
            headers=h["unhcr-dp"],
            json={"approve": True, "reasons": "x"},
        ).status_code
        == 404
    )
    decided = client.post(
        f"/api/escalations/{item['id']}/decide",
        headers=h["ngoa-dp"],
        json={"approve": True, "reasons": "Named, assessed, safe"},
    ).json()
    assert decided["status"] == "approved"
    assert decided["reasons"] == "Named, assessed, safe"
    packet = client.get(
        f"/api/referrals/{out['referral']['id']}/packet", headers=h["unhcr-cw"]
    ).json()
    assert packet["subjects"][0]["elements"]["individual_number"] == "IND-s5"
    (task,) = client.get("/api/inform-tasks", headers=h["ngoa-cw"]).json()
    assert task["subject_id"] == "s5"
    assert (
        client.post(f"/api/inform-tasks/{task['id']}/done", headers=h["unhcr-cw"]).status_code
        == 404
    )
    assert client.post(f"/api/inform-tasks/{task['id']}/done", headers=h["ngoa-cw"]).json()[
        "done_at"
    ]
    assert client.get("/api/inform-tasks", headers=h["ngoa-cw"]).json() == []


def test_the_one_who_asked_for_an_exceptional_share_may_not_approve_it(env: tuple) -> None:  # type: ignore[type-arg]
    """Four eyes: whoever asked for an escalated share (a focal point may make referrals)
    cannot approve it herself; the attempt is refused and audited, and nothing is sent. She
    may still refuse it."""
    client, h, _clock, op = env
    out = client.post("/api/referrals", json=INVESTIGATION, headers=h["ngoa-cw"]).json()
    assert out["decision"]["decision"] == "escalate"
    with op.store.reading() as session:
        asker = session.scalar(
            select(UserAccountRow.id).where(UserAccountRow.username == "ngoa-cw")
        )
    assert asker is not None
    seq = audit_head(op.store)
    with pytest.raises(SelfApprovalError):
        decide_escalation(
            op.store,
            op.keys,
            out["escalation_id"],
            approve=True,
            reasons="x",
            actor=asker,
            today=NOW.date(),
        )
    (event,) = audit_events_after(op.store, seq)
    assert (event.action, list(event.codes)) == ("escalation.approval-refused", ["four-eyes"])
    (item,) = client.get("/api/escalations", headers=h["ngoa-dp"]).json()
    assert item["id"] == out["escalation_id"]  # still waiting; no packet sent
    refused = decide_escalation(
        op.store,
        op.keys,
        out["escalation_id"],
        approve=False,
        reasons="no",
        actor=asker,
        today=NOW.date(),
    )
    assert refused.status == "refused"


def test_a_focal_point_may_not_approve_the_share_she_asked_for(env: tuple) -> None:  # type: ignore[type-arg]
    """Through the API: the focal point who made an escalated referral (with a recorded need
    to know the person) gets a 409 when she approves it herself, and the attempt is audited."""
    client, h, _clock, op = env
    with op.store.reading() as session:
        staff = {
            name: sid
            for name, sid in session.execute(
                select(UserAccountRow.username, UserAccountRow.staff_id)
            )
        }
    record_need(
        op.store,
        staff_id=staff["ngoa-dp"],
        case_id="c5",
        need="supervision-review",
        actor_staff=staff["ngoa-cw"],
        actor_org="ngo-a",
        at=NOW,
    )
    out = client.post("/api/referrals", json=INVESTIGATION, headers=h["ngoa-dp"])
    assert out.status_code == 201, out.text
    assert out.json()["decision"]["decision"] == "escalate"
    escalation = out.json()["escalation_id"]
    seq = audit_head(op.store)
    own = client.post(
        f"/api/escalations/{escalation}/decide",
        headers=h["ngoa-dp"],
        json={"approve": True, "reasons": "Named, assessed, safe"},
    )
    assert own.status_code == 409, own.text
    assert "another data protection focal point" in own.json()["detail"]
    assert [e.action for e in audit_events_after(op.store, seq)] == ["escalation.approval-refused"]
    assert [e["id"] for e in client.get("/api/escalations", headers=h["ngoa-dp"]).json()] == [
        escalation
    ]


def test_withdrawal_through_consent_api(env: tuple) -> None:  # type: ignore[type-arg]
    client, h, _clock, _op = env
    first = client.post("/api/referrals", json=REFERRAL, headers=h["unhcr-cw"]).json()
    second = client.post("/api/referrals", json=REFERRAL, headers=h["unhcr-cw"]).json()
    delivered, pending = first["referral"]["id"], second["referral"]["id"]
    client.post(f"/api/referrals/{delivered}/accept", headers=h["ngoa-cw"])
    r = client.post(
        "/api/subjects/s1/consents/withdraw", headers=h["unhcr-cw"], json={"purposes": [w.REFERRAL]}
    )
    assert r.status_code == 201, r.text
    inbox = client.get("/api/referrals/inbox", headers=h["ngoa-cw"]).json()
    assert [x["id"] for x in inbox] == [delivered]
    notices = {n["referral_id"]: n for n in client.get("/api/notices", headers=h["ngoa-cw"]).json()}
    assert {rid: n["kind"] for rid, n in notices.items()} == {
        delivered: "consent-withdrawn",
        pending: "referral-stopped",  # it was in ngo-a's inbox: told not to act on it
    }
    notice = notices[delivered]
    assert client.get("/api/notices", headers=h["ngob-cw"]).json() == []
    ack = client.post(f"/api/notices/{notice['id']}/acknowledge", headers=h["ngoa-cw"])
    assert ack.json()["acknowledged_at"]
    again = client.post("/api/referrals", json=REFERRAL, headers=h["unhcr-cw"]).json()
    assert again["decision"]["decision"] == "deny"
    assert "consent-withdrawn" in {x["code"] for x in again["decision"]["reasons"]}
    statuses = {
        x["id"]: x["status"]
        for x in client.get("/api/referrals/outgoing", headers=h["unhcr-cw"]).json()
    }
    assert statuses[pending] == "stopped"


def test_reverification_subject_access_and_erasure(env: tuple) -> None:  # type: ignore[type-arg]
    client, h, _clock, op = env
    queue = client.get("/api/consent-reverification", headers=h["unhcr-cw"]).json()
    assert [(q["subject_id"], q["purpose"]) for q in queue] == [("s2", "old-purpose")]
    sar = client.post(
        "/api/subject-access",
        headers=h["unhcr-cw"],
        json={"requester": "s1", "records": ["f1", "f2", "f3"]},
    ).json()
    assert [r["id"] for r in sar["released"]] == ["f1"]
    assert sar["released"][0]["content"] == "Her own file"
    # Another person's record, and her own record held by NGO A (it answers for it).
    assert sar["withheld"] == ["f2", "f3"]
    assert "Her file at NGO A" not in str(sar)
    assert (
        client.post(
            "/api/subject-access", headers=h["ngob-cw"], json={"requester": "s1", "records": ["f1"]}
        ).status_code
        == 404
    )
    rid = client.post("/api/referrals", json=REFERRAL, headers=h["unhcr-cw"]).json()["referral"][
        "id"
    ]
    client.post(f"/api/referrals/{rid}/accept", headers=h["ngoa-cw"])
    assert client.post("/api/subjects/s1/erase", headers=h["unhcr-cw"]).status_code == 404
    assert client.post("/api/subjects/s1/erase", headers=h["ngoa-dp"]).status_code == 404
    erased = client.post("/api/subjects/s1/erase", headers=h["unhcr-dp"])
    assert erased.status_code == 200, erased.text
    assert erased.json()["packets_destroyed"] == [rid]
    assert client.get(f"/api/referrals/{rid}/packet", headers=h["ngoa-cw"]).status_code == 404
    assert [n["kind"] for n in client.get("/api/notices", headers=h["ngoa-cw"]).json()] == [
        "erased"
    ]
    assert audit_service.verify_audit(op.store).ok


def test_a_recipients_case_page_shows_only_its_own_staffs_accesses(env: tuple) -> None:  # type: ignore[type-arg]
    """The case page's trail, for an organisation the case was shared with, holds its own
    staff's accesses only: not the owner's, nor another recipient's (which would tell it
    where else the person was referred)."""
    client, h, _clock, op = env
    rid = client.post("/api/referrals", json=REFERRAL, headers=h["unhcr-cw"]).json()["referral"][
        "id"
    ]
    assert client.post(f"/api/referrals/{rid}/accept", headers=h["ngoa-cw"]).status_code == 200
    assert client.get(f"/api/referrals/{rid}/packet", headers=h["ngoa-cw"]).status_code == 200
    with op.store.transaction() as session:
        ngob = session.scalar(select(UserAccountRow.id).where(UserAccountRow.username == "ngob-cw"))
        assert ngob is not None
        audit(
            op.store, session, actor=ngob, action="access.case", object_type="case", object_id="c1"
        )
    pages = {}
    for who in ("ngoa-cw", "unhcr-cw"):
        client.cookies.set(SESSION_COOKIE, h[who]["authorization"].removeprefix("Bearer "))
        page = client.get("/cases/c1")
        assert page.status_code == 200, (who, page.status_code)
        pages[who] = page.text.split('id="h-trail"', 1)[1]
        client.cookies.clear()
    assert "ngoa-cw" in pages["ngoa-cw"]
    assert "ngob-cw" not in pages["ngoa-cw"]
    assert "unhcr-cw" not in pages["ngoa-cw"]
    assert "ngob-cw" in pages["unhcr-cw"]  # the owner's trail is whole
    assert "ngoa-cw" in pages["unhcr-cw"]


def test_a_withdrawal_ends_the_recipients_view_of_that_person(env: tuple) -> None:  # type: ignore[type-arg]
    """After the person withdraws her consent for the purpose, the recipient of an accepted
    share no longer reads her case through it (it has the notice), even within the share's
    retention period; before, it does."""
    client, h, _clock, _op = env
    rid = client.post("/api/referrals", json=REFERRAL, headers=h["unhcr-cw"]).json()["referral"][
        "id"
    ]
    assert client.post(f"/api/referrals/{rid}/accept", headers=h["ngoa-cw"]).status_code == 200
    seen = client.get("/api/cases/c1", headers=h["ngoa-cw"])
    assert seen.status_code == 200, seen.text
    assert seen.json()["access"] == "shared"
    assert "c1" in {c["id"] for c in client.get("/api/cases", headers=h["ngoa-cw"]).json()}
    assert client.get("/api/subjects/s1", headers=h["ngoa-cw"]).status_code == 200
    withdrawn = client.post(
        "/api/subjects/s1/consents/withdraw", headers=h["unhcr-cw"], json={"purposes": [w.REFERRAL]}
    )
    assert withdrawn.status_code == 201, withdrawn.text
    assert client.get("/api/cases/c1", headers=h["ngoa-cw"]).status_code == 404
    assert "c1" not in {c["id"] for c in client.get("/api/cases", headers=h["ngoa-cw"]).json()}
    assert client.get("/api/subjects/s1", headers=h["ngoa-cw"]).status_code == 404
    # The owner's caseworker still sees her case.
    assert client.get("/api/cases/c1", headers=h["unhcr-cw"]).status_code == 200
