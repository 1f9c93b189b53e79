"""The legitimate basis, for one subject: consent (with a child's assent and her
caregiver's consent), vital interests, best interests of the child, mandate, safety and
security (Legitimate Bases; Cross-cutting issues > Consent)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from safeshare.core import consent
from safeshare.core.children import (
    assessed_against_sharing,
    caregiver_needed,
    sharing_in_best_interests,
)
from safeshare.core.consent import ElementConsent, State
from safeshare.core.decision import Outcome, Reason
from safeshare.core.findings import Findings
from safeshare.core.reasons import condition, reason
from safeshare.core.vocabulary import Basis, ConsentDecision, ConsentKind, GivenBy
from safeshare.core.world import ConsentRecord, Purpose, Subject, World

# Returns the code of a rule that stops a granted entry from being used (re-verification
# due, archiving consent not reconfirmed), or None.
EntryProblem = Callable[[ConsentRecord], str | None]


@dataclass(frozen=True, slots=True)
class ConsentScope:
    """What the consent must cover for one subject."""

    purpose: Purpose
    recipient: str
    exempt: frozenset[str]  # elements that need no consent (process feedback)
    service_feedback: frozenset[str]  # elements whose lack of consent is reported as such
    entry_problem: EntryProblem


def _adult_giver(subject: Subject) -> consent.Giver:
    if subject.can_consent:
        return lambda e: e.given_by is GivenBy.SELF and e.kind is ConsentKind.CONSENT
    # A person without capacity now: her earlier consent, or a guardian's, speaks for her.
    return lambda e: (
        e.kind is ConsentKind.CONSENT and e.given_by in (GivenBy.SELF, GivenBy.GUARDIAN)
    )


_OWN_CODES = {
    State.REFUSED: "consent-refused",
    State.WITHDRAWN: "consent-withdrawn",
    State.MISSING: "consent-missing",
    State.OTHER_SCOPE: "consent-scope-mismatch",
}
_CHILD_CODES = {**_OWN_CODES, State.MISSING: "assent-missing"}
_CAREGIVER_CODES = {
    **_OWN_CODES,
    State.MISSING: "caregiver-consent-missing",
    State.OTHER_SCOPE: "caregiver-consent-missing",
}


def _problem(state: ElementConsent, codes: dict[State, str], scope: ConsentScope) -> str | None:
    if state.state is State.GRANTED:
        return scope.entry_problem(state.entry) if state.entry is not None else None
    return codes[state.state]


def consent_basis(
    world: World, subject: Subject, elements: list[str], scope: ConsentScope
) -> tuple[list[str], Findings]:
    """The elements the consent on record lets go for this subject, and why others cannot."""
    found = Findings()
    ledger = consent.in_force(world.consents(subject.id), world.today)
    granted = [e for e in elements if e in scope.exempt]
    needing = [e for e in elements if e not in scope.exempt]
    if not needing:
        return granted, found
    purpose, recipient = scope.purpose, scope.recipient
    child = subject.is_child(world.today)
    own: list[ElementConsent] | None = None
    care: list[ElementConsent] | None = None
    own_codes = _CHILD_CODES if child else _OWN_CODES
    if child:
        if subject.can_consent:
            own = consent.element_states(ledger, purpose, recipient, needing, consent.own_consent)
        if caregiver_needed(subject):
            care = consent.element_states(
                ledger, purpose, recipient, needing, consent.caregiver_consent
            )
        if own is None and care is None:
            found.add(
                reason(
                    "basis-not-applicable",
                    Outcome.DENY,
                    basis="consent",
                    why=f"{subject.id} cannot assent and no caregiver can be involved; "
                    "best interests, determined by an assessment, is the basis",
                )
            )
            return granted, found
    else:
        own = consent.element_states(ledger, purpose, recipient, needing, _adult_giver(subject))
    own_giver = consent.own_consent if child else _adult_giver(subject)
    problems: dict[str, list[str]] = {}
    by: dict[str, str] = {}
    for i, element in enumerate(needing):
        code: str | None = None
        blocking: ElementConsent | None = None
        giver = own_giver
        if own is not None:
            code = _problem(own[i], own_codes, scope)
            blocking = own[i]
            if code is not None and child:
                by.setdefault(code, " (the child)")
        if code is None and care is not None:
            code = _problem(care[i], _CAREGIVER_CODES, scope)
            blocking, giver = care[i], consent.caregiver_consent
            entry = care[i].entry
            if code is not None and entry is not None:
                by.setdefault(code, f" (her or his {entry.given_by.value})")
        if code is None:
            granted.append(element)
            continue
        if element in scope.service_feedback:
            code = "service-feedback-needs-consent"
        problems.setdefault(code, []).append(element)
        if blocking is not None and _outside_later_grant(ledger, blocking, scope, giver):
            problems.setdefault("consent-scope-mismatch", []).append(element)
    outcome = Outcome.DENY if not granted else Outcome.ALLOW_WITH_CONDITIONS
    for code, dropped in problems.items():
        found.add(
            _consent_reason(
                code,
                outcome=outcome,
                subject=subject,
                scope=scope,
                dropped=dropped,
                by=by.get(code, ""),
                world=world,
            )
        )
        found.drop(dropped)
    return granted, found


def _outside_later_grant(
    ledger: tuple[ConsentRecord, ...],
    blocking: ElementConsent,
    scope: ConsentScope,
    giver: consent.Giver,
) -> bool:
    """An element refused or withdrawn earlier and left out of a later, narrower grant for the
    same purpose and recipient: the latest entry does not list it either (consent-scope-
    mismatch, FORMAT.md), whichever way one reads the ledger."""
    if blocking.entry is None or blocking.state not in (State.REFUSED, State.WITHDRAWN):
        return False
    latest = consent.latest_entry(ledger, scope.purpose, scope.recipient, giver)
    return (
        latest is not None
        and latest is not blocking.entry
        and latest.decision is ConsentDecision.GRANTED
    )


def _consent_reason(
    code: str,
    *,
    outcome: Outcome,
    subject: Subject,
    scope: ConsentScope,
    dropped: list[str],
    by: str,
    world: World,
) -> Reason:
    purpose = scope.purpose
    params = {
        "subject": subject.id,
        "purpose": purpose.id,
        "recipient": scope.recipient,
        "elements": ", ".join(dropped),
        "by": by,
    }
    if code == "consent-scope-mismatch":
        in_scope = consent.latest_entry(
            world.consents(subject.id), purpose, scope.recipient, lambda e: True, today=world.today
        )
        if in_scope is not None and in_scope.decision is ConsentDecision.GRANTED:
            params["scope"] = "these elements: " + ", ".join(dropped)
        else:
            params["scope"] = f"the purpose '{purpose.id}' with {scope.recipient}"
    if code == "consent-reverification-due":
        review = world.protocol.consent_review
        params["period"] = review.text if review else ""
        params["date"] = ""
    return reason(code, outcome, **params)


def child_best_interests(world: World, subject: Subject, basis: Basis) -> Findings:
    """Whatever the basis (vital interests aside), a child's data does not go where her best
    interests assessment concluded that sharing is not in them."""
    found = Findings()
    if basis in (Basis.VITAL_INTERESTS, Basis.BEST_INTERESTS) or not subject.is_child(world.today):
        return found
    against = assessed_against_sharing(world, subject.id)
    if against is not None:
        found.add(
            reason(
                "best-interests-not-determined",
                Outcome.DENY,
                subject=subject.id,
                detail=f": the assessment {against.id} concludes that it is not",
            )
        )
    return found


def without_consent(
    world: World, subject: Subject, basis: Basis, purpose: Purpose | None, recipient: str
) -> Findings:
    """Bases other than consent, for one subject."""
    found = Findings()
    if basis is Basis.BEST_INTERESTS:
        if not subject.is_child(world.today):
            age = subject.age_on(world.today)
            found.add(
                reason(
                    "basis-not-applicable",
                    Outcome.DENY,
                    basis="best interests",
                    why=f"best interests of the child apply to children only; {subject.id} "
                    f"is {age if age is not None else 'not known to be a child'}",
                )
            )
            return found
        if not sharing_in_best_interests(world, subject.id):
            found.add(
                reason("best-interests-not-determined", Outcome.DENY, subject=subject.id, detail="")
            )
            return found
        _inform(found, subject)
    elif basis is Basis.VITAL_INTERESTS:
        latest = (
            consent.latest_entry(
                world.consents(subject.id),
                purpose,
                recipient,
                consent.own_consent,
                today=world.today,
            )
            if purpose is not None
            else None
        )
        if latest is not None and latest.decision is not ConsentDecision.GRANTED:
            found.add(
                reason(
                    "exceptional-review",
                    Outcome.ESCALATE,
                    circumstance=f"{subject.id} said no to this sharing and vital interests "
                    "would override that",
                )
            )
        _inform(found, subject)
    elif basis is Basis.SAFETY_AND_SECURITY:
        _inform(found, subject)
    return found


def _inform(found: Findings, subject: Subject) -> None:
    found.add(reason("inform-subject", Outcome.ALLOW_WITH_CONDITIONS, subject=subject.id))
    found.require(condition("inform-subject", subjects=(subject.id,)))
