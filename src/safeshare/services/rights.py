"""The person's rights over her data: access to her own records (others' records withheld,
decided by the engine, kind subject-access) and erasure by crypto-shredding.

**Erasure.** The subject's data key is destroyed, so every case element it encrypted is
unreadable at once (and the element rows are deleted); her sealed fields elsewhere (name,
contact, case details and notes, record contents, assessment notes) are nulled; packets about
her still held in the store are destroyed and each recipient that received one, or has it in
its inbox (a pending referral: it may have opened the packet already), gets a notice to erase
its copy (each notice an audit event, ``notice.create``). Ids stay, so the audit chain
(which holds ids and codes only) still verifies. Refused where the Note or the protocol keep
the data: a share for an investigation or a file evacuation still running (exceptional
circumstances), or a closed case transferred for archiving as a permanent record (UNHCR
Records and Archives Policy). The consent ledger is append-only: its sealed evidence
references are kept (they are references to paper or audio evidence, not her account)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from safeshare.core.request import SubjectAccessRequest
from safeshare.core.vocabulary import EXCEPTIONAL_PURPOSES, GeneralPurpose
from safeshare.services.case_elements import shred_subject
from safeshare.services.common import NotFoundError, audit, audit_now
from safeshare.services.consent_effects import notify_in
from safeshare.services.decisions import decide_request_in
from safeshare.services.referral_store import recipient_can_see
from safeshare.store.audit_log import now
from safeshare.store.models import AssessmentRow, CaseRow, RecordRow, SubjectRow
from safeshare.store.models_sharing import (
    EscalationRow,
    ReferralRow,
    ReferralSubjectRow,
    SubjectAccessRow,
)
from safeshare.store.unit import Store


@dataclass(frozen=True)
class ReleasedRecord:
    id: str
    category: str
    content: str | None


@dataclass(frozen=True)
class SubjectAccessAnswer:
    id: str
    outcome: str
    released: tuple[ReleasedRecord, ...]
    withheld: tuple[str, ...]
    reason_codes: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "decision": self.outcome,
            "released": [r.__dict__ for r in self.released],
            "withheld": list(self.withheld),
            "reasons": list(self.reason_codes),
        }


def subject_access(
    store: Store,
    *,
    requester: str,
    records: Sequence[str],
    actor: str,
    today: date,
    org: str,
) -> SubjectAccessAnswer:
    """Answers a person's request for her records: her own are released (opened), others'
    withheld; a record that does not exist is withheld in the same words. Answered by
    ``org``, only the records it holds are released: another organisation's (or one whose
    holder is not known) are withheld in the same words, for the holder answers for them.
    The caller first checks that the staff member answering has need-to-know access to the
    person (the API: a read of one of her cases held by the staff member's organisation,
    decided by :mod:`safeshare.services.access`)."""
    with store.reading() as session:
        if session.get(SubjectRow, requester) is None:
            raise NotFoundError(f"subject {requester!r} is not in the store")
        asked = list(dict.fromkeys(records))
        existing = set(
            session.scalars(
                select(RecordRow.id).where(RecordRow.id.in_(asked), RecordRow.holder == org)
            )
        )
    known = tuple(r for r in asked if r in existing)
    with store.transaction() as session:  # the decision and the answer: one change
        recorded = decide_request_in(
            store,
            session,
            SubjectAccessRequest(requester=requester, records=known),
            actor=actor,
            today=today,
        )
        decision = recorded.decision
        released_ids = tuple(decision.share_records or ())
        withheld = tuple(r for r in asked if r not in released_ids)
        released = []
        for rid in released_ids:
            row = session.get(RecordRow, rid)
            assert row is not None
            released.append(
                ReleasedRecord(
                    rid,
                    row.category,
                    store.sealer.open(
                        row.content_enc, table="records", column="content_enc", row_id=rid
                    ),
                )
            )
        answer_id = uuid.uuid4().hex
        session.add(
            SubjectAccessRow(
                id=answer_id,
                subject_id=requester,
                requested=json.dumps(asked),
                released=json.dumps(list(released_ids)),
                withheld=json.dumps(list(withheld)),
                decision_id=recorded.id,
                outcome=decision.outcome.value,
                at=now(),
                by=actor,
            )
        )
        session.flush()
        audit(
            store,
            session,
            actor=actor,
            action="subject_access.answer",
            object_type="subject_access",
            object_id=answer_id,
            codes=sorted(decision.codes | decision.condition_codes),
            details={
                "subject": requester,
                "released": len(released_ids),
                "withheld": len(withheld),
            },
        )
    return SubjectAccessAnswer(
        answer_id, decision.outcome.value, tuple(released), withheld, tuple(sorted(decision.codes))
    )


# The referrals whose recipient gets an "erased" notice: in its inbox or received.
# In the recipient's inbox, received by it, or once there (it may have opened the packet
# before it rejected it or let it lapse): told to erase its copy.
NOTIFIED_OF_ERASURE = frozenset({"pending", "accepted", "closed", "rejected", "lapsed"})


class ErasureRefusedError(ValueError):
    """The Note or the protocol keep this data: erasure is refused (with reason codes)."""

    def __init__(self, codes: Sequence[str]) -> None:
        self.codes = tuple(codes)
        super().__init__(f"erasure refused: {', '.join(self.codes)}")


@dataclass(frozen=True)
class ErasureReport:
    subject_id: str
    elements_destroyed: int
    packets_destroyed: tuple[str, ...]
    notices: tuple[str, ...]
    audit_seq: int


def _holds(session: Session, subject_id: str, today: date) -> list[str]:
    codes = []
    rows = session.scalars(
        select(ReferralRow)
        .join(ReferralSubjectRow, ReferralSubjectRow.referral_id == ReferralRow.id)
        .where(ReferralSubjectRow.subject_id == subject_id)
    ).all()
    exceptional = {g.value for g in EXCEPTIONAL_PURPOSES}
    for row in rows:
        live = row.status in {"escalated"} or recipient_can_see(row, today)
        if row.general in exceptional and live:
            codes.append("erasure-investigation-hold")
        if (
            row.general == GeneralPurpose.CLOSED_CASE_ARCHIVING.value
            and row.status in {"accepted", "closed"}
            and row.open_ended
        ):
            codes.append("erasure-archive-permanent")
    return sorted(set(codes))


def erase_subject(store: Store, subject_id: str, *, actor: str, today: date) -> ErasureReport:
    """Crypto-shreds the subject's data (see the module's description)."""
    with store.transaction() as session:
        if session.get(SubjectRow, subject_id) is None:
            raise NotFoundError(f"subject {subject_id!r} is not in the store")
        holds = _holds(session, subject_id, today)
        if holds:
            raise ErasureRefusedError(holds)
        destroyed = shred_subject(session, subject_id)
        session.execute(
            update(SubjectRow)
            .where(SubjectRow.id == subject_id)
            .values(name_enc=None, contact_enc=None)
        )
        session.execute(
            update(CaseRow)
            .where(CaseRow.subject_id == subject_id)
            .values(details_enc=None, notes_enc=None)
        )
        session.execute(
            update(RecordRow).where(RecordRow.subject_id == subject_id).values(content_enc=None)
        )
        session.execute(
            update(AssessmentRow)
            .where(AssessmentRow.subject_id == subject_id)
            .values(notes_enc=None)
        )
        packets: list[str] = []
        notices: list[str] = []
        rows = session.scalars(
            select(ReferralRow)
            .join(ReferralSubjectRow, ReferralSubjectRow.referral_id == ReferralRow.id)
            .where(ReferralSubjectRow.subject_id == subject_id)
            .order_by(ReferralRow.created_at, ReferralRow.id)
        ).all()
        for row in rows:
            # In the recipient's inbox (pending: it may have opened the packet already) or
            # received by it: it is told to erase its copy.
            delivered = row.status in NOTIFIED_OF_ERASURE
            if row.ciphertext is not None or row.request_enc is not None:
                packets.append(row.id)
            row.ciphertext = None
            row.request_enc = None
            if row.status in {"pending", "escalated"}:
                row.status = "erased"
            session.execute(
                update(EscalationRow)
                .where(EscalationRow.referral_id == row.id)
                .values(detail_enc=None)
            )
            if delivered:
                notices.append(
                    notify_in(
                        store,
                        session,
                        row,
                        kind="erased",
                        org=row.recipient,
                        subject=subject_id,
                        entry_id=None,
                        actor=actor,
                    )
                )
        session.flush()
        seq = audit_now(
            store,
            session,
            actor=actor,
            action="subject.erase",
            object_type="subject",
            object_id=subject_id,
            details={"elements": destroyed, "packets": len(packets), "notices": len(notices)},
        )
    return ErasureReport(subject_id, destroyed, tuple(packets), tuple(notices), seq)
