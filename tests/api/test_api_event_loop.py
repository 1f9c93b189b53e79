"""Where the hot endpoints' work runs: a case read, an evaluation of named people, a referral,
the CSRF token and who-am-I run in place on the event loop (no thread hand-over); an
evaluation over a selection, which may cover thousands of cases, goes to the thread pool.
The routes' parameters and OpenAPI description are those of the wrapped functions."""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable
from typing import Any

import pytest
from api_support import Api

from safeshare.api import answers, auth, cases, decisions, referrals

CW = "unhcr.caseworker"


def _on_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _spy(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[bool]:
    """Replaces ``module.name`` by a wrapper noting whether each call ran on the loop."""
    seen: list[bool] = []
    real: Callable[..., Any] = getattr(module, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(_on_loop())
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return seen


def test_on_event_loop_runs_the_function_in_the_awaiting_thread() -> None:
    threads: list[int] = []

    def work(x: int, *, y: int) -> int:
        threads.append(threading.get_ident())
        return x + y

    wrapped = answers.on_event_loop(work)
    assert inspect.iscoroutinefunction(wrapped)
    assert inspect.signature(wrapped) == inspect.signature(work)

    async def main() -> int:
        return await wrapped(2, y=3)

    assert asyncio.run(main()) == 5
    assert threads == [threading.get_ident()]


@pytest.mark.parametrize(
    "endpoint", [cases.get_case, decisions.evaluate, referrals.create, auth.csrf, auth.me]
)
def test_the_hot_endpoints_are_coroutines(endpoint: Callable[..., Any]) -> None:
    assert inspect.iscoroutinefunction(endpoint)


def test_a_case_read_runs_on_the_loop(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _spy(monkeypatch, cases, "read_case")
    case_id = api.client.get("/api/auth/me", headers=api.headers(CW)).json()["cases"][0]
    assert api.client.get(f"/api/cases/{case_id}", headers=api.headers(CW)).status_code == 200
    assert seen == [True]


def test_an_evaluation_of_named_people_runs_on_the_loop_and_a_selection_in_a_thread(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _spy(monkeypatch, decisions, "_evaluate")
    case_id = api.client.get("/api/auth/me", headers=api.headers(CW)).json()["cases"][0]
    subject = api.client.get(f"/api/cases/{case_id}", headers=api.headers(CW)).json()["subject_id"]
    share = {"to": "ngo-a", "purpose": "legal-aid-referral", "data_elements": ["name"]}
    named = api.client.post(
        "/api/decisions", headers=api.headers(CW), json={**share, "subjects": [subject]}
    )
    assert named.status_code == 200, named.text
    selected = api.client.post(
        "/api/decisions",
        headers=api.headers("unhcr.supervisor"),
        json={**share, "select": {"categories": []}},
    )
    assert selected.status_code == 200, selected.text
    assert seen == [True, False]


def test_a_referral_runs_on_the_loop(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _spy(monkeypatch, referrals, "send_referral")
    case_id = api.client.get("/api/auth/me", headers=api.headers(CW)).json()["cases"][0]
    subject = api.client.get(f"/api/cases/{case_id}", headers=api.headers(CW)).json()["subject_id"]
    res = api.client.post(
        "/api/referrals",
        headers=api.headers(CW),
        json={
            "to": "ngo-a",
            "purpose": "legal-aid-referral",
            "subjects": [subject],
            "data_elements": ["name"],
        },
    )
    assert res.status_code == 201, res.text
    assert seen == [True]


def test_the_wrapped_routes_keep_their_parameters_in_openapi(api: Api) -> None:
    spec = api.client.get("/api/openapi.json").json()
    get_case = spec["paths"]["/api/cases/{case_id}"]["get"]
    assert [p["name"] for p in get_case["parameters"]] == ["case_id"]
    assert "CaseOut" in str(get_case["responses"]["200"])
    create = spec["paths"]["/api/referrals"]["post"]
    assert "ReferralIn" in str(create["requestBody"])
