"""Children: the child's own assent, a parent's or caregiver's consent where that is
possible and in her best interests, and best interests determined by an assessment
(Terminology > (Informed) assent; Principles > Best Interests of the Child;
Legitimate Bases > Best interests)."""

from __future__ import annotations

from safeshare.core.vocabulary import BestInterestsOutcome
from safeshare.core.world import Assessment, Subject, World


def caregiver_needed(subject: Subject) -> bool:
    """Consent from parents or caregivers is normally required, but not where they cannot be
    reached or where involving them is not in the child's best interests. An unaccompanied
    child with no formal care arrangement on record has no one to ask."""
    caregiver = subject.caregiver
    if caregiver is None:
        return not subject.unaccompanied
    return caregiver.reachable and caregiver.involve_in_best_interests


def latest_best_interests(world: World, subject_id: str) -> Assessment | None:
    latest: Assessment | None = None
    for a in world.best_interests_by_subject.get(subject_id, ()):
        if latest is None or (a.date or world.today) >= (latest.date or world.today):
            latest = a
    return latest


def sharing_in_best_interests(world: World, subject_id: str) -> bool:
    """Whether the latest best interests assessment concludes that sharing is in them."""
    bia = latest_best_interests(world, subject_id)
    return bia is not None and bia.outcome is BestInterestsOutcome.SHARE


def assessed_against_sharing(world: World, subject_id: str) -> Assessment | None:
    """The latest best interests assessment, when it concludes that sharing is not in the
    child's best interests ("not ok to share ... when it's not in the child's best
    interests", Legitimate Purposes > Closed cases)."""
    bia = latest_best_interests(world, subject_id)
    if bia is not None and bia.outcome is BestInterestsOutcome.DO_NOT_SHARE:
        return bia
    return None
