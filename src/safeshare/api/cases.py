"""Subjects and cases, read with need-to-know: the case list is "my cases"; a case or a
subject is shown only when the engine's staff-access rules allow it (or it was shared to my
organisation); oversight and monitoring get aggregates. Not found and not allowed answer the
same 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from sqlalchemy import select

from safeshare.api.answers import json_answer, on_event_loop
from safeshare.api.deps import Clock, ClockDep, Principal, StoreDep, not_found, require
from safeshare.api.referrals import KeysDep, org_keys_of
from safeshare.api.schemas import (
    CaseOut,
    CaseSummary,
    CountOut,
    NeedCreate,
    NeedOut,
    PathId,
    SharedPacketOut,
    SharedValueOut,
    StatisticsOut,
    SubjectOut,
)
from safeshare.core.vocabulary import ADULT_AGE, CaseStatus
from safeshare.crypto.org_keys import OrgKeyDirectory
from safeshare.services import access, accounts, reads_ahead, registry
from safeshare.services import case_statistics as aggregates
from safeshare.services.access import CaseAccess, Via
from safeshare.services.common import NotFoundError
from safeshare.services.needs import NeedRoleNotAllowedError
from safeshare.services.roles import PERSONAL_DATA_ROLES, Role, Scope
from safeshare.services.shared_view import SharedView
from safeshare.services.world_loader import Q_CATEGORIES
from safeshare.store.models import SubjectCategoryRow, SubjectRow
from safeshare.store.reads import rows
from safeshare.store.unit import Store

router = APIRouter(tags=["cases and subjects"])

Reader = Annotated[Principal, Depends(require(*PERSONAL_DATA_ROLES, scope=Scope.CASES_READ))]
Aggregates = Annotated[
    Principal,
    Depends(
        require(
            Role.SUPERVISOR,
            Role.DP_FOCAL_POINT,
            Role.IM_OFFICER,
            Role.ARCHIVIST,
            scope=Scope.STATS_READ,
        )
    ),
]
NeedGranter = Annotated[
    Principal, Depends(require(Role.SUPERVISOR, Role.DP_FOCAL_POINT, scope=Scope.NEEDS_WRITE))
]


def _summary(row: Any, grant: CaseAccess) -> CaseSummary:
    """``row``: the case's row (an ORM object or a row read by :func:`access.case_row`).
    Through a share, the owner's status is not shown: it was not shared."""
    shared = grant.via is Via.SHARED
    return CaseSummary(
        id=row.id,
        subject_id=row.subject_id,
        owner=row.owner,
        status=None if shared else CaseStatus(row.status),
        closed_on=None if shared else row.closed_on,
        access=grant.via.value,
    )


@router.get("/api/cases", response_model=list[CaseSummary])
def my_cases(principal: Reader, store: StoreDep, clock: ClockDep) -> list[CaseSummary]:
    """My cases: assigned to me, recorded as a need of mine, or shared to my organisation
    (within its retention period). Each is checked by the engine (one recorded read)."""
    at = clock()
    out = []
    with store.recorded_read() as session:
        for case_id in access.my_case_ids_in(session, principal, at=at):
            grant = access.case_access_in(
                store, session, principal, case_id, access.CASE_LIST_ELEMENTS, at=at
            )
            row = access.case_row(session, case_id) if grant is not None else None
            if grant is not None and row is not None:
                out.append(_summary(row, grant))
    return out


@router.get("/api/cases/statistics", response_model=StatisticsOut)
def case_statistics(principal: Aggregates, store: StoreDep, clock: ClockDep) -> StatisticsOut:
    """Aggregate counts of your organisation's cases (no ids; cells under 5 suppressed)."""
    stats = aggregates.statistics(store, principal, at=clock(), duty=principal.duty)
    return StatisticsOut(
        org_id=stats.org,
        total=stats.total,
        by_status=[CountOut(key=c.key, count=c.count) for c in stats.by_status],
        by_category=[CountOut(key=c.key, count=c.count) for c in stats.by_category],
        by_age_group=[CountOut(key=c.key, count=c.count) for c in stats.by_age_group],
        suppressed_below=stats.suppressed_below,
    )


@router.get("/api/cases/{case_id}", response_model=CaseOut)
@on_event_loop
def get_case(case_id: PathId, principal: Reader, request: Request) -> Response:
    """A case, with the elements need-to-know allows; through a share, what was shared to
    your organisation, with the values as they were shared. The access is decided and read
    on one snapshot; its audit event is written before the answer."""
    state = request.app.state  # not dependencies: each costs as much as the lookup they do
    keys = org_keys_of(request)
    return json_answer(read_case(case_id, principal, state.store, state.clock, keys))


