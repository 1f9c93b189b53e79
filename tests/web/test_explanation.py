"""The plain-language explanation: what, with whom, why, how long, how contacted, in English,
French and Arabic, never with a vague qualifier (Cross-cutting issues > Purpose
Specification)."""

from __future__ import annotations

import pytest

from safeshare.core.vocabulary import GeneralPurpose
from safeshare.core.world import Period, Purpose
from safeshare.demo import raw_operation
from safeshare.explanation import LANGUAGES, explain, language_of, vague_words
from safeshare.scenario import parse_world

REFERRAL = Purpose(
    id="legal-aid-referral",
    general=GeneralPurpose.IMMEDIATE_REFERRAL,
    services=("legal counselling",),
    recipients=frozenset({"ngo-a"}),
    data_elements=("referral_id", "name", "phone", "service_needed"),
    retention=Period("P6M", months=6),
    contact_methods=("phone", "office"),
)
NAMES = {"ngo-a": "Amani Women's Centre"}


def demo_purposes() -> list[Purpose]:
    world = dict(raw_operation()["world"])
    world["today"] = "2026-03-01"
    for s in world["subjects"]:
        s.pop("name", None)
        s.pop("contact", None)
    for c in world["cases"]:
        c.pop("details", None)
        if c.get("closed_on"):
            c["closed_on"] = "2026-01-01"
    world["consents"] = []
    world["assessments"] = []
    return list(parse_world(world, "demo").protocol.purposes)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_answers_every_question(lang: str) -> None:
    e = explain(REFERRAL, language=lang, recipient_names=NAMES)
    assert e.language == lang
    assert len(e.sentences) == 6  # what, whom, why, how long, contact, the choice
    assert "Amani Women's Centre" in e.text
    assert "legal counselling" in e.text


def test_english_text() -> None:
    e = explain(REFERRAL, language="en", recipient_names=NAMES)
    assert e.sentences[0] == (
        "What I will share: the referral number, your name, your phone "
        "number, and the service you need."
    )
    assert "6 months" in e.text
    assert "by phone or at their office" in e.text
    assert "withdraw your consent at any time" in e.text


def test_french_and_arabic_are_translated() -> None:
    fr = explain(REFERRAL, language="fr", recipient_names=NAMES).text.replace("\u00a0", " ")
    ar = explain(REFERRAL, language="ar", recipient_names=NAMES).text
    assert "votre nom" in fr
    assert "6 mois" in fr
    assert "par téléphone" in fr
    assert "اسمك" in ar
    assert "أشهر" in ar
    assert "عبر الهاتف" in ar


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_vague_qualifier_for_any_demo_purpose(lang: str) -> None:
    for purpose in demo_purposes():
        for child in (False, True):
            text = explain(purpose, language=lang, recipient_names=NAMES, child=child).text
            assert vague_words(text, lang) == [], (purpose.id, text)


def test_vague_word_detector_finds_them() -> None:
    assert vague_words("We may share some data", "en") == ["may", "some"]
    assert vague_words("Nous pourrions peut-être partager", "fr") == ["peut-être"]
    assert vague_words("قد نشارك بعض البيانات", "ar") == ["قد", "بعض"]
    assert vague_words("Mayor of the town", "en") == []


def test_narrowed_to_consented_elements_and_stable_version() -> None:
    a = explain(REFERRAL, language="en", elements=["name"])
    b = explain(REFERRAL, language="en", elements=["name"])
    assert "your phone number" not in a.text
    assert a.version == b.version
    assert a.version.startswith("expl-")
    assert explain(REFERRAL, language="fr").version != a.version


def test_open_ended_retention_and_statistics() -> None:
    status = Purpose(
        id="p",
        general=GeneralPurpose.CLOSED_CASE_TRANSFER,
        services=("s",),
        data_elements=("name",),
        retention=Period("duration-of-status"),
    )
    assert "while you are under UNHCR's protection" in explain(status, language="en").text
    stats = Purpose(
        id="s",
        general=GeneralPurpose.STATISTICS,
        services=("planning",),
        data_elements=("age",),
        retention=Period("P5Y", years=5),
        contact_methods=("office",),
    )
    text = explain(stats, language="en").text
    assert "nothing that identifies you" in text
    assert "they will not contact you" in text


def test_home_visit_is_never_promised() -> None:
    visiting = Purpose(
        id="v",
        general=GeneralPurpose.IMMEDIATE_REFERRAL,
        services=("s",),
        data_elements=("name",),
        contact_methods=("home-visit", "phone"),
    )
    assert "at your home" not in explain(visiting, language="en").text


def test_unknown_language_falls_back_to_english() -> None:
    assert language_of("sw-KE") == "en"
    assert language_of("fr-CA") == "fr"
    assert explain(REFERRAL, language="sw").language == "en"
