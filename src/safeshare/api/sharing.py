"""Around sharing: the data protection focal point's escalation queue and decisions,
inform-the-person tasks, the consent re-verification queue, notices to recipients (consent
withdrawn, data erased), subject access requests and erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import Field, StringConstraints
from sqlalchemy import select

from safeshare.api.deps import ClockDep, Principal, StoreDep, deny, not_found, require
from safeshare.api.referrals import KeysDep
from safeshare.api.schemas import Id, Strict
from safeshare.services import access
from safeshare.services.access import Via
from safeshare.services.common import NotFoundError
from safeshare.services.consent_effects import (
    acknowledge_notice,
    notices_for,
    reverification_queue,
)
from safeshare.services.escalations import (
    complete_inform_task,
    decide_escalation,
    escalation_queue,
    inform_tasks,
)
from safeshare.services.org_keys import NoPublicKeyError
from safeshare.services.referral_store import ReferralStateError
from safeshare.services.rights import ErasureRefusedError, erase_subject, subject_access
from safeshare.services.roles import Role, Scope
from safeshare.sharing.payload import NotShareableError
from safeshare.store.models import CaseRow
from safeshare.store.models_sharing import EscalationRow, ReferralRow

router = APIRouter(prefix="/api", tags=["sharing"])
STAFF = (Role.CASEWORKER, Role.SUPERVISOR, Role.DP_FOCAL_POINT)
QueueReader = Annotated[
    Principal, Depends(require(Role.DP_FOCAL_POINT, scope=Scope.ESCALATIONS_READ))
]
Decider = Annotated[
    Principal, Depends(require(Role.DP_FOCAL_POINT, scope=Scope.ESCALATIONS_DECIDE))
]
Eraser = Annotated[Principal, Depends(require(Role.DP_FOCAL_POINT, scope=Scope.RIGHTS_ERASE))]
Staff = Annotated[Principal, Depends(require(*STAFF, scope=Scope.REFERRALS_READ))]
StaffWriter = Annotated[Principal, Depends(require(*STAFF, scope=Scope.REFERRALS_WRITE))]
RightsOfficer = Annotated[
    Principal,
    Depends(
        require(
            Role.CASEWORKER,
            Role.SUPERVISOR,
            Role.DP_FOCAL_POINT,
            Role.ARCHIVIST,
            scope=Scope.RIGHTS_ACCESS,
        )
    ),
]
# What a subject access request is decided on: the staff-access decision of a case read
# (her records hold what her case's details and notes hold).
SUBJECT_ACCESS_ELEMENTS = access.CASE_ELEMENTS


class EscalationDecisionIn(Strict):
    approve: bool
    reasons: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class SubjectAccessIn(Strict):
    requester: Id
    records: list[Id] = Field(min_length=1, max_length=200)


def _conflict(message: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_409_CONFLICT, detail=message)


@router.get("/escalations")
def escalations(principal: QueueReader, store: StoreDep) -> list[dict[str, Any]]:
    """Exceptional circumstances from your organisation awaiting your decision."""
    return [
        e.to_dict() for e in escalation_queue(store, actor=principal.user_id, org=principal.org_id)
    ]


@router.post("/escalations/{escalation_id}/decide")
def decide(
    escalation_id: Id,
    *,
    body: EscalationDecisionIn,
    principal: Decider,
    store: StoreDep,
    keys: KeysDep,
    clock: ClockDep,
) -> dict[str, Any]:
    """Approve (the request is decided again and, unless now denied, sent) or refuse, with
    reasons (kept sealed)."""
    with store.reading() as session:
        row = session.get(EscalationRow, escalation_id)
        referral = session.get(ReferralRow, row.referral_id) if row else None
    if referral is None or referral.sender != principal.org_id:
        raise deny(store, principal, object_type="escalation", object_id=escalation_id)
    try:
        out = decide_escalation(
            store,
            keys,
            escalation_id,
            approve=body.approve,
            reasons=body.reasons,
            actor=principal.user_id,
            today=clock().date(),
        )
    except NotFoundError:
        raise deny(store, principal, object_type="escalation", object_id=escalation_id) from None
    except ReferralStateError as exc:
        raise _conflict(str(exc)) from None
    except (NotShareableError, NoPublicKeyError) as exc:  # the approved packet cannot be sealed
        raise _conflict(str(exc)) from None
    return out.to_dict()


@router.get("/inform-tasks")
def tasks(principal: Staff, store: StoreDep, done: bool = False) -> list[dict[str, Any]]:
    """People to inform after a share without their consent."""
    return [t.to_dict() for t in inform_tasks(store, principal.org_id, include_done=done)]


@router.post("/inform-tasks/{task_id}/done")
def task_done(task_id: Id, principal: StaffWriter, store: StoreDep) -> dict[str, Any]:
    try:
        return complete_inform_task(
            store, task_id, org_id=principal.org_id, actor=principal.user_id
        ).to_dict()
    except NotFoundError:
        raise deny(store, principal, object_type="inform_task", object_id=task_id) from None


@router.get("/consent-reverification")
def reverification(principal: Staff, store: StoreDep, clock: ClockDep) -> list[dict[str, Any]]:
    """Consents of your organisation's people older than the protocol's review period."""
    return [
        r.to_dict()
        for r in reverification_queue(store, today=clock().date(), org_id=principal.org_id)
    ]


@router.get("/notices")
def notices(principal: Staff, store: StoreDep, all: bool = False) -> list[dict[str, Any]]:
    """Notices about shares your organisation received: consent withdrawn, data erased."""
    return [n.to_dict() for n in notices_for(store, principal.org_id, include_acknowledged=all)]


@router.post("/notices/{notice_id}/acknowledge")
def acknowledge(notice_id: Id, principal: StaffWriter, store: StoreDep) -> dict[str, Any]:
    try:
        return acknowledge_notice(
            store, notice_id, org_id=principal.org_id, actor=principal.user_id
        ).to_dict()
    except NotFoundError:
        raise deny(store, principal, object_type="share_notice", object_id=notice_id) from None


def _own_subject(store: StoreDep, principal: Principal, subject_id: str) -> None:
    """The subject must have a case held by the caller's organisation (else 404)."""
    with store.reading() as session:
        owned = session.scalar(
            select(CaseRow.id)
            .where(CaseRow.subject_id == subject_id, CaseRow.owner == principal.org_id)
            .limit(1)
        )
    if owned is None:
        access.denied(store, principal, object_type="subject", object_id=subject_id)
        raise not_found()


