"""From a decision to a packet payload, applying the decision's conditions for real:

- only the subjects in ``decision.share_subjects`` (and in ``only-subjects``) go;
- only the elements in ``decision.share_elements`` go, never one listed in ``drop-elements``;
- ``neutral-label``: a stigmatising label is replaced with "High priority referral" (and a
  label that the Note's words mark stigmatising is replaced even without the condition);
- ``safe-contact``: the contact method becomes an agreed method that is not a home visit;
- ``anonymise``: nothing personal may go, so no packet is built;
- an ``escalate`` decision builds a packet only once the data protection focal point approved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from safeshare.core.decision import Decision, Outcome
from safeshare.core.do_no_harm import stigmatising
from safeshare.core.vocabulary import HOME_VISIT
from safeshare.crypto.packets import PacketPayload, SubjectEntry

NEUTRAL_LABEL = "High priority referral"
FALLBACK_CONTACT = "office"
REFERRAL_ID_ELEMENT = "referral_id"


class NotShareableError(ValueError):
    """The decision lets nothing personal leave (deny, escalate not approved, anonymise)."""


def neutral_label(label: str, decision: Decision) -> str:
    if not label.strip() or "neutral-label" in decision.condition_codes or stigmatising(label):
        return NEUTRAL_LABEL
    return label


def safe_contact_method(method: str, decision: Decision, agreed: Iterable[str] = ()) -> str:
    """The contact method the recipient must use."""
    if "safe-contact" not in decision.condition_codes:
        return method
    for candidate in agreed:
        if candidate != HOME_VISIT:
            return candidate
    return FALLBACK_CONTACT


def permitted(decision: Decision) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(subjects, elements) that may leave once every condition is applied."""
    subjects = list(decision.share_subjects)
    only = decision.condition("only-subjects")
    if only is not None:
        subjects = [s for s in subjects if s in only.subjects]
    dropped = decision.condition("drop-elements")
    gone = set(dropped.elements) if dropped is not None else set()
    elements = [e for e in decision.share_elements if e not in gone]
    return tuple(dict.fromkeys(subjects)), tuple(dict.fromkeys(elements))


def payload_from_decision(
    decision: Decision,
    *,
    referral_id: str,
    purpose: str,
    values: Mapping[str, Mapping[str, str | None]],
    label: str = "",
    contact_method: str = "",
    agreed_contact_methods: Iterable[str] = (),
    kind: str = "referral",
    answers: str | None = None,
    approved_escalation: bool = False,
) -> PacketPayload:
    """The payload for ``decision``: ``values`` maps subject id to element to value; anything
    in it that the decision does not let go is left behind."""
    if decision.outcome is Outcome.DENY:
        raise NotShareableError("the decision is deny: nothing may be shared")
    if decision.outcome is Outcome.ESCALATE and not approved_escalation:
        raise NotShareableError("the decision awaits the data protection focal point")
    if "anonymise" in decision.condition_codes:
        raise NotShareableError("only anonymised or aggregate data may go for this purpose")
    subjects, elements = permitted(decision)
    if not subjects or not elements:
        raise NotShareableError("no subject or no element may be shared")
    entries = []
    for sid in subjects:
        own = values.get(sid, {})
        pairs: list[tuple[str, str]] = []
        for element in elements:
            value = (answers or referral_id) if element == REFERRAL_ID_ELEMENT else own.get(element)
            if value is not None:
                pairs.append((element, value))
        entries.append(SubjectEntry(sid, tuple(sorted(pairs))))
    return PacketPayload(
        referral_id=referral_id,
        purpose=purpose,
        label=neutral_label(label, decision),
        contact_method=safe_contact_method(contact_method, decision, agreed_contact_methods),
        subjects=tuple(entries),
        kind=kind,
        answers=answers,
        conditions=tuple(sorted(decision.condition_codes)),
    )
