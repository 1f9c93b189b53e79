"""Property-based conformance of the API to its own OpenAPI document (schemathesis, in
process over ASGI, authenticated with demo credentials): at least 2,000 generated requests,
no server error, every status code, content type, header and body as documented."""

from __future__ import annotations

from typing import Any

import schemathesis
from api_support import Api
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MIN_REQUESTS = 2000
EXAMPLES_PER_OPERATION = 90


def _token(api: Api, holder: str, issuer: str) -> str:
    res = api.client.post(
        "/api/auth/tokens",
        headers=api.headers(issuer),
        json={
            "user_id": api.account(holder).user_id,
            "label": "schemathesis",
            "scopes": [
                "cases:read",
                "consent:write",
                "decisions:evaluate",
                "protocol:read",
                "stats:read",
                "referrals:read",
                "referrals:write",
            ],
        },
    )
    assert res.status_code == 201, res.text
    token: str = res.json()["token"]
    return token


def test_api_conforms_to_its_openapi_document(api: Api) -> None:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", api.app)
    principals = [
        {"Authorization": f"Bearer {_token(api, 'unhcr.caseworker', 'unhcr.administrator')}"},
        {"Authorization": f"Bearer {_token(api, 'ngo-a.supervisor', 'ngo-a.administrator')}"},
        api.headers("unhcr.administrator"),
    ]
    counts: dict[str, int] = {}
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        counts[operation.label] = 0
        _run(operation, counts, principals)
    total = sum(counts.values())
    assert len(counts) >= 20, counts
    assert total >= MIN_REQUESTS, counts


def _run(operation: Any, counts: dict[str, int], principals: list[dict[str, str]]) -> None:
    label = operation.label

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        headers = principals[counts[label] % len(principals)]
        counts[label] += 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
