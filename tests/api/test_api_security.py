"""Security headers on every response (errors included), CSRF, JSON errors without
tracebacks or echoed values, settings that refuse defaults, an access log without query
strings."""

from __future__ import annotations

import logging

import pytest
from api_support import Api, web_settings
from pydantic import SecretStr

from safeshare.api.config import WebSettings
from safeshare.api.logs import DropQueryString
from safeshare.api.security import SECURITY_HEADERS
from safeshare.settings import Env

SAMPLE_IDS = {
    "case_id": "c-022",
    "subject_id": "s-022",
    "org_id": "unhcr",
    "staff_id": "nobody",
    "token_id": "nope",
    "referral_id": "nope",
    "escalation_id": "nope",
    "packet_id": "nope",
}


def _get_paths(api: Api) -> list[str]:
    paths = ["/api/openapi.json", "/api/docs"]
    for template, item in api.app.openapi()["paths"].items():
        if "get" in item:
            path = template
            for name, value in SAMPLE_IDS.items():
                path = path.replace("{" + name + "}", value)
            if "{" not in path:
                paths.append(path)
    return sorted(set(paths))


def _assert_secure(res: object) -> None:
    headers = res.headers  # type: ignore[attr-defined]
    for name, value in SECURITY_HEADERS.items():
        if name == "content-security-policy":
            assert "default-src 'self'" in headers[name]
            assert "frame-ancestors 'none'" in headers[name]
            assert "unsafe-inline" not in headers[name]
        else:
            assert headers[name] == value, name
    assert headers["x-frame-options"] == "DENY"
    assert "server" not in headers


def test_headers_on_every_get_route_authenticated_and_not(api: Api) -> None:
    paths = _get_paths(api)
    assert "/api/cases/c-022" in paths
    assert "/api/openapi.json" in paths
    caseworker = api.headers("unhcr.caseworker")
    for path in paths:
        no_headers: dict[str, str] = {}
        for headers in (no_headers, caseworker):
            res = api.client.get(path, headers=headers)
            assert res.status_code < 500, (path, res.status_code)
            _assert_secure(res)
            if path.startswith("/api"):
                assert res.headers["cache-control"] == "no-store", path


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/no-such-page"),
        ("GET", "/api/no-such-route"),
        ("DELETE", "/api/cases"),
        ("POST", "/api/auth/login"),
        ("GET", "/api/docs"),
    ],
)
def test_headers_on_errors_and_docs(api: Api, method: str, path: str) -> None:
    res = api.client.request(method, path)
    _assert_secure(res)
    assert "traceback" not in res.text.lower()


def test_docs_page_has_no_inline_script_allowance(api: Api) -> None:
    res = api.client.get("/api/docs")
    assert res.status_code == 200
    csp = res.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp
    assert "'sha256-" in csp


def test_unknown_and_forbidden_answer_the_same(api: Api) -> None:
    h = api.headers("unhcr.caseworker")
    missing = api.client.get("/api/cases/c-999", headers=h)
    forbidden = api.client.get("/api/cases/c-001", headers=h)
    no_route = api.client.get("/api/nothing-here", headers=h)
    assert missing.status_code == forbidden.status_code == no_route.status_code == 404
    assert missing.content == forbidden.content == no_route.content


def test_500_is_generic_json_with_headers(api: Api) -> None:
    def boom() -> None:
        raise RuntimeError("secret detail: Amina, +254 700 000 000")

    api.app.add_api_route("/api/test-boom", boom, methods=["GET"])
    api.app.add_api_route("/test-boom", boom, methods=["GET"])
    for path in ("/api/test-boom", "/test-boom"):
        res = api.client.get(path)
        assert res.status_code == 500
        assert res.json() == {"detail": "internal error"}
        assert "Amina" not in res.text
        assert "Traceback" not in res.text
        _assert_secure(res)
        assert res.headers["cache-control"] == "no-store"


