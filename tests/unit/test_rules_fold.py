"""Folding several subjects (FORMAT.md, "The decision"): allow where all allow, deny where
all deny, otherwise the strictest of those who may go with the condition only-subjects."""

from __future__ import annotations

from engine_builders import (
    adult,
    assert_denied,
    codes,
    condition_codes,
    emergency,
    grant,
    refuse,
    risk,
    share,
    subject_outcome,
    world,
)

from safeshare.core import Outcome, decide
from safeshare.core.vocabulary import Basis

THREE = [adult("s1"), adult("s2"), adult("s3")]


def test_all_allow_allows() -> None:
    d = decide(
        world(subjects=THREE, consents=[grant("s1"), grant("s2"), grant("s3")]),
        share(subjects=["s1", "s2", "s3"]),
    )
    assert d.outcome is Outcome.ALLOW
    assert d.share_subjects == ("s1", "s2", "s3")
    assert "only-subjects" not in condition_codes(d)


def test_all_deny_denies() -> None:
    d = decide(world(subjects=THREE, consents=[refuse("s2")]), share(subjects=["s1", "s2", "s3"]))
    assert_denied(d, "consent-missing", "consent-refused")
    assert {s.outcome for s in d.subjects} == {Outcome.DENY}


def test_some_allowed_only_subjects() -> None:
    d = decide(
        world(subjects=THREE, consents=[grant("s2"), refuse("s3")]),
        share(subjects=["s1", "s2", "s3"]),
    )
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    only = d.condition("only-subjects")
    assert only is not None
    assert only.subjects == ("s2",)
    assert d.share_subjects == ("s2",)
    assert d.share_elements == ("name", "phone", "service_needed")
    assert subject_outcome(d, "s1") is Outcome.DENY
    assert subject_outcome(d, "s2") is Outcome.ALLOW
    assert subject_outcome(d, "s3") is Outcome.DENY
    assert {"consent-missing", "consent-refused"} <= codes(d)


def test_vital_interests_escalate_and_allow_folds_to_escalate() -> None:
    """s1 refused earlier (a person must weigh overriding that): escalate; s2: allowed with
    the condition inform-subject. Nobody is denied, so no only-subjects."""
    d = decide(
        world(subjects=[adult("s1"), adult("s2")], consents=[refuse("s1")], assessments=[risk()]),
        share(
            subjects=["s1", "s2"],
            basis=Basis.VITAL_INTERESTS,
            circumstance=emergency(),
            risk_assessment="risk-1",
        ),
    )
    assert subject_outcome(d, "s1") is Outcome.ESCALATE
    assert subject_outcome(d, "s2") is Outcome.ALLOW_WITH_CONDITIONS
    assert d.outcome is Outcome.ESCALATE
    assert d.share_subjects == ("s1", "s2")
    assert "only-subjects" not in condition_codes(d)


def test_escalate_plus_deny_is_escalate_with_only_subjects() -> None:
    """The recipient was assessed unsafe and no alternative exists (escalate for all); s2
    refused (deny). The top level is the strictest of those who may go: escalate, for s1
    only."""
    d = decide(
        world(
            subjects=[adult("s1"), adult("s2")],
            consents=[grant("s1"), refuse("s2")],
            assessments=[risk(recipient_safe=False)],
        ),
        share(subjects=["s1", "s2"], risk_assessment="risk-1", alternative_available=False),
    )
    assert subject_outcome(d, "s1") is Outcome.ESCALATE
    assert subject_outcome(d, "s2") is Outcome.DENY
    assert d.outcome is Outcome.ESCALATE
    assert {"recipient-not-safe", "consent-refused"} <= codes(d)
    only = d.condition("only-subjects")
    assert only is not None
    assert only.subjects == ("s1",)
    assert d.share_subjects == ("s1",)
    assert d.share_elements == ("name", "phone", "service_needed")


def test_subjects_with_different_consented_elements_share_the_common_ones() -> None:
    d = decide(
        world(
            subjects=[adult("s1"), adult("s2")],
            consents=[grant("s1"), grant("s2", data_elements=["name", "phone"])],
        ),
        share(subjects=["s1", "s2"]),
    )
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    assert d.share_subjects == ("s1", "s2")
    assert set(d.share_elements) <= {"name", "phone"}
    assert "service_needed" not in d.share_elements