def read_case(
    case_id: str, principal: Principal, store: Store, clock: Clock, keys: OrgKeyDirectory
) -> CaseOut:
    """:func:`get_case` as a value (the web UI's case page): raises the 404 when refused."""
    with store.recorded_read() as session:
        reads_ahead.case_read(session, principal.staff_id, case_id, categories=True)
        grant = access.case_access_in(
            store,
            session,
            principal,
            case_id,
            access.CASE_ELEMENTS,
            at=clock(),
            keys=keys,
            whole_share=True,
        )
        row = access.case_row(session, case_id) if grant is not None else None
        shared = grant is not None and grant.via is Via.SHARED
        if grant is not None and row is not None and not shared:
            # Read already by the access decision (kept by the reading session).
            cats = sorted(c for _, c in rows(session, Q_CATEGORIES, [row.subject_id]))
            opened = (
                registry.open_details(store, row)
                if {"incident_description", "caseworker_notes"} & set(grant.elements)
                else None
            )
    if grant is None or row is None:  # raised after the commit: the refusal stays audited
        raise not_found()
    if shared:  # never the owner's current record
        return _shared_case(row, grant, grant.shared or SharedView())
    return CaseOut(
        **_summary(row, grant).model_dump(),
        categories=cats if "specific_needs_codes" in grant.elements else [],
        details=opened.details if opened and "incident_description" in grant.elements else None,
        notes=opened.notes if opened and "caseworker_notes" in grant.elements else None,
        data_elements=list(grant.elements),
        shared_until=grant.shared_until,
    )


def _shared_case(row: Any, grant: CaseAccess, view: SharedView) -> CaseOut:
    """A case seen through a share: the packets' values only, nothing of the owner's
    current record (not its status, categories, details or notes)."""
    return CaseOut(
        **_summary(row, grant).model_dump(),
        categories=[],
        details=None,
        notes=None,
        data_elements=list(grant.elements),
        shared_until=grant.shared_until,
        shared=_packets_out(view),
    )


def _packets_out(view: SharedView) -> list[SharedPacketOut]:
    return [
        SharedPacketOut(
            referral_id=p.referral_id,
            purpose=p.purpose,
            label=p.label,
            sent_on=p.sent_on,
            until=p.until,
            values=[SharedValueOut(element=e, value=v) for e, v in p.values],
        )
        for p in view.packets
    ]


@router.post(
    "/api/cases/{case_id}/needs", response_model=NeedOut, status_code=status.HTTP_201_CREATED
)
def record_need(
    case_id: PathId, body: NeedCreate, principal: NeedGranter, store: StoreDep, clock: ClockDep
) -> NeedOut:
    """Records a colleague's case-specific need to know (never one's own, never for a role
    that may not read personal data: an administrator), for a few days."""
    try:
        need_id = accounts.record_need(
            store,
            staff_id=body.staff_id,
            case_id=case_id,
            need=body.need,
            actor_staff=principal.staff_id,
            actor_org=principal.org_id,
            valid_for=timedelta(days=body.valid_days),
            at=clock(),
        )
    except (NotFoundError, PermissionError) as exc:
        code = (
            "need-role-not-allowed"
            if isinstance(exc, NeedRoleNotAllowedError)
            else "need-not-recordable"
        )
        access.denied(store, principal, object_type="case", object_id=case_id, codes=[code])
        raise not_found() from None
    return NeedOut(need_id=need_id, staff_id=body.staff_id, case_id=case_id, need=body.need)


@router.get("/api/subjects/{subject_id}", response_model=SubjectOut)
def get_subject(
    subject_id: PathId,
    principal: Reader,
    store: StoreDep,
    clock: ClockDep,
    keys: KeysDep,
) -> SubjectOut:
    """A person's details, through a case of hers you may see (the opening is audited);
    through a share, the values as they were shared to your organisation."""
    at = clock()
    grant = access.subject_access(
        store, principal, subject_id, access.SUBJECT_ELEMENTS, at=at, keys=keys
    )
    if grant is None:
        raise not_found()
    if grant.via is Via.SHARED:  # never the owner's current record
        return _shared_subject(subject_id, grant, grant.shared or SharedView())
    with store.reading() as session:
        row = session.get(SubjectRow, subject_id)
        if row is None:
            raise not_found()
        age = aggregates.age_on(row.age, row.born, at.date())
        cats = sorted(
            session.scalars(
                select(SubjectCategoryRow.category).where(
                    SubjectCategoryRow.subject_id == subject_id
                )
            )
        )
    name = contact = None
    if {"name", "phone"} & set(grant.elements):
        try:
            opened = registry.subject_details(store, subject_id, actor=principal.user_id)
        except NotFoundError:
            raise not_found() from None
        name = opened.name if "name" in grant.elements else None
        contact = opened.contact if "phone" in grant.elements else None
    shown_age = age if "age" in grant.elements else None
    return SubjectOut(
        id=subject_id,
        name=name,
        contact=contact,
        age=shown_age,
        child=None if shown_age is None else shown_age < ADULT_AGE,
        categories=cats if "specific_needs_codes" in grant.elements else [],
        via_case=grant.case_id,
        data_elements=list(grant.elements),
    )


def _shared_subject(subject_id: str, grant: CaseAccess, view: SharedView) -> SubjectOut:
    """A person seen through a share: each element's value in the newest packet holding it
    (her age as it was shared: a number of years, else not shown)."""
    age_text = view.value("age")
    age = int(age_text) if age_text and age_text.isdecimal() and len(age_text) <= 3 else None
    return SubjectOut(
        id=subject_id,
        name=view.value("name"),
        contact=view.value("phone"),
        age=age,
        child=None if age is None else age < ADULT_AGE,
        categories=[],
        via_case=grant.case_id,
        data_elements=list(grant.elements),
        shared=_packets_out(view),
    )
