"""Login, lockout, session rotation, logout, idle and absolute timeouts, cookie sessions,
API token scopes and revocation, argon2id hashes."""

from __future__ import annotations

import re

import httpx
from api_client import api_client
from api_support import Api, web_settings
from argon2 import PasswordHasher, Type
from sqlalchemy import select

from safeshare.api.app import create_app
from safeshare.api.deps import SESSION_COOKIE
from safeshare.audit.chain import parse_body
from safeshare.store import audit_log
from safeshare.store.models_access import SessionRow, UserAccountRow

CW = "unhcr.caseworker"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_login_and_me(api: Api) -> None:
    token = api.login(CW)
    assert token.startswith("sss_")
    me = api.client.get("/api/auth/me", headers=_bearer(token))
    assert me.status_code == 200
    body = me.json()
    assert body["role"] == "caseworker"
    assert body["org_id"] == "unhcr"
    assert body["duty"] == "case-management"
    assert body["kind"] == "session"
    assert "c-022" in body["cases"]


def test_wrong_password_and_unknown_user_answer_the_same(api: Api) -> None:
    wrong = api.client.post("/api/auth/login", json={"username": CW, "password": "nope-nope"})
    unknown = api.client.post(
        "/api/auth/login", json={"username": "nobody.here", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "invalid username or password"}


def test_unauthenticated_requests_are_refused(api: Api) -> None:
    assert api.client.get("/api/auth/me").status_code == 401
    assert api.client.get("/api/auth/me", headers=_bearer("sss_forged")).status_code == 401
    assert api.client.get("/api/cases", headers=_bearer("ssk_forged")).status_code == 401


def test_lockout_after_five_failures_then_released(api: Api) -> None:
    for _ in range(5):
        res = api.client.post("/api/auth/login", json={"username": CW, "password": "bad-guess"})
        assert res.status_code == 401
    right = {"username": CW, "password": api.password(CW)}
    locked = api.client.post("/api/auth/login", json=right)
    assert locked.status_code == 401
    assert locked.json() == {"detail": "invalid username or password"}
    api.clock.advance(minutes=14)
    assert api.client.post("/api/auth/login", json=right).status_code == 401
    api.clock.advance(minutes=2)
    assert api.client.post("/api/auth/login", json=right).status_code == 200


def test_unknown_user_is_locked_out_too(api: Api) -> None:
    for _ in range(6):
        res = api.client.post("/api/auth/login", json={"username": "ghost", "password": "x"})
        assert res.status_code == 401


def test_new_token_at_each_login_and_old_one_dies(api: Api) -> None:
    first = api.login(CW)
    second = api.login(CW)
    assert first != second
    assert api.client.get("/api/auth/me", headers=_bearer(first)).status_code == 401
    assert api.client.get("/api/auth/me", headers=_bearer(second)).status_code == 200


def test_logout_ends_the_session(api: Api) -> None:
    token = api.login(CW)
    assert api.client.post("/api/auth/logout", headers=_bearer(token)).status_code == 204
    assert api.client.get("/api/auth/me", headers=_bearer(token)).status_code == 401


def test_idle_timeout(api: Api) -> None:
    token = api.login(CW)
    api.clock.advance(minutes=29)
    assert api.client.get("/api/auth/me", headers=_bearer(token)).status_code == 200
    api.clock.advance(minutes=29)
    assert api.client.get("/api/auth/me", headers=_bearer(token)).status_code == 200
    api.clock.advance(minutes=30)
    assert api.client.get("/api/auth/me", headers=_bearer(token)).status_code == 401


def test_absolute_timeout_even_when_active(api: Api) -> None:
    token = api.login(CW)
    for _ in range(12 * 3 - 1):
        api.clock.advance(minutes=20)
        assert api.client.get("/api/auth/me", headers=_bearer(token)).status_code == 200
    api.clock.advance(minutes=20)
    assert api.client.get("/api/auth/me", headers=_bearer(token)).status_code == 401


def test_cookie_session_needs_csrf(api: Api) -> None:
    client = api.client
    pre = client.get("/api/auth/csrf")
    double = pre.json()["csrf_token"]
    form = {"username": CW, "password": api.password(CW)}
    refused = client.post("/api/auth/session", data=form)
    assert refused.status_code == 403
    ok = client.post("/api/auth/session", data={**form, "csrf_token": double})
    assert ok.status_code == 200, ok.text
    cookie = ok.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    csrf = ok.json()["csrf_token"]
    assert client.get("/api/auth/me").status_code == 200  # the cookie authenticates reads
    assert client.post("/api/auth/logout").status_code == 403  # no CSRF token
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def _web_login(api: Api) -> httpx.Response:
    page = api.client.get("/login")
    token = CSRF_FIELD.search(page.text)
    assert token, "the sign-in form carries its CSRF token"
    form = {"username": CW, "password": api.password(CW), "csrf_token": token.group(1)}
    return api.client.post("/login", data=form)


def test_a_session_that_ended_does_not_lock_its_holder_out(api: Api) -> None:
    """After an idle timeout the browser still holds the session cookie: the redirect to the
    sign-in page deletes it, and signing in again works even with it still there (the sign-in
    forms are checked against the double-submit cookie, not the dead session)."""
    assert _web_login(api).status_code == 303
    jar = next(c for c in api.client.cookies.jar if c.name == SESSION_COOKIE)
    stale, domain = jar.value, jar.domain
    api.clock.advance(minutes=31)
    home = api.client.get("/")
    assert home.status_code == 303
    assert home.headers["location"] == "/login"
    deleted = home.headers["set-cookie"]
    assert deleted.startswith(f'{SESSION_COOKIE}=""') or deleted.startswith(f"{SESSION_COOKIE}=;")
    assert "max-age=0" in deleted.lower()
    assert "httponly" in deleted.lower()
    assert SESSION_COOKIE not in api.client.cookies
    # A browser that kept the cookie anyway (or went straight to the sign-in page).
    api.client.cookies.set(SESSION_COOKIE, stale, domain=domain, path="/")
    again = _web_login(api)
    assert again.status_code == 303, again.text
    assert api.client.cookies[SESSION_COOKIE] != stale
    assert api.client.get("/").status_code == 200
    # The API's cookie sign-in too, with the dead cookie sent beside the double-submit one.
    api.client.cookies.set(SESSION_COOKIE, stale, domain=domain, path="/")
    double = api.client.get("/api/auth/csrf").json()["csrf_token"]
    form = {"username": CW, "password": api.password(CW), "csrf_token": double}
    assert api.client.post("/api/auth/session", data=form).status_code == 200
    # The double-submit check still holds on the sign-in forms.
    api.client.cookies.set(SESSION_COOKIE, stale, domain=domain, path="/")
    assert (
        api.client.post("/api/auth/session", data={**form, "csrf_token": "0" * 43}).status_code
        == 403
    )


def test_api_token_scope_and_revocation(api: Api) -> None:
    admin = api.headers("unhcr.administrator")
    account = api.account(CW)
    issued = api.client.post(
        "/api/auth/tokens",
        headers=admin,
        json={"user_id": account.user_id, "scopes": ["cases:read"], "label": "partner system"},
    )
    assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    assert token.startswith("ssk_")
    partner = _bearer(token)
    me = api.client.get("/api/auth/me", headers=partner).json()
    assert me["kind"] == "api-token"
    assert me["scopes"] == ["cases:read"]
    assert api.client.get("/api/cases/c-022", headers=partner).status_code == 200
    out_of_scope = api.client.post(
        "/api/subjects/s-022/consents/withdraw",
        headers=partner,
        json={"purposes": ["psychosocial-support-referral"]},
    )
    assert out_of_scope.status_code == 404
    listed = api.client.get("/api/auth/tokens", headers=admin).json()
    assert [t["token_id"] for t in listed] == [issued.json()["token_id"]]
    assert "token" not in listed[0]
    revoke = api.client.delete(f"/api/auth/tokens/{issued.json()['token_id']}", headers=admin)
    assert revoke.status_code == 204
    assert api.client.get("/api/cases/c-022", headers=partner).status_code == 401


def test_tokens_are_per_organisation(api: Api) -> None:
    other_admin = api.headers("ngo-a.administrator")
    res = api.client.post(
        "/api/auth/tokens",
        headers=other_admin,
        json={"user_id": api.account(CW).user_id, "scopes": ["cases:read"], "label": "x"},
    )
    assert res.status_code == 404


def test_passwords_are_argon2id_and_rehashed_when_parameters_change(api: Api) -> None:
    with api.store.reading() as session:
        hashes = list(session.scalars(select(UserAccountRow.password_hash)))
    assert hashes
    assert all(h.startswith("$argon2id$") for h in hashes)
    old = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    assert not old.check_needs_rehash(hashes[0])

    stronger = web_settings()
    policy = stronger.access_policy()
    object.__setattr__(
        policy,
        "hasher",
        PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1, type=Type.ID),
    )
    app = create_app(api.app.state.settings, api.store, web=stronger, clock=api.clock)
    app.state.policy = policy
    with api_client(app) as client:
        res = client.post("/api/auth/login", json={"username": CW, "password": api.password(CW)})
        assert res.status_code == 200
    with api.store.reading() as session:
        row = session.scalar(select(UserAccountRow).where(UserAccountRow.username == CW))
        assert row is not None
        assert row.password_hash.startswith("$argon2id$v=19$m=2048,t=2,p=1$")


