"""Aggregates for oversight and monitoring (supervisors, data protection focal points,
information management and M&E officers, archivists) without a case-specific need: counts of
their organisation's cases by status, category and age group, no ids, small cells suppressed
with their complements (:mod:`safeshare.core.disclosure`). Each read is an audit event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from safeshare.core.disclosure import suppress
from safeshare.core.vocabulary import ADULT_AGE, Duty
from safeshare.services.access import Actor
from safeshare.services.common import audit
from safeshare.store.models import CaseRow, SubjectCategoryRow, SubjectRow
from safeshare.store.unit import Store

SMALL_CELL = 5  # aggregate counts from 1 to SMALL_CELL - 1 are suppressed


@dataclass(frozen=True)
class Count:
    key: str
    count: int | None  # None: suppressed (a small cell)


@dataclass(frozen=True)
class Statistics:
    org: str
    total: int | None
    by_status: tuple[Count, ...]
    by_category: tuple[Count, ...]
    by_age_group: tuple[Count, ...]
    suppressed_below: int = SMALL_CELL


def _cell(n: int) -> int | None:  # the total: hidden when small
    return None if 0 < n < SMALL_CELL else n


def statistics(store: Store, actor: Actor, *, at: datetime, duty: Duty) -> Statistics:
    """Aggregate counts of the actor's organisation's cases: no ids, small cells suppressed
    (what oversight and monitoring get without a case-specific need). Audited."""
    org = actor.org_id
    today = at.date()
    with store.transaction() as session:
        by_status = dict(
            session.execute(
                select(CaseRow.status, func.count())
                .where(CaseRow.owner == org)
                .group_by(CaseRow.status)
            ).all()
        )
        by_category = dict(
            session.execute(
                select(SubjectCategoryRow.category, func.count(func.distinct(CaseRow.id)))
                .join(CaseRow, CaseRow.subject_id == SubjectCategoryRow.subject_id)
                .where(CaseRow.owner == org)
                .group_by(SubjectCategoryRow.category)
            ).all()
        )
        children = adults = unknown = 0
        for age, born in session.execute(
            select(SubjectRow.age, SubjectRow.born)
            .join(CaseRow, CaseRow.subject_id == SubjectRow.id)
            .where(CaseRow.owner == org)
        ):
            years = age_on(age, born, today)
            if years is None:
                unknown += 1
            elif years < ADULT_AGE:
                children += 1
            else:
                adults += 1
        audit(
            store,
            session,
            actor=actor.user_id,
            action="access.statistics",
            object_type="organisation",
            object_id=org,
            codes=[duty.value],
        )
    total = sum(by_status.values())
    ages = [("child", children), ("adult", adults), ("unknown", unknown)]
    return Statistics(
        org=org,
        total=_cell(total),
        # Statuses and age groups each add up to the total: hidden so that no hidden cell is
        # the total minus the others. A person may have several categories, or none.
        by_status=_counts(sorted(by_status.items()), partition=True),
        by_category=_counts(sorted(by_category.items()), partition=False),
        by_age_group=_counts(ages, partition=True),
    )


def _counts(cells: list[tuple[str, int]], *, partition: bool) -> tuple[Count, ...]:
    return tuple(Count(k, n) for k, n in suppress(cells, threshold=SMALL_CELL, partition=partition))


def age_on(age: int | None, born: date | None, today: date) -> int | None:
    """Age in whole years on ``today``: from the birth date when known, else as recorded."""
    if born is not None:
        years = today.year - born.year
        if (today.month, today.day) < (born.month, born.day):
            years -= 1
        return years
    return age
