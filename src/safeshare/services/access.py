"""Need-to-know for every read of personal data: each access to a case is a staff-access
request decided by the engine (``safeshare.core``) through
:func:`safeshare.services.decisions.decide_request`, so it is recorded as a decision; a
refusal is also an ``access.denied`` audit event; data shared to another organisation is
seen by it through the referrals service (its retention period included).

Nothing here raises for "not found" versus "not allowed": both return ``None``, so the web
layer answers the two alike.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeshare.core.decision import Outcome
from safeshare.core.request import StaffAccessRequest
from safeshare.core.vocabulary import ADULT_AGE, Duty
from safeshare.services.common import audit
from safeshare.services.decisions import decide_request_in
from safeshare.services.needs import active_need, cases_with_need
from safeshare.store.models import CaseRow, StaffCaseRow, SubjectCategoryRow, SubjectRow
from safeshare.store.unit import Store

# The elements each kind of read touches (the engine decides on these).
CASE_LIST_ELEMENTS = ("case_number",)
CASE_ELEMENTS = (
    "case_number",
    "name",
    "phone",
    "age",
    "specific_needs_codes",
    "incident_description",
    "caseworker_notes",
)
SUBJECT_ELEMENTS = ("individual_number", "name", "phone", "age", "specific_needs_codes")
CONSENT_ELEMENTS = ("individual_number",)
SMALL_CELL = 5  # aggregate counts from 1 to SMALL_CELL - 1 are suppressed


class Actor(Protocol):
    @property
    def user_id(self) -> str: ...
    @property
    def staff_id(self) -> str: ...
    @property
    def org_id(self) -> str: ...
    @property
    def duty(self) -> Duty: ...


class Via(StrEnum):
    ASSIGNED = "assigned"
    NEED = "need"
    SHARED = "shared"


@dataclass(frozen=True)
class CaseAccess:
    case_id: str
    subject_id: str
    owner: str
    via: Via
    elements: tuple[str, ...]
    decision_id: str | None = None
    shared_until: date | None = None


@dataclass(frozen=True)
class SharedGrant:
    """What the referrals service says was shared to an organisation for a case."""

    data_elements: tuple[str, ...]
    until: date | None


def denied(
    store: Store,
    actor: Actor,
    *,
    object_type: str,
    object_id: str,
    codes: Iterable[str] = ("need-to-know",),
) -> None:
    """Writes a refusal to the audit log (ids and codes only)."""
    with store.transaction() as session:
        denied_in(store, session, actor, object_type=object_type, object_id=object_id, codes=codes)


def denied_in(
    store: Store,
    session: Session,
    actor: Actor,
    *,
    object_type: str,
    object_id: str,
    codes: Iterable[str] = ("need-to-know",),
) -> None:
    """The refusal's audit event, in the caller's transaction."""
    audit(
        store,
        session,
        actor=actor.user_id,
        action="access.denied",
        object_type=object_type,
        object_id=object_id,
        codes=list(codes),
        details={"org": actor.org_id, "staff": actor.staff_id},
    )


# --- the referrals hook ---------------------------------------------------------------------

REFERRALS_MODULE = "safeshare.services.referrals"
REFERRALS_LOOKUP = "shared_with"


def shared_grant(store: Store, *, org: str, case: str, today: date) -> SharedGrant | None:
    """HOOK (helper "sharing"): what was shared to ``org`` about ``case`` and is still within
    its retention period. Calls ``safeshare.services.referrals.shared_with(store, org=...,
    case=..., today=...)`` when that exists; it must return None, or an object with
    ``data_elements`` (a sequence of element ids) and ``until`` (a date or None)."""
    try:
        module = importlib.import_module(REFERRALS_MODULE)
    except ImportError:
        return None
    lookup: Any = getattr(module, REFERRALS_LOOKUP, None)
    if lookup is None:
        return None
    found = lookup(store, org=org, case=case, today=today)
    if found is None:
        return None
    until = getattr(found, "until", None)
    if until is not None and until < today:
        return None
    return SharedGrant(tuple(getattr(found, "data_elements", ())), until)


def shared_cases(store: Store, *, org: str, today: date) -> list[str]:
    """HOOK (helper "sharing"): the case ids shared to ``org`` and still retained, via
    ``safeshare.services.referrals.cases_shared_with(store, org=..., today=...)``."""
    try:
        module = importlib.import_module(REFERRALS_MODULE)
    except ImportError:
        return []
    lookup: Any = getattr(module, "cases_shared_with", None)
    if lookup is None:
        return []
    return sorted(set(lookup(store, org=org, today=today)))


# --- cases ----------------------------------------------------------------------------------


def case_access(
    store: Store,
    actor: Actor,
    case_id: str,
    elements: Sequence[str],
    *,
    at: datetime,
) -> CaseAccess | None:
    """Decides whether ``actor`` may see ``elements`` of the case: the engine's staff-access
    rules (assigned caseworker, or a recorded case-specific need in the owner organisation),
    or, for another organisation, what was shared to it. None when refused or missing (the
    refusal is audited)."""
    today = at.date()
    with store.reading() as session:
        case = session.get(CaseRow, case_id)
        if case is None:
            owner = subject = None
            need = None
        else:
            owner, subject = case.owner, case.subject_id
            need = active_need(session, actor.staff_id, case_id, at)
            assigned = session.get(StaffCaseRow, (actor.staff_id, case_id)) is not None
    if owner is None or subject is None:
        denied(store, actor, object_type="case", object_id=case_id, codes=["not-found"])
        return None
    if owner != actor.org_id and actor.duty is Duty.CASE_MANAGEMENT:
        # Only the recipient's case management staff see what was shared to it.
        grant = shared_grant(store, org=actor.org_id, case=case_id, today=today)
        if grant is not None:
            allowed = tuple(e for e in elements if e in grant.data_elements)
            with store.transaction() as session:
                audit(
                    store,
                    session,
                    actor=actor.user_id,
                    action="access.shared",
                    object_type="case",
                    object_id=case_id,
                    codes=["shared-to-recipient"],
                    details={"org": actor.org_id, "elements": ",".join(allowed)},
                )
            return CaseAccess(case_id, subject, owner, Via.SHARED, allowed, None, grant.until)
    request = StaffAccessRequest(
        actor=actor.staff_id, case=case_id, data_elements=tuple(elements), need=need
    )
    with store.transaction() as session:  # the decision and a refusal commit together
        recorded = decide_request_in(store, session, request, actor=actor.user_id, today=today)
        decision = recorded.decision
        if decision.outcome is not Outcome.ALLOW:
            denied_in(
                store,
                session,
                actor,
                object_type="case",
                object_id=case_id,
                codes=sorted(decision.codes) or ["need-to-know"],
            )
    if decision.outcome is not Outcome.ALLOW:
        return None
    via = Via.ASSIGNED if assigned else Via.NEED
    return CaseAccess(case_id, subject, owner, via, tuple(decision.share_elements), recorded.id)


def my_case_ids(store: Store, actor: Actor, *, at: datetime) -> list[str]:
    """Candidates for "my cases": assigned, with a recorded need, or shared to my
    organisation. Each is still checked by :func:`case_access` before it is shown."""
    with store.reading() as session:
        assigned = set(
            session.scalars(
                select(StaffCaseRow.case_id).where(StaffCaseRow.staff_id == actor.staff_id)
            )
        )
        needed = cases_with_need(session, actor.staff_id, at)
    shared = shared_cases(store, org=actor.org_id, today=at.date())
    return sorted(assigned | needed | set(shared))


def case_row(session: Session, case_id: str) -> CaseRow | None:
    return session.get(CaseRow, case_id)


def subject_access(
    store: Store, actor: Actor, subject_id: str, elements: Sequence[str], *, at: datetime
) -> CaseAccess | None:
    """A subject is seen through one of her cases the actor may see (her own organisation's
    first, assigned before needed). None when refused or missing (audited)."""
    with store.reading() as session:
        exists = session.get(SubjectRow, subject_id) is not None
        cases = list(
            session.execute(
                select(CaseRow.id, CaseRow.owner).where(CaseRow.subject_id == subject_id)
            )
        )
        assigned = set(
            session.scalars(
                select(StaffCaseRow.case_id).where(StaffCaseRow.staff_id == actor.staff_id)
            )
        )
        needed = cases_with_need(session, actor.staff_id, at)
    if not exists or not cases:
        denied(store, actor, object_type="subject", object_id=subject_id, codes=["not-found"])
        return None

    def rank(item: tuple[str, str]) -> tuple[int, int, str]:
        cid, owner = item
        return (owner != actor.org_id, cid not in assigned and cid not in needed, cid)

    own = [c for c in sorted(cases, key=rank) if c[0] in assigned or c[0] in needed]
    candidates = own or [sorted(cases, key=rank)[0]]
    if not own and candidates[0][1] != actor.org_id:
        # Another organisation's person: only through what was shared to mine.
        for cid, _owner in sorted(cases, key=rank):
            grant = shared_grant(store, org=actor.org_id, case=cid, today=at.date())
            if grant is not None:
                return case_access(store, actor, cid, elements, at=at)
    return case_access(store, actor, candidates[0][0], elements, at=at)


# --- aggregates -----------------------------------------------------------------------------


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


def _cell(n: int) -> int | None:
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
            years = _age(age, born, today)
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
    return Statistics(
        org=org,
        total=_cell(total),
        by_status=tuple(Count(k, _cell(v)) for k, v in sorted(by_status.items())),
        by_category=tuple(Count(k, _cell(v)) for k, v in sorted(by_category.items())),
        by_age_group=tuple(
            Count(k, _cell(v))
            for k, v in (("child", children), ("adult", adults), ("unknown", unknown))
        ),
    )


def _age(age: int | None, born: date | None, today: date) -> int | None:
    if born is not None:
        years = today.year - born.year
        if (today.month, today.day) < (born.month, born.day):
            years -= 1
        return years
    return age