def test_login_failures_are_audited_without_the_username(api: Api) -> None:
    api.client.post("/api/auth/login", json={"username": CW, "password": "wrong-password"})
    with api.store.reading() as session:
        rows = audit_log.event_rows(session)
    last = parse_body(rows[-1][1])
    assert last.action == "auth.login-failed"
    assert CW not in rows[-1][1].decode()


def _last_seen(api: Api) -> list[object]:
    with api.store.reading() as session:
        return list(session.scalars(select(SessionRow.last_seen_at)))


def test_a_busy_session_is_touched_at_most_once_a_minute(api: Api) -> None:
    token = api.login(CW)
    before = _last_seen(api)
    for _ in range(3):
        api.clock.advance(seconds=15)
        assert api.client.get("/api/auth/me", headers=_bearer(token)).status_code == 200
    assert _last_seen(api) == before  # reads only: no write for each request
    api.clock.advance(seconds=20)  # 65 s after the login
    assert api.client.get("/api/auth/me", headers=_bearer(token)).status_code == 200
    assert _last_seen(api) != before
    # The idle timeout still counts from the last request seen (within a minute).
    api.clock.advance(minutes=29, seconds=58)
    assert api.client.get("/api/auth/me", headers=_bearer(token)).status_code == 200
    api.clock.advance(minutes=30, seconds=1)
    assert api.client.get("/api/auth/me", headers=_bearer(token)).status_code == 401
