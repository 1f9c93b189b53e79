"""The web pages' safety, without a browser: sign-in with the double-submit CSRF token,
redirects for anonymous visitors, CSRF on every form post, no-store on pages, the same 404
for another organisation's case, ids only in URLs, the language cookie."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_client import web_client

from safeshare.api.app import create_app
from safeshare.api.config import WebSettings
from safeshare.bootstrap import bootstrap
from safeshare.crypto.org_keys import OrgKeyDirectory
from safeshare.demo import load_demo
from safeshare.settings import Env, Settings
from safeshare.web.routes import STATIC_FILES

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def app_and_passwords(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[object, dict[str, str]]]:
    tmp: Path = tmp_path_factory.mktemp("webpages")
    settings = Settings(
        env=Env.TEST,
        database_url=f"sqlite:///{tmp / 'store.db'}",
        field_key_file=tmp / "keys" / "f.json",
        audit_key_file=tmp / "keys" / "a.pem",
    )
    web = WebSettings(env=Env.TEST, fast_password_hashing=True)
    store = bootstrap(settings, upgrade=True)
    loaded = load_demo(store, policy=web.access_policy())
    app = create_app(settings, store, web=web)
    app.state.org_keys = OrgKeyDirectory(tmp / "org-keys", generate_missing=True)
    yield app, {a.username: a.password for a in loaded.accounts}
    store.dispose()


_OPEN: list[object] = []


def client(app: object) -> httpx.Client:
    manager = web_client(app)
    c = manager.__enter__()
    _OPEN.append(manager)
    return c


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().__exit__(None, None, None)  # type: ignore[attr-defined]


def signed_in(app_and_passwords: tuple[object, dict[str, str]], user: str) -> httpx.Client:
    app, passwords = app_and_passwords
    c = client(app)
    token = CSRF.search(c.get("/login").text)
    assert token
    r = c.post(
        "/login", data={"username": user, "password": passwords[user], "csrf_token": token.group(1)}
    )
    assert r.status_code == 303
    return c


def test_anonymous_is_sent_to_sign_in(app_and_passwords: tuple[object, dict[str, str]]) -> None:
    c = client(app_and_passwords[0])
    r = c.get("/cases/c-020")
    assert r.status_code == 303
    assert r.headers["location"] == "/login"


def test_login_needs_the_csrf_token(app_and_passwords: tuple[object, dict[str, str]]) -> None:
    app, passwords = app_and_passwords
    c = client(app)
    c.get("/login")
    r = c.post(
        "/login", data={"username": "unhcr.caseworker", "password": passwords["unhcr.caseworker"]}
    )
    assert r.status_code == 403


def test_wrong_password_says_nothing_more(app_and_passwords: tuple[object, dict[str, str]]) -> None:
    c = client(app_and_passwords[0])
    token = CSRF.search(c.get("/login").text)
    assert token
    r = c.post(
        "/login",
        data={
            "username": "unhcr.caseworker",
            "password": "wrong-password!",
            "csrf_token": token.group(1),
        },
    )
    assert r.status_code == 401
    assert "wrong-password" not in r.text


def test_pages_are_not_stored_and_carry_the_csp(
    app_and_passwords: tuple[object, dict[str, str]],
) -> None:
    c = signed_in(app_and_passwords, "unhcr.caseworker")
    r = c.get("/cases/c-020")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "<script>" not in r.text
    assert " style=" not in r.text
    assert all(f'value="{t}"' in r.text for t in CSRF.findall(r.text))
    for form in re.findall(r"<form method=\"post\".*?</form>", r.text, re.DOTALL):
        assert 'name="csrf_token"' in form


def test_form_posts_need_the_csrf_token(app_and_passwords: tuple[object, dict[str, str]]) -> None:
    c = signed_in(app_and_passwords, "unhcr.caseworker")
    r = c.post("/cases/c-020/consent/withdraw", data={"purpose": "legal-aid-referral"})
    assert r.status_code == 403


def test_another_organisations_case_is_not_found(
    app_and_passwords: tuple[object, dict[str, str]],
) -> None:
    c = signed_in(app_and_passwords, "ngo-a.caseworker")
    other = c.get("/cases/c-020")
    missing = c.get("/cases/c-999")
    assert other.status_code == missing.status_code == 404
    assert other.text.replace("c-020", "X") == missing.text.replace("c-999", "X")


def test_focal_point_pages_refused_to_caseworkers(
    app_and_passwords: tuple[object, dict[str, str]],
) -> None:
    c = signed_in(app_and_passwords, "unhcr.caseworker")
    assert c.get("/dp/escalations").status_code == 404
    fp = signed_in(app_and_passwords, "unhcr.dp-focal-point")
    for path in ("/dp/escalations", "/dp/reverification", "/dp/protocol", "/dp/audit"):
        assert fp.get(path).status_code == 200, path
    assert "The chain is intact." in fp.get("/dp/audit").text


def test_language_from_query_cookie_and_header(
    app_and_passwords: tuple[object, dict[str, str]],
) -> None:
    c = signed_in(app_and_passwords, "unhcr.caseworker")
    r = c.get("/", headers={"accept-language": "fr-FR,fr;q=0.9"})
    assert '<html lang="fr" dir="ltr">' in r.text
    assert "Mes dossiers" in r.text
    r = c.get("/?lang=ar")
    assert '<html lang="ar" dir="rtl">' in r.text
    assert "حالاتي" in r.text
    assert "safeshare_lang=ar" in r.headers["set-cookie"]
    assert '<html lang="ar" dir="rtl">' in c.get("/").text


def _emergency_referral(token: str) -> dict[str, Any]:
    """The referral form's fields: a vital-interests referral in an immediate emergency."""
    return {
        "csrf_token": token,
        "purpose": "psychosocial-support-referral",
        "to": "ngo-a",
        "elements": ["name", "phone"],
        "basis": "vital-interests",
        "contact_method": "phone",
        "circumstance": "emergency",
        "immediate": "on",
        "detail": "fictional emergency",
        "ra_benefits": "yes",
        "ra_safe": "yes",
    }


