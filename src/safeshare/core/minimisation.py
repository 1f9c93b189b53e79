"""Necessity and proportionality: only the elements the purpose needs leave; whole case
files and incident accounts only where the purpose allows one; statistics go anonymised
(Principles > Necessity and Proportionality; Purpose Specification > aggregate data)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from safeshare.core.decision import Outcome
from safeshare.core.findings import Findings
from safeshare.core.reasons import condition, reason
from safeshare.core.vocabulary import (
    FULL_ACCOUNT_ELEMENTS,
    IDENTIFYING_CATEGORIES,
    Category,
    GeneralPurpose,
)
from safeshare.core.world import Purpose

# Purposes for which the Note never allows a full account, even if a protocol lists one:
# feedback ("not okay to share ... whole case file or incident description") and eligibility
# ("not ok to share ... GBV intake forms or full assessments or case files").
_NO_FULL_ACCOUNT: Mapping[GeneralPurpose, frozenset[str]] = {
    GeneralPurpose.REFERRAL_FEEDBACK: FULL_ACCOUNT_ELEMENTS,
    GeneralPurpose.ELIGIBILITY: FULL_ACCOUNT_ELEMENTS | {"assessment"},
}


def unique(elements: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(elements))


def is_full_account(element: str, category: Category | None, general: GeneralPurpose) -> bool:
    """A whole case file, or an incident account where the purpose cannot carry one."""
    if category is Category.CASE_FILE:
        return True
    return element in _NO_FULL_ACCOUNT.get(general, frozenset())


def identifying(element: str, elements: Mapping[str, Category]) -> bool:
    return elements.get(element) in IDENTIFYING_CATEGORIES


def minimise(
    purpose: Purpose, requested: Iterable[str], elements: Mapping[str, Category]
) -> tuple[list[str], Findings]:
    """Splits the requested elements into those that may go and those dropped, with reasons.

    Outcomes are allow-with-conditions (the elements are dropped); the engine denies when
    nothing is left.
    """
    found = Findings()
    kept: list[str] = []
    beyond: list[str] = []
    full: list[str] = []
    withheld: list[str] = []
    allowed = purpose.element_set
    general = purpose.general
    for element in unique(requested):
        category = elements.get(element)
        in_purpose = element in allowed
        full_account = is_full_account(element, category, general)
        if not in_purpose:
            beyond.append(element)
        if full_account and (not in_purpose or general in _NO_FULL_ACCOUNT):
            full.append(element)
        if (
            general is GeneralPurpose.STATISTICS
            and in_purpose
            and category in IDENTIFYING_CATEGORIES
        ):
            withheld.append(element)
        if in_purpose and element not in full and element not in withheld:
            kept.append(element)
    awc = Outcome.ALLOW_WITH_CONDITIONS
    if beyond:
        found.add(reason("data-not-minimal", awc, purpose=purpose.id, elements=", ".join(beyond)))
    if full:
        found.add(reason("whole-case-file", awc, purpose=purpose.id, elements=", ".join(full)))
    if general is GeneralPurpose.STATISTICS:
        found.add(reason("aggregate-sufficient", awc, purpose=purpose.id))
        found.require(condition("anonymise"))
    found.drop(unique([*beyond, *full, *withheld]))
    return kept, found
