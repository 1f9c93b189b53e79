"""Exceptional circumstances end to end, in a real browser against a real server: a UNHCR
caseworker asks for an emergency safe-shelter placement without consent, on the basis of
safety and security under an immediate security threat, with the risk assessment on record;
the engine escalates it; the data protection focal point sees it in her queue with the
circumstance, the risk assessment and whether the recipient was assessed as safe, and
approves it with reasons; the packet is sealed and sent; the caseworker gets the task to
inform the person; the recipient opens real (fictional) values. And the API docs load
nothing from another origin under their strict CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, expect
from webtest import LiveServer, Origins, new_page, shot, sign_in

from safeshare.demo import raw_operation

pytestmark = pytest.mark.browser

PURPOSE = "emergency-safe-shelter"
CASE, SUBJECT = "c-022", "s-022"  # the UNHCR caseworker's case (not one of the fresh cases)
FOCAL_POINT = "unhcr.dp-focal-point"
RECIPIENT_USER = "ngo-a.caseworker"


def _risk_assessment() -> str:
    world = raw_operation()["world"]
    purpose = next(p for p in world["protocol"]["purposes"] if p["id"] == PURPOSE)
    assert purpose["from"] == ["unhcr"]
    assert purpose["to"] == ["ngo-a"]
    return str(
        next(
            a["id"]
            for a in world["assessments"]
            if a["kind"] == "risk" and a["recipient_safe"] and a["id"].endswith("safe-shelter")
        )
    )


def test_escalated_referral_approved_by_the_focal_point(
    context: BrowserContext, live_server: LiveServer, origins: Origins
) -> None:
    plan = live_server.plan
    risk = _risk_assessment()
    page = new_page(context, origins)
    sign_in(page, live_server, plan.sender_user)

    # The caseworker fills in the referral without consent: safety and security.
    page.goto(f"{live_server.url}/cases/{CASE}/referral")
    page.select_option("#purpose-choice", PURPOSE)
    page.click("form[method=get] button[type=submit]")
    expect(page.locator("#referral-form")).to_be_visible()
    expect(page.locator("#to")).to_have_value("ngo-a")
    page.select_option("#basis", "safety-and-security")
    page.locator("#referral-form details summary").click()
    page.select_option("#circumstance", "security-threat")
    page.check("#immediate")
    page.fill("#detail", "Threats by an armed group against her, repeated today (fictional)")
    page.fill("#risk_assessment", risk)
    page.locator("#risk_assessment").blur()
    expect(page.locator("#decision .verdict")).to_have_text("Needs the data protection focal point")
    expect(page.locator("#decision li[data-code=exceptional-review]")).to_be_visible()
    shot(page, "esc-01-referral-escalates")
    page.click("#referral-form button[type=submit]:not([formaction])")
    page.wait_for_load_state()
    expect(page.locator("h1")).to_have_text("Sent to the data protection focal point")
    shot(page, "esc-02-sent-to-focal-point")

    # The focal point sees it in her queue, with what she needs to decide.
    fp_ctx = context.browser.new_context(locale="en-GB")  # type: ignore[union-attr]
    focal = new_page(fp_ctx, origins)
    sign_in(focal, live_server, FOCAL_POINT)
    focal.goto(f"{live_server.url}/dp/escalations")
    card = focal.locator("section.card", has_text=PURPOSE)
    expect(card).to_have_count(1)
    details = card.locator("dl")
    expect(details).to_contain_text("Safety and security")
    expect(details).to_contain_text("Security threat")
    expect(details).to_contain_text("(immediate)")
    expect(details).to_contain_text("Threats by an armed group")
    expect(details).to_contain_text(risk)
    expect(card.locator("dt:has-text('Benefits outweigh the risks') + dd")).to_have_text("Yes")
    expect(card.locator("dt:has-text('Recipient assessed as safe') + dd")).to_have_text("Yes")
    expect(card.locator("code", has_text="exceptional-review")).to_be_visible()
    shot(focal, "esc-03-focal-point-queue")
    card.locator("textarea[name=reasons]").fill(
        "Immediate, serious threat; the shelter was assessed as safe; only what is needed."
    )
    card.locator("button[name=decision][value=approve]").click()
    focal.wait_for_url(re.compile(r"/dp/escalations\?done=1"))
    expect(focal.locator("p.notice[role=status]")).to_have_text("Decision recorded.")
    expect(focal.locator("section.card", has_text=PURPOSE)).to_have_count(0)
    expect(focal.locator("main ul li", has_text="Approved")).not_to_have_count(0)
    shot(focal, "esc-04-focal-point-approved")
    fp_ctx.close()

    # The share is made: the caseworker's referral waits for the recipient, and the task
    # to inform the person (shared without her consent) is on her home page.
    page.goto(f"{live_server.url}/")
    tasks = page.locator("section[aria-labelledby=h-tasks]")
    expect(tasks).to_be_visible()
    expect(tasks.locator("li", has_text=SUBJECT)).to_have_count(1)
    referral_href = tasks.locator("li", has_text=SUBJECT).locator("a").get_attribute("href")
    assert referral_href
    assert referral_href.startswith("/referrals/")
    shot(page, "esc-05-inform-task")
    page.goto(f"{live_server.url}{referral_href}")
    expect(page.locator(".status")).to_have_text("Waiting for the recipient")

    # The recipient opens the packet: the case's values, nothing that was not agreed.
    rc_ctx = context.browser.new_context(locale="en-GB")  # type: ignore[union-attr]
    other = new_page(rc_ctx, origins)
    sign_in(other, live_server, RECIPIENT_USER)
    other.goto(f"{live_server.url}{referral_href}")
    packet = other.locator("section[aria-labelledby=h-packet]")
    expect(packet).to_contain_text("Hassan Q. (fictional)")
    expect(packet).to_contain_text("+44 7700 900022")
    expect(packet).not_to_contain_text("Threats by an armed group")
    shot(other, "esc-06-recipient-packet")
    rc_ctx.close()

    assert origins.outside() == []
    assert origins.csp_errors == []


def test_api_docs_load_nothing_from_another_origin(
    context: BrowserContext, live_server: LiveServer, origins: Origins
) -> None:
    page = new_page(context, origins)
    response = page.goto(f"{live_server.url}/api/docs")
    assert response is not None
    assert response.ok
    csp = response.headers["content-security-policy"]
    assert "https:" not in csp
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("safeshare")
    expect(page.locator(".opblock").first).to_be_visible()
    shot(page, "api-docs")
    assert origins.outside() == []
    assert origins.csp_errors == []
