"""Packets are kept only while their recipient may open them: erased at rejection, and by the
purge once the purpose's retention period from acceptance (or, never answered, from sending)
is over; the referral's record and
the audit chain stay, and every erasure is audited."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from safeshare.services import audit as audit_service
from safeshare.services.common import NotFoundError
from safeshare.services.consent_effects import notices_for, withdraw_consent_and_apply
from safeshare.services.packet_retention import PURGED, purge_expired_packets
from safeshare.services.referrals import (
    accept_referral,
    create_referral,
    open_referral,
    reject_referral,
)
from safeshare.services.rights import erase_subject
from safeshare.store.models import AuditEventRow
from safeshare.store.models_sharing import ReferralRow
from safeshare.store.unit import Store
from sharing_world import ACTOR, REFERRAL, TODAY, Operation, build, referral_request

UNTIL = date(2026, 9, 1)  # the referral purpose's six months from TODAY


@pytest.fixture
def op(store: Store, tmp_path: Path) -> Operation:
    return build(store, tmp_path / "org-keys")


def _send(op: Operation, subject: str = "s1") -> str:
    request = referral_request(
        subjects=(subject,), data_elements=("name", "phone", "service_needed")
    )
    ref = create_referral(op.store, op.keys, request, actor=ACTOR, today=TODAY).referral
    assert ref is not None
    return ref.id


def _row(op: Operation, referral_id: str) -> ReferralRow:
    with op.store.reading() as session:
        row = session.get(ReferralRow, referral_id)
        assert row is not None
        session.expunge(row)
        return row


def _purge_events(op: Operation) -> list[tuple[str | None, str]]:
    with op.store.reading() as session:
        rows = session.execute(
            select(AuditEventRow.object_id, AuditEventRow.body).order_by(AuditEventRow.seq)
        ).all()
    return [(oid, bytes(body).decode()) for oid, body in rows if PURGED.encode() in bytes(body)]


def test_a_rejection_erases_the_packet_and_audits_it(op: Operation) -> None:
    rid = _send(op)
    assert _row(op, rid).ciphertext is not None
    reject_referral(op.store, rid, org_id="ngo-a", actor="u", today=TODAY, reason="no-capacity")
    row = _row(op, rid)
    assert row.ciphertext is None
    assert row.status == "rejected"
    assert row.header  # the record of what was sent stays
    assert row.elements == '["name", "phone", "service_needed"]'
    events = _purge_events(op)
    assert [oid for oid, _ in events] == [rid]
    assert '"rejected"' in events[0][1]


def test_the_purge_erases_packets_past_retention_only(op: Operation) -> None:
    kept, ended = _send(op, "s1"), _send(op, "s2")
    pending = _send(op, "s1")
    accept_referral(op.store, kept, org_id="ngo-a", actor="u", today=TODAY + timedelta(days=1))
    accept_referral(op.store, ended, org_id="ngo-a", actor="u", today=TODAY)
    assert _row(op, ended).access_until == UNTIL

    on_last_day = purge_expired_packets(op.store, today=UNTIL, actor=ACTOR)
    assert on_last_day.count == 0  # the last day of the window is still inside it

    report = purge_expired_packets(op.store, today=UNTIL + timedelta(days=1), actor=ACTOR)
    assert report.retention_ended == (ended,)
    assert report.rejected == ()
    # Never answered: its window, counted from sending, ended the same day.
    assert report.unanswered == (pending,)
    assert _row(op, ended).ciphertext is None
    assert _row(op, pending).ciphertext is None
    assert _row(op, pending).status == "lapsed"  # the sender sees it was never answered
    assert _row(op, kept).ciphertext is not None  # accepted a day later: one more day
    events = dict(_purge_events(op))
    assert sorted(events) == sorted([ended, pending])
    assert '"retention-ended"' in events[ended]
    assert '"unanswered"' in events[pending]

    again = purge_expired_packets(op.store, today=UNTIL + timedelta(days=1), actor=ACTOR)
    assert again.count == 0  # nothing left to erase: no second event
    assert len(_purge_events(op)) == 2
    assert audit_service.verify_audit(op.store).ok


def test_an_erased_packet_cannot_be_opened(op: Operation) -> None:
    rid = _send(op)
    accept_referral(op.store, rid, org_id="ngo-a", actor="u", today=TODAY)
    purge_expired_packets(op.store, today=UNTIL + timedelta(days=1), actor=ACTOR)
    with pytest.raises(NotFoundError):
        open_referral(op.store, op.keys, rid, org_id="ngo-a", actor="u", today=TODAY)


def test_a_lapsed_referrals_recipient_is_still_told_of_a_withdrawal_and_an_erasure(
    op: Operation,
) -> None:
    """A referral that lapsed unanswered was in the recipient's inbox, its packet perhaps
    opened: a later withdrawal, and a later erasure, still tell the recipient."""
    lapsed = _send(op, "s1")
    purge_expired_packets(op.store, today=UNTIL + timedelta(days=1), actor=ACTOR)
    assert _row(op, lapsed).status == "lapsed"
    later = UNTIL + timedelta(days=2)
    effects = withdraw_consent_and_apply(
        op.store, subject="s1", purposes=[REFERRAL], actor=ACTOR, on=later, today=later
    )
    assert effects.stopped == ()
    told = notices_for(op.store, "ngo-a")
    assert [(n.referral_id, n.kind) for n in told] == [(lapsed, "consent-withdrawn")]
    erase_subject(op.store, "s1", actor=ACTOR, today=later)
    kinds = [(n.referral_id, n.kind) for n in notices_for(op.store, "ngo-a")]
    assert (lapsed, "erased") in kinds
