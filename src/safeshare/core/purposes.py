"""Purpose specification: a purpose agreed in advance, specific, complete, with a direct
benefit, and the parties to it (Cross-cutting issues > Purpose Specification)."""

from __future__ import annotations

import re
from functools import lru_cache

from safeshare.core.decision import Outcome, Reason
from safeshare.core.reasons import reason
from safeshare.core.vocabulary import BenefitKind, GeneralPurpose
from safeshare.core.world import Protocol, Purpose

# Broad, non-specific purposes the Note names ("international protection", "fulfilment of
# UNHCR's mandate") are too vague whatever else is said.
_ALWAYS_VAGUE = re.compile(
    r"^\W*(for\s+)?(the\s+)?(purposes?\s+of\s+)?(international\s+protection|"
    r"(fulfil(l)?ment\s+of\s+)?(unhcr'?s\s+)?mandate|unhcr'?s\s+mandate)\W*$",
    re.IGNORECASE,
)
# Broad headings that become specific once the services are listed (Operation E:
# "durable solutions" is acceptable with counselling, repatriation support, ... named).
_VAGUE_WITHOUT_SERVICES = re.compile(
    r"^\W*(for\s+)?(the\s+)?(purposes?\s+of\s+)?(durable\s+solutions?|protection|assistance|"
    r"services?|future\s+services?|case\s+management|programming|research|research\s+purposes|"
    r"coordination|information\s+sharing|monitoring|general\s+purposes?)\W*$",
    re.IGNORECASE,
)


def is_vague(benefit: str, services: tuple[str, ...]) -> bool:
    """A purpose is too vague when its benefit names no service to the person."""
    text = benefit.strip()
    if _ALWAYS_VAGUE.match(text):
        return True
    return not services and (not text or bool(_VAGUE_WITHOUT_SERVICES.match(text)))


def missing_parts(purpose: Purpose) -> list[str]:
    """The parts of the Note's three-step specification a purpose leaves out."""
    missing = []
    if not purpose.benefit.strip():
        missing.append("the benefit to the person")
    if not purpose.services:
        missing.append("the services")
    if purpose.retention is None:
        missing.append("the retention period")
    if not purpose.access_roles:
        missing.append("who will have access")
    if not purpose.data_elements:
        missing.append("the data elements")
    if not purpose.senders or not purpose.recipients:
        missing.append("who sends and who receives")
    return missing


@lru_cache(maxsize=1024)
def quality_reasons(purpose: Purpose) -> tuple[Reason, ...]:
    """Deny reasons for a purpose that is vague, incomplete or of indirect benefit (a purpose
    is an immutable value: its findings are computed once)."""
    found: list[Reason] = []
    if is_vague(purpose.benefit, purpose.services):
        found.append(reason("purpose-too-vague", Outcome.DENY, purpose=purpose.id))
    missing = missing_parts(purpose)
    if missing:
        found.append(
            reason(
                "purpose-incomplete", Outcome.DENY, purpose=purpose.id, missing=", ".join(missing)
            )
        )
    if (
        purpose.benefit_kind is BenefitKind.INDIRECT
        and purpose.general is not GeneralPurpose.STATISTICS
    ):
        found.append(reason("purpose-indirect-benefit", Outcome.DENY, purpose=purpose.id))
    return tuple(found)


def agreement_reasons(
    protocol: Protocol,
    *,
    purpose_id: str,
    purpose: Purpose | None,
    sender: str,
    recipient: str,
    outcome: Outcome,
) -> list[Reason]:
    """Reasons why the sharing was not agreed in advance: protocol not endorsed, purpose not
    in the protocol, sender or recipient not a party. ``outcome`` is deny, or escalate when
    a genuine exceptional circumstance may justify an unplanned sharing."""
    found: list[Reason] = []
    if not protocol.endorsed:
        found.append(reason("protocol-not-endorsed", outcome, protocol=protocol.id))
    if purpose is None:
        found.append(reason("purpose-not-in-protocol", outcome, purpose=purpose_id))
        if is_vague(purpose_id.replace("-", " "), ()):
            found.append(reason("purpose-too-vague", Outcome.DENY, purpose=purpose_id))
        return found
    if sender not in purpose.senders:
        found.append(
            reason("party-not-in-purpose", outcome, party=sender, side="sender", purpose=purpose.id)
        )
    if recipient not in purpose.recipients:
        found.append(
            reason(
                "party-not-in-purpose",
                outcome,
                party=recipient,
                side="recipient",
                purpose=purpose.id,
            )
        )
    return found
