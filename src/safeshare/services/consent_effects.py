"""Consent changes take effect (Cross-cutting issues > Consent): a withdrawal, recorded in
the ledger, at once stops the shares of that purpose (and recipient) not yet accepted — their
packets are destroyed — and notifies every recipient that already received one (a notice row
per recipient and referral). New shares are refused by the engine, which reads the ledger.
Consent older than the protocol's review period is listed for re-verification."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeshare.core.consent import reverification_due
from safeshare.core.vocabulary import ConsentDecision, ConsentMethod, ConsentStage
from safeshare.core.world import ConsentRecord
from safeshare.services.common import NotFoundError, audit
from safeshare.services.protocols import current_protocol
from safeshare.store import ledger, mapping
from safeshare.store.audit_log import now
from safeshare.store.ledger import NewConsent
from safeshare.store.models import CaseRow, ConsentEntryRow, SubjectRow
from safeshare.store.models_sharing import (
    EscalationRow,
    ReferralRow,
    ReferralSubjectRow,
    ShareNoticeRow,
)
from safeshare.store.unit import Store

NOT_YET_ACCEPTED = ("pending", "escalated")
DELIVERED = ("accepted", "closed")


@dataclass(frozen=True)
class WithdrawalEffects:
    entry_id: str
    stopped: tuple[str, ...]
    notices: tuple[str, ...]


def withdraw_consent_and_apply(
    store: Store,
    *,
    subject: str,
    purposes: Collection[str],
    actor: str,
    on: date | None = None,
    recipients: Collection[str] | None = None,
    method: ConsentMethod | None = None,
    evidence_ref: str | None = None,
    stage: ConsentStage | None = None,
) -> WithdrawalEffects:
    """Records the withdrawal and applies it, in one transaction."""
    entry = NewConsent(
        subject=subject,
        decision=ConsentDecision.WITHDRAWN,
        purposes=tuple(purposes),
        date=on or date.today(),
        recipients=None if recipients is None else tuple(recipients),
        method=method,
        evidence_ref=evidence_ref,
        stage=stage,
    )
    with store.transaction() as session:
        if session.get(SubjectRow, subject) is None:
            raise NotFoundError(f"subject {subject!r} is not in the store")
        ledger.append(
            session,
            [ledger.entry_values(entry, store.sealer, recorded_by=actor, recorded_at=now())],
        )
        audit(
            store,
            session,
            actor=actor,
            action="consent.withdrawn",
            object_type="consent_entry",
            object_id=entry.id,
            codes=["consent", "self"],
            details={"subject": subject, "purposes": ",".join(sorted(purposes))},
        )
        stopped, notices = _apply(
            store,
            session,
            entry_id=entry.id,
            subject=subject,
            purposes=purposes,
            recipients=recipients,
            actor=actor,
        )
    return WithdrawalEffects(entry.id, tuple(stopped), tuple(notices))


def _apply(
    store: Store,
    session: Session,
    *,
    entry_id: str,
    subject: str,
    purposes: Collection[str],
    recipients: Collection[str] | None,
    actor: str,
) -> tuple[list[str], list[str]]:
    """Stops the not-yet-accepted shares the entry covers and notifies the recipients of
    the delivered ones; returns (stopped referral ids, notice ids)."""
    query = (
        select(ReferralRow)
        .join(ReferralSubjectRow, ReferralSubjectRow.referral_id == ReferralRow.id)
        .where(
            ReferralSubjectRow.subject_id == subject, ReferralRow.purpose.in_(sorted(set(purposes)))
        )
        .order_by(ReferralRow.created_at, ReferralRow.id)
    )
    if recipients is not None:
        query = query.where(ReferralRow.recipient.in_(sorted(set(recipients))))
    stopped: list[str] = []
    notices: list[str] = []
    for row in session.scalars(query).all():
        if row.status in NOT_YET_ACCEPTED:
            row.status = "stopped"
            row.stopped_at = now()
            row.ciphertext = None
            row.request_enc = None
            for esc in session.scalars(
                select(EscalationRow).where(
                    EscalationRow.referral_id == row.id, EscalationRow.status == "pending"
                )
            ):
                esc.status = "stopped"
            stopped.append(row.id)
            session.flush()
            audit(
                store,
                session,
                actor=actor,
                action="referral.stop",
                object_type="referral",
                object_id=row.id,
                codes=["consent-withdrawn"],
                details={"consent_entry": entry_id},
            )
        elif row.status in DELIVERED:
            notice = ShareNoticeRow(
                id=_new_id(),
                kind="consent-withdrawn",
                referral_id=row.id,
                recipient=row.recipient,
                subject_id=subject,
                purpose=row.purpose,
                consent_entry_id=entry_id,
                created_at=now(),
            )
            session.add(notice)
            session.flush()
            notices.append(notice.id)
            audit(
                store,
                session,
                actor=actor,
                action="notice.create",
                object_type="share_notice",
                object_id=notice.id,
                codes=["consent-withdrawn"],
                details={"referral": row.id, "recipient": row.recipient},
            )
    return stopped, notices


def apply_consent_change(store: Store, entry_id: str, *, actor: str) -> WithdrawalEffects:
    """Applies a ledger entry recorded elsewhere (the consent API): a withdrawal or a
    refusal stops and notifies as :func:`withdraw_consent_and_apply` does; a grant does
    nothing."""
    with store.transaction() as session:
        row = session.scalars(
            select(ConsentEntryRow).where(ConsentEntryRow.id == entry_id)
        ).one_or_none()
        if row is None:
            raise NotFoundError(f"consent entry {entry_id!r} is not in the store")
        entry = mapping.consent(row)
        if entry.decision is ConsentDecision.GRANTED:
            return WithdrawalEffects(entry_id, (), ())
        stopped, notices = _apply(
            store,
            session,
            entry_id=entry_id,
            subject=entry.subject,
            purposes=entry.purposes,
            recipients=entry.recipients,
            actor=actor,
        )
    return WithdrawalEffects(entry_id, tuple(stopped), tuple(notices))


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Notice:
    id: str
    kind: str
    referral_id: str
    recipient: str
    subject_id: str
    purpose: str
    created_at: datetime
    acknowledged_at: datetime | None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "referral_id": self.referral_id,
            "recipient": self.recipient,
            "subject_id": self.subject_id,
            "purpose": self.purpose,
            "created_at": self.created_at.isoformat(),
            "acknowledged_at": self.acknowledged_at.isoformat() if self.acknowledged_at else None,
        }


def _notice(row: ShareNoticeRow) -> Notice:
    return Notice(
        row.id,
        row.kind,
        row.referral_id,
        row.recipient,
        row.subject_id,
        row.purpose,
        row.created_at,
        row.acknowledged_at,
    )


def notices_for(store: Store, org_id: str, *, include_acknowledged: bool = False) -> list[Notice]:
    with store.reading() as session:
        query = select(ShareNoticeRow).where(ShareNoticeRow.recipient == org_id)
        if not include_acknowledged:
            query = query.where(ShareNoticeRow.acknowledged_at.is_(None))
        rows = session.scalars(query.order_by(ShareNoticeRow.created_at, ShareNoticeRow.id))
        return [_notice(r) for r in rows]


def acknowledge_notice(store: Store, notice_id: str, *, org_id: str, actor: str) -> Notice:
    with store.transaction() as session:
        row = session.get(ShareNoticeRow, notice_id)
        if row is None or row.recipient != org_id:
            raise NotFoundError(f"notice {notice_id!r} is not in the store")
        if row.acknowledged_at is None:
            row.acknowledged_at = now()
            row.acknowledged_by = actor
            session.flush()
            audit(
                store,
                session,
                actor=actor,
                action="notice.acknowledge",
                object_type="share_notice",
                object_id=row.id,
            )
        return _notice(row)


@dataclass(frozen=True)
class Reverification:
    subject_id: str
    purpose: str
    entry_id: str
    given_on: date
    due_on: date | None

    def to_dict(self) -> dict[str, object]:
        return {
            "subject_id": self.subject_id,
            "purpose": self.purpose,
            "entry_id": self.entry_id,
            "given_on": self.given_on.isoformat(),
            "due_on": self.due_on.isoformat() if self.due_on else None,
        }


def reverification_queue(
    store: Store, *, today: date, org_id: str | None = None
) -> list[Reverification]:
    """Granted consents that still decide (the latest entry for the subject and purpose)
    and are older than the protocol's review period; for ``org_id``, only subjects whose
    case it holds."""
    with store.reading() as session:
        found = current_protocol(session)
        if found is None or found[0].consent_review is None:
            return []
        review = found[0].consent_review
        subjects_q = select(SubjectRow.id)
        if org_id is not None:
            subjects_q = select(CaseRow.subject_id).where(CaseRow.owner == org_id).distinct()
        subject_ids = sorted(session.scalars(subjects_q))
        out: list[Reverification] = []
        for start in range(0, len(subject_ids), 500):
            records = ledger.entries_for(session, subject_ids[start : start + 500])
            by_subject: dict[str, list[ConsentRecord]] = {}
            for r in records:
                by_subject.setdefault(r.subject, []).append(r)
            for sid, entries in by_subject.items():
                for purpose in sorted({p for e in entries for p in e.purposes}):
                    last = ledger.latest(entries, purpose)
                    if (
                        last is not None
                        and last.decision is ConsentDecision.GRANTED
                        and reverification_due(last, review, today)
                    ):
                        out.append(
                            Reverification(sid, purpose, last.id, last.date, review.end(last.date))
                        )
        return out
