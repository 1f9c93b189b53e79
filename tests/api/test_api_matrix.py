"""The authorization matrix (policy_table.py): every role x every operation on personal data
x every object relation x two organisations; 0 mismatches; every denial is the same 404 as a
missing object and is written to the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from api_support import START, Api
from policy_table import OPS, RELATIONS, ROLE_OPS, ROLES, TABLE, TARGETS
from sqlalchemy import func, select

from safeshare.audit.chain import parse_body
from safeshare.core.vocabulary import ConsentDecision
from safeshare.services import accounts
from safeshare.services import referrals as referrals_service
from safeshare.services.consent import record_consent
from safeshare.store.ledger import NewConsent
from safeshare.store.models import AuditEventRow, CaseRow, StaffCaseRow

ORGS = ("unhcr", "ngo-a")
OTHER = {"unhcr": "ngo-a", "ngo-a": "unhcr"}


@dataclass(frozen=True)
class _Shared:
    data_elements: tuple[str, ...]
    until: date | None


def _install_sharing(monkeypatch: pytest.MonkeyPatch) -> None:
    """What 'sharing' reports: the 'shared' case within retention, the 'shared-expired' one
    past it (the access layer must refuse it even if a lookup returned it)."""
    today = START.date()
    shared = {(org, TARGETS[org]["shared"]) for org in ORGS}
    expired = {(org, TARGETS[org]["shared-expired"]) for org in ORGS}

    def shared_with(_store: object, *, org: str, case: str, today: date) -> _Shared | None:
        if (org, case) in shared:
            return _Shared(
                ("case_number", "name", "phone", "service_needed"), today + timedelta(days=90)
            )
        if (org, case) in expired:
            return _Shared(("case_number", "name", "phone"), today - timedelta(days=1))
        return None

    def cases_shared_with(_store: object, *, org: str, today: date) -> list[str]:
        return sorted(c for o, c in shared | expired if o == org)

    del today
    monkeypatch.setattr(referrals_service, "shared_with", shared_with)
    monkeypatch.setattr(referrals_service, "cases_shared_with", cases_shared_with)


def _setup(api: Api) -> None:
    """Assignments and recorded needs for every actor; a withdrawal for ngo-a's subject."""
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
    record_consent(
        api.store,
        NewConsent(
            subject="s-002",
            decision=ConsentDecision.WITHDRAWN,
            purposes=("cash-eligibility",),
            date=START.date(),
        ),
        actor="test",
    )


def _subject_of(api: Api, case_id: str) -> str:
    with api.store.reading() as session:
        row = session.get(CaseRow, case_id)
        return row.subject_id if row is not None else "s-999"


def _head(api: Api) -> int:
    with api.store.reading() as session:
        return int(session.scalar(select(func.max(AuditEventRow.seq))) or 0)


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
            "/api/decisions",
            headers=headers,
            json={
                "to": OTHER[org],
                "purpose": "legal-aid-referral",
                "subjects": [subject],
                "data_elements": ["name", "phone"],
            },
        )
    assert res.status_code < 500, res.text
    return res.status_code in (200, 201), res.status_code, res.content


def test_authorization_matrix(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    _install_sharing(monkeypatch)
    _setup(api)
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
                    before = _head(api)
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


def test_role_only_operations(api: Api) -> None:
    mismatches = []
    for org in ORGS:
        for role in ROLES:
            headers = api.headers(f"{org}.{role}")
            for path, allowed_roles in ROLE_OPS.items():
                before = _head(api)
                res = api.client.get(path, headers=headers)
                allowed = res.status_code == 200
                if allowed != (role in allowed_roles):
                    mismatches.append(f"{org} {role} {path}: {res.status_code}")
                if not allowed and (res.status_code != 404 or not _denied_since(api, before)):
                    mismatches.append(f"{org} {role} {path}: denial not a 404 or not audited")
    assert mismatches == [], "\n".join(mismatches)
