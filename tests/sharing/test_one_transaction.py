"""One transaction per change: a failure injected after the first write of a composite change
(the decision, the ledger entry) leaves nothing of it behind — no decision row, no audit
event, no referral, no ledger entry, no stopped share, no notice — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from safeshare.core.request import Circumstance, ShareRequest
from safeshare.core.vocabulary import Basis, CircumstanceKind, ConsentDecision
from safeshare.services import consent_effects, escalations, referral_store, referrals, rights
from safeshare.services.consent_effects import record_consent_and_apply, withdraw_consent_and_apply
from safeshare.services.escalations import decide_escalation
from safeshare.services.referral_feedback import send_feedback
from safeshare.services.referrals import accept_referral, create_referral
from safeshare.store.models import AuditEventRow, ConsentEntryRow, DecisionRow
from safeshare.store.models_sharing import (
    EscalationRow,
    InformTaskRow,
    ReferralRow,
    ShareNoticeRow,
)
from safeshare.store.unit import Store
from sharing_world import (
    ACTOR,
    INVESTIGATION,
    REFERRAL,
    TODAY,
    Operation,
    build,
    consent,
    referral_request,
)


class Injected(RuntimeError):
    """The failure injected after the first write."""


def _fail(*_args: Any, **_kwargs: Any) -> Any:
    raise Injected("injected after the first write")


@pytest.fixture
def op(store: Store, tmp_path: Path) -> Operation:
    return build(store, tmp_path / "org-keys")


def _counts(store: Store) -> dict[str, int]:
    tables = {
        "audit": AuditEventRow,
        "decisions": DecisionRow,
        "referrals": ReferralRow,
        "escalations": EscalationRow,
        "ledger": ConsentEntryRow,
        "notices": ShareNoticeRow,
        "tasks": InformTaskRow,
    }
    with store.reading() as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in tables.items()
        }


def _statuses(store: Store) -> dict[str, tuple[str, bool]]:
    with store.reading() as session:
        return {
            r.id: (r.status, r.ciphertext is not None) for r in session.scalars(select(ReferralRow))
        }


@pytest.fixture
def unchanged(op: Operation) -> Iterator[None]:
    """Asserts that the store is exactly as before the test's failing change."""
    before, states = _counts(op.store), _statuses(op.store)
    yield
    assert _counts(op.store) == before
    assert _statuses(op.store) == states


def _referral() -> ShareRequest:
    return referral_request(
        data_elements=("name", "phone", "service_needed"), label="", contact_method="phone"
    )


def _investigation() -> ShareRequest:
    return ShareRequest(
        sender="ngo-a",
        recipient="unhcr",
        purpose=INVESTIGATION,
        basis=Basis.MANDATE,
        subjects=("s5",),
        data_elements=("individual_number", "name"),
        circumstance=Circumstance(
            CircumstanceKind.INVESTIGATION, detail="Named staff member", individuals_named=True
        ),
        risk_assessment="risk-1",
    )


# --- referrals: the decision and the referral -------------------------------------------


