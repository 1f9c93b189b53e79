"""A real server for the browser tests: the app ``safeshare serve`` runs (same factory, same
routers), on a fresh SQLite store with the demo operation, served by uvicorn in a thread on a
free loopback port; and Debian's chromium driven by Playwright. A missing chromium FAILS the
tests (it is installed by the Makefile's test step): they never skip."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, sync_playwright
from webtest import LiveServer, Origins, Plan

from safeshare.api.app import create_app
from safeshare.api.config import WebSettings
from safeshare.bootstrap import bootstrap
from safeshare.crypto.org_keys import OrgKeyDirectory
from safeshare.demo import load_demo, raw_operation
from safeshare.services.case_elements import set_case_elements
from safeshare.settings import Env, Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _plan(passwords: dict[str, str]) -> Plan:
    data = raw_operation()
    world = data["world"]
    orgs = {o["id"]: o for o in world["organisations"]}
    purpose = next(
        p
        for p in world["protocol"]["purposes"]
        if p["general"] == "immediate-referral"
        and "unhcr" in p["from"]
        and any(
            orgs[t].get("dp_assessment") == "passed" and not orgs[t].get("anonymity_only")
            for t in p["to"]
        )
        and "age" not in p["data_elements"]
    )
    recipient = next(t for t in purpose["to"] if not orgs[t].get("anonymity_only"))
    consented = {c["subject"] for c in world["consents"] if purpose["id"] in c["purposes"]}
    adults = {s["id"] for s in world["subjects"] if s.get("age", 30) >= 18}
    cases = {c["id"]: c for c in world["cases"]}
    sender = next(a for a in data["accounts"] if a["org"] == "unhcr" and a["role"] == "caseworker")
    receiver = next(
        a for a in data["accounts"] if a["org"] == recipient and a["role"] == "caseworker"
    )
    fresh = tuple(
        cid
        for cid in sender["cases"]
        if cases[cid]["status"] == "open"
        and cases[cid]["subject"] not in consented
        and cases[cid]["subject"] in adults
    )
    assert len(fresh) >= 4, "the demo needs 4 open adult cases without consent for it"
    return Plan(
        purpose["id"], recipient, sender["username"], receiver["username"], fresh, passwords
    )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("web")
    settings = Settings(
        env=Env.TEST,
        database_url=f"sqlite:///{tmp / 'store.db'}",
        field_key_file=tmp / "keys" / "field-keys.json",
        audit_key_file=tmp / "keys" / "audit-key.pem",
    )
    web = WebSettings(env=Env.TEST, fast_password_hashing=True, cookie_secure=False)
    store = bootstrap(settings, upgrade=True)
    loaded = load_demo(store, policy=web.access_policy())
    plan = _plan({a.username: a.password for a in loaded.accounts})
    for i, case_id in enumerate(plan.fresh_cases):
        set_case_elements(
            store,
            case_id,
            {
                "name": f"Test Person {i} (fictional)",
                "phone": f"+44 7700 900{900 + i}",  # reserved for drama
                "service_needed": "psychosocial support",
                "language": "Swahili",
            },
            actor="browser-tests",
        )
    app = create_app(settings, store, web=web)
    app.state.org_keys = OrgKeyDirectory(tmp / "org-keys", generate_missing=True)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            ws="none",
            lifespan="off",
            log_level="warning",
            access_log=False,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", plan)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install "
            "chromium); the browser tests never skip"
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    ctx = browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def origins(live_server: LiveServer) -> Origins:
    return Origins(live_server.url)