def _need_to_know_subject(
    store: StoreDep, principal: Principal, subject_id: str, at: datetime
) -> None:
    """The caller must have need-to-know access to the person, decided as a read of one of
    her cases held by the caller's organisation is (assigned to it, or a recorded
    case-specific need): :func:`access.subject_access`, which audits the access or the
    refusal. What was shared to the caller's organisation does not count: the records
    released are the owner's. Else the audited 404."""
    _own_subject(store, principal, subject_id)
    grant = access.subject_access(store, principal, subject_id, SUBJECT_ACCESS_ELEMENTS, at=at)
    if grant is None:
        raise not_found()
    if grant.owner != principal.org_id or grant.via not in (Via.ASSIGNED, Via.NEED):
        access.denied(store, principal, object_type="subject", object_id=subject_id)
        raise not_found()


@router.post("/subject-access")
def answer_subject_access(
    body: SubjectAccessIn, principal: RightsOfficer, store: StoreDep, clock: ClockDep
) -> dict[str, Any]:
    """A person's request for her records: hers held by your organisation released, others'
    (and other organisations') withheld. Answered by
    staff with need-to-know access to her (assigned to one of her cases of your
    organisation, or a recorded case-specific need); else the same 404 as a missing
    person."""
    at = clock()
    _need_to_know_subject(store, principal, body.requester, at)
    try:
        answer = subject_access(
            store,
            requester=body.requester,
            records=body.records,
            actor=principal.user_id,
            today=at.date(),
            org=principal.org_id,
        )
    except NotFoundError:
        raise deny(store, principal, object_type="subject", object_id=body.requester) from None
    return answer.to_dict()


@router.post("/subjects/{subject_id}/erase")
def erase(subject_id: Id, principal: Eraser, store: StoreDep, clock: ClockDep) -> dict[str, Any]:
    """Erases the person's data by crypto-shredding (refused where the Note or the
    protocol keep it: 409 with the reason codes)."""
    _own_subject(store, principal, subject_id)
    try:
        report = erase_subject(store, subject_id, actor=principal.user_id, today=clock().date())
    except ErasureRefusedError as exc:
        raise _conflict(", ".join(exc.codes)) from None
    except NotFoundError:
        raise deny(store, principal, object_type="subject", object_id=subject_id) from None
    return {
        "subject_id": report.subject_id,
        "elements_destroyed": report.elements_destroyed,
        "packets_destroyed": list(report.packets_destroyed),
        "notices": list(report.notices),
    }
