"""Referrals end to end: a share request for a purpose is decided by the engine from the
store; on allow (or allow with conditions) a packet holding only what may go is sealed to the
recipient organisation and stored; on escalate it waits in the data protection focal
point's queue; on deny nothing is stored but the recorded decision. The recipient accepts or
rejects; access lasts the purpose's retention period from acceptance (before it answers, from
sending); either party closes. A staff member sees a referral her organisation sent only when
she needs to know every person it names (the staff-access decision of case reads), and only
the recipient's caseworkers open its packet; each read is an audit event.

Answers and closing (:mod:`safeshare.services.referral_answers`), feedback
(:mod:`safeshare.services.referral_feedback`), escalations
(:mod:`safeshare.services.escalations`), consent effects
(:mod:`safeshare.services.consent_effects`) and rights
(:mod:`safeshare.services.rights`) build on this module."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeshare.core.decision import Decision, Outcome
from safeshare.core.request import ShareRequest
from safeshare.crypto.org_keys import OrgKeyDirectory
from safeshare.crypto.packets import (
    PacketPayload,
    new_referral_id,
)
from safeshare.services.common import NotFoundError, audit
from safeshare.services.decisions import decide_request_in
from safeshare.services.holdings import SharedWith, cases_shared_with, shared_to, shared_with
from safeshare.services.packet_opening import OPEN_REFUSED, PacketRefusedError, opened
from safeshare.services.referral_answers import (
    REJECT_REASONS,
    accept_referral,
    close_referral,
    close_referral_as,
    reject_referral,
    respond_in,
)
from safeshare.services.referral_need_to_know import (
    opens_packets,
    outgoing_for,
    referral_for,
)
from safeshare.services.referral_store import (
    ReferralInfo,
    ReferralStateError,
    info,
    new_row,
    purpose_of,
    recipient_can_see,
    seal_into,
)
from safeshare.sharing.requests import request_to_json
from safeshare.store.audit_log import now
from safeshare.store.models import AssessmentRow
from safeshare.store.models_sharing import EscalationRow, ReferralRow
from safeshare.store.unit import Store

__all__ = [
    "REJECT_REASONS",
    "PacketRefusedError",
    "ReferralInfo",
    "ReferralOutcome",
    "ReferralStateError",
    "SharedWith",
    "accept_referral",
    "cases_shared_with",
    "close_referral",
    "close_referral_as",
    "create_referral",
    "create_referral_in",
    "get_referral",
    "inbox",
    "open_referral",
    "opens_packets",
    "outgoing",
    "outgoing_for",
    "referral_for",
    "reject_referral",
    "respond_in",
    "shared_to",
    "shared_with",
]


@dataclass(frozen=True)
class ReferralOutcome:
    """The decision and what was done: a referral sent (pending), escalated, or nothing."""

    decision: Decision
    decision_id: str
    referral: ReferralInfo | None
    escalation_id: str | None = None


def create_referral(
    store: Store,
    keys: OrgKeyDirectory,
    request: ShareRequest,
    *,
    actor: str,
    today: date | None = None,
    answers: str | None = None,
    values: dict[str, dict[str, str | None]] | None = None,
) -> ReferralOutcome:
    """Decides ``request`` and acts on the decision, in ONE transaction: the decision row
    and its audit event, the referral (sealed packet, or escalation) and its audit events
    commit together or not at all. ``values`` (subject → element → value) replaces the case
    elements as the source of the packet's values (feedback); ``answers`` names the referral
    that feedback answers."""
    today = today or date.today()
    with store.transaction() as session:
        return create_referral_in(
            store,
            session,
            keys,
            request,
            actor=actor,
            today=today,
            answers=answers,
            values=values,
        )


def create_referral_in(
    store: Store,
    session: Session,
    keys: OrgKeyDirectory,
    request: ShareRequest,
    *,
    actor: str,
    today: date,
    answers: str | None = None,
    values: dict[str, dict[str, str | None]] | None = None,
) -> ReferralOutcome:
    """:func:`create_referral` in the caller's transaction."""
    recorded = decide_request_in(store, session, request, actor=actor, today=today)
    decision = recorded.decision
    if decision.outcome is Outcome.DENY:
        return ReferralOutcome(decision, recorded.id, None)
    purpose = purpose_of(session, request.purpose)
    row = new_row(
        session,
        referral_id=new_referral_id(),
        request=request,
        purpose=purpose,
        decision=decision,
        decision_id=recorded.id,
        status="escalated",
        actor=actor,
        subjects=decision.share_subjects,
        elements=decision.share_elements,
        answers=answers,
    )
    if decision.outcome is Outcome.ESCALATE:
        row.request_enc = store.sealer.seal(
            request_to_json(request), table="referrals", column="request_enc", row_id=row.id
        )
        escalation_id = _escalate(store, session, row, request, decision, actor=actor)
        return ReferralOutcome(decision, recorded.id, info(session, row), escalation_id)
    written = tuple(sorted(set(decision.share_subjects)))  # the persons new_row wrote
    payload = seal_into(
        store,
        session,
        keys,
        row,
        request=request,
        purpose=purpose,
        decision=decision,
        actor=actor,
        today=today,
        values=values,
        subjects=written,
    )
    kept = set(written) & set(payload.subject_ids)  # the persons the packet holds
    return ReferralOutcome(decision, recorded.id, info(session, row, subjects=sorted(kept)))


