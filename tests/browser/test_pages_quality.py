"""Every main page: no serious or critical accessibility violation (axe-core, vendored and
injected by the test), under 100 KB gzip-compressed (HTML + CSS + JS), every request to the
server's own origin, no Content-Security-Policy violation; and the essential pages work
without JavaScript."""

from __future__ import annotations

import gzip

import pytest
from playwright.sync_api import Browser, Page
from webtest import LiveServer, Origins, axe_source, new_page, shot, sign_in

pytestmark = pytest.mark.browser

BUDGET = 100 * 1024


def main_pages(server: LiveServer) -> list[tuple[str, str, str]]:
    """(user, path, name) of the main pages."""
    plan = server.plan
    case = plan.fresh_cases[0]
    focal = "unhcr.dp-focal-point"
    return [
        ("", "/login", "login"),
        (plan.sender_user, "/", "home"),
        (plan.sender_user, f"/cases/{case}", "case"),
        (plan.sender_user, f"/cases/{case}/consent?purpose={plan.purpose}", "consent"),
        (plan.sender_user, f"/cases/{case}/referral?purpose={plan.purpose}", "referral"),
        (focal, "/", "dp-home"),
        (focal, "/dp/escalations", "dp-escalations"),
        (focal, "/dp/reverification", "dp-reverification"),
        (focal, "/dp/protocol", "dp-protocol"),
        (focal, "/dp/audit", "dp-audit"),
    ]


def _weight(page: Page, path: str, server: LiveServer) -> int:
    """HTML + every stylesheet and script the page loads, each gzip-compressed (fetched
    again, so the browser's cache does not hide them)."""
    response = page.goto(f"{server.url}{path}")
    assert response is not None
    assert response.ok
    total = len(gzip.compress(response.body()))
    assets = page.evaluate(
        "() => [...document.querySelectorAll('link[rel=stylesheet][href], script[src]')]"
        ".map(e => e.href || e.src)"
    )
    for url in assets:
        total += len(gzip.compress(page.request.get(url).body()))
    return total


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_main_pages_accessible_light_and_self_contained(
    browser: Browser, live_server: LiveServer, lang: str
) -> None:
    origins = Origins(live_server.url)
    axe = axe_source()
    signed_in: dict[str, Page] = {}
    failures: list[str] = []
    for user, path, name in main_pages(live_server):
        page = signed_in.get(user)
        if page is None:
            # bypass_csp only so that the test can inject axe-core; the pages' own requests
            # are still recorded and checked.
            ctx = browser.new_context(
                bypass_csp=True, locale="en-GB", extra_http_headers={"accept-language": lang}
            )
            page = new_page(ctx, origins)
            if user:
                sign_in(page, live_server, user)
            signed_in[user] = page
        weight = _weight(page, path + ("&" if "?" in path else "?") + f"lang={lang}", live_server)
        if weight >= BUDGET:
            failures.append(f"{name}: {weight} bytes gzip")
        page.add_script_tag(content=axe)
        result = page.evaluate(
            "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
            " return r.violations.map(v => ({id: v.id, impact: v.impact,"
            " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)})); }"
        )
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        if bad:
            failures.append(f"{name} ({lang}): {bad}")
        shot(page, f"{lang}-page-{name}")
    for page in signed_in.values():
        page.context.close()
    assert failures == []
    assert origins.outside() == []


def test_essential_flow_works_without_javascript(browser: Browser, live_server: LiveServer) -> None:
    """Forms post normally: the Check button renders the decision as a whole page."""
    origins = Origins(live_server.url)
    ctx = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = new_page(ctx, origins)
    plan = live_server.plan
    sign_in(page, live_server, plan.sender_user)
    case = plan.fresh_cases[2]
    page.goto(f"{live_server.url}/cases/{case}/referral?purpose={plan.purpose}")
    if page.locator("#to").input_value() == "":
        page.select_option("#to", plan.recipient)
    page.fill("#label", "Survivor of rape")
    page.click("#referral-form button[formaction]")
    page.wait_for_load_state()
    assert page.locator("#decision .verdict").inner_text() in (
        "Not allowed",
        "Allowed with conditions",
    )
    assert page.locator("#decision li[data-code]").count() >= 1
    shot(page, "en-nojs-referral-check")
    ctx.close()
    assert origins.outside() == []
