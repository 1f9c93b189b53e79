"""Helpers for the browser tests (the fixtures are in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, Request

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
VENDOR = Path(__file__).resolve().parent / "vendor"


@dataclass(frozen=True)
class Plan:
    """What the demo operation offers the tests (read from it, not hard-coded)."""

    purpose: str  # an immediate referral from UNHCR to a partner, on consent
    recipient: str
    sender_user: str
    recipient_user: str
    fresh_cases: tuple[str, ...]  # UNHCR's caseworker's cases with no consent on record
    passwords: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LiveServer:
    url: str
    plan: Plan


class Origins:
    """Every request a page makes, to assert they all go to the server."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.urls: list[str] = []
        self.csp_errors: list[str] = []

    def record(self, request: Request) -> None:
        self.urls.append(request.url)

    def console(self, message: Any) -> None:
        text = str(message.text)
        if "Content Security Policy" in text or "Refused to" in text:
            self.csp_errors.append(text)

    def outside(self) -> list[str]:
        return [
            u for u in self.urls if not (u.startswith(self.origin + "/") or u.startswith("data:"))
        ]


def new_page(ctx: BrowserContext, origins: Origins) -> Page:
    page = ctx.new_page()
    page.on("request", origins.record)
    page.on("console", origins.console)
    return page


def sign_in(page: Page, server: LiveServer, username: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#username", username)
    page.fill("#password", server.plan.passwords[username])
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{server.url}/")


def shot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_source() -> str:
    return (VENDOR / "axe.min.js").read_text(encoding="utf-8")
