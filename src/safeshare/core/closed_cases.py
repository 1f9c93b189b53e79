"""Closed cases: transfer to UNHCR for future services, and archiving, for which consent
asked at intake must be reconfirmed at closure by a person who can still be reached
(Legitimate Purposes > Closed cases for access; Closed cases for archiving)."""

from __future__ import annotations

from datetime import date

from safeshare.core.vocabulary import CaseStatus, ConsentStage
from safeshare.core.world import ConsentRecord, Subject, World


def closing_date(world: World, subject_id: str, owner: str) -> date | None:
    """The latest closing date of the subject's closed cases held by ``owner``."""
    latest: date | None = None
    for case in world.cases_by_subject.get(subject_id, ()):
        if (
            case.owner == owner
            and case.status is CaseStatus.CLOSED
            and case.closed_on is not None
            and (latest is None or case.closed_on > latest)
        ):
            latest = case.closed_on
    return latest


def reconfirmed(entry: ConsentRecord, world: World, subject_id: str, owner: str) -> bool:
    """Consent counts as reconfirmed when given on or after the day the case was closed; where
    no closing date is on record, when it was asked at closure or at a review. (Consent given
    at the closure of an earlier case does not reconfirm a later one.)"""
    closing = closing_date(world, subject_id, owner)
    if closing is not None:
        return entry.date >= closing
    return entry.stage in (ConsentStage.CLOSURE, ConsentStage.REVIEW)


def needs_reconfirmation(entry: ConsentRecord, world: World, subject: Subject, owner: str) -> bool:
    """Intake consent covers a person who can no longer be reached; a reachable one must
    reconfirm at closure."""
    return subject.reachable and not reconfirmed(entry, world, subject.id, owner)
