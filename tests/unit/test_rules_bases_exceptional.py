"""Legitimate bases other than consent and exceptional circumstances (Legitimate Bases;
Cross-cutting issues > Exceptional Circumstances): best interests for children with an
assessment; vital interests for a tangible and immediate danger with a risk assessment; the
mandate for investigations of particular individuals; safety and security for a serious
threat, decided case by case."""

from __future__ import annotations

from engine_builders import (
    adult,
    assert_denied,
    bia,
    child,
    codes,
    condition_codes,
    default_purposes,
    emergency,
    investigation,
    purpose,
    refuse,
    risk,
    security_threat,
    share,
    world,
)

from safeshare.core import Outcome, Selection, decide
from safeshare.core.vocabulary import Basis, BestInterestsOutcome, GeneralPurpose

INVESTIGATION = "fraud-investigation"
EVACUATION = "file-evacuation"


def exceptional_world(**kw: object):  # type: ignore[no-untyped-def]

    extra = [
        purpose(
            INVESTIGATION,
            general=GeneralPurpose.INVESTIGATION,
            benefit="Investigate alleged fraud by named persons of concern",
            services=("fraud investigation",),
            senders={"ngo-a"},
            recipients={"unhcr"},
            data_elements=("individual_number", "name", "services_provided"),
            contact_methods=(),
        ),
        purpose(
            EVACUATION,
            general=GeneralPurpose.FILE_EVACUATION,
            benefit="Move case files out of an office under attack",
            services=("file evacuation",),
            senders={"ngo-a"},
            recipients={"unhcr"},
            data_elements=("individual_number", "name", "case_file"),
            contact_methods=(),
        ),
    ]
    return world(purposes=[*default_purposes(), *extra], **kw)  # type: ignore[arg-type]


def test_best_interests_for_an_adult_is_not_applicable() -> None:
    d = decide(world(subjects=[adult()]), share(basis=Basis.BEST_INTERESTS))
    assert_denied(d, "basis-not-applicable")


def test_best_interests_for_a_child_with_bia_concluding_share() -> None:
    d = decide(world(subjects=[child()], assessments=[bia()]), share(basis=Basis.BEST_INTERESTS))
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    assert "inform-subject" in condition_codes(d)
    assert d.share_subjects == ("s1",)
    assert d.share_elements == ("name", "phone", "service_needed")


def test_best_interests_for_a_child_without_bia_denies() -> None:
    d = decide(world(subjects=[child()]), share(basis=Basis.BEST_INTERESTS))
    assert_denied(d, "best-interests-not-determined")


def test_best_interests_for_a_child_with_bia_against_sharing_denies() -> None:
    d = decide(
        world(subjects=[child()], assessments=[bia(outcome=BestInterestsOutcome.DO_NOT_SHARE)]),
        share(basis=Basis.BEST_INTERESTS),
    )
    assert_denied(d, "best-interests-not-determined")


def test_vital_interests_immediate_with_risk_assessment_allows_and_informs() -> None:
    d = decide(
        world(assessments=[risk()]),
        share(basis=Basis.VITAL_INTERESTS, circumstance=emergency(), risk_assessment="risk-1"),
    )
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    assert "inform-subject" in codes(d)
    assert "inform-subject" in condition_codes(d)
    assert d.share_subjects == ("s1",)
    assert d.share_elements == ("name", "phone", "service_needed")


def test_vital_interests_not_immediate_denies() -> None:
    d = decide(
        world(assessments=[risk()]),
        share(
            basis=Basis.VITAL_INTERESTS,
            circumstance=emergency(immediate=False, detail="Could be at risk in the future"),
            risk_assessment="risk-1",
        ),
    )
    assert_denied(d, "vital-interests-not-immediate")


def test_vital_interests_without_circumstance_denies() -> None:
    d = decide(world(), share(basis=Basis.VITAL_INTERESTS))
    assert_denied(d, "vital-interests-not-immediate")