def test_referral_failing_after_the_decision_leaves_nothing(
    op: Operation, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _counts(op.store)
    monkeypatch.setattr(referrals, "seal_into", _fail)
    with pytest.raises(Injected):
        create_referral(op.store, op.keys, _referral(), actor=ACTOR, today=TODAY)
    assert _counts(op.store) == before  # no decision row, no audit event, no referral


def test_referral_failing_after_the_referral_row_leaves_nothing(
    op: Operation, monkeypatch: pytest.MonkeyPatch, unchanged: None
) -> None:
    real = referral_store.seal_into

    def seal_then_fail(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)  # the packet and its audit events are written ...
        raise Injected("... and then the change fails")

    monkeypatch.setattr(referrals, "seal_into", seal_then_fail)
    with pytest.raises(Injected):
        create_referral(op.store, op.keys, _referral(), actor=ACTOR, today=TODAY)


def test_escalation_failing_after_the_decision_leaves_nothing(
    op: Operation, monkeypatch: pytest.MonkeyPatch, unchanged: None
) -> None:
    monkeypatch.setattr(referrals, "_escalate", _fail)
    with pytest.raises(Injected):
        create_referral(op.store, op.keys, _investigation(), actor=ACTOR, today=TODAY)


def test_the_same_referral_without_failure_commits_everything(op: Operation) -> None:
    before = _counts(op.store)
    out = create_referral(op.store, op.keys, _referral(), actor=ACTOR, today=TODAY)
    assert out.referral is not None
    after = _counts(op.store)
    assert after["decisions"] == before["decisions"] + 1
    assert after["referrals"] == before["referrals"] + 1
    assert after["audit"] >= before["audit"] + 2  # the decision and the send


def test_focal_point_approval_failing_after_the_redecision_leaves_it_pending(
    op: Operation, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = create_referral(op.store, op.keys, _investigation(), actor=ACTOR, today=TODAY)
    assert out.escalation_id is not None
    before, states = _counts(op.store), _statuses(op.store)
    monkeypatch.setattr(escalations, "seal_into", _fail)
    with pytest.raises(Injected):
        decide_escalation(
            op.store,
            op.keys,
            out.escalation_id,
            approve=True,
            reasons="Named person; assessed safe",
            actor="dpfp",
            today=TODAY,
        )
    assert _counts(op.store) == before  # the re-decision is not recorded either
    assert _statuses(op.store) == states
    with op.store.reading() as session:
        esc = session.get(EscalationRow, out.escalation_id)
        assert esc is not None
        assert esc.status == "pending"
        assert esc.reasons_enc is None


def test_feedback_failing_at_its_acceptance_leaves_nothing(
    op: Operation, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = create_referral(op.store, op.keys, _referral(), actor=ACTOR, today=TODAY)
    assert out.referral is not None
    accept_referral(op.store, out.referral.id, org_id="ngo-a", actor="u-ngo", today=TODAY)
    before, states = _counts(op.store), _statuses(op.store)
    monkeypatch.setattr("safeshare.services.referral_feedback.respond_in", _fail)
    with pytest.raises(Injected):
        send_feedback(
            op.store,
            op.keys,
            out.referral.id,
            org_id="ngo-a",
            purpose="legal-aid-feedback",
            values={"status_dates": "seen today"},
            actor="u-ngo",
            today=TODAY,
        )
    assert _counts(op.store) == before
    assert _statuses(op.store) == states


# --- consent: the withdrawal and its effects --------------------------------------------


def _pending_and_delivered(op: Operation) -> tuple[str, str]:
    """Two referrals about s1: one delivered (accepted), one still pending."""
    first = create_referral(op.store, op.keys, _referral(), actor=ACTOR, today=TODAY)
    assert first.referral is not None
    accept_referral(op.store, first.referral.id, org_id="ngo-a", actor="u-ngo", today=TODAY)
    second = create_referral(op.store, op.keys, _referral(), actor=ACTOR, today=TODAY)
    assert second.referral is not None
    return first.referral.id, second.referral.id


def test_withdrawal_failing_after_the_ledger_entry_leaves_nothing(
    op: Operation, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pending_and_delivered(op)
    before, states = _counts(op.store), _statuses(op.store)
    monkeypatch.setattr(consent_effects, "_apply", _fail)
    with pytest.raises(Injected):
        withdraw_consent_and_apply(op.store, subject="s1", purposes=[REFERRAL], actor=ACTOR)
    assert _counts(op.store) == before  # no ledger entry, no audit event
    assert _statuses(op.store) == states


def test_withdrawal_failing_after_stopping_a_share_leaves_it_pending(
    op: Operation, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivered, pending = _pending_and_delivered(op)
    before, states = _counts(op.store), _statuses(op.store)
    assert states[pending] == ("pending", True)
    monkeypatch.setattr(consent_effects, "notify_in", _fail)  # after the stop, at the notice
    with pytest.raises(Injected):
        record_consent_and_apply(
            op.store, consent("s1", [REFERRAL], decision=ConsentDecision.WITHDRAWN), actor=ACTOR
        )
    assert _counts(op.store) == before
    assert _statuses(op.store) == states  # the pending packet is still there, unstopped
    del delivered


def test_withdrawal_without_failure_stops_and_notifies_together(op: Operation) -> None:
    delivered, pending = _pending_and_delivered(op)
    before = _counts(op.store)
    effects = withdraw_consent_and_apply(op.store, subject="s1", purposes=[REFERRAL], actor=ACTOR)
    assert effects.stopped == (pending,)
    assert len(effects.notices) == 2  # the delivered one's holder, the stopped one's recipient
    after = _counts(op.store)
    assert after["ledger"] == before["ledger"] + 1
    assert after["notices"] == before["notices"] + 2
    assert _statuses(op.store)[pending] == ("stopped", False)
    assert _statuses(op.store)[delivered] == ("accepted", True)


# --- subject access: the decision and the answer ------------------------------------------


def test_subject_access_failing_after_the_decision_leaves_nothing(
    op: Operation, monkeypatch: pytest.MonkeyPatch, unchanged: None
) -> None:
    monkeypatch.setattr(rights, "SubjectAccessRow", _fail)
    with pytest.raises(Injected):
        rights.subject_access(
            op.store, requester="s1", records=["f1", "f2"], actor=ACTOR, today=TODAY, org="unhcr"
        )