def _escalate(
    store: Store,
    session: Session,
    row: ReferralRow,
    request: ShareRequest,
    decision: Decision,
    *,
    actor: str,
) -> str:
    risk = session.get(AssessmentRow, request.risk_assessment) if request.risk_assessment else None
    c = request.circumstance
    escalation = EscalationRow(
        id=uuid.uuid4().hex,
        referral_id=row.id,
        circumstance=c.kind.value if c else None,
        immediate=bool(c and c.immediate),
        detail_enc=None,
        risk_assessment=request.risk_assessment,
        benefits_outweigh_risks=risk.benefits_outweigh_risks if risk else None,
        recipient_safe=risk.recipient_safe if risk else None,
        reason_codes=json.dumps(sorted(decision.codes)),
        status="pending",
        created_at=now(),
    )
    escalation.detail_enc = store.sealer.seal(
        c.detail if c and c.detail else None,
        table="escalations",
        column="detail_enc",
        row_id=escalation.id,
    )
    session.add(escalation)
    session.flush()
    audit(
        store,
        session,
        actor=actor,
        action="referral.escalate",
        object_type="escalation",
        object_id=escalation.id,
        codes=sorted(decision.codes),
        details={"referral": row.id, "circumstance": escalation.circumstance},
    )
    return escalation.id


def _mine(row: ReferralRow, org_id: str) -> bool:
    return org_id in (row.sender, row.recipient)


def get_referral(store: Store, referral_id: str, *, org_id: str, today: date) -> ReferralInfo:
    """A referral as seen by one of its parties (the recipient only within its window): the
    ORGANISATION's view. A staff member's read goes through :func:`referral_for` (her
    need-to-know for its persons, audited)."""
    with store.reading() as session:
        row = session.get(ReferralRow, referral_id)
        if row is None or not _mine(row, org_id):
            raise NotFoundError(f"referral {referral_id!r} is not in the store")
        if org_id == row.recipient and org_id != row.sender and not recipient_can_see(row, today):
            raise NotFoundError(f"referral {referral_id!r} is not in the store")
        return info(session, row)


def outgoing(store: Store, org_id: str) -> list[ReferralInfo]:
    """Every referral the organisation sent: the ORGANISATION's view. A staff member's list
    is :func:`outgoing_for` (need-to-know for the persons, audited)."""
    with store.reading() as session:
        rows = session.scalars(
            select(ReferralRow)
            .where(ReferralRow.sender == org_id)
            .order_by(ReferralRow.created_at.desc(), ReferralRow.id)
        )
        return [info(session, r) for r in rows]


def inbox(store: Store, org_id: str, *, today: date) -> list[ReferralInfo]:
    """Received packets the organisation may still see (pending, or within retention)."""
    with store.reading() as session:
        rows = session.scalars(
            select(ReferralRow)
            .where(ReferralRow.recipient == org_id)
            .order_by(ReferralRow.created_at.desc(), ReferralRow.id)
        )
        return [info(session, r) for r in rows if recipient_can_see(r, today)]


def open_referral(
    store: Store,
    keys: OrgKeyDirectory,
    referral_id: str,
    *,
    org_id: str,
    actor: str,
    today: date,
) -> PacketPayload:
    """Decrypts the packet for its recipient organisation only (an audited access). A
    packet that fails a check (:func:`~safeshare.services.packet_opening.opened`) is refused
    with :class:`PacketRefusedError`, the refusal audited (``referral.open-refused``, the rule
    broken as its code). Who in the organisation may open it is the caller's check
    (:func:`opens_packets`)."""
    with store.transaction() as session:
        row = session.get(ReferralRow, referral_id)
        if row is None or row.recipient != org_id or not recipient_can_see(row, today):
            raise NotFoundError(f"referral {referral_id!r} is not in the store")
        try:
            payload = opened(keys, session, row)
        except PacketRefusedError as exc:
            refused = exc  # its audit event commits with this transaction
            audit(
                store,
                session,
                actor=actor,
                action=OPEN_REFUSED,
                object_type="referral",
                object_id=row.id,
                codes=[exc.code],
                details={"org": org_id},
            )
        else:
            audit(
                store,
                session,
                actor=actor,
                action="referral.open",
                object_type="referral",
                object_id=row.id,
                details={"org": org_id},
            )
            return payload
    raise refused
