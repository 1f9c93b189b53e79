"""What a read and an evaluation leave behind: a case read is one audit event holding the
staff-access decision's codes and the elements shown (no decision record); a refusal is one
``access.denied`` event; an evaluation is its access check's event, the decision record and
the decision's event. They are written (in one short write transaction) before the answer,
and nothing is written when the read fails."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from api_support import Api, audit_events_after, audit_head
from sqlalchemy import delete, func, select

from safeshare.core.vocabulary import Duty
from safeshare.crypto.org_keys import OrgKeyDirectory
from safeshare.services import access
from safeshare.services.audit import case_access_trail
from safeshare.services.common import audit
from safeshare.store.models import DecisionRow
from safeshare.store.models_sharing import OrgPublicKeyRow, ReferralRow


@dataclass(frozen=True)
class _Actor:
    user_id: str
    staff_id: str
    org_id: str
    duty: Duty = Duty.CASE_MANAGEMENT


CW = "unhcr.caseworker"
OTHER = "unhcr.caseworker2"


def _decisions(api: Api) -> int:
    with api.store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(DecisionRow)) or 0)


def _my_case(api: Api, username: str) -> str:
    cases: list[str] = api.client.get("/api/auth/me", headers=api.headers(username)).json()["cases"]
    return cases[0]


def test_a_case_read_is_one_access_event_and_no_decision_record(api: Api) -> None:
    case_id = _my_case(api, CW)
    seq, decisions = audit_head(api.store), _decisions(api)
    res = api.client.get(f"/api/cases/{case_id}", headers=api.headers(CW))
    assert res.status_code == 200
    events = audit_events_after(api.store, seq)
    assert [e.action for e in events] == ["access.case"]
    event = events[0]
    assert (event.object_type, event.object_id) == ("case", case_id)
    assert event.details["elements"] == ",".join(res.json()["data_elements"])
    assert event.details["subject"] == res.json()["subject_id"]
    assert _decisions(api) == decisions


def test_a_refused_read_is_one_denial_event(api: Api) -> None:
    case_id = _my_case(api, OTHER)
    api.headers(CW)  # signed in before the count starts
    seq = audit_head(api.store)
    res = api.client.get(f"/api/cases/{case_id}", headers=api.headers(CW))
    assert res.status_code == 404
    events = audit_events_after(api.store, seq)
    assert [e.action for e in events] == ["access.denied"]
    assert events[0].object_id == case_id
    assert events[0].codes  # the staff-access decision's codes


def _share(api: Api, path: str, username: str, subject: str) -> httpx.Response:
    """A legal-aid share of the subject's name and phone to ngo-a: evaluated or sent."""
    return api.client.post(
        path,
        headers=api.headers(username),
        json={
            "to": "ngo-a",
            "purpose": "legal-aid-referral",
            "subjects": [subject],
            "data_elements": ["name", "phone"],
        },
    )


def test_an_evaluation_leaves_its_access_event_decision_and_decision_event(api: Api) -> None:
    case_id = _my_case(api, CW)
    subject = api.client.get(f"/api/cases/{case_id}", headers=api.headers(CW)).json()["subject_id"]
    seq, decisions = audit_head(api.store), _decisions(api)
    res = _share(api, "/api/decisions", CW, subject)
    assert res.status_code == 200, res.text
    events = audit_events_after(api.store, seq)
    assert [e.action for e in events] == ["access.case", "decision"]
    assert events[1].object_id == res.json()["decision_id"]
    assert _decisions(api) == decisions + 1
    with api.store.reading() as session:
        row = session.get(DecisionRow, res.json()["decision_id"])
        assert row is not None
        assert json.loads(row.request_summary)["subjects"] == [subject]


def test_a_failed_recorded_read_writes_nothing(api: Api) -> None:
    case_id = _my_case(api, CW)
    principal = api.account(CW)
    seq = audit_head(api.store)

    class Boom(RuntimeError):
        pass

    def read_then_fail() -> None:
        with api.store.recorded_read() as session:
            me = _Actor(principal.user_id, principal.staff_id, principal.org)
            grant = access.case_access_in(
                api.store, session, me, case_id, ("name",), at=api.clock()
            )
            assert grant is not None  # decided, its event pending
            raise Boom

    with pytest.raises(Boom):
        read_then_fail()
    assert audit_head(api.store) == seq


def _referral(api: Api, username: str, subject: str) -> int:
    return _share(api, "/api/referrals", username, subject).status_code


def _referrals(api: Api) -> int:
    with api.store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(ReferralRow)) or 0)


def test_a_referral_that_fails_keeps_its_access_event_and_nothing_else(
    api: Api, tmp_path: Path
) -> None:
    """With no key registered for the recipient the referral is refused (409) after the
    access check. The check's event commits; the decision and the referral roll back."""
    with api.store.transaction() as session:
        session.execute(delete(OrgPublicKeyRow).where(OrgPublicKeyRow.org_id == "ngo-a"))
    keys = OrgKeyDirectory(tmp_path / "keys", generate_missing=False)
    keys.create("unhcr")  # the sender's own key only
    api.app.state.org_keys = keys
    case_id = _my_case(api, CW)
    subject = api.client.get(f"/api/cases/{case_id}", headers=api.headers(CW)).json()["subject_id"]
    seq, decisions, referrals = audit_head(api.store), _decisions(api), _referrals(api)
    assert _referral(api, CW, subject) == 409
    assert [e.action for e in audit_events_after(api.store, seq)] == ["access.case"]
    assert (_decisions(api), _referrals(api)) == (decisions, referrals)


def test_a_referral_of_a_person_not_mine_is_one_denial_event(api: Api) -> None:
    case_id = _my_case(api, OTHER)
    subject = api.client.get(f"/api/cases/{case_id}", headers=api.headers(OTHER)).json()[
        "subject_id"
    ]
    api.headers(CW)
    seq, decisions = audit_head(api.store), _decisions(api)
    assert _referral(api, CW, subject) == 404
    events = audit_events_after(api.store, seq)
    assert [e.action for e in events] == ["access.denied"]
    assert events[0].object_id == case_id  # refused through her case
    assert _decisions(api) == decisions


def test_a_recipient_sees_only_its_own_staff_in_a_case_trail(api: Api) -> None:
    """Which other organisations a person was referred to, and who there opened her file, is
    not a recipient's to know: the case page's trail for a shared case holds only the
    viewing organisation's own staff."""
    users = {
        name: api.account(name)
        for name in ("unhcr.caseworker", "ngo-a.caseworker", "ngo-b.caseworker")
    }
    with api.store.transaction() as session:
        for account in users.values():
            audit(
                api.store,
                session,
                actor=account.user_id,
                action="access.case",
                object_type="case",
                object_id="c-021",
            )
    everyone = {e.actor for e in case_access_trail(api.store, "c-021")}
    assert set(users) <= everyone
    for org in ("ngo-a", "ngo-b"):
        seen = {e.actor for e in case_access_trail(api.store, "c-021", org=org)}
        assert seen == {f"{org}.caseworker"}, seen
