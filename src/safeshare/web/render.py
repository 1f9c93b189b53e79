"""Rendering pages: one Jinja2 environment per language (Babel's gettext installed, autoescape
on), the context every page gets (who is signed in, the CSRF token, the language and its
direction), and the response headers (``Cache-Control: no-store`` on every page: they may
carry personal data; the security middleware adds the CSP)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from safeshare.api.deps import SESSION_COOKIE
from safeshare.api.security import session_csrf_token
from safeshare.explanation import LANGUAGES
from safeshare.web import i18n
from safeshare.web.labels import element_label, label

NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}
LANG_MAX_AGE = 365 * 24 * 3600


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=PackageLoader("safeshare.web", "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    catalog = i18n.translations(language)
    env.globals.update(
        label=lambda value: label(value, catalog.gettext),
        fmt_date=lambda value: i18n.format_date(value, language),
        fmt_num=lambda value: i18n.format_number(value, language),
        element=lambda e: element_label(e, catalog.gettext),
        reason_message=lambda r: i18n.reason_message(r, language),
        reason_next_step=lambda r: i18n.reason_next_step(r, language),
        condition_message=lambda c: i18n.condition_message(c, language),
    )
    env.filters["element"] = lambda e: element_label(e, catalog.gettext)
    return env


def language(request: Request) -> str:
    """The request's language (stored on the request once negotiated)."""
    found = getattr(request.state, "lang", None)
    if isinstance(found, str):
        return found
    lang = i18n.negotiate(
        request.query_params.get("lang"),
        request.cookies.get(i18n.LANG_COOKIE),
        request.headers.get("accept-language"),
    )
    request.state.lang = lang
    return lang


def csrf_token(request: Request) -> str:
    session = request.cookies.get(SESSION_COOKIE)
    if not session:
        return ""
    secret: bytes = request.app.state.web.secret_bytes()
    return session_csrf_token(secret, session)


def switch_links(request: Request) -> list[dict[str, str]]:
    """Links to this page in each language (other query parameters kept; ids only)."""
    params = {k: v for k, v in request.query_params.items() if k != "lang"}
    out = []
    for code, name in i18n.LANGUAGE_NAMES.items():
        query = urlencode({**params, "lang": code})
        out.append({"code": code, "name": name, "href": f"{request.url.path}?{query}"})
    return out


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    principal: Any = None,
    csrf: str | None = None,
) -> HTMLResponse:
    lang = language(request)
    env = environment(lang)
    ctx: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "dir": i18n.direction(lang),
        "languages": switch_links(request),
        "principal": principal
        if principal is not None
        else getattr(request.state, "web_principal", None),
        "csrf_token": csrf if csrf is not None else csrf_token(request),
        "path": request.url.path,
    }
    ctx.update(context or {})
    html = env.get_template(template).render(ctx)
    response = HTMLResponse(html, status_code=status_code, headers=NO_STORE)
    chosen = request.query_params.get("lang")
    if chosen and chosen.lower() in LANGUAGES:
        response.set_cookie(
            i18n.LANG_COOKIE,
            chosen.lower(),
            max_age=LANG_MAX_AGE,
            httponly=True,
            samesite="lax",
            path="/",
            secure=bool(request.app.state.web.secure_cookies),
        )
    return response
