"""A person's access to her own records: records about other persons — a spouse's GBV
file — are withheld (Legitimate Purposes > Closed cases for archiving, UNHCR HQ scenario;
Principles > Confidentiality)."""

from __future__ import annotations

from safeshare.core.decision import Decision, Outcome, SubjectDecision
from safeshare.core.minimisation import unique
from safeshare.core.reasons import condition, reason
from safeshare.core.request import SubjectAccessRequest
from safeshare.core.world import World


def decide(world: World, request: SubjectAccessRequest) -> Decision:
    asked = unique(request.records)
    own = tuple(r for r in asked if world.records[r].subject == request.requester)
    others = tuple(r for r in asked if world.records[r].subject != request.requester)
    if not others:
        outcome = Outcome.ALLOW
    elif own:
        outcome = Outcome.ALLOW_WITH_CONDITIONS
    else:
        outcome = Outcome.DENY
    reasons = (reason("third-party-data", outcome, records=", ".join(others)),) if others else ()
    conditions = (
        (condition("withhold-records", records=others),)
        if others and outcome is not Outcome.DENY
        else ()
    )
    return Decision(
        kind="subject-access",
        outcome=outcome,
        reasons=reasons,
        conditions=conditions,
        share_subjects=(request.requester,) if own else (),
        share_records=own,
        subjects=(SubjectDecision(request.requester, outcome, reasons, conditions),),
    )
