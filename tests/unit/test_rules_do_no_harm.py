"""Do no harm (Principles > Do No Harm; Protection Sensitive Processing; Exceptional
Circumstances; Data Security): a safe recipient with a passed data protection assessment,
benefits outweighing risks, a neutral label and a safe contact method."""

from __future__ import annotations

import pytest
from engine_builders import (
    adult,
    assert_denied,
    codes,
    condition_codes,
    default_organisations,
    grant,
    partner,
    referral_purpose,
    risk,
    share,
    with_purpose,
    world,
)

from safeshare.core import Outcome, decide
from safeshare.core.vocabulary import DPAssessment


def orgs_with_ngo_a(**kw: object):  # type: ignore[no-untyped-def]
    return [o for o in default_organisations() if o.id != "ngo-a"] + [partner("ngo-a", **kw)]


def test_risks_outweigh_benefits_denies() -> None:
    d = decide(
        world(consents=[grant()], assessments=[risk(benefits_outweigh_risks=False)]),
        share(risk_assessment="risk-1"),
    )
    assert_denied(d, "risks-outweigh-benefits")


def test_recipient_not_safe_with_an_alternative_denies() -> None:
    d = decide(
        world(consents=[grant()], assessments=[risk(recipient_safe=False)]),
        share(risk_assessment="risk-1", alternative_available=True),
    )
    assert_denied(d, "recipient-not-safe")


def test_recipient_not_safe_without_an_alternative_escalates() -> None:
    d = decide(
        world(consents=[grant()], assessments=[risk(recipient_safe=False)]),
        share(risk_assessment="risk-1", alternative_available=False),
    )
    assert d.outcome is Outcome.ESCALATE
    assert "recipient-not-safe" in codes(d)


def test_refoulement_risk_with_an_alternative_denies() -> None:
    d = decide(
        world(consents=[grant()], organisations=orgs_with_ngo_a(refoulement_risk=True)),
        share(alternative_available=True),
    )
    assert_denied(d, "recipient-not-safe")


def test_refoulement_risk_without_an_alternative_escalates() -> None:
    d = decide(
        world(consents=[grant()], organisations=orgs_with_ngo_a(refoulement_risk=True)),
        share(alternative_available=False),
    )
    assert d.outcome is Outcome.ESCALATE
    assert "recipient-not-safe" in codes(d)


def test_anonymity_only_recipient_denies() -> None:
    d = decide(
        world(consents=[grant()], organisations=orgs_with_ngo_a(anonymity_only=True)), share()
    )
    assert_denied(d, "recipient-anonymity-only")


def test_failed_dp_assessment_denies() -> None:
    d = decide(
        world(consents=[grant()], organisations=orgs_with_ngo_a(dp_assessment=DPAssessment.FAILED)),
        share(),
    )
    assert_denied(d, "recipient-assessment-failed")


def test_pending_dp_assessment_requires_completing_it() -> None:
    d = decide(
        world(
            consents=[grant()], organisations=orgs_with_ngo_a(dp_assessment=DPAssessment.PENDING)
        ),
        share(),
    )
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    assert "complete-dp-assessment" in condition_codes(d)
    assert d.share_elements == ("name", "phone", "service_needed")


@pytest.mark.parametrize(
    "label",
    [
        "GBV Referral",
        "SGBV case - urgent",
        "Survivor of sexual violence",
        "Referral: rape survivor",
        "Torture victim follow-up",
        "LGBTI protection case",
        "Suicidal client",
        "Trafficking victim",
    ],
)
def test_stigmatising_label_needs_a_neutral_one(label: str) -> None:
    d = decide(world(consents=[grant()]), share(label=label))
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    assert "stigmatising-label" in codes(d)
    assert "neutral-label" in condition_codes(d)
    assert d.share_elements == ("name", "phone", "service_needed")


@pytest.mark.parametrize("label", ["High priority referral", "Urgent cash referral", ""])
def test_neutral_label_passes(label: str) -> None:
    d = decide(world(consents=[grant()]), share(label=label))
    assert d.outcome is Outcome.ALLOW
    assert "stigmatising-label" not in codes(d)


def test_home_visit_to_a_gbv_survivor_needs_safe_contact() -> None:

    w = with_purpose(
        world(subjects=[adult(categories=["gbv"])], consents=[grant()]),
        referral_purpose(contact_methods=("phone", "home-visit")),
    )
    d = decide(w, share(contact_method="home-visit"))
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    assert "unsafe-contact-method" in codes(d)
    assert "safe-contact" in condition_codes(d)


def test_home_visit_for_a_non_gbv_case_agreed_in_the_protocol_passes() -> None:

    w = with_purpose(
        world(subjects=[adult(categories=["disability"])], consents=[grant()]),
        referral_purpose(contact_methods=("phone", "home-visit")),
    )
    d = decide(w, share(contact_method="home-visit"))
    assert d.outcome is Outcome.ALLOW
    assert "unsafe-contact-method" not in codes(d)


def test_contact_method_not_agreed_for_the_purpose_needs_safe_contact() -> None:
    d = decide(
        world(subjects=[adult(categories=["legal"])], consents=[grant()]),
        share(contact_method="home-visit"),
    )
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    assert "safe-contact" in condition_codes(d)
