"""The demo operation and the server's shape: every role has an account, refusals and a
withdrawal are on record, the store refuses a second load, the OpenAPI document is served."""

from __future__ import annotations

import pytest
from api_support import Api, web_settings

from safeshare.demo import DemoError, load_demo
from safeshare.services.accounts import Role


def test_demo_has_every_role_and_consent_kind(api: Api) -> None:
    assert api.demo.subjects >= 24
    assert api.demo.cases >= 24
    roles = {(a.org, a.role) for a in api.demo.accounts}
    for org in ("unhcr", "ngo-a", "ngo-b"):
        assert {r for o, r in roles if o == org} == set(Role)
    h = api.headers("unhcr.caseworker")
    timeline = api.client.get("/api/subjects/s-024/consents", headers=h).json()
    assert [e["decision"] for e in timeline] == ["granted", "withdrawn"]
    h2 = api.headers("unhcr.caseworker2")
    refused = api.client.get("/api/subjects/s-026/consents", headers=h2).json()
    assert refused[-1]["decision"] == "refused"
    orgs = api.client.get("/api/organisations", headers=h).json()
    assert any(o["anonymity_only"] for o in orgs)
    protocol = api.client.get("/api/protocol", headers=h).json()
    assert protocol["endorsed"] is True
    generals = {p["general"] for p in protocol["purposes"]}
    assert {
        "immediate-referral",
        "eligibility-and-future-services",
        "referral-feedback",
        "closed-case-transfer",
        "closed-case-archiving",
        "statistics",
    } <= generals
    findings = api.client.get("/api/protocol/findings", headers=h).json()
    assert findings["errors"] == 0


def test_demo_loads_only_into_an_empty_store(api: Api) -> None:
    with pytest.raises(DemoError):
        load_demo(api.store, policy=web_settings().access_policy())


def test_withdrawing_is_as_easy_as_consenting(api: Api) -> None:
    h = api.headers("unhcr.caseworker")
    granted = api.client.post(
        "/api/subjects/s-021/consents",
        headers=h,
        json={"decision": "granted", "purposes": ["legal-aid-referral"]},
    )
    assert granted.status_code == 201
    withdrawn = api.client.post(
        "/api/subjects/s-021/consents/withdraw",
        headers=h,
        json={"purposes": ["legal-aid-referral"]},
    )
    assert withdrawn.status_code == 201
    assert withdrawn.json()["decision"] == "withdrawn"
    decision = api.client.post(
        "/api/decisions",
        headers=h,
        json={
            "to": "ngo-a",
            "purpose": "legal-aid-referral",
            "subjects": ["s-021"],
            "data_elements": ["name", "phone", "service_needed"],
        },
    ).json()
    assert decision["decision"] == "deny"
    assert "consent-withdrawn" in {r["code"] for r in decision["reasons"]}
    assert all(r["section"] for r in decision["reasons"])


def test_openapi_document_and_docs(api: Api) -> None:
    doc = api.client.get("/api/openapi.json").json()
    for path in (
        "/api/auth/login",
        "/api/cases/{case_id}",
        "/api/decisions",
        "/api/subjects/{subject_id}/consents/withdraw",
        "/api/audit/verify",
    ):
        assert path in doc["paths"]
    assert api.client.get("/api/docs").status_code == 200
