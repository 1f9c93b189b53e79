"""Review fixes: every refusal of the escalation, inform-task and notice endpoints and of the
web referral pages is an ``access.denied`` audit event (as the API's referral reads are); an
erasure notifies the recipient of a pending referral too (its packet was in the inbox), and
each erasure notice is a ``notice.create`` audit event."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from api_client import api_client
from api_support import audit_events_after, audit_head, signed_in_staff
from fastapi import FastAPI
from sharing_env import INVESTIGATION, NOW, PASSWORD, USERS
from sqlalchemy import func, select

import sharing_world as w
from safeshare.api.app import create_app
from safeshare.api.config import WebSettings
from safeshare.api.deps import CSRF_HEADER, SESSION_COOKIE
from safeshare.api.security import session_csrf_token
from safeshare.services import audit as audit_service
from safeshare.settings import Env, Settings
from safeshare.store.models_sharing import ShareNoticeRow
from safeshare.store.unit import Store

REFERRAL = {
    "to": "ngo-a",
    "purpose": w.REFERRAL,
    "subjects": ["s1"],
    "data_elements": ["name", "phone", "service_needed"],
    "contact_method": "phone",
}


@dataclass
class World:
    app: FastAPI
    client: httpx.Client
    store: Store
    headers: dict[str, dict[str, str]]
    tokens: dict[str, str]


@pytest.fixture
def env(store: Store, store_settings: Settings, tmp_path: Path) -> Iterator[World]:
    op = w.build(store, tmp_path / "org-keys")
    web = WebSettings(env=Env.TEST, fast_password_hashing=True)
    app = create_app(store_settings, store, web=web, clock=lambda: NOW)
    app.state.org_keys = op.keys
    tokens = signed_in_staff(store, USERS, password=PASSWORD, policy=app.state.policy, at=NOW)
    headers = {name: {"authorization": f"Bearer {token}"} for name, token in tokens.items()}
    with api_client(app) as client:
        yield World(app, client, store, headers, tokens)


def _denied(e: World, since: int) -> list[tuple[str, str]]:
    return [
        (x.object_type, x.object_id)
        for x in audit_events_after(e.store, since)
        if x.action == "access.denied"
    ]


# --- 4. audited denials ----------------------------------------------------------------------


def test_deciding_another_organisations_or_a_missing_escalation_is_an_audited_404(
    env: World,
) -> None:
    e = env
    out = e.client.post("/api/referrals", json=INVESTIGATION, headers=e.headers["ngoa-cw"]).json()
    assert out["decision"]["decision"] == "escalate"
    (item,) = e.client.get("/api/escalations", headers=e.headers["ngoa-dp"]).json()
    for escalation in (item["id"], "esc-nope"):
        head = audit_head(e.store)
        res = e.client.post(
            f"/api/escalations/{escalation}/decide",
            headers=e.headers["unhcr-dp"],
            json={"approve": True, "reasons": "x"},
        )
        assert res.status_code == 404
        assert _denied(e, head) == [("escalation", escalation)]


def test_completing_another_organisations_or_a_missing_inform_task_is_an_audited_404(
    env: World,
) -> None:
    e = env
    e.client.post("/api/referrals", json=INVESTIGATION, headers=e.headers["ngoa-cw"])
    (item,) = e.client.get("/api/escalations", headers=e.headers["ngoa-dp"]).json()
    e.client.post(
        f"/api/escalations/{item['id']}/decide",
        headers=e.headers["ngoa-dp"],
        json={"approve": True, "reasons": "Named, assessed, safe"},
    )
    (task,) = e.client.get("/api/inform-tasks", headers=e.headers["ngoa-cw"]).json()
    for task_id in (task["id"], "task-nope"):
        head = audit_head(e.store)
        res = e.client.post(f"/api/inform-tasks/{task_id}/done", headers=e.headers["unhcr-cw"])
        assert res.status_code == 404
        assert _denied(e, head) == [("inform_task", task_id)]


def test_acknowledging_another_organisations_or_a_missing_notice_is_an_audited_404(
    env: World,
) -> None:
    e = env
    rid = e.client.post("/api/referrals", json=REFERRAL, headers=e.headers["unhcr-cw"]).json()[
        "referral"
    ]["id"]
    e.client.post(f"/api/referrals/{rid}/accept", headers=e.headers["ngoa-cw"])
    e.client.post(
        "/api/subjects/s1/consents/withdraw",
        headers=e.headers["unhcr-cw"],
        json={"purposes": [w.REFERRAL]},
    )
    (notice,) = e.client.get("/api/notices", headers=e.headers["ngoa-cw"]).json()
    for notice_id in (notice["id"], "notice-nope"):
        head = audit_head(e.store)
        res = e.client.post(f"/api/notices/{notice_id}/acknowledge", headers=e.headers["unhcr-cw"])
        assert res.status_code == 404
        assert _denied(e, head) == [("share_notice", notice_id)]


def _web(e: World, user: str) -> dict[str, str]:
    """Signs ``user`` in on the web (her session cookie); returns the CSRF header."""
    e.client.cookies.set(SESSION_COOKIE, e.tokens[user])
    return {CSRF_HEADER: session_csrf_token(e.app.state.web.secret_bytes(), e.tokens[user])}


def test_the_web_referral_pages_audit_a_missing_or_another_organisations_referral(
    env: World,
) -> None:
    e = env
    rid = e.client.post("/api/referrals", json=REFERRAL, headers=e.headers["unhcr-cw"]).json()[
        "referral"
    ]["id"]
    csrf = _web(e, "ngob-cw")  # neither the sender nor the recipient
    try:
        for referral in (rid, "ref-nope"):
            head = audit_head(e.store)
            assert e.client.get(f"/referrals/{referral}").status_code == 404
            assert _denied(e, head) == [("referral", referral)]
            for step in ("accept", "reject", "close"):
                head = audit_head(e.store)
                res = e.client.post(f"/referrals/{referral}/{step}", headers=csrf)
                assert res.status_code == 404, (step, res.status_code)
                assert _denied(e, head) == [("referral", referral)], step
    finally:
        e.client.cookies.clear()


# --- 5. erasure notices ----------------------------------------------------------------------


def _send(e: World) -> str:
    out = e.client.post("/api/referrals", json=REFERRAL, headers=e.headers["unhcr-cw"])
    assert out.status_code == 201, out.text
    rid: str = out.json()["referral"]["id"]
    return rid


def test_erasure_notifies_the_recipient_of_a_pending_referral(env: World) -> None:
    """The packet was in its inbox, and it may have opened it: it is told to erase it."""
    e = env
    pending = _send(e)
    opened = e.client.get(f"/api/referrals/{pending}/packet", headers=e.headers["ngoa-cw"])
    assert opened.status_code == 200
    erased = e.client.post("/api/subjects/s1/erase", headers=e.headers["unhcr-dp"])
    assert erased.status_code == 200, erased.text
    assert erased.json()["packets_destroyed"] == [pending]
    notices = e.client.get("/api/notices", headers=e.headers["ngoa-cw"]).json()
    assert [(n["referral_id"], n["kind"], n["subject_id"]) for n in notices] == [
        (pending, "erased", "s1")
    ]
    assert erased.json()["notices"] == [notices[0]["id"]]
    assert (
        e.client.get(f"/api/referrals/{pending}/packet", headers=e.headers["ngoa-cw"]).status_code
        == 404
    )


def test_each_erasure_notice_is_an_audit_event(env: World) -> None:
    e = env
    accepted = _send(e)
    accept = e.client.post(f"/api/referrals/{accepted}/accept", headers=e.headers["ngoa-cw"])
    assert accept.status_code == 200, accept.text
    head = audit_head(e.store)
    erased = e.client.post("/api/subjects/s1/erase", headers=e.headers["unhcr-dp"])
    assert erased.status_code == 200, erased.text
    (notice,) = erased.json()["notices"]
    created = [
        (x.object_type, x.object_id, x.codes, dict(x.details))
        for x in audit_events_after(e.store, head)
        if x.action == "notice.create"
    ]
    assert created == [
        ("share_notice", notice, ("erased",), {"referral": accepted, "recipient": "ngo-a"})
    ]
    with e.store.reading() as session:
        assert session.scalar(select(func.count()).select_from(ShareNoticeRow)) == 1
    assert audit_service.verify_audit(e.store).ok
