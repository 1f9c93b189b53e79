"""The authorization matrix (policy_table.py): every role x every operation on personal data
x every object relation x two organisations; 0 mismatches; every denial is the same 404 as a
missing object and is written to the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import START, Api, audit_head
from matrix_world import MISSING_REFERRAL, matrix_api
from policy_table import (
    OPS,
    REFERRAL_OPS,
    REFERRAL_RELATIONS,
    REFERRAL_TABLE,
    RELATIONS,
    ROLE_OPS,
    ROLES,
    TABLE,
    TARGETS,
)
from sqlalchemy import select

from safeshare.audit.chain import parse_body
from safeshare.services import accounts
from safeshare.services.roles import PERSONAL_DATA_ROLES
from safeshare.settings import Settings
from safeshare.store.models import AuditEventRow, CaseRow, StaffCaseRow
from safeshare.store.unit import Store

ORGS = ("unhcr", "ngo-a")
OTHER = {"unhcr": "ngo-a", "ngo-a": "unhcr"}
World = tuple[Api, dict[tuple[str, str], str]]


@pytest.fixture
def world(store: Store, store_settings: Settings, tmp_path: Path) -> Iterator[World]:
    """The demo operation, real referrals (matrix_world.py), assignments and needs."""
    with matrix_api(store, store_settings, tmp_path) as (api, referrals):
        _setup(api)
        yield api, referrals


def _setup(api: Api) -> None:
    """Assignments and recorded needs for every actor (the sharing, the withdrawal and the
    closed cases are real: matrix_world.py and the demo)."""
    with api.store.transaction() as session:
        for org in ORGS:
            for role in ROLES:
                acct = api.account(f"{org}.{role}")
                for rel in ("assigned", "withdrawn", "archived"):
                    case = TARGETS[org][rel]
                    if session.get(StaffCaseRow, (acct.staff_id, case)) is None:
                        session.add(StaffCaseRow(staff_id=acct.staff_id, case_id=case))
    for org in ORGS:
        for role in ROLES:
            if role not in PERSONAL_DATA_ROLES:  # no need is recorded for an administrator
                continue
            acct = api.account(f"{org}.{role}")
            granter = api.account(
                f"{org}.{'dp-focal-point' if role == 'supervisor' else 'supervisor'}"
            )
            accounts.record_need(
                api.store,
                staff_id=acct.staff_id,
                case_id=TARGETS[org]["need"],
                need="technical-assistance",
                actor_staff=granter.staff_id,
                actor_org=org,
                at=START,
            )


def _subject_of(api: Api, case_id: str) -> str:
    with api.store.reading() as session:
        row = session.get(CaseRow, case_id)
        return row.subject_id if row is not None else "s-999"


def _denied_since(api: Api, seq: int) -> bool:
    with api.store.reading() as session:
        bodies = session.scalars(select(AuditEventRow.body).where(AuditEventRow.seq > seq))
        return any(parse_body(bytes(b)).action == "access.denied" for b in bodies)


def _call(
    api: Api, op: str, org: str, case: str, subject: str, headers: dict[str, str]
) -> tuple[bool, int, bytes]:
    c = api.client
    if op == "list":
        res = c.get("/api/cases", headers=headers)
        if res.status_code != 200:
            return False, res.status_code, res.content
        return case in {x["id"] for x in res.json()}, 200, b""
    if op == "case":
        res = c.get(f"/api/cases/{case}", headers=headers)
    elif op == "subject":
        res = c.get(f"/api/subjects/{subject}", headers=headers)
    elif op == "timeline":
        res = c.get(f"/api/subjects/{subject}/consents", headers=headers)
    elif op == "consent":
        res = c.post(
            f"/api/subjects/{subject}/consents",
            headers=headers,
            json={"decision": "granted", "purposes": ["cash-eligibility"]},
        )
    elif op == "withdraw":
        res = c.post(
            f"/api/subjects/{subject}/consents/withdraw",
            headers=headers,
            json={"purposes": ["closed-case-transfer"]},
        )
    else:
        res = c.post(
            "/api/decisions" if op == "evaluate" else "/api/referrals",
            headers=headers,
            json={
                "to": OTHER[org],
                "purpose": "legal-aid-referral",
                "subjects": [subject],
                "data_elements": ["name", "phone"],
            },
        )
    assert res.status_code < 500, res.text
    # 409 (a referral): her access passed, but nothing may go or no key is registered
    passed = (200, 201, 409) if op == "send" else (200, 201)
    return res.status_code in passed, res.status_code, res.content


def test_authorization_matrix(world: World) -> None:
    api, _referrals = world
    missing_body = api.client.get("/api/cases/c-999", headers=api.headers("unhcr.caseworker"))
    mismatches: list[str] = []
    cells = 0
    for org in ORGS:
        for role in ROLES:
            headers = api.headers(f"{org}.{role}")
            for relation in RELATIONS:
                case = TARGETS[org][relation]
                subject = _subject_of(api, case)
                for op, expected in zip(OPS, TABLE[role][relation], strict=True):
                    cells += 1
                    before = audit_head(api.store)
                    allowed, status, body = _call(api, op, org, case, subject, headers)
                    if allowed != (expected == "A"):
                        mismatches.append(f"{org} {role} {relation} {op}: got {status}")
                        continue
                    if not allowed and op != "list":
                        if status != 404 or body != missing_body.content:
                            mismatches.append(f"{org} {role} {relation} {op}: {status} {body!r}")
                        if not _denied_since(api, before):
                            mismatches.append(f"{org} {role} {relation} {op}: not audited")
    assert cells == len(ORGS) * len(ROLES) * len(RELATIONS) * len(OPS)
    assert mismatches == [], "\n".join(mismatches)


def _call_referral(api: Api, op: str, referral: str, headers: dict[str, str]) -> httpx.Response:
    c = api.client
    if op == "referral":
        return c.get(f"/api/referrals/{referral}", headers=headers)
    if op == "outgoing":
        return c.get("/api/referrals/outgoing", headers=headers)
    if op == "packet":
        return c.get(f"/api/referrals/{referral}/packet", headers=headers)
    if op == "close":
        return c.post(f"/api/referrals/{referral}/close", headers=headers)
    if op == "accept":
        return c.post(f"/api/referrals/{referral}/accept", headers=headers)
    if op == "reject":
        return c.post(
            f"/api/referrals/{referral}/reject", headers=headers, json={"reason": "other"}
        )
    return c.post(
        f"/api/referrals/{referral}/feedback",
        headers=headers,
        json={
            "purpose": "referral-status-feedback",
            "values": {"status_dates": "2026-03-01", "services_provided": "counselling"},
        },
    )


def test_referral_matrix(world: World) -> None:
    """Every role x every referral operation x the relations where a referral exists x two
    organisations, against REFERRAL_TABLE; a denial is the missing referral's 404, audited
    (the outgoing list leaves it out; a role refused the list gets the audited 404)."""
    api, referrals = world
    missing_body = api.client.get(
        f"/api/referrals/{MISSING_REFERRAL}", headers=api.headers("unhcr.caseworker")
    ).content
    mismatches: list[str] = []
    cells = 0
    for org in ORGS:
        for role in ROLES:
            headers = api.headers(f"{org}.{role}")
            for relation in REFERRAL_RELATIONS:
                referral = referrals.get((org, relation), MISSING_REFERRAL)
                for op, expected in zip(REFERRAL_OPS, REFERRAL_TABLE[role][relation], strict=True):
                    cells += 1
                    before = audit_head(api.store)
                    res = _call_referral(api, op, referral, headers)
                    where = f"{org} {role} {relation} {op}"
                    if res.status_code >= 500:
                        mismatches.append(f"{where}: {res.status_code} {res.text}")
                        continue
                    # 409: authorized, but the referral is no longer pending
                    allowed = res.status_code in (200, 201, 409)
                    if op == "outgoing" and res.status_code == 200:
                        allowed = referral in {r["id"] for r in res.json()}
                        if allowed != (expected == "A"):
                            mismatches.append(f"{where}: listed {allowed}")
                        continue
                    if allowed != (expected == "A"):
                        mismatches.append(f"{where}: got {res.status_code} {res.text[:80]}")
                        continue
                    if not allowed:
                        if res.status_code != 404 or res.content != missing_body:
                            mismatches.append(f"{where}: {res.status_code} {res.content!r}")
                        if not _denied_since(api, before):
                            mismatches.append(f"{where}: denial not audited")
    assert cells == len(ORGS) * len(ROLES) * len(REFERRAL_RELATIONS) * len(REFERRAL_OPS)
    assert mismatches == [], f"{len(mismatches)} of {cells} cells:\n" + "\n".join(mismatches)


def test_the_sharing_is_real(world: World) -> None:
    """The 'shared' relations rest on accepted referrals within retention, the expired ones
    on accepted referrals past it (nothing is faked)."""
    api, referrals = world
    for org in ORGS:
        shared = referrals[(org, "shared")]
        expired = referrals[(org, "shared-expired")]
        got = api.client.get(f"/api/referrals/{shared}", headers=api.headers(f"{org}.caseworker"))
        assert got.status_code == 200, got.text
        assert got.json()["status"] == "accepted"
        inbox = api.client.get("/api/referrals/inbox", headers=api.headers(f"{org}.caseworker"))
        ids = {r["id"] for r in inbox.json()}
        assert shared in ids
        assert expired not in ids
        sender = OTHER[org]
        outgoing = api.client.get(
            "/api/referrals/outgoing", headers=api.headers(f"{sender}.caseworker")
        ).json()
        (row,) = [r for r in outgoing if r["id"] == expired]
        assert row["status"] == "accepted"
        assert row["access_until"] < START.date().isoformat()


def test_role_only_operations(world: World) -> None:
    api, _referrals = world
    mismatches = []
    for org in ORGS:
        for role in ROLES:
            headers = api.headers(f"{org}.{role}")
            for path, allowed_roles in ROLE_OPS.items():
                before = audit_head(api.store)
                res = api.client.get(path, headers=headers)
                allowed = res.status_code == 200
                if allowed != (role in allowed_roles):
                    mismatches.append(f"{org} {role} {path}: {res.status_code}")
                if not allowed and (res.status_code != 404 or not _denied_since(api, before)):
                    mismatches.append(f"{org} {role} {path}: denial not a 404 or not audited")
    assert mismatches == [], "\n".join(mismatches)
