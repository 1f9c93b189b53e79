"""The plain-language explanation given to a person before she or he consents
(Cross-cutting issues > Purpose Specification; Consent): what will be shared, with whom, why,
for how long and how the person will be contacted, generated from the protocol's purpose in
English, French or Arabic.

A pure function: the same purpose, names, elements and language always give the same text
(and the same ``version``, recorded with the consent). It never uses a vague qualifier
("may", "might", "possible", "some" and their French and Arabic equivalents): the Note asks
for a specific explanation. Free text written in the protocol (the services) is quoted as
written. The data elements' names in the person's words are
:mod:`safeshare.explanation_elements`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from babel.lists import format_list
from babel.units import format_unit

from safeshare.core.vocabulary import GeneralPurpose
from safeshare.core.world import Period, Purpose
from safeshare.explanation_elements import ELEMENT_NAMES

LANGUAGES = ("en", "fr", "ar")
DEFAULT_LANGUAGE = "en"

# Words the Note's Purpose Specification calls vague; the generator never produces them.
VAGUE_WORDS: Mapping[str, tuple[str, ...]] = {
    "en": ("may", "might", "possible", "possibly", "some", "perhaps", "could"),
    "fr": (
        "peut-être",
        "pourrait",
        "pourraient",
        "possible",
        "éventuellement",
        "certains",
        "certaines",
        "quelques",
    ),
    "ar": ("قد", "ربما", "ممكن", "بعض", "محتمل"),
}

CONTACT_METHODS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "phone": "by phone",
        "office": "at their office",
        "sms": "by text message",
        "email": "by email",
        "home-visit": "at your home",
        "in-person": "in person",
    },
    "fr": {
        "phone": "par téléphone",
        "office": "dans leur bureau",
        "sms": "par SMS",
        "email": "par e-mail",
        "home-visit": "chez vous",
        "in-person": "en personne",
    },
    "ar": {
        "phone": "عبر الهاتف",
        "office": "في مكتبهم",
        "sms": "برسالة نصية",
        "email": "عبر البريد الإلكتروني",
        "home-visit": "في منزلك",
        "in-person": "شخصياً",
    },
}

# Why, by the Note's general purpose (the services named in the protocol follow).
WHY: Mapping[str, Mapping[GeneralPurpose, str]] = {
    "en": {
        GeneralPurpose.IMMEDIATE_REFERRAL: "Why: so that they give you this service now: "
        "{services}.",
        GeneralPurpose.ELIGIBILITY: "Why: so that they check whether you can receive this "
        "help: {services}.",
        GeneralPurpose.REFERRAL_FEEDBACK: "Why: so that your caseworker knows what happened "
        "with your referral ({services}).",
        GeneralPurpose.CLOSED_CASE_TRANSFER: "Why: so that they continue to help you after "
        "your case is closed ({services}).",
        GeneralPurpose.CLOSED_CASE_ARCHIVING: "Why: so that your file is kept safely and you "
        "can ask to see it later ({services}).",
        GeneralPurpose.STATISTICS: "Why: to plan services ({services}).",
        GeneralPurpose.INVESTIGATION: "Why: for an investigation ({services}).",
        GeneralPurpose.FILE_EVACUATION: "Why: to keep your file safe from a security threat "
        "({services}).",
    },
    "fr": {
        GeneralPurpose.IMMEDIATE_REFERRAL: "Pourquoi : pour qu'ils vous donnent ce service "
        "maintenant : {services}.",
        GeneralPurpose.ELIGIBILITY: "Pourquoi : pour qu'ils vérifient si vous pouvez recevoir "
        "cette aide : {services}.",
        GeneralPurpose.REFERRAL_FEEDBACK: "Pourquoi : pour que votre travailleur social sache "
        "ce qu'est devenue votre référence ({services}).",
        GeneralPurpose.CLOSED_CASE_TRANSFER: "Pourquoi : pour qu'ils continuent à vous aider "
        "après la clôture de votre dossier ({services}).",
        GeneralPurpose.CLOSED_CASE_ARCHIVING: "Pourquoi : pour que votre dossier soit conservé "
        "en sécurité et que vous puissiez demander à le voir plus tard ({services}).",
        GeneralPurpose.STATISTICS: "Pourquoi : pour planifier les services ({services}).",
        GeneralPurpose.INVESTIGATION: "Pourquoi : pour une enquête ({services}).",
        GeneralPurpose.FILE_EVACUATION: "Pourquoi : pour protéger votre dossier d'une menace "
        "pour la sécurité ({services}).",
    },
    "ar": {
        GeneralPurpose.IMMEDIATE_REFERRAL: "السبب: لكي يقدموا لك هذه الخدمة الآن: {services}.",
        GeneralPurpose.ELIGIBILITY: "السبب: لكي يتحققوا من أهليتك لهذه المساعدة: {services}.",
        GeneralPurpose.REFERRAL_FEEDBACK: "السبب: لكي يعرف مسؤول حالتك ما حدث لإحالتك "
        "({services}).",
        GeneralPurpose.CLOSED_CASE_TRANSFER: "السبب: لكي يستمروا في مساعدتك بعد إغلاق ملفك "
        "({services}).",
        GeneralPurpose.CLOSED_CASE_ARCHIVING: "السبب: لكي يُحفظ ملفك بأمان وتستطيع طلب "
        "الاطلاع عليه لاحقاً ({services}).",
        GeneralPurpose.STATISTICS: "السبب: لتخطيط الخدمات ({services}).",
        GeneralPurpose.INVESTIGATION: "السبب: لإجراء تحقيق ({services}).",
        GeneralPurpose.FILE_EVACUATION: "السبب: لحماية ملفك من تهديد أمني ({services}).",
    },
}

SENTENCES: Mapping[str, Mapping[str, str]] = {
    "en": {
        "what": "What I will share: {elements}.",
        "what_none": "What I will share: only counts, nothing that identifies you.",
        "whom": "With whom: {recipients}.",
        "whom_child": "With whom: {recipients}. I will ask you and your caregiver first.",
        "keep": "How long: they will keep it for {period}, then delete it.",
        "keep_status": "How long: they will keep it while you are under UNHCR's protection.",
        "keep_partnership": "How long: they will keep it while their agreement with UNHCR lasts.",
        "keep_permanent": "How long: UNHCR will keep it in its archive permanently.",
        "contact": "How they will contact you: {methods}.",
        "contact_none": "How they will contact you: they will not contact you.",
        "choice": "You can say no. You can also withdraw your consent at any time, and your "
        "help here does not change.",
    },
    "fr": {
        "what": "Ce que je partagerai : {elements}.",
        "what_none": "Ce que je partagerai : seulement des chiffres, rien qui vous identifie.",
        "whom": "Avec qui : {recipients}.",
        "whom_child": "Avec qui : {recipients}. Je vous demanderai d'abord votre accord, à vous "
        "et à la personne qui s'occupe de vous.",
        "keep": "Pour combien de temps : ils les garderont {period}, puis les effaceront.",
        "keep_status": "Pour combien de temps : ils les garderont tant que vous êtes sous la "
        "protection du HCR.",
        "keep_partnership": "Pour combien de temps : ils les garderont tant que dure leur "
        "accord avec le HCR.",
        "keep_permanent": "Pour combien de temps : le HCR les gardera dans ses archives, sans "
        "limite de durée.",
        "contact": "Comment ils vous contacteront : {methods}.",
        "contact_none": "Comment ils vous contacteront : ils ne vous contacteront pas.",
        "choice": "Vous pouvez dire non. Vous pouvez aussi retirer votre consentement à tout "
        "moment, et l'aide que vous recevez ici ne change pas.",
    },
    "ar": {
        "what": "ما سأشاركه: {elements}.",
        "what_none": "ما سأشاركه: أرقام إجمالية فقط، ولا شيء يكشف هويتك.",
        "whom": "مع من: {recipients}.",
        "whom_child": "مع من: {recipients}. سأطلب موافقتك وموافقة الشخص الذي يعتني بك أولاً.",
        "keep": "لأي مدة: سيحتفظون بها مدة {period}، ثم يحذفونها.",
        "keep_status": "لأي مدة: سيحتفظون بها ما دمت تحت حماية المفوضية.",
        "keep_partnership": "لأي مدة: سيحتفظون بها ما دام اتفاقهم مع المفوضية سارياً.",
        "keep_permanent": "لأي مدة: ستحتفظ بها المفوضية في أرشيفها بشكل دائم.",
        "contact": "كيف سيتواصلون معك: {methods}.",
        "contact_none": "كيف سيتواصلون معك: لن يتواصلوا معك.",
        "choice": "يمكنك أن ترفض. ويمكنك أيضاً سحب موافقتك في أي وقت، ولن تتغير المساعدة التي "
        "تتلقاها هنا.",
    },
}

OR_WORD = {"en": " or ", "fr": " ou ", "ar": " أو "}


@dataclass(frozen=True)
class Explanation:
    """The explanation in one language: one sentence per question, and a version (a digest
    of the text) to record with the consent."""

    language: str
    sentences: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.sentences)

    @property
    def version(self) -> str:
        return "expl-" + hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]


def language_of(tag: str | None) -> str:
    """``fr-CA`` → ``fr``; anything not supported → English."""
    base = (tag or "").replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def element_name(element: str, language: str) -> str:
    names = ELEMENT_NAMES[language_of(language)]
    return names.get(element, element.replace("_", " "))


def _period(period: Period, language: str) -> str:
    parts = []
    for value, unit in (
        (period.years, "duration-year"),
        (period.months, "duration-month"),
        (period.days, "duration-day"),
    ):
        if value:
            parts.append(format_unit(value, unit, length="long", locale=language))
    return format_list(parts or [period.text], locale=language)


def _keep(purpose: Purpose, language: str) -> str:
    s = SENTENCES[language]
    retention = purpose.retention
    if retention is None:
        return ""
    if retention.text == "duration-of-status":
        return s["keep_status"]
    if retention.text == "duration-of-partnership":
        return s["keep_partnership"]
    if retention.text == "permanent":
        return s["keep_permanent"]
    return s["keep"].format(period=_period(retention, language))


def explain(
    purpose: Purpose,
    *,
    language: str,
    recipient_names: Mapping[str, str] | None = None,
    recipients: Sequence[str] | None = None,
    elements: Sequence[str] | None = None,
    child: bool = False,
) -> Explanation:
    """The explanation of ``purpose`` in ``language`` (en, fr or ar; others fall back to
    English). ``recipients`` and ``elements`` narrow the purpose's own (a consent for part
    of it); ``recipient_names`` maps organisation ids to the names the person knows."""
    lang = language_of(language)
    s = SENTENCES[lang]
    names = recipient_names or {}
    to = [names.get(r) or r for r in (recipients or sorted(purpose.recipients))]
    chosen = [e for e in (elements or purpose.data_elements) if e in purpose.data_elements]
    statistics = purpose.general is GeneralPurpose.STATISTICS
    sentences: list[str] = []
    if statistics or not chosen:
        sentences.append(s["what_none"])
    else:
        listed = [element_name(e, lang) for e in chosen]
        sentences.append(s["what"].format(elements=format_list(listed, locale=lang)))
    whom = format_list(to, locale=lang) if to else "-"
    sentences.append((s["whom_child"] if child else s["whom"]).format(recipients=whom))
    services = ", ".join(purpose.services) or purpose.benefit
    sentences.append(WHY[lang][purpose.general].format(services=services))
    keep = _keep(purpose, lang)
    if keep:
        sentences.append(keep)
    methods = [
        CONTACT_METHODS[lang].get(m, m.replace("-", " "))
        for m in purpose.contact_methods
        if m != "home-visit"
    ]
    if statistics or not methods:
        sentences.append(s["contact_none"])
    else:
        sentences.append(s["contact"].format(methods=OR_WORD[lang].join(methods)))
    sentences.append(s["choice"])
    return Explanation(lang, tuple(sentences))


def vague_words(text: str, language: str) -> list[str]:
    """The vague qualifiers found in ``text`` (whole words, case-insensitive)."""
    found = []
    lowered = text.lower()
    for word in VAGUE_WORDS[language_of(language)]:
        if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", lowered):
            found.append(word)
    return found
