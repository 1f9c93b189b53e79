"""Retention of referral packets: a packet is kept only while its recipient may open it.

The Note asks that personal data be kept no longer than the purpose needs (storage
limitation; the protocol agrees a retention period per purpose). The recipient's window ends
when the purpose's retention period from acceptance runs out (an open-ended purpose has
none), at once when the recipient rejects the referral, or, for a referral never answered,
when that period counted from sending runs out. After that nobody may open the
packet (the sender never could: it is sealed to the recipient), so its ciphertext is erased
— a crypto-shred of that copy — while the referral's record (ids, element names, status,
dates) and the audit chain stay. Each erasure is an audit event (``referral.packet-purged``,
code ``retention-ended``, ``unanswered`` or ``rejected``); a referral never answered is then
``lapsed``.

:func:`purge_expired_packets` runs from ``safeshare packets purge`` (for a daily timer) and
when ``safeshare serve`` starts; a rejection erases its packet in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from safeshare.services.common import audit
from safeshare.store.models_sharing import ReferralRow
from safeshare.store.unit import Store

RETENTION_ENDED = "retention-ended"
UNANSWERED = "unanswered"
REJECTED = "rejected"
LAPSED = "lapsed"  # the status of a referral never answered within its window
PURGED = "referral.packet-purged"


@dataclass(frozen=True)
class PurgeReport:
    """What a purge erased: the referrals whose packets are gone, and why."""

    retention_ended: tuple[str, ...]
    rejected: tuple[str, ...]
    unanswered: tuple[str, ...] = ()  # pending past their window from sending

    @property
    def count(self) -> int:
        return len(self.retention_ended) + len(self.rejected) + len(self.unanswered)


def expired(today: date) -> ColumnElement[bool]:
    """The referrals whose packet nobody may open any more, still holding it."""
    return and_(
        ReferralRow.ciphertext.is_not(None),
        or_(
            ReferralRow.status == "rejected",
            and_(
                ReferralRow.status.in_(("pending", "accepted", "closed")),
                ReferralRow.open_ended.is_(False),
                ReferralRow.access_until.is_not(None),
                ReferralRow.access_until < today,
            ),
        ),
    )


def erase_packet_in(
    store: Store, session: Session, row: ReferralRow, *, reason: str, actor: str
) -> None:
    """Erases ``row``'s packet in the caller's transaction, with its audit event."""
    row.ciphertext = None
    session.flush()
    audit(
        store,
        session,
        actor=actor,
        action=PURGED,
        object_type="referral",
        object_id=row.id,
        codes=[reason],
        details={
            "recipient": row.recipient,
            "access_until": row.access_until.isoformat() if row.access_until else None,
        },
    )


def purge_expired_packets(store: Store, *, today: date, actor: str) -> PurgeReport:
    """Erases every packet past its recipient's window, in one transaction (all or none)."""
    erased: dict[str, list[str]] = {RETENTION_ENDED: [], REJECTED: [], UNANSWERED: []}
    reasons = {"rejected": REJECTED, "pending": UNANSWERED}
    with store.transaction() as session:
        rows = session.scalars(
            select(ReferralRow).where(expired(today)).order_by(ReferralRow.id)
        ).all()
        for row in rows:
            reason = reasons.get(row.status, RETENTION_ENDED)
            if reason == UNANSWERED:
                row.status = LAPSED  # the sender sees that it was never answered
            erase_packet_in(store, session, row, reason=reason, actor=actor)
            erased[reason].append(row.id)
    return PurgeReport(
        tuple(erased[RETENTION_ENDED]), tuple(erased[REJECTED]), tuple(erased[UNANSWERED])
    )
