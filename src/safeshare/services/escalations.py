"""Exceptional circumstances (Cross-cutting issues > Exceptional Circumstances): an
``escalate`` decision waits in the data protection focal point's queue with the circumstance,
the risk assessment and whether the recipient was assessed as safe. She approves or refuses,
with reasons (sealed). An approval re-decides the very request that was made, from the store
as it is now (a withdrawal since then still stops it), and only then seals the packet.

After any share without consent (vital interests, best interests, an approved escalation) a
task to inform the person is created; it is listed until done."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from safeshare.core.decision import Outcome
from safeshare.crypto.org_keys import OrgKeyDirectory
from safeshare.services.common import NotFoundError, audit
from safeshare.services.decisions import decide_request_in
from safeshare.services.referral_store import ReferralStateError, purpose_of, seal_into
from safeshare.sharing.requests import request_from_json
from safeshare.store.audit_log import now
from safeshare.store.models_sharing import EscalationRow, InformTaskRow, ReferralRow
from safeshare.store.unit import Store


class SelfApprovalError(ReferralStateError):
    """Four eyes: the person who asked for an exceptional share may refuse it but not
    approve it herself; another focal point decides (the refusal is audited)."""


@dataclass(frozen=True)
class EscalationInfo:
    id: str
    referral_id: str
    sender: str
    recipient: str
    purpose: str
    basis: str
    circumstance: str | None
    immediate: bool
    detail: str | None
    risk_assessment: str | None
    benefits_outweigh_risks: bool | None
    recipient_safe: bool | None
    reason_codes: tuple[str, ...]
    status: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reasons: str | None

    def to_dict(self) -> dict[str, object]:
        out = dict(self.__dict__)
        out["reason_codes"] = list(self.reason_codes)
        out["created_at"] = self.created_at.isoformat()
        out["decided_at"] = self.decided_at.isoformat() if self.decided_at else None
        return out


def _info(store: Store, row: EscalationRow, referral: ReferralRow) -> EscalationInfo:
    open_ = store.sealer.open
    return EscalationInfo(
        id=row.id,
        referral_id=row.referral_id,
        sender=referral.sender,
        recipient=referral.recipient,
        purpose=referral.purpose,
        basis=referral.basis,
        circumstance=row.circumstance,
        immediate=row.immediate,
        detail=open_(row.detail_enc, table="escalations", column="detail_enc", row_id=row.id),
        risk_assessment=row.risk_assessment,
        benefits_outweigh_risks=row.benefits_outweigh_risks,
        recipient_safe=row.recipient_safe,
        reason_codes=tuple(json.loads(row.reason_codes)),
        status=row.status,
        created_at=row.created_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reasons=open_(row.reasons_enc, table="escalations", column="reasons_enc", row_id=row.id),
    )


def escalation_queue(
    store: Store, *, actor: str, org: str, status: str | None = "pending"
) -> list[EscalationInfo]:
    """The focal point's queue: the escalations of her organisation's shares (only those
    are read and opened; opening the circumstances is an audited access)."""
    with store.transaction() as session:
        query = (
            select(EscalationRow, ReferralRow)
            .join(ReferralRow, ReferralRow.id == EscalationRow.referral_id)
            .where(ReferralRow.sender == org)
            .order_by(EscalationRow.created_at, EscalationRow.id)
        )
        if status is not None:
            query = query.where(EscalationRow.status == status)
        rows = session.execute(query).all()
        audit(
            store,
            session,
            actor=actor,
            action="access.escalation_queue",
            object_type="escalation",
            object_id="queue",
            details={"count": len(rows)},
        )
        return [_info(store, e, r) for e, r in rows]


def decide_escalation(
    store: Store,
    keys: OrgKeyDirectory,
    escalation_id: str,
    *,
    approve: bool,
    reasons: str,
    actor: str,
    today: date,
) -> EscalationInfo:
    """Records the focal point's decision; on approval the request is decided again and,
    unless now denied, the packet is sealed and sent (with inform-the-person tasks). The
    one who asked for the share may not approve it (:class:`SelfApprovalError`)."""
    with store.reading() as session:
        escalation = session.get(EscalationRow, escalation_id)
        if escalation is None:
            raise NotFoundError(f"escalation {escalation_id!r} is not in the store")
        if escalation.status != "pending":
            raise ReferralStateError(f"escalation {escalation_id!r} is {escalation.status}")
        referral = session.get(ReferralRow, escalation.referral_id)
        if referral is None or referral.request_enc is None:
            raise ReferralStateError(f"escalation {escalation_id!r} holds no request")
        asked_by, referral_id, sender = referral.created_by, referral.id, referral.sender
        text = store.sealer.open(
            bytes(referral.request_enc), table="referrals", column="request_enc", row_id=referral.id
        )
    if approve and asked_by == actor:
        with store.transaction() as session:
            audit(
                store,
                session,
                actor=actor,
                action="escalation.approval-refused",
                object_type="escalation",
                object_id=escalation_id,
                codes=["four-eyes"],
                details={"referral": referral_id, "org": sender},
            )
        raise SelfApprovalError(
            "you asked for this share: another data protection focal point approves it"
        )
    assert text is not None
    request = request_from_json(text)
    with store.transaction() as session:  # the re-decision, the approval and the packet
        escalation = session.get(EscalationRow, escalation_id, with_for_update=True)
        referral = session.get(ReferralRow, escalation.referral_id) if escalation else None
        if escalation is None or referral is None or escalation.status != "pending":
            raise ReferralStateError(f"escalation {escalation_id!r} was decided meanwhile")
        redecided = (
            decide_request_in(store, session, request, actor=actor, today=today)
            if approve
            else None
        )
        escalation.decided_by = actor
        escalation.decided_at = now()
        escalation.reasons_enc = store.sealer.seal(
            reasons, table="escalations", column="reasons_enc", row_id=escalation.id
        )
        codes: list[str] = []
        if redecided is not None and redecided.decision.outcome is not Outcome.DENY:
            escalation.status = "approved"
            referral.decision_id = redecided.id
            referral.outcome = redecided.decision.outcome.value
            seal_into(
                store,
                session,
                keys,
                referral,
                request=request,
                purpose=purpose_of(session, request.purpose),
                decision=redecided.decision,
                actor=actor,
                today=today,
                approved_escalation=True,
            )
        else:
            escalation.status = "refused"
            referral.status = "refused"
            if redecided is not None:
                codes = sorted(redecided.decision.codes)  # approved, but now denied
                referral.decision_id = redecided.id
                referral.outcome = redecided.decision.outcome.value
        referral.request_enc = None  # decided: the request's free text is no longer kept
        session.flush()
        audit(
            store,
            session,
            actor=actor,
            action=f"escalation.{escalation.status}",
            object_type="escalation",
            object_id=escalation.id,
            codes=codes,
            details={"referral": referral.id, "approved_by_focal_point": approve},
        )
        return _info(store, escalation, referral)


@dataclass(frozen=True)
class InformTask:
    id: str
    referral_id: str
    subject_id: str
    org_id: str
    basis: str
    created_at: datetime
    done_at: datetime | None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "referral_id": self.referral_id,
            "subject_id": self.subject_id,
            "org_id": self.org_id,
            "basis": self.basis,
            "created_at": self.created_at.isoformat(),
            "done_at": self.done_at.isoformat() if self.done_at else None,
        }


def _task(row: InformTaskRow) -> InformTask:
    return InformTask(
        row.id, row.referral_id, row.subject_id, row.org_id, row.basis, row.created_at, row.done_at
    )


def inform_tasks(store: Store, org_id: str, *, include_done: bool = False) -> list[InformTask]:
    with store.reading() as session:
        query = select(InformTaskRow).where(InformTaskRow.org_id == org_id)
        if not include_done:
            query = query.where(InformTaskRow.done_at.is_(None))
        rows = session.scalars(query.order_by(InformTaskRow.created_at, InformTaskRow.id))
        return [_task(r) for r in rows]


def complete_inform_task(store: Store, task_id: str, *, org_id: str, actor: str) -> InformTask:
    with store.transaction() as session:
        row = session.get(InformTaskRow, task_id)
        if row is None or row.org_id != org_id:
            raise NotFoundError(f"task {task_id!r} is not in the store")
        if row.done_at is None:
            row.done_at = now()
            row.done_by = actor
            session.flush()
            audit(
                store,
                session,
                actor=actor,
                action="inform_task.done",
                object_type="inform_task",
                object_id=row.id,
                details={"referral": row.referral_id},
            )
        return _task(row)
