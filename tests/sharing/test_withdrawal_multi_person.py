"""A withdrawal by one person on a referral about several: the packet is one sealed whole
that cannot be rebuilt without her, so the whole referral stops (nothing of hers goes), the
recipient is told not to act on the packet it may have seen, and the sender is told to
refer the others again; a new referral for the others is decided afresh and goes."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeshare.core.request import ShareRequest
from safeshare.core.vocabulary import Basis
from safeshare.services.common import NotFoundError
from safeshare.services.consent_effects import notices_for, withdraw_consent_and_apply
from safeshare.services.referrals import create_referral, get_referral, inbox, open_referral
from safeshare.store.unit import Store
from sharing_world import ACTOR, REFERRAL, TODAY, Operation, build


@pytest.fixture
def op(store: Store, tmp_path: Path) -> Operation:
    return build(store, tmp_path / "org-keys")


def _referral(*subjects: str) -> ShareRequest:
    return ShareRequest(
        sender="unhcr",
        recipient="ngo-a",
        purpose=REFERRAL,
        basis=Basis.CONSENT,
        subjects=subjects,
        data_elements=("name", "phone", "service_needed"),
        contact_method="phone",
    )


def test_one_withdrawal_stops_a_multi_person_referral_and_notifies(op: Operation) -> None:
    out = create_referral(op.store, op.keys, _referral("s1", "s2"), actor=ACTOR, today=TODAY)
    assert out.referral is not None
    ref = out.referral
    assert ref.status == "pending"
    assert set(ref.subjects) == {"s1", "s2"}

    effects = withdraw_consent_and_apply(
        op.store, subject="s1", purposes=[REFERRAL], actor=ACTOR, on=TODAY
    )
    assert effects.stopped == (ref.id,)
    assert len(effects.notices) == 2

    stopped = get_referral(op.store, ref.id, org_id="unhcr", today=TODAY)
    assert stopped.status == "stopped"
    # The recipient can no longer open it, nor see it in its inbox ...
    with pytest.raises(NotFoundError):
        open_referral(op.store, op.keys, ref.id, org_id="ngo-a", actor="u-ngo", today=TODAY)
    assert ref.id not in {r.id for r in inbox(op.store, "ngo-a", today=TODAY)}
    # ... and is told not to act on what it may have seen; the sender is told to resend.
    (to_recipient,) = notices_for(op.store, "ngo-a")
    assert (to_recipient.kind, to_recipient.referral_id) == ("referral-stopped", ref.id)
    (to_sender,) = notices_for(op.store, "unhcr")
    assert (to_sender.kind, to_sender.referral_id, to_sender.subject_id) == (
        "resend-others",
        ref.id,
        "s1",
    )

    # The others are referred again, decided afresh: s2 goes, s1 is refused.
    again = create_referral(op.store, op.keys, _referral("s2"), actor=ACTOR, today=TODAY)
    assert again.referral is not None
    assert again.referral.subjects == ("s2",)
    payload = open_referral(
        op.store, op.keys, again.referral.id, org_id="ngo-a", actor="u-ngo", today=TODAY
    )
    assert [s.subject for s in payload.subjects] == ["s2"]
    refused = create_referral(op.store, op.keys, _referral("s1"), actor=ACTOR, today=TODAY)
    assert refused.referral is None
    assert "consent-withdrawn" in refused.decision.codes


def test_a_single_person_referral_stops_without_a_resend_notice(op: Operation) -> None:
    """No one else to refer again: no notice to the sender; the recipient, whose inbox held
    the packet, is told (referral-stopped)."""
    out = create_referral(op.store, op.keys, _referral("s1"), actor=ACTOR, today=TODAY)
    assert out.referral is not None
    effects = withdraw_consent_and_apply(
        op.store, subject="s1", purposes=[REFERRAL], actor=ACTOR, on=TODAY
    )
    assert effects.stopped == (out.referral.id,)
    (to_recipient,) = notices_for(op.store, "ngo-a")
    assert (to_recipient.kind, to_recipient.referral_id) == ("referral-stopped", out.referral.id)
    assert effects.notices == (to_recipient.id,)
    assert notices_for(op.store, "unhcr") == []
