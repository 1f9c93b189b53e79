"""English, French and Arabic for the web pages, with Babel.

Translations live in ``safeshare/locales/<lang>/LC_MESSAGES/messages.po`` and are compiled
in memory when first used (no build step). The language of a request comes from ``?lang=``,
then the ``safeshare_lang`` cookie (set by the language switcher), then Accept-Language.

The engine's reason and condition messages (English, :mod:`safeshare.core.reasons`) are
translated by code: the English template is the msgid, its placeholders are read back from
the English message and put into the translated template.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from importlib import resources
from io import BytesIO

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from safeshare.core.decision import Condition, Reason
from safeshare.core.reasons import CONDITIONS, REASONS
from safeshare.explanation import DEFAULT_LANGUAGE, LANGUAGES, language_of

LANG_COOKIE = "safeshare_lang"
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "ar": "العربية"}
RTL = frozenset({"ar"})


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue for ``language`` (English: the msgids themselves)."""
    lang = language_of(language)
    if lang == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    po = resources.files("safeshare").joinpath("locales", lang, "LC_MESSAGES", "messages.po")
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def negotiate(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The request's language: ``?lang=``, the cookie, then Accept-Language, then English."""
    for explicit in (query, cookie):
        if explicit and explicit.lower() in LANGUAGES:
            return explicit.lower()
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        base = tag.strip().split("-")[0].lower()
        if base in LANGUAGES and quality > 0:
            weighted.append((-quality, index, base))
    return sorted(weighted)[0][2] if weighted else DEFAULT_LANGUAGE


def direction(language: str) -> str:
    return "rtl" if language_of(language) in RTL else "ltr"


def format_date(value: date | datetime | None, language: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return babel_format_datetime(value, format="medium", locale=language_of(language))
    return babel_format_date(value, format="long", locale=language_of(language))


def format_number(value: int | float | None, language: str) -> str:
    if value is None:
        return ""
    return format_decimal(value, locale=language_of(language))


def locale(language: str) -> Locale:
    return Locale.parse(language_of(language))


# --- the engine's messages ------------------------------------------------------------------


@cache
def _pattern(template: str) -> re.Pattern[str]:
    """A regex reading the placeholders of ``template`` back from a formatted message."""
    out, seen, pos = [], set(), 0
    for m in re.finditer(r"\{(\w+)\}", template):
        out.append(re.escape(template[pos : m.start()]))
        name = m.group(1)
        out.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
        seen.add(name)
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$", re.DOTALL)


def _translate(template: str, message: str, language: str, extra: Mapping[str, str]) -> str:
    lang = language_of(language)
    if lang == DEFAULT_LANGUAGE or not template:
        return message
    translated = translations(lang).gettext(template)
    if translated == template:
        return message
    found = _pattern(template).match(message)
    if found is None:
        return message  # the message was not built from the template: show it as it is
    values = {**found.groupdict(), **extra}
    try:
        return translated.format_map(values)
    except (KeyError, IndexError, ValueError):
        return message


def reason_message(reason: Reason, language: str, **extra: str) -> str:
    entry = REASONS.get(reason.code)
    return _translate(entry.message if entry else "", reason.message, language, extra)


def reason_next_step(reason: Reason, language: str) -> str:
    entry = REASONS.get(reason.code)
    if entry is None or not reason.next_step:
        return reason.next_step
    return _translate(entry.next_step, reason.next_step, language, {})


def condition_message(condition: Condition, language: str) -> str:
    entry = CONDITIONS.get(condition.code)
    return _translate(entry.message if entry else "", condition.message, language, {})


def engine_templates() -> list[str]:
    """Every English template of the engine's messages (each must be in the catalogues)."""
    out: list[str] = []
    for entry in (*REASONS.values(), *CONDITIONS.values()):
        for text in (entry.message, entry.next_step):
            if text and text not in out:
                out.append(text)
    return out
