"""Consent changes take effect (Cross-cutting issues > Consent): a withdrawal, recorded in
the ledger, at once stops the shares of that purpose (and recipient) not yet accepted — their
packets are destroyed — and notifies every recipient that already received one (a notice row
per recipient and referral): a stopped referral that was pending was already in the
recipient's inbox, where its packet may have been opened, so its recipient is told not to act
on it (``referral-stopped``), whether it was about one person or several. New shares are
refused by the engine, which reads the ledger. Consent older than the protocol's review
period is listed for re-verification.

A referral about several people is ONE sealed packet: the sender cannot open it, and the
request it was built from is not kept, so it cannot be rebuilt without the person who
withdrew. A withdrawal by one of them therefore stops the whole referral (nothing of hers
may go) and notifies: the recipient, if the packet was already in its inbox, not to act on
it (``referral-stopped``), and the sender to refer the others again, each decided afresh
(``resend-others``)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeshare.core.consent import reverification_due
from safeshare.core.vocabulary import (
    ConsentDecision,
    ConsentKind,
    ConsentMethod,
    ConsentStage,
    GivenBy,
)
from safeshare.core.world import ConsentRecord
from safeshare.services.common import NotFoundError, audit
from safeshare.services.consent import record_consent_in
from safeshare.services.holdings import WITHDRAWN
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
# Received by the recipient, or once in its inbox (it may have opened the packet before it
# rejected it or let it lapse): told of the withdrawal.
DELIVERED = ("accepted", "closed", "rejected", "lapsed")


@dataclass(frozen=True)
class WithdrawalEffects:
    entry_id: str
    stopped: tuple[str, ...]
    notices: tuple[str, ...]


def record_consent_and_apply(
    store: Store, entry: NewConsent, *, actor: str, today: date | None = None
) -> WithdrawalEffects:
    """Records a ledger entry and, for a withdrawal or a refusal, applies it (stopped
    shares, notices), in ONE transaction: the entry, the stopped shares, the notices and
    their audit events commit together or not at all. An entry dated after ``today``
    (default: the machine's today) is refused
    (:class:`safeshare.services.consent.FutureConsentDateError`), nothing recorded."""
    with store.transaction() as session:
        record_consent_in(store, session, entry, actor=actor, today=today)
        return apply_entry_in(store, session, entry.id, actor=actor)


def withdraw_consent_and_apply(
    store: Store,
    *,
    subject: str,
    purposes: Collection[str],
    actor: str,
    on: date | None = None,
    recipients: Collection[str] | None = None,
    kind: ConsentKind = ConsentKind.CONSENT,
    given_by: GivenBy = GivenBy.SELF,
    method: ConsentMethod | None = None,
    evidence_ref: str | None = None,
    stage: ConsentStage | None = None,
    today: date | None = None,
) -> WithdrawalEffects:
    """Records the withdrawal and applies it, in one transaction."""
    entry = NewConsent(
        subject=subject,
        decision=ConsentDecision.WITHDRAWN,
        purposes=tuple(purposes),
        date=on or date.today(),
        kind=kind,
        given_by=given_by,
        recipients=None if recipients is None else tuple(recipients),
        method=method,
        evidence_ref=evidence_ref,
        stage=stage,
    )
    return record_consent_and_apply(store, entry, actor=actor, today=today)


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
    the delivered ones; returns (stopped referral ids, notice ids). A stopped referral that
    was pending (in the recipient's inbox, its packet perhaps already opened) always tells
    its recipient (``referral-stopped``), whether it was about one person or several."""
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
            delivered = row.status == "pending"
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
            others = session.scalar(
                select(func.count())
                .select_from(ReferralSubjectRow)
                .where(
                    ReferralSubjectRow.referral_id == row.id,
                    ReferralSubjectRow.subject_id != subject,
                )
            )
            audit(
                store,
                session,
                actor=actor,
                action="referral.stop",
                object_type="referral",
                object_id=row.id,
                codes=["consent-withdrawn"],
                details={"consent_entry": entry_id, "subject": subject, "others": others or 0},
            )
            to_notify: list[tuple[str, str]] = []
            if others:
                to_notify.append(("resend-others", row.sender))
            if delivered:  # in the recipient's inbox, perhaps opened: always told
                to_notify.append(("referral-stopped", row.recipient))
            for kind, org in to_notify:
                notices.append(
                    notify_in(
                        store,
                        session,
                        row,
                        kind=kind,
                        org=org,
                        subject=subject,
                        entry_id=entry_id,
                        actor=actor,
                    )
                )
        elif row.status in DELIVERED:
            notices.append(
                notify_in(
                    store,
                    session,
                    row,
                    kind=WITHDRAWN,  # the recipient no longer sees her through it
                    org=row.recipient,
                    subject=subject,
                    entry_id=entry_id,
                    actor=actor,
                )
            )
    return stopped, notices


def notify_in(
    store: Store,
    session: Session,
    row: ReferralRow,
    *,
    kind: str,
    org: str,
    subject: str,
    entry_id: str | None,
    actor: str,
) -> str:
    """A notice to ``org`` about referral ``row`` (with its audit event), in the caller's
    transaction; ``entry_id``: the consent entry that caused it, if one did. Returns its id."""
    notice = ShareNoticeRow(
        id=_new_id(),
        kind=kind,
        referral_id=row.id,
        recipient=org,
        subject_id=subject,
        purpose=row.purpose,
        consent_entry_id=entry_id,
        created_at=now(),
    )
    session.add(notice)
    session.flush()
    audit(
        store,
        session,
        actor=actor,
        action="notice.create",
        object_type="share_notice",
        object_id=notice.id,
        codes=[kind],
        details={"referral": row.id, "recipient": org},
    )
    return notice.id


def apply_consent_change(store: Store, entry_id: str, *, actor: str) -> WithdrawalEffects:
    """Applies a ledger entry recorded elsewhere: a withdrawal or a refusal stops and
    notifies as :func:`withdraw_consent_and_apply` does; a grant does nothing. Prefer
    :func:`record_consent_and_apply`, which records and applies in one transaction."""
    with store.transaction() as session:
        return apply_entry_in(store, session, entry_id, actor=actor)


def apply_entry_in(
    store: Store, session: Session, entry_id: str, *, actor: str
) -> WithdrawalEffects:
    """:func:`apply_consent_change` in the caller's transaction."""
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
                    last = ledger.latest(entries, purpose, today=today)
                    if (
                        last is not None
                        and last.decision is ConsentDecision.GRANTED
                        and reverification_due(last, review, today)
                    ):
                        out.append(
                            Reverification(sid, purpose, last.id, last.date, review.end(last.date))
                        )
        return out
