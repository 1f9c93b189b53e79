"""The catalogues: every string of the pages and every engine message is translated into
French and Arabic with the same placeholders; engine messages are translated by code."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import safeshare.web
from safeshare.core.decision import Outcome
from safeshare.core.reasons import condition, reason
from safeshare.core.vocabulary import STANDARD_ELEMENTS
from safeshare.web import i18n
from safeshare.web.labels import LABELS, element_msgid

WEB = Path(safeshare.web.__file__).parent
LOCALES = WEB.parent / "locales"


def msgids() -> set[str]:
    found: set[str] = set()
    for _f, _l, msg, _c, _ctx in extract_from_dir(
        str(WEB / "templates"),
        method_map=[("**.html", "jinja2")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        found.add(msg[0] if isinstance(msg, tuple) else msg)
    found.update(LABELS.values())
    found.update(element_msgid(e) for e in STANDARD_ELEMENTS)
    found.update(i18n.engine_templates())
    return found


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\(\w+\)s|\{\w+\}", text))


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_every_string_translated_with_same_placeholders(lang: str) -> None:
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=lang)
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(msgids() - set(translated))
    assert missing == []
    for msgid, text in translated.items():
        assert placeholders(str(msgid)) == placeholders(str(text)), msgid


def test_negotiation() -> None:
    assert i18n.negotiate("ar", "fr", "en") == "ar"
    assert i18n.negotiate(None, "fr", "ar") == "fr"
    assert i18n.negotiate("xx", None, "de-DE, fr-FR;q=0.8, ar;q=0.9") == "ar"
    assert i18n.negotiate(None, None, None) == "en"
    assert i18n.direction("ar") == "rtl"
    assert i18n.direction("fr") == "ltr"


def test_engine_messages_translated_by_code() -> None:
    r = reason(
        "consent-missing", Outcome.DENY, subject="s-1", purpose="legal-aid", recipient="ngo-a"
    )
    assert i18n.reason_message(r, "en") == r.message
    fr = i18n.reason_message(r, "fr")
    assert fr == "Aucun consentement de s-1 n'est enregistré pour « legal-aid » avec ngo-a."
    assert "s-1" in i18n.reason_message(r, "ar")
    assert "ngo-a" in i18n.reason_message(r, "ar")
    assert i18n.reason_next_step(r, "fr").startswith("Obtenez")
    c = condition("drop-elements", elements=("phone", "name"))
    assert i18n.condition_message(c, "ar") == "احذف هذه العناصر قبل الإرسال: phone, name."


def test_unknown_message_shown_as_it_is() -> None:
    r = reason("consent-missing", Outcome.DENY, subject="s", purpose="p", recipient="r")
    odd = type(r)(code=r.code, message="Something else", section=r.section, outcome=r.outcome)
    assert i18n.reason_message(odd, "fr") == "Something else"


def test_dates_and_numbers_localised() -> None:
    assert i18n.format_date(date(2026, 3, 1), "fr") == "1 mars 2026"
    assert "مارس" in i18n.format_date(date(2026, 3, 1), "ar")
    assert i18n.format_number(12345, "fr") == "12\u202f345"
