"""Review fixes: a subject access request is answered only by staff with need-to-know
access to the person (the staff-access decision of a case read); the rights, escalation and
need endpoints require their own scope of a partner system's token; a case-specific need is
never recorded for a role that may not read personal data (an administrator)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import START, Api, audit_events_after, audit_head
from matrix_world import matrix_api
from sqlalchemy import select

from safeshare.api.deps import SESSION_COOKIE
from safeshare.audit.body import AuditEventBody
from safeshare.services import needs
from safeshare.services.needs import NeedRoleNotAllowedError
from safeshare.services.roles import Scope
from safeshare.settings import Settings
from safeshare.store.models import RecordRow
from safeshare.store.models_access import AccessNeedRow
from safeshare.store.unit import Store

SUBJECT = "s-001"  # c-001's person: ngo-a's case, assigned to ngo-a.caseworker only
CASE = "c-001"
RECORD = "rec-s001-1"
CONTENT = "s-001 GBV intake: fictional account"
SAR: dict[str, object] = {"requester": SUBJECT, "records": [RECORD]}


@pytest.fixture
def world(store: Store, store_settings: Settings, tmp_path: Path) -> Iterator[Api]:
    with matrix_api(store, store_settings, tmp_path) as (api, _referrals):
        with api.store.transaction() as session:
            session.add(
                RecordRow(
                    id=RECORD,
                    subject_id=SUBJECT,
                    category="gbv-intake",
                    holder="ngo-a",
                    content_enc=api.store.sealer.seal(
                        CONTENT, table="records", column="content_enc", row_id=RECORD
                    ),
                )
            )
        yield api


def _denied(api: Api, since: int) -> list[AuditEventBody]:
    return [e for e in audit_events_after(api.store, since) if e.action == "access.denied"]


def _token(api: Api, user: str, scopes: list[str]) -> dict[str, str]:
    admin = user.partition(".")[0] + ".administrator"
    res = api.client.post(
        "/api/auth/tokens",
        headers=api.headers(admin),
        json={"user_id": api.account(user).user_id, "scopes": scopes, "label": "partner"},
    )
    assert res.status_code == 201, res.text
    return {"Authorization": "Bearer " + res.json()["token"]}


def _record_need(api: Api, granter: str, holder: str, case: str = CASE) -> None:
    needs.record_need(
        api.store,
        staff_id=api.account(holder).staff_id,
        case_id=case,
        need="technical-assistance",
        actor_staff=api.account(granter).staff_id,
        actor_org="ngo-a",
        at=START,
    )


# --- 1. subject access needs need-to-know ----------------------------------------------------


@pytest.mark.parametrize("user", ["ngo-a.caseworker2", "ngo-a.archivist", "ngo-a.supervisor"])
def test_a_subject_access_request_needs_need_to_know_access_to_the_person(
    world: Api, user: str
) -> None:
    """Staff of the organisation holding her case, neither assigned to it nor with a
    recorded need, get the audited 404 a read of her case gets, and none of her records."""
    api = world
    assert api.client.get(f"/api/cases/{CASE}", headers=api.headers(user)).status_code == 404
    head = audit_head(api.store)
    res = api.client.post("/api/subject-access", headers=api.headers(user), json=SAR)
    assert res.status_code == 404
    assert res.json() == {"detail": "not found"}
    assert CONTENT not in res.text
    assert [(e.object_type, e.object_id) for e in _denied(api, head)] == [("case", CASE)]
    assert not [
        e for e in audit_events_after(api.store, head) if e.action == "subject_access.answer"
    ]


def test_the_assigned_caseworker_answers_a_subject_access_request(world: Api) -> None:
    api = world
    head = audit_head(api.store)
    res = api.client.post("/api/subject-access", headers=api.headers("ngo-a.caseworker"), json=SAR)
    assert res.status_code == 200, res.text
    assert [(r["id"], r["content"]) for r in res.json()["released"]] == [(RECORD, CONTENT)]
    actions = [e.action for e in audit_events_after(api.store, head)]
    assert "access.case" in actions
    assert "subject_access.answer" in actions
    assert "access.denied" not in actions


@pytest.mark.parametrize("user", ["ngo-a.supervisor", "ngo-a.archivist"])
def test_a_recorded_need_lets_oversight_and_archive_answer(world: Api, user: str) -> None:
    api = world
    _record_need(api, "ngo-a.dp-focal-point", user)
    res = api.client.post("/api/subject-access", headers=api.headers(user), json=SAR)
    assert res.status_code == 200, res.text
    assert [r["content"] for r in res.json()["released"]] == [CONTENT]


def test_a_need_for_another_of_her_cases_elsewhere_does_not_count(world: Api) -> None:
    """A need recorded for a case of ngo-a's that is not hers gives nothing on her."""
    api = world
    _record_need(api, "ngo-a.dp-focal-point", "ngo-a.supervisor", case="c-006")
    res = api.client.post("/api/subject-access", headers=api.headers("ngo-a.supervisor"), json=SAR)
    assert res.status_code == 404


# --- 2. scopes of partner systems' tokens ----------------------------------------------------