def test_vital_interests_without_risk_assessment_denies() -> None:
    """ "DO conduct a risk assessment before sharing any information" and "Even in exceptional
    circumstances, however, a benefit and risk assessments should be done" (Exceptional
    Circumstances). The team's scenario x20 settles this as deny (the brief said escalate)."""
    d = decide(world(), share(basis=Basis.VITAL_INTERESTS, circumstance=emergency()))
    assert_denied(d, "risk-assessment-missing")


def test_vital_interests_over_a_refusal_escalates() -> None:
    d = decide(
        world(consents=[refuse()], assessments=[risk()]),
        share(basis=Basis.VITAL_INTERESTS, circumstance=emergency(), risk_assessment="risk-1"),
    )
    assert d.outcome is Outcome.ESCALATE
    assert "exceptional-review" in codes(d)


def test_vital_interests_purpose_not_in_protocol_escalates() -> None:
    """A genuine emergency turns "not agreed in advance" into a case-by-case review."""
    d = decide(
        world(assessments=[risk()]),
        share(
            "emergency-evacuation",
            basis=Basis.VITAL_INTERESTS,
            circumstance=emergency(),
            risk_assessment="risk-1",
        ),
    )
    assert d.outcome is Outcome.ESCALATE
    assert "purpose-not-in-protocol" in codes(d)


def test_mandate_for_a_referral_is_not_applicable() -> None:
    d = decide(world(assessments=[risk()]), share(basis=Basis.MANDATE, risk_assessment="risk-1"))
    assert_denied(d, "basis-not-applicable")


def test_mandate_blanket_investigation_denies() -> None:
    w = exceptional_world(cases=[])
    d = decide(
        w,
        share(
            INVESTIGATION,
            sender="ngo-a",
            recipient="unhcr",
            basis=Basis.MANDATE,
            select=Selection(owner="ngo-a"),
            data_elements=["individual_number", "name"],
            circumstance=investigation(individuals_named=False),
        ),
    )
    assert_denied(d, "mandate-blanket")


def test_mandate_investigation_not_linked_to_individuals_denies() -> None:
    d = decide(
        exceptional_world(assessments=[risk()]),
        share(
            INVESTIGATION,
            sender="ngo-a",
            recipient="unhcr",
            basis=Basis.MANDATE,
            data_elements=["individual_number", "name"],
            circumstance=investigation(individuals_named=False),
            risk_assessment="risk-1",
        ),
    )
    assert_denied(d, "mandate-blanket")


def test_mandate_investigation_of_named_individuals_escalates() -> None:
    d = decide(
        exceptional_world(assessments=[risk()]),
        share(
            INVESTIGATION,
            sender="ngo-a",
            recipient="unhcr",
            basis=Basis.MANDATE,
            data_elements=["individual_number", "name"],
            circumstance=investigation(),
            risk_assessment="risk-1",
        ),
    )
    assert d.outcome is Outcome.ESCALATE
    assert "exceptional-review" in codes(d)
    assert d.share_subjects == ("s1",)


def test_safety_and_security_with_a_security_threat_escalates() -> None:
    d = decide(
        exceptional_world(assessments=[risk()]),
        share(
            EVACUATION,
            sender="ngo-a",
            recipient="unhcr",
            basis=Basis.SAFETY_AND_SECURITY,
            data_elements=["individual_number", "name"],
            circumstance=security_threat(),
            risk_assessment="risk-1",
        ),
    )
    assert d.outcome is Outcome.ESCALATE
    assert "exceptional-review" in codes(d)


def test_safety_and_security_without_a_threat_is_not_applicable() -> None:
    d = decide(
        exceptional_world(assessments=[risk()]),
        share(
            EVACUATION,
            sender="ngo-a",
            recipient="unhcr",
            basis=Basis.SAFETY_AND_SECURITY,
            data_elements=["individual_number", "name"],
            risk_assessment="risk-1",
        ),
    )
    assert_denied(d, "basis-not-applicable")
