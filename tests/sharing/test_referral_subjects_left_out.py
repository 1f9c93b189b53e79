"""A referral's persons are those its packet holds: a person a condition leaves out of the
packet (``only-subjects``) is removed from the referral when it is sealed, and the others
stay. The engine folds that condition into its share list today, so the decision is narrowed
here by hand, as a later rule (or an approved escalation sealed afterwards) may give it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from safeshare.core.decision import Condition, Decision
from safeshare.core.request import ShareRequest
from safeshare.services import decisions
from safeshare.services.referral_store import subjects_of
from safeshare.services.referrals import create_referral, open_referral
from safeshare.store.unit import Store
from sharing_world import ACTOR, TODAY, Operation, build, referral_request


@pytest.fixture
def op(store: Store, tmp_path: Path) -> Operation:
    return build(store, tmp_path / "org-keys")


def _two_persons() -> ShareRequest:
    elements = ("name", "phone", "service_needed")
    return referral_request(subjects=("s1", "s2"), data_elements=elements)


def test_a_person_left_out_of_the_packet_is_not_the_referrals(
    op: Operation, monkeypatch: pytest.MonkeyPatch
) -> None:
    decide = decisions.core.decide

    def only_s2(world: object, request: object) -> Decision:
        decided: Decision = decide(world, request)  # type: ignore[arg-type]
        only = Condition("only-subjects", "only s2 may be shared", "4.2", subjects=("s2",))
        return dataclasses.replace(decided, conditions=(*decided.conditions, only))

    monkeypatch.setattr(decisions.core, "decide", only_s2)
    out = create_referral(op.store, op.keys, _two_persons(), actor=ACTOR, today=TODAY)
    monkeypatch.undo()

    assert out.referral is not None
    assert out.decision.share_subjects == ("s1", "s2")  # the decision named both ...
    assert out.referral.subjects == ("s2",)  # ... the referral holds only the packet's
    with op.store.reading() as session:
        assert subjects_of(session, out.referral.id) == ("s2",)
    payload = open_referral(
        op.store, op.keys, out.referral.id, org_id="ngo-a", actor="u-ngo", today=TODAY
    )
    assert [s.subject for s in payload.subjects] == ["s2"]


def test_a_referral_whose_packet_holds_everyone_keeps_everyone(op: Operation) -> None:
    out = create_referral(op.store, op.keys, _two_persons(), actor=ACTOR, today=TODAY)
    assert out.referral is not None
    assert out.referral.subjects == ("s1", "s2")
    with op.store.reading() as session:
        assert subjects_of(session, out.referral.id) == ("s1", "s2")