NEED_BODY: dict[str, object] = {
    "staff_id": "<ngo-a.im-officer>",
    "need": "technical-assistance",
    "valid_days": 7,
}
# (user, method, path, the scope it needs, body, the answer once the scope is there)
SCOPED: dict[str, tuple[str, str, str, str, dict[str, object] | None, int]] = {
    "subject-access": (
        "ngo-a.caseworker",
        "POST",
        "/api/subject-access",
        "rights:access",
        SAR,
        200,
    ),
    "escalations": (
        "ngo-a.dp-focal-point",
        "GET",
        "/api/escalations",
        "escalations:read",
        None,
        200,
    ),
    "decide": (
        "ngo-a.dp-focal-point",
        "POST",
        "/api/escalations/esc-0000/decide",
        "escalations:decide",
        {"approve": False, "reasons": "x"},
        404,  # no such escalation: denied as one, not for the scope
    ),
    "erase": (
        "ngo-a.dp-focal-point",
        "POST",
        "/api/subjects/s-005/erase",
        "rights:erase",
        None,
        200,
    ),
    "needs": ("ngo-a.supervisor", "POST", "/api/cases/c-006/needs", "needs:write", NEED_BODY, 201),
}


def _body(api: Api, body: dict[str, object] | None) -> dict[str, object] | None:
    if body is NEED_BODY:
        return {**body, "staff_id": api.account("ngo-a.im-officer").staff_id}
    return body


@pytest.mark.parametrize("endpoint", sorted(SCOPED))
def test_a_token_without_the_endpoints_scope_gets_the_audited_404(
    world: Api, endpoint: str
) -> None:
    api = world
    user, method, path, scope, body, _ = SCOPED[endpoint]
    headers = _token(api, user, [s.value for s in Scope if s.value != scope])  # all others
    head = audit_head(api.store)
    res = api.client.request(method, path, headers=headers, json=_body(api, body))
    assert res.status_code == 404, res.text
    assert res.json() == {"detail": "not found"}
    denied = _denied(api, head)
    assert [(e.object_type, e.codes) for e in denied] == [("endpoint", ("scope-missing",))]


@pytest.mark.parametrize("endpoint", sorted(SCOPED))
def test_a_token_with_the_endpoints_scope_passes(world: Api, endpoint: str) -> None:
    api = world
    user, method, path, scope, body, answer = SCOPED[endpoint]
    head = audit_head(api.store)
    res = api.client.request(
        method, path, headers=_token(api, user, [scope]), json=_body(api, body)
    )
    assert res.status_code == answer, res.text
    assert "scope-missing" not in {c for e in _denied(api, head) for c in e.codes}


def test_the_new_scopes_are_in_the_openapi_document(world: Api) -> None:
    doc = world.client.get("/api/openapi.json").json()
    values = set(doc["components"]["schemas"]["Scope"]["enum"])
    assert {
        "escalations:read",
        "escalations:decide",
        "rights:access",
        "rights:erase",
        "needs:write",
    } <= values


# --- 3. no case-specific need for a role that may not read personal data ---------------------


def test_no_need_is_recorded_for_an_administrator(world: Api) -> None:
    api = world
    with pytest.raises(NeedRoleNotAllowedError, match="may read personal data"):
        _record_need(api, "ngo-a.supervisor", "ngo-a.administrator", case="c-006")
    with api.store.reading() as session:
        admin = api.account("ngo-a.administrator").staff_id
        assert not session.scalars(
            select(AccessNeedRow).where(AccessNeedRow.staff_id == admin)
        ).all()


def test_the_api_refuses_a_need_for_an_administrator_and_her_page_stays_hidden(
    world: Api,
) -> None:
    api = world
    admin = api.account("ngo-a.administrator")
    head = audit_head(api.store)
    res = api.client.post(
        "/api/cases/c-006/needs",
        headers=api.headers("ngo-a.supervisor"),
        json={"staff_id": admin.staff_id, "need": "technical-assistance", "valid_days": 7},
    )
    assert res.status_code == 404
    assert [(e.object_id, e.codes) for e in _denied(api, head)] == [
        ("c-006", ("need-role-not-allowed",))
    ]
    assert not [e for e in audit_events_after(api.store, head) if e.action == "need.record"]
    # the web case page the need would have opened to her
    token = api.login("ngo-a.administrator")
    api.client.cookies.set(SESSION_COOKIE, token)
    try:
        page = api.client.get("/cases/c-006")
    finally:
        api.client.cookies.clear()
    assert page.status_code == 404


@pytest.mark.parametrize("holder", ["ngo-a.im-officer", "ngo-a.archivist", "ngo-a.caseworker2"])
def test_a_need_is_still_recorded_for_roles_that_may_read_personal_data(
    world: Api, holder: str
) -> None:
    api = world
    res = api.client.post(
        "/api/cases/c-006/needs",
        headers=api.headers("ngo-a.supervisor"),
        json={
            "staff_id": api.account(holder).staff_id,
            "need": "technical-assistance",
            "valid_days": 7,
        },
    )
    assert res.status_code == 201, res.text


def test_a_subject_access_request_ends_with_the_need(world: Api) -> None:
    """The need lasts its days (7 by default): after, the same audited 404."""
    api = world
    _record_need(api, "ngo-a.dp-focal-point", "ngo-a.supervisor")
    api.clock.advance(days=8)
    api.tokens.clear()
    assert (
        api.client.post(
            "/api/subject-access", headers=api.headers("ngo-a.supervisor"), json=SAR
        ).status_code
        == 404
    )