def test_vital_interests_referral_creates_a_task_to_inform(
    app_and_passwords: tuple[object, dict[str, str]],
) -> None:
    c = signed_in(app_and_passwords, "unhcr.caseworker")
    page = c.get("/cases/c-021/referral?purpose=psychosocial-support-referral")
    if page.status_code != 200 or 'id="referral-form"' not in page.text:
        pytest.fail("the demo's psychosocial referral purpose is needed here")
    token = CSRF.findall(page.text)[-1]
    r = c.post(
        "/cases/c-021/referral",
        data=_emergency_referral(token),
    )
    assert r.status_code == 200
    assert "Referral sent" in r.text  # vital interests, immediate: allowed, with conditions
    assert 'data-code="inform-subject"' in r.text
    assert "People to inform" in c.get("/").text


def test_a_referral_that_cannot_be_sealed_is_a_409_and_its_access_stays_audited(
    app_and_passwords: tuple[object, dict[str, str]], tmp_path: Path
) -> None:
    """No key registered for the recipient: the form answers 409 and nothing is sent, but
    the sender's access check (read in the same transaction) stays in the audit log."""
    from sqlalchemy import delete, func, select  # noqa: PLC0415 - this test only

    from safeshare.audit.chain import parse_body  # noqa: PLC0415
    from safeshare.store.models import AuditEventRow  # noqa: PLC0415
    from safeshare.store.models_sharing import OrgPublicKeyRow, ReferralRow  # noqa: PLC0415

    app: Any = app_and_passwords[0]
    store = app.state.store
    c = signed_in(app_and_passwords, "unhcr.caseworker")
    page = c.get("/cases/c-021/referral?purpose=psychosocial-support-referral")
    token = CSRF.findall(page.text)[-1]
    kept_keys = app.state.org_keys
    keys = OrgKeyDirectory(tmp_path / "keys", generate_missing=False)
    keys.create("unhcr")
    with store.transaction() as session:
        session.execute(delete(OrgPublicKeyRow))
        head = session.scalar(select(func.max(AuditEventRow.seq)))
        referrals = session.scalar(select(func.count()).select_from(ReferralRow))
    app.state.org_keys = keys
    try:
        r = c.post(
            "/cases/c-021/referral",
            data=_emergency_referral(token),
        )
    finally:
        app.state.org_keys = kept_keys
        with store.transaction() as session:
            session.execute(delete(OrgPublicKeyRow))  # registered again from the key files
    assert r.status_code == 409
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(ReferralRow)) == referrals
        bodies = session.scalars(select(AuditEventRow.body).where(AuditEventRow.seq > head))
        actions = [parse_body(bytes(b)).action for b in bodies]
    assert "access.case" in actions
    assert "decision" not in actions  # rolled back with the referral


def test_every_listed_static_file_is_served(
    app_and_passwords: tuple[object, dict[str, str]],
) -> None:
    c = client(app_and_passwords[0])
    for name in sorted(STATIC_FILES):
        r = c.get(f"/static/{name}")
        assert r.status_code == 200, name
        assert r.content, name
    assert c.get("/static/nothing.js").status_code == 404
