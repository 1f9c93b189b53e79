"""Need-to-know: staff see personal protection data only when they work directly on the
case or have a recorded, case-specific need; oversight and monitoring get what does not
identify the person (Principles > Need-to-Know; Principles > Confidentiality)."""

from __future__ import annotations

from safeshare.core.decision import Decision, Outcome, Reason, SubjectDecision
from safeshare.core.minimisation import identifying, unique
from safeshare.core.reasons import condition, reason
from safeshare.core.request import StaffAccessRequest
from safeshare.core.vocabulary import Duty
from safeshare.core.world import Case, Staff, World


def assigned(actor: Staff, case: Case) -> bool:
    """The caseworker assigned to the case, in case management."""
    return actor.duty is Duty.CASE_MANAGEMENT and case.id in actor.cases


def decide(world: World, request: StaffAccessRequest) -> Decision:
    actor = world.staff[request.actor]
    case = world.cases[request.case]
    requested = unique(request.data_elements)
    if assigned(actor, case) or (request.need and actor.org == case.owner):
        return _decision(Outcome.ALLOW, case, requested, ())
    if actor.org != case.owner:
        why = reason(
            "need-to-know",
            Outcome.DENY,
            actor=actor.id,
            what="anything",
            case=f"{case.id} (held by {case.owner})",
        )
        return _decision(Outcome.DENY, case, [], (why,))
    remaining = [e for e in requested if not identifying(e, world.elements)]
    withheld = [e for e in requested if identifying(e, world.elements)]
    if not withheld:
        return _decision(Outcome.ALLOW, case, requested, ())
    outcome = Outcome.ALLOW_WITH_CONDITIONS if remaining else Outcome.DENY
    why = reason(
        "need-to-know",
        outcome,
        actor=actor.id,
        what="the identifying details (" + ", ".join(withheld) + ")",
        case=case.id,
    )
    return _decision(outcome, case, remaining, (why,))


def _decision(
    outcome: Outcome, case: Case, elements: list[str], typed: tuple[Reason, ...]
) -> Decision:
    conditions = (condition("anonymise"),) if outcome is Outcome.ALLOW_WITH_CONDITIONS else ()
    shared = tuple(elements) if outcome is not Outcome.DENY else ()
    return Decision(
        kind="staff-access",
        outcome=outcome,
        reasons=typed,
        conditions=conditions,
        share_subjects=(case.subject,) if outcome is not Outcome.DENY else (),
        share_elements=shared,
        subjects=(SubjectDecision(case.subject, outcome, typed, conditions, shared),),
    )
