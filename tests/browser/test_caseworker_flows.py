"""The caseworker's flows in a real browser (chromium), against a real server: sign in, record
consent, a referral that is allowed, one that gets conditions (live decision through htmx),
one that is denied with its reasons, the recipient accepting it and sending feedback, a
withdrawal with one button; then the referral flow again in Arabic, right to left."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from webtest import LiveServer, Origins, new_page, shot, sign_in

pytestmark = pytest.mark.browser


def record_consent(page: Page, server: LiveServer, case_id: str) -> None:
    page.goto(f"{server.url}/cases/{case_id}/consent")
    page.select_option("#purpose", server.plan.purpose)
    page.click("form[method=get] button[type=submit]")
    expect(page.locator(".explain")).to_be_visible()
    page.click("button[name=decision][value=granted]")
    page.wait_for_url(re.compile(rf"/cases/{case_id}\?recorded=granted"))


def open_referral_form(page: Page, server: LiveServer, case_id: str) -> None:
    page.goto(f"{server.url}/cases/{case_id}/referral")
    page.select_option("#purpose-choice", server.plan.purpose)
    page.click("form[method=get] button[type=submit]")
    expect(page.locator("#referral-form")).to_be_visible()
    if page.locator("#to").input_value() == "":
        page.select_option("#to", server.plan.recipient)


def send(page: Page) -> None:
    page.click("#referral-form button[type=submit]:not([formaction])")
    page.wait_for_load_state()


def test_caseworker_flow_in_english(
    context: BrowserContext, live_server: LiveServer, origins: Origins
) -> None:
    plan = live_server.plan
    allowed_case, conditions_case, denied_case = plan.fresh_cases[:3]
    page = new_page(context, origins)

    # Sign in: the home page lists my cases.
    sign_in(page, live_server, plan.sender_user)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#h-cases")).to_be_visible()
    expect(page.locator(f"a[href='/cases/{allowed_case}']")).to_be_visible()
    shot(page, "en-01-home")

    # The case page: the person, the consent ledger, the audit trail.
    page.goto(f"{live_server.url}/cases/{allowed_case}")
    expect(page.locator("#h-person")).to_be_visible()
    expect(page.locator("#h-trail")).to_be_visible()
    shot(page, "en-02-case")

    # Record consent after reading the explanation.
    page.goto(f"{live_server.url}/cases/{allowed_case}/consent")
    page.select_option("#purpose", plan.purpose)
    page.click("form[method=get] button[type=submit]")
    explanation = page.locator(".explain").inner_text()
    for word in ("may", "might", "possible", "some"):
        assert not re.search(rf"\b{word}\b", explanation, re.IGNORECASE)
    assert "How long" in explanation
    assert "How they will contact you" in explanation
    shot(page, "en-03-consent")
    page.click("button[name=decision][value=granted]")
    page.wait_for_url(re.compile(rf"/cases/{allowed_case}\?recorded=granted"))
    expect(page.locator(".timeline li").first).to_contain_text("Consent given")

    # A referral that is allowed.
    open_referral_form(page, live_server, allowed_case)
    expect(page.locator("#decision .verdict")).to_have_text("Allowed")
    shot(page, "en-04-referral-allowed")
    send(page)
    expect(page.locator("h1")).to_have_text("Referral sent")
    referral_href = page.locator("a[href^='/referrals/']").first.get_attribute("href")
    assert referral_href

    # A referral that gets conditions: the decision updates live as the label is typed.
    record_consent(page, live_server, conditions_case)
    open_referral_form(page, live_server, conditions_case)
    page.fill("#label", "GBV survivor, urgent")
    expect(page.locator("#decision .verdict")).to_have_text("Allowed with conditions")
    expect(page.locator("#decision li[data-code=neutral-label]")).to_be_visible()
    shot(page, "en-05-referral-conditions")
    send(page)
    expect(page.locator("h1")).to_have_text("Referral sent")

    # A referral that is denied, with its reasons shown (no consent on record).
    open_referral_form(page, live_server, denied_case)
    expect(page.locator("#decision .verdict")).to_have_text("Not allowed")
    send(page)
    expect(page.locator("h1")).to_have_text("Nothing was sent")
    expect(page.locator("li[data-code=consent-missing]")).to_be_visible()
    expect(page.locator("li[data-code=consent-missing] .next")).to_be_visible()
    shot(page, "en-06-referral-denied")

    # The recipient opens the packet, accepts it and sends feedback.
    other = new_page(context.browser.new_context(locale="en-GB"), origins)  # type: ignore[union-attr]
    sign_in(other, live_server, plan.recipient_user)
    expect(other.locator(f"a[href='{referral_href}']")).to_be_visible()
    shot(other, "en-07-recipient-inbox")
    other.goto(f"{live_server.url}{referral_href}")
    expect(other.locator("#h-packet")).to_be_visible()
    expect(other.locator("section[aria-labelledby=h-packet]")).to_contain_text("(fictional)")
    shot(other, "en-08-recipient-packet")
    other.click(f"form[action='{referral_href}/accept'] button")
    expect(other.locator(".status")).to_have_text("Accepted")
    other.fill("#status_dates", "Accepted today; first session booked")
    other.click(f"form[action='{referral_href}/feedback'] button")
    expect(other.locator("h1")).to_have_text("Feedback sent")
    shot(other, "en-09-feedback-sent")
    other.context.close()

    # The sender reads the feedback.
    page.goto(f"{live_server.url}{referral_href}")
    expect(page.locator("#h-fb + dl")).to_contain_text("first session booked")
    shot(page, "en-10-sender-feedback")

    # Withdrawing takes one button, and the ledger shows it at once.
    page.goto(f"{live_server.url}/cases/{allowed_case}")
    withdraw = (
        f"form[action='/cases/{allowed_case}/consent/withdraw']"
        f":has(input[name=purpose][value='{plan.purpose}']) button"
    )
    expect(page.locator(withdraw)).to_have_count(1)
    page.click(withdraw)
    page.wait_for_url(re.compile(r"recorded=withdrawn"))
    expect(page.locator(".timeline li").first).to_contain_text("Withdrawn")
    shot(page, "en-11-withdrawn")
    open_referral_form(page, live_server, allowed_case)
    expect(page.locator("#decision li[data-code=consent-withdrawn]")).to_be_visible()

    assert origins.outside() == []
    assert origins.csp_errors == []


def test_referral_flow_in_arabic_right_to_left(
    context: BrowserContext, live_server: LiveServer, origins: Origins
) -> None:
    plan = live_server.plan
    case_id = plan.fresh_cases[3] if len(plan.fresh_cases) > 3 else plan.fresh_cases[0]
    page = new_page(context, origins)
    sign_in(page, live_server, plan.sender_user)
    page.goto(f"{live_server.url}/?lang=ar")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "ar")
    expect(html).to_have_attribute("dir", "rtl")
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert page.evaluate("getComputedStyle(document.querySelector('main')).direction") == "rtl"
    expect(page.locator("#h-cases")).to_have_text("حالاتي")
    shot(page, "ar-01-home")

    # The language is kept (cookie): consent with the explanation in Arabic.
    page.goto(f"{live_server.url}/cases/{case_id}/consent")
    expect(html).to_have_attribute("dir", "rtl")
    page.select_option("#purpose", plan.purpose)
    page.click("form[method=get] button[type=submit]")
    explanation = page.locator(".explain div[lang=ar]")
    expect(explanation).to_have_attribute("dir", "rtl")
    assert "ما سأشاركه" in explanation.inner_text()
    shot(page, "ar-02-consent")
    page.click("button[name=decision][value=granted]")
    page.wait_for_url(re.compile(r"recorded=granted"))

    open_referral_form(page, live_server, case_id)
    expect(page.locator("#decision .verdict")).to_have_text("مسموح")
    page.fill("#label", "GBV survivor")
    expect(page.locator("#decision .verdict")).to_have_text("مسموح بشروط")
    reason = page.locator("#decision li[data-code=stigmatising-label] p").first
    expect(reason).to_contain_text("التسمية")
    # Inline start is on the right in a right-to-left page.
    box_form = page.locator("#referral-form").bounding_box()
    box_decision = page.locator("#h-decision").bounding_box()
    assert box_form
    assert box_decision
    assert box_form["x"] > box_decision["x"]
    shot(page, "ar-03-referral")
    send(page)
    expect(page.locator("h1")).to_have_text("أُرسلت الإحالة")
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    shot(page, "ar-04-referral-sent")
    assert origins.outside() == []
    assert origins.csp_errors == []
