"""The recipient's answer to a referral, and its end: the recipient accepts (its access lasts
the purpose's retention period from that day) or rejects it (with a reason; the packet is
erased at once), and either party closes it. Each is an audit event in the same transaction
as the change."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from safeshare.services.access import Actor
from safeshare.services.common import NotFoundError, audit
from safeshare.services.packet_retention import REJECTED, erase_packet_in
from safeshare.services.referral_need_to_know import visible_in
from safeshare.services.referral_store import (
    ReferralInfo,
    ReferralStateError,
    get_row,
    info,
    purpose_of,
    recipient_can_see,
)
from safeshare.store.audit_log import now
from safeshare.store.models_sharing import ReferralRow
from safeshare.store.unit import Store

REJECT_REASONS = frozenset(
    {"not-eligible", "no-capacity", "service-unavailable", "person-unreachable", "other"}
)


def respond_in(
    store: Store,
    session: Session,
    referral_id: str,
    *,
    org_id: str,
    actor: str,
    today: date,
    accept: bool,
    reason: str | None = None,
) -> ReferralInfo:
    """The recipient accepts or rejects a pending referral, in the caller's transaction."""
    row = session.get(ReferralRow, referral_id)
    if row is None or row.recipient != org_id or not recipient_can_see(row, today):
        raise NotFoundError(f"referral {referral_id!r} is not in the store")
    if row.status != "pending":
        raise ReferralStateError(f"referral {referral_id!r} is {row.status}, not pending")
    row.responded_by = actor
    if accept:
        purpose = purpose_of(session, row.purpose)
        retention = purpose.retention if purpose else None
        row.status = "accepted"
        row.accepted_on = today
        row.open_ended = retention is not None and retention.open_ended
        row.access_until = retention.end(today) if retention else today
    else:
        row.status = "rejected"
        row.reject_reason = reason if reason in REJECT_REASONS else "other"
    session.flush()
    audit(
        store,
        session,
        actor=actor,
        action="referral.accept" if accept else "referral.reject",
        object_type="referral",
        object_id=row.id,
        codes=[row.reject_reason] if row.reject_reason else [],
        details={"access_until": row.access_until.isoformat() if row.access_until else None},
    )
    if not accept:  # the recipient will never open it: the packet goes now
        erase_packet_in(store, session, row, reason=REJECTED, actor=actor)
    return info(session, row)


def accept_referral(
    store: Store, referral_id: str, *, org_id: str, actor: str, today: date
) -> ReferralInfo:
    """The recipient accepts a pending referral (its own transaction)."""
    with store.transaction() as session:
        return respond_in(
            store, session, referral_id, org_id=org_id, actor=actor, today=today, accept=True
        )


def reject_referral(
    store: Store,
    referral_id: str,
    *,
    org_id: str,
    actor: str,
    today: date,
    reason: str | None = None,
) -> ReferralInfo:
    """The recipient rejects a pending referral, with a reason (its own transaction)."""
    with store.transaction() as session:
        return respond_in(
            store,
            session,
            referral_id,
            org_id=org_id,
            actor=actor,
            today=today,
            accept=False,
            reason=reason,
        )


def close_referral(
    store: Store, referral_id: str, *, org_id: str, actor: str, today: date
) -> ReferralInfo:
    """Either party closes an accepted referral (the recipient keeps access only until the
    end of its retention period)."""
    with store.transaction() as session:
        row = get_row(session, referral_id)
        visible = org_id == row.sender or (
            org_id == row.recipient and recipient_can_see(row, today)
        )
        if not visible:
            raise NotFoundError(f"referral {referral_id!r} is not in the store")
        return _close_in(store, session, row, org_id=org_id, actor=actor)


def close_referral_as(
    store: Store, actor: Actor, referral_id: str, *, at: datetime
) -> ReferralInfo | None:
    """:func:`close_referral` by a staff member who may see the referral (the sending side:
    need-to-know for every person it names, as :func:`referral_for`); None when missing or
    not hers (the refusals of its persons audited; the caller audits the referral's)."""
    with store.transaction() as session:
        row = session.get(ReferralRow, referral_id)
        if row is None or visible_in(store, session, actor, row, at=at, known={}) is None:
            return None
        return _close_in(store, session, row, org_id=actor.org_id, actor=actor.user_id)


def _close_in(
    store: Store, session: Session, row: ReferralRow, *, org_id: str, actor: str
) -> ReferralInfo:
    if row.status not in {"accepted", "pending"}:
        raise ReferralStateError(f"referral {row.id!r} is {row.status}")
    if row.status == "pending":
        row.ciphertext = None  # never accepted: the recipient will never open it
    row.status = "closed"
    row.closed_at = now()
    session.flush()
    audit(
        store,
        session,
        actor=actor,
        action="referral.close",
        object_type="referral",
        object_id=row.id,
        details={"by_org": org_id},
    )
    return info(session, row)