def test_validation_errors_name_the_field_but_do_not_echo_values(api: Api) -> None:
    secret = "Fatuma-Survivor-Name-" + "x" * 200
    res = api.client.post("/api/auth/login", json={"username": secret, "password": "p"})
    assert res.status_code == 422
    assert "Fatuma" not in res.text
    assert res.json()["detail"][0]["loc"] == ["body", "username"]
    bad_json = api.client.post(
        "/api/auth/login",
        content=b'{"username": "Fatuma',
        headers={"content-type": "application/json"},
    )
    assert bad_json.status_code == 422
    assert "Fatuma" not in bad_json.text
    h = api.headers("unhcr.caseworker")
    extra = api.client.post(
        "/api/decisions",
        headers=h,
        json={
            "to": "ngo-a",
            "purpose": "p",
            "subjects": ["s-022"],
            "data_elements": ["name"],
            "note": "Fatuma was attacked",
        },
    )
    assert extra.status_code == 422
    assert "attacked" not in extra.text


def test_validation_errors_do_not_echo_names_the_caller_made_up(api: Api) -> None:
    """An unknown field's name and a dictionary's key are the caller's words, and can be
    personal data: the error's location shows ``*`` in their place."""
    h = api.headers("unhcr.caseworker")
    key = "Fatuma Q. +254 700 123 456 was raped"
    body = {"to": "ngo-a", "purpose": "p", "subjects": ["s-022"], "data_elements": ["name"]}
    unknown = api.client.post("/api/decisions", headers=h, json={**body, key: "x"})
    assert unknown.status_code == 422
    assert "Fatuma" not in unknown.text
    assert unknown.json()["detail"] == [
        {"loc": ["body", "*"], "msg": "this field is not allowed", "type": "extra_forbidden"}
    ]
    feedback = api.client.post(
        "/api/referrals/r-1/feedback", headers=h, json={"purpose": "p", "values": {key: 3}}
    )
    assert feedback.status_code == 422
    assert "Fatuma" not in feedback.text
    locs = [e["loc"] for e in feedback.json()["detail"]]
    assert ["body", "values", "*", "[key]"] in locs or ["body", "values", "*"] in locs, locs
    # The API's own names still show.
    short = api.client.post("/api/decisions", headers=h, json={"to": "ngo-a"})
    assert short.status_code == 422
    assert ["body", "purpose"] in [e["loc"] for e in short.json()["detail"]]


def test_ids_in_paths_only(api: Api) -> None:
    h = api.headers("unhcr.caseworker")
    res = api.client.get("/api/subjects/Fatuma Q.", headers=h)
    assert res.status_code == 422
    assert "Fatuma" not in res.text


def test_csrf_refused_on_form_post_without_token(api: Api) -> None:
    res = api.client.post(
        "/api/auth/session", data={"username": "a", "password": "b", "csrf_token": "c" * 43}
    )
    assert res.status_code == 403
    assert res.json() == {"detail": "CSRF token missing or invalid"}


def test_bearer_requests_are_exempt_from_csrf(api: Api) -> None:
    h = api.headers("unhcr.caseworker")
    res = api.client.post(
        "/api/subjects/s-022/consents/withdraw",
        headers=h,
        json={"purposes": ["psychosocial-support-referral"]},
    )
    assert res.status_code == 201


def test_production_refuses_default_secrets() -> None:
    with pytest.raises(ValueError, match=r"SESSION_SECRET|test suite"):
        WebSettings(env=Env.PRODUCTION)
    with pytest.raises(ValueError, match=r"SESSION_SECRET|test suite"):
        WebSettings(env=Env.PRODUCTION, session_secret=SecretStr("changeme"))
    with pytest.raises(ValueError, match=r"SESSION_SECRET|test suite"):
        WebSettings(
            env=Env.PRODUCTION, session_secret=SecretStr("s" * 40), fast_password_hashing=True
        )
    with pytest.raises(ValueError, match=r"SESSION_SECRET|test suite"):
        WebSettings(env=Env.DEVELOPMENT, fast_password_hashing=True)
    ok = WebSettings(env=Env.PRODUCTION, session_secret=SecretStr("k" * 40))
    assert ok.secure_cookies
    assert not WebSettings(env=Env.DEVELOPMENT).secure_cookies
    assert web_settings().secure_cookies


def test_access_log_drops_query_strings() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.1:5555", "GET", "/api/cases?name=Fatuma", "1.1", 200),
        None,
    )
    assert DropQueryString().filter(record)
    message = record.getMessage()
    assert "Fatuma" not in message
    assert "10.0.0.1" not in message
    assert "/api/cases" in message
