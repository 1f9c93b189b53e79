"""Referrals end to end through the services, on SQLite (and PostgreSQL when configured)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from safeshare.core.request import Circumstance, ShareRequest
from safeshare.core.vocabulary import Basis, CircumstanceKind
from safeshare.core.world import Record
from safeshare.crypto.packets import PacketRecipientError, open_packet
from safeshare.services import audit as audit_service
from safeshare.services.common import NotFoundError
from safeshare.services.consent_effects import (
    notices_for,
    reverification_queue,
    withdraw_consent_and_apply,
)
from safeshare.services.escalations import (
    complete_inform_task,
    decide_escalation,
    escalation_queue,
    inform_tasks,
)
from safeshare.services.keys import rotate_key_file
from safeshare.services.referral_feedback import send_feedback
from safeshare.services.referral_store import stored_packet
from safeshare.services.referrals import (
    accept_referral,
    cases_shared_with,
    close_referral,
    create_referral,
    inbox,
    open_referral,
    outgoing,
    reject_referral,
    shared_to,
    shared_with,
)
from safeshare.services.registry import add_record
from safeshare.services.rights import ErasureRefusedError, erase_subject, subject_access
from safeshare.store.models import CaseRow, SubjectRow
from safeshare.store.models_sharing import CaseElementRow, ReferralRow, SubjectKeyRow
from safeshare.store.unit import Store
from sharing_world import (
    ACTOR,
    ARCHIVING,
    EMERGENCY,
    FEEDBACK,
    INVESTIGATION,
    REFERRAL,
    TODAY,
    TRANSFER,
    Operation,
    build,
    referral_request,
)


@pytest.fixture
def op(store: Store, tmp_path: Path) -> Operation:
    return build(store, tmp_path / "org-keys")


_referral = referral_request


def test_referral_applies_conditions_and_stores_no_plaintext(op: Operation) -> None:
    out = create_referral(op.store, op.keys, _referral(), actor=ACTOR, today=TODAY)
    assert out.decision.outcome.value == "allow-with-conditions"
    assert out.referral is not None
    ref = out.referral
    assert ref.status == "pending"
    # a random id (128 bits), not derived from the case number or the subject
    assert re.fullmatch(r"ref-[0-9a-f]{32}", ref.id)
    assert ref.contact_method == "phone"  # safe contact, not a home visit
    assert "incident_description" not in ref.elements  # dropped
    payload = open_referral(op.store, op.keys, ref.id, org_id="ngo-a", actor="u-ngo", today=TODAY)
    assert payload.label == "High priority referral"
    (entry,) = payload.subjects
    assert entry.as_dict() == {
        "name": "Name of s1",
        "phone": "+000-s1",
        "service_needed": "legal counselling",
    }
    assert payload.referral_id == ref.id
    # no plaintext of personal data anywhere in the referral row or case elements
    with op.store.reading() as session:
        row = session.get(ReferralRow, ref.id)
        assert row is not None
        blob = (
            b"".join(bytes(v) for v in (row.ciphertext, row.signature) if v)
            + (row.header or "").encode()
        )
        assert b"Name of s1" not in blob
        assert b"GBV" not in blob
        for el in session.scalars(select(CaseElementRow)):
            assert b"Name of" not in bytes(el.value_enc)
    # only the recipient opens it; the sender and others get not-found
    for org in ("unhcr", "ngo-b"):
        with pytest.raises(NotFoundError):
            open_referral(op.store, op.keys, ref.id, org_id=org, actor="x", today=TODAY)
    with op.store.reading() as session:
        packet = stored_packet(session.get(ReferralRow, ref.id))  # type: ignore[arg-type]
    ngo_b, unhcr = op.keys.load("ngo-b"), op.keys.public("unhcr")
    with pytest.raises(PacketRecipientError):
        open_packet(packet, recipient=ngo_b, sender=unhcr)


def test_deny_stores_nothing_and_consent_missing(op: Operation) -> None:
    out = create_referral(op.store, op.keys, _referral(subjects=("s3",)), actor=ACTOR, today=TODAY)
    assert out.decision.outcome.value == "deny"
    assert out.referral is None
    assert outgoing(op.store, "unhcr") == []


def test_accept_retention_and_shared_to(op: Operation) -> None:
    ref = create_referral(op.store, op.keys, _referral(), actor=ACTOR, today=TODAY).referral
    assert ref is not None
    assert [r.id for r in inbox(op.store, "ngo-a", today=TODAY)] == [ref.id]
    assert not shared_to(op.store, "ngo-a", "c1", today=TODAY)
    accepted = accept_referral(op.store, ref.id, org_id="ngo-a", actor="u", today=TODAY)
    assert accepted.access_until == date(2026, 9, 1)
    assert shared_to(op.store, "ngo-a", "c1", today=TODAY)
    assert shared_to(op.store, "ngo-a", "s1", today=date(2026, 9, 1))
    grant = shared_with(op.store, org="ngo-a", case="c1", today=TODAY)
    assert grant is not None
    assert grant.until == date(2026, 9, 1)
    assert "name" in grant.data_elements
    assert cases_shared_with(op.store, org="ngo-a", today=TODAY) == ["c1"]
    assert not shared_to(op.store, "ngo-b", "c1", today=TODAY)
    later = date(2026, 9, 2)
    assert not shared_to(op.store, "ngo-a", "c1", today=later)
    assert inbox(op.store, "ngo-a", today=later) == []
    with pytest.raises(NotFoundError):
        open_referral(op.store, op.keys, ref.id, org_id="ngo-a", actor="u", today=later)
    closed = close_referral(op.store, ref.id, org_id="unhcr", actor=ACTOR, today=TODAY)
    assert closed.status == "closed"


def test_reject_ends_access(op: Operation) -> None:
    ref = create_referral(op.store, op.keys, _referral(), actor=ACTOR, today=TODAY).referral
    assert ref is not None
    rejected = reject_referral(
        op.store, ref.id, org_id="ngo-a", actor="u", today=TODAY, reason="no-capacity"
    )
    assert rejected.status == "rejected"
    assert inbox(op.store, "ngo-a", today=TODAY) == []
    with pytest.raises(NotFoundError):
        accept_referral(op.store, ref.id, org_id="ngo-a", actor="u", today=TODAY)


def test_feedback_process_always_service_only_with_consent(op: Operation) -> None:
    # s2 consented to the referral but not to feedback: only process feedback goes back
    ref = create_referral(
        op.store, op.keys, _referral(subjects=("s2",)), actor=ACTOR, today=TODAY
    ).referral
    assert ref is not None
    accept_referral(op.store, ref.id, org_id="ngo-a", actor="u", today=TODAY)
    out = send_feedback(
        op.store,
        op.keys,
        ref.id,
        org_id="ngo-a",
        purpose=FEEDBACK,
        values={
            "status_dates": "accepted 2026-03-01",
            "services_provided": "court accompaniment",
            "service_outcome": "won",
        },
        actor="u",
        today=TODAY,
    )
    assert out.referral is not None
    assert out.referral.answers == ref.id
    payload = open_referral(
        op.store, op.keys, out.referral.id, org_id="unhcr", actor=ACTOR, today=TODAY
    )
    (entry,) = payload.subjects
    assert entry.as_dict() == {
        "referral_id": ref.id,
        "referral_status": "accepted",
        "status_dates": "accepted 2026-03-01",
    }
    assert payload.answers == ref.id
    # s1 consented to feedback: agreed service feedback goes too, unagreed does not
    ref1 = create_referral(op.store, op.keys, _referral(), actor=ACTOR, today=TODAY).referral
    assert ref1 is not None
    accept_referral(op.store, ref1.id, org_id="ngo-a", actor="u", today=TODAY)
    out1 = send_feedback(
        op.store,
        op.keys,
        ref1.id,
        org_id="ngo-a",
        purpose=FEEDBACK,
        values={"services_provided": "counselling", "service_outcome": "x"},
        actor="u",
        today=TODAY,
    )
    assert out1.referral is not None
    p1 = open_referral(
        op.store, op.keys, out1.referral.id, org_id="unhcr", actor=ACTOR, today=TODAY
    )
    assert p1.subjects[0].as_dict()["services_provided"] == "counselling"
    assert "service_outcome" not in p1.subjects[0].as_dict()
    # only the recipient of a referral gives feedback on it
    with pytest.raises(NotFoundError):
        send_feedback(
            op.store,
            op.keys,
            ref1.id,
            org_id="ngo-b",
            purpose=FEEDBACK,
            values={},
            actor="u",
            today=TODAY,
        )


def test_vital_interests_share_creates_inform_task(op: Operation) -> None:
    request = ShareRequest(
        sender="unhcr",
        recipient="mh-clinic",
        purpose=EMERGENCY,
        basis=Basis.VITAL_INTERESTS,
        subjects=("s3",),
        data_elements=("name", "phone", "location", "mental_health_status"),
        risk_assessment="risk-1",
        circumstance=Circumstance(
            CircumstanceKind.EMERGENCY, immediate=True, detail="Plan to end her life tonight"
        ),
    )
    out = create_referral(op.store, op.keys, request, actor=ACTOR, today=TODAY)
    assert out.referral is not None
    assert out.referral.status == "pending"
    assert out.referral.without_consent
    (task,) = inform_tasks(op.store, "unhcr")
    assert task.subject_id == "s3"
    complete_inform_task(op.store, task.id, org_id="unhcr", actor=ACTOR)
    assert inform_tasks(op.store, "unhcr") == []
    with pytest.raises(NotFoundError):
        complete_inform_task(op.store, task.id, org_id="ngo-a", actor=ACTOR)


def _investigation() -> ShareRequest:
    return ShareRequest(
        sender="ngo-a",
        recipient="unhcr",
        purpose=INVESTIGATION,
        basis=Basis.MANDATE,
        subjects=("s5",),
        data_elements=("individual_number", "name", "incident_description"),
        risk_assessment="risk-1",
        circumstance=Circumstance(
            CircumstanceKind.INVESTIGATION,
            immediate=True,
            detail="Complaint against a named worker",
            individuals_named=True,
        ),
    )


def test_escalation_queue_approve_and_refuse(op: Operation) -> None:
    out = create_referral(op.store, op.keys, _investigation(), actor="u-ngo", today=TODAY)
    assert out.decision.outcome.value == "escalate"
    assert out.referral is not None
    assert out.referral.status == "escalated"
    (item,) = escalation_queue(op.store, actor="dpfp", org="ngo-a")
    assert escalation_queue(op.store, actor="other-dpfp", org="unhcr") == []  # not its share
    assert item.detail == "Complaint against a named worker"
    assert item.recipient_safe is True
    assert item.benefits_outweigh_risks is True
    assert "exceptional-review" in item.reason_codes
    with pytest.raises(NotFoundError):  # nothing to open before approval
        open_referral(op.store, op.keys, out.referral.id, org_id="unhcr", actor="u", today=TODAY)
    decided = decide_escalation(
        op.store,
        op.keys,
        item.id,
        approve=True,
        reasons="Named individual, risk assessed",
        actor="dpfp",
        today=TODAY,
    )
    assert decided.status == "approved"
    assert decided.reasons == "Named individual, risk assessed"
    payload = open_referral(
        op.store, op.keys, out.referral.id, org_id="unhcr", actor="u", today=TODAY
    )
    assert payload.subjects[0].as_dict()["individual_number"] == "IND-s5"
    assert [t.subject_id for t in inform_tasks(op.store, "ngo-a")] == ["s5"]
    assert escalation_queue(op.store, actor="dpfp", org="ngo-a") == []
    out2 = create_referral(op.store, op.keys, _investigation(), actor="u-ngo", today=TODAY)
    assert out2.escalation_id is not None
    refused = decide_escalation(
        op.store,
        op.keys,
        out2.escalation_id,
        approve=False,
        reasons="Alternative available",
        actor="dpfp",
        today=TODAY,
    )
    assert refused.status == "refused"
    with op.store.reading() as session:
        row = session.get(ReferralRow, out2.referral.id if out2.referral else "")
        assert row is not None
        assert row.status == "refused"
        assert row.ciphertext is None


def test_withdrawal_stops_pending_notifies_delivered_blocks_new(op: Operation) -> None:
    pending = create_referral(op.store, op.keys, _referral(), actor=ACTOR, today=TODAY).referral
    delivered = create_referral(op.store, op.keys, _referral(), actor=ACTOR, today=TODAY).referral
    assert pending is not None
    assert delivered is not None
    accept_referral(op.store, delivered.id, org_id="ngo-a", actor="u", today=TODAY)
    effects = withdraw_consent_and_apply(
        op.store, subject="s1", purposes=[REFERRAL], actor=ACTOR, on=TODAY
    )
    assert effects.stopped == (pending.id,)
    notices = {n.referral_id: n.kind for n in notices_for(op.store, "ngo-a")}
    assert notices == {delivered.id: "consent-withdrawn", pending.id: "referral-stopped"}
    assert [r.id for r in inbox(op.store, "ngo-a", today=TODAY)] == [delivered.id]
    with pytest.raises(NotFoundError):
        open_referral(op.store, op.keys, pending.id, org_id="ngo-a", actor="u", today=TODAY)
    again = create_referral(op.store, op.keys, _referral(), actor=ACTOR, today=TODAY)
    assert again.decision.outcome.value == "deny"
    assert "consent-withdrawn" in again.decision.codes


def test_reverification_queue(op: Operation) -> None:
    queue = reverification_queue(op.store, today=TODAY)
    assert [(r.subject_id, r.purpose) for r in queue] == [("s2", "old-purpose")]
    later = reverification_queue(op.store, today=date(2027, 3, 1))
    assert ("s1", REFERRAL) in {(r.subject_id, r.purpose) for r in later}
    assert reverification_queue(op.store, today=TODAY, org_id="ngo-a") == []


def _closed(purpose: str) -> ShareRequest:
    return ShareRequest(
        sender="ngo-a",
        recipient="unhcr",
        purpose=purpose,
        basis=Basis.CONSENT,
        subjects=("s4",),
        data_elements=("name", "individual_number", "case_summary"),
    )


def test_closed_case_transfer_and_archiving(op: Operation) -> None:
    transfer = create_referral(op.store, op.keys, _closed(TRANSFER), actor="u", today=TODAY)
    assert transfer.referral is not None
    assert transfer.referral.kind == "transfer"
    accepted = accept_referral(
        op.store, transfer.referral.id, org_id="unhcr", actor="u", today=TODAY
    )
    assert accepted.open_ended
    assert shared_to(op.store, "unhcr", "c4", today=TODAY + timedelta(days=3000))
    archive = create_referral(op.store, op.keys, _closed(ARCHIVING), actor="u", today=TODAY)
    assert archive.referral is not None
    assert archive.referral.kind == "archiving"
    accept_referral(op.store, archive.referral.id, org_id="unhcr", actor="u", today=TODAY)
    with pytest.raises(ErasureRefusedError) as refused:
        erase_subject(op.store, "s4", actor=ACTOR, today=TODAY)
    assert refused.value.codes == ("erasure-archive-permanent",)


def test_subject_access_withholds_others_records(op: Operation) -> None:
    answer = subject_access(
        op.store,
        requester="s1",
        records=["f1", "f2", "f3", "nope"],
        actor=ACTOR,
        today=TODAY,
        org="unhcr",
    )
    assert [(r.id, r.content) for r in answer.released] == [("f1", "Her own file")]
    # Another person's record; hers held by NGO A (it answers for it); one that is not.
    assert answer.withheld == ("f2", "f3", "nope")
    assert answer.outcome == "allow-with-conditions"
    at_ngo_a = subject_access(
        op.store, requester="s1", records=["f1", "f3"], actor=ACTOR, today=TODAY, org="ngo-a"
    )
    assert [(r.id, r.content) for r in at_ngo_a.released] == [("f3", "Her file at NGO A")]


def test_subject_access_withholds_a_record_whose_holder_is_not_known(op: Operation) -> None:
    add_record(op.store, Record("f9", "s1", "gbv"), actor=ACTOR, content="Whose file?")
    answer = subject_access(
        op.store, requester="s1", records=["f9"], actor=ACTOR, today=TODAY, org="unhcr"
    )
    assert answer.released == ()
    assert answer.withheld == ("f9",)


def test_erasure_crypto_shreds_and_audit_verifies(op: Operation) -> None:
    ref = create_referral(op.store, op.keys, _referral(), actor=ACTOR, today=TODAY).referral
    assert ref is not None
    accept_referral(op.store, ref.id, org_id="ngo-a", actor="u", today=TODAY)
    report = erase_subject(op.store, "s1", actor=ACTOR, today=TODAY)
    assert report.elements_destroyed == 8
    assert report.packets_destroyed == (ref.id,)
    assert len(report.notices) == 1
    with op.store.reading() as session:
        key = session.get(SubjectKeyRow, "s1")
        assert key is not None
        assert key.key_enc is None
        subject = session.get(SubjectRow, "s1")
        assert subject is not None
        assert subject.name_enc is None
        case = session.get(CaseRow, "c1")
        assert case is not None
        assert case.details_enc is None
        assert not session.scalars(
            select(CaseElementRow).where(CaseElementRow.case_id == "c1")
        ).all()
    assert not shared_to(op.store, "ngo-a", "c1", today=TODAY)
    assert [n.kind for n in notices_for(op.store, "ngo-a")] == ["erased"]
    result = audit_service.verify_audit(op.store)
    assert result.ok, result
    # new shares of the erased person carry nothing
    again = create_referral(
        op.store, op.keys, _referral(subjects=("s2",)), actor=ACTOR, today=TODAY
    )
    assert again.referral is not None


def test_investigation_hold_refuses_erasure(op: Operation) -> None:
    out = create_referral(op.store, op.keys, _investigation(), actor="u-ngo", today=TODAY)
    assert out.referral is not None
    with pytest.raises(ErasureRefusedError):
        erase_subject(op.store, "s5", actor=ACTOR, today=TODAY)


def test_key_rotation_covers_subject_keys_and_sealed_sharing_fields(op: Operation) -> None:
    out = create_referral(op.store, op.keys, _investigation(), actor="u-ngo", today=TODAY)
    assert out.escalation_id is not None
    report = rotate_key_file(op.store, actor=ACTOR)
    assert report.by_column["subject_keys.key_enc"] == 5
    assert report.by_column["escalations.detail_enc"] == 1
    # values encrypted under the subject keys still open after rotation
    ref = create_referral(op.store, op.keys, _referral(), actor=ACTOR, today=TODAY).referral
    assert ref is not None
    payload = open_referral(op.store, op.keys, ref.id, org_id="ngo-a", actor="u", today=TODAY)
    assert payload.subjects[0].as_dict()["name"] == "Name of s1"
