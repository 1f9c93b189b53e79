"""Who a request is about: named individuals, or a blanket selection. Referrals and
investigations are made case by case, never by blanket selection (Legitimate Purposes >
immediate referrals: "not indiscriminately"; Legitimate Bases > mandate)."""

from __future__ import annotations

from safeshare.core.decision import Outcome
from safeshare.core.findings import Findings
from safeshare.core.reasons import reason
from safeshare.core.request import Selection, ShareRequest
from safeshare.core.vocabulary import Basis, GeneralPurpose
from safeshare.core.world import World

# Purposes and bases that must be decided person by person.
_CASE_BY_CASE_PURPOSES = frozenset(
    {GeneralPurpose.IMMEDIATE_REFERRAL, GeneralPurpose.INVESTIGATION}
)
_CASE_BY_CASE_BASES = frozenset({Basis.VITAL_INTERESTS, Basis.BEST_INTERESTS})


def selected(world: World, selection: Selection, sender: str) -> list[str]:
    """The subjects a blanket selection reaches among the cases the sender holds (or the
    named owner's), in subject order."""
    owner = selection.owner or sender
    found: dict[str, None] = {}
    for case in world.cases_by_owner.get(owner, ()):
        if selection.status is not None and case.status.value != selection.status:
            continue
        subject = world.subjects.get(case.subject)
        if subject is None:
            continue
        if selection.categories and not (subject.categories & selection.categories):
            continue
        found[subject.id] = None
    return list(found)


def subjects_of(world: World, request: ShareRequest) -> list[str]:
    if request.select is not None:
        return selected(world, request.select, request.sender)
    return list(dict.fromkeys(request.subjects))


def selection_findings(
    request: ShareRequest, general: GeneralPurpose | None, count: int
) -> Findings:
    found = Findings()
    if request.select is None:
        return found
    if general in _CASE_BY_CASE_PURPOSES or request.basis in _CASE_BY_CASE_BASES:
        found.add(reason("bulk-indiscriminate", Outcome.DENY, count=str(count)))
    return found
