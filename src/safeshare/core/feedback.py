"""Feedback on service referrals: process feedback (is the referral pending, accepted,
rejected) may go without consent; service feedback (what was provided) needs it
(Legitimate Purposes > Feedback on service referrals)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from safeshare.core.decision import Outcome
from safeshare.core.findings import Findings
from safeshare.core.reasons import reason
from safeshare.core.vocabulary import Category, GeneralPurpose
from safeshare.core.world import Purpose

# The referral id the feedback answers travels with process feedback.
REFERRAL_ID = "referral_id"


def split(
    purpose: Purpose, elements: Iterable[str], categories: Mapping[str, Category]
) -> tuple[frozenset[str], frozenset[str]]:
    """(elements that need no consent, service-feedback elements) for this purpose."""
    if purpose.general is not GeneralPurpose.REFERRAL_FEEDBACK:
        return frozenset(), frozenset()
    process: set[str] = set()
    service: set[str] = set()
    for e in elements:
        category = categories.get(e)
        if category is Category.PROCESS_FEEDBACK or e == REFERRAL_ID:
            process.add(e)
        elif category is Category.SERVICE_FEEDBACK:
            service.add(e)
    if not any(categories.get(e) is Category.PROCESS_FEEDBACK for e in process):
        process.discard(REFERRAL_ID)  # a bare referral id is no feedback
    return frozenset(process), frozenset(service)


def process_feedback_findings(exempt: frozenset[str]) -> Findings:
    found = Findings()
    if exempt:
        found.add(reason("process-feedback", Outcome.ALLOW))
    return found
