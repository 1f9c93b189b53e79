"""What the referral services share: reading referrals as values, building and storing the
sealed packet for a decision, inform-the-person tasks, and the recipient's access window."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from safeshare.core.decision import Decision
from safeshare.core.request import ShareRequest
from safeshare.core.vocabulary import Basis, GeneralPurpose
from safeshare.core.world import Purpose
from safeshare.crypto.org_keys import OrgKeyDirectory
from safeshare.crypto.packets import (
    Packet,
    PacketHeader,
    PacketPayload,
    PacketSignatureError,
    seal_packet,
)
from safeshare.services.case_elements import element_values
from safeshare.services.common import NotFoundError, audit
from safeshare.services.org_keys import ensure_keys_of
from safeshare.services.protocols import current_protocol
from safeshare.sharing.payload import payload_from_decision
from safeshare.store.audit_log import now
from safeshare.store.models_sharing import InformTaskRow, ReferralRow, ReferralSubjectRow
from safeshare.store.prepared import fetch
from safeshare.store.unit import Store

KINDS = {
    GeneralPurpose.IMMEDIATE_REFERRAL: "referral",
    GeneralPurpose.ELIGIBILITY: "referral",
    GeneralPurpose.REFERRAL_FEEDBACK: "feedback",
    GeneralPurpose.CLOSED_CASE_TRANSFER: "transfer",
    GeneralPurpose.CLOSED_CASE_ARCHIVING: "archiving",
    GeneralPurpose.STATISTICS: "statistics",
    GeneralPurpose.INVESTIGATION: "exceptional",
    GeneralPurpose.FILE_EVACUATION: "exceptional",
}
# Statuses under which the recipient may open the packet (if within its access window).
DELIVERED = frozenset({"pending", "accepted", "closed"})
ACCESS_AFTER_ACCEPTANCE = frozenset({"accepted", "closed"})


class ReferralStateError(ValueError):
    """The referral is not in a state that allows this step."""


@dataclass(frozen=True)
class ReferralInfo:
    id: str
    kind: str
    purpose: str
    sender: str
    recipient: str
    status: str
    basis: str
    outcome: str
    subjects: tuple[str, ...]
    elements: tuple[str, ...]
    contact_method: str
    without_consent: bool
    answers: str | None
    created_at: datetime
    sent_on: date | None
    accepted_on: date | None
    access_until: date | None
    open_ended: bool

    def to_dict(self, *, for_recipient: bool = False) -> dict[str, object]:
        out: dict[str, object] = {
            "id": self.id,
            "kind": self.kind,
            "purpose": self.purpose,
            "sender": self.sender,
            "recipient": self.recipient,
            "status": self.status,
            "basis": self.basis,
            "decision": self.outcome,
            "elements": list(self.elements),
            "contact_method": self.contact_method,
            "without_consent": self.without_consent,
            "answers": self.answers,
            "created_at": self.created_at.isoformat(),
            "sent_on": self.sent_on.isoformat() if self.sent_on else None,
            "accepted_on": self.accepted_on.isoformat() if self.accepted_on else None,
            "access_until": self.access_until.isoformat() if self.access_until else None,
            "open_ended": self.open_ended,
        }
        if not for_recipient:
            out["subjects"] = list(self.subjects)
        return out


_REFERRAL_SUBJECTS: Any = ReferralSubjectRow.__table__
Q_SUBJECTS_OF = (
    select(_REFERRAL_SUBJECTS.c.subject_id)
    .where(_REFERRAL_SUBJECTS.c.referral_id == bindparam("referral"))
    .order_by(_REFERRAL_SUBJECTS.c.subject_id)
)
Q_DROP_SUBJECTS = _REFERRAL_SUBJECTS.delete().where(
    _REFERRAL_SUBJECTS.c.referral_id == bindparam("referral"),
    _REFERRAL_SUBJECTS.c.subject_id.in_(bindparam("dropped", expanding=True)),
)


def subjects_of(session: Session, referral_id: str) -> tuple[str, ...]:
    """The referral's persons, in order (a prepared read: persons added through the ORM in
    this transaction are flushed first)."""
    session.flush()
    return tuple(r.subject_id for r in fetch(session, Q_SUBJECTS_OF, {"referral": referral_id}))


def info(
    session: Session, row: ReferralRow, *, subjects: Sequence[str] | None = None
) -> ReferralInfo:
    """The referral as the services answer it (``subjects``: its persons, when the caller
    has just written them; otherwise read)."""
    return ReferralInfo(
        id=row.id,
        kind=row.kind,
        purpose=row.purpose,
        sender=row.sender,
        recipient=row.recipient,
        status=row.status,
        basis=row.basis,
        outcome=row.outcome,
        subjects=subjects_of(session, row.id) if subjects is None else tuple(sorted(subjects)),
        elements=tuple(json.loads(row.elements)),
        contact_method=row.contact_method,
        without_consent=row.without_consent,
        answers=row.answers,
        created_at=row.created_at,
        sent_on=row.sent_on,
        accepted_on=row.accepted_on,
        access_until=row.access_until,
        open_ended=row.open_ended,
    )


def purpose_of(session: Session, purpose_id: str) -> Purpose | None:
    found = current_protocol(session)
    return found[0].purpose(purpose_id) if found else None


def recipient_can_see(row: ReferralRow, today: date) -> bool:
    """The recipient's window: a delivered packet not yet accepted, within the purpose's
    retention period from sending, or an accepted one within the purpose's retention period
    from acceptance. (A pending packet sealed before its window was recorded, with no
    ``access_until``, stays in its window.)"""
    if row.status not in DELIVERED or row.ciphertext is None:
        return False
    if row.status == "pending" and row.access_until is None and not row.open_ended:
        return True
    return row.open_ended or (row.access_until is not None and today <= row.access_until)


def get_row(session: Session, referral_id: str) -> ReferralRow:
    row = session.get(ReferralRow, referral_id)
    if row is None:
        raise NotFoundError(f"referral {referral_id!r} is not in the store")
    return row


def new_row(
    session: Session,
    *,
    referral_id: str,
    request: ShareRequest,
    purpose: Purpose | None,
    decision: Decision,
    decision_id: str,
    status: str,
    actor: str,
    subjects: tuple[str, ...],
    elements: tuple[str, ...],
    answers: str | None = None,
) -> ReferralRow:
    general = purpose.general if purpose else None
    row = ReferralRow(
        id=referral_id,
        kind=KINDS.get(general, "referral") if general else "referral",
        purpose=request.purpose if purpose else "(not in protocol)",
        general=general.value if general else "",
        sender=request.sender,
        recipient=request.recipient,
        basis=request.basis.value,
        status=status,
        answers=answers,
        decision_id=decision_id,
        outcome=decision.outcome.value,
        elements=json.dumps(list(elements)),
        contact_method="",
        without_consent=request.basis is not Basis.CONSENT,
        created_at=now(),
        created_by=actor,
        open_ended=False,
    )
    session.add(row)
    session.flush()
    for sid in sorted(set(subjects)):
        session.add(ReferralSubjectRow(referral_id=referral_id, subject_id=sid))
    session.flush()
    return row


def seal_into(
    store: Store,
    session: Session,
    keys: OrgKeyDirectory,
    row: ReferralRow,
    *,
    request: ShareRequest,
    purpose: Purpose | None,
    decision: Decision,
    actor: str,
    today: date,
    values: dict[str, dict[str, str | None]] | None = None,
    approved_escalation: bool = False,
    subjects: Sequence[str] | None = None,
) -> PacketPayload:
    """Builds the payload (conditions applied), seals it to the recipient, stores it. The
    referral's persons left out of the packet are no longer its persons (``subjects``: its
    persons, when the caller has just written them; otherwise read)."""
    if values is None:
        values = element_values(
            store,
            session,
            decision.share_subjects,
            decision.share_elements,
            owner=request.sender,
        )
    payload = payload_from_decision(
        decision,
        referral_id=row.id,
        purpose=row.purpose,
        values=values,
        label=request.label,
        contact_method=request.contact_method,
        agreed_contact_methods=purpose.contact_methods if purpose else (),
        kind=row.kind,
        answers=row.answers,
        approved_escalation=approved_escalation,
    )
    sender_keys = keys.load(request.sender)
    registered = ensure_keys_of(
        store, session, keys, (request.sender, request.recipient), actor=actor
    )
    packet = seal_packet(payload, sender=sender_keys, recipient=registered[request.recipient])
    row.header = packet.header.canonical().decode()
    row.ciphertext = packet.ciphertext
    row.signature = packet.signature
    row.contact_method = payload.contact_method
    row.elements = json.dumps(sorted(payload.element_names))
    row.status = "pending"
    row.sent_on = today
    # The recipient's window until it answers: the purpose's retention period counted from
    # sending (acceptance counts it again from its own day); no packet is openable for ever
    # because nobody answered it.
    retention = purpose.retention if purpose else None
    row.open_ended = retention is not None and retention.open_ended
    row.access_until = retention.end(today) if retention else today
    written = subjects_of(session, row.id) if subjects is None else subjects
    dropped = sorted(set(written) - set(payload.subject_ids))
    if dropped:  # persons the conditions left out of the packet are not the referral's
        session.execute(Q_DROP_SUBJECTS, {"referral": row.id, "dropped": dropped})
    audit(
        store,
        session,
        actor=actor,
        action=f"{row.kind}.send",
        object_type="referral",
        object_id=row.id,
        codes=sorted(decision.condition_codes),
        details={
            "sender": row.sender,
            "recipient": row.recipient,
            "purpose": row.purpose,
            "subjects": len(payload.subject_ids),
            "elements": row.elements,
        },
    )
    if request.basis is not Basis.CONSENT or "inform-subject" in decision.condition_codes:
        for sid in sorted(payload.subject_ids):
            task = InformTaskRow(
                id=uuid.uuid4().hex,
                referral_id=row.id,
                subject_id=sid,
                org_id=request.sender,
                basis=request.basis.value,
                created_at=now(),
            )
            session.add(task)
            session.flush()
            audit(
                store,
                session,
                actor=actor,
                action="inform_task.create",
                object_type="inform_task",
                object_id=task.id,
                details={"referral": row.id, "subject": sid},
            )
    return payload


def stored_packet(row: ReferralRow) -> Packet:
    """The referral's stored packet; :class:`PacketSignatureError` when its header is not
    one (not JSON, or not a header: it cannot be verified)."""
    if row.header is None or row.ciphertext is None or row.signature is None:
        raise ReferralStateError("the referral holds no packet")
    try:
        header = json.loads(row.header)
    except ValueError:
        raise PacketSignatureError("the packet header is malformed") from None
    return Packet(PacketHeader.from_dict(header), bytes(row.ciphertext), bytes(row.signature))
