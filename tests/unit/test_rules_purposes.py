"""Purpose specification (Cross-cutting issues > Purpose Specification): a purpose agreed in
advance in an endorsed protocol, between the parties named for it, specific, complete and of
direct benefit to the person; statistics go anonymised (FORMAT.md, "Rules the format itself
fixes")."""

from __future__ import annotations

import pytest
from engine_builders import (
    REFERRAL,
    STATISTICS,
    assert_denied,
    codes,
    condition_codes,
    grant,
    period,
    referral_purpose,
    refuse,
    share,
    statistics_purpose,
    with_purpose,
    world,
)

from safeshare.core import Outcome, decide
from safeshare.core.vocabulary import BenefitKind


def test_a_consented_referral_under_an_endorsed_protocol_is_allowed() -> None:
    d = decide(world(consents=[grant()]), share())
    assert d.outcome is Outcome.ALLOW
    assert codes(d) == set()
    assert d.share_subjects == ("s1",)
    assert d.share_elements == ("name", "phone", "service_needed")


def test_protocol_not_endorsed_denies() -> None:
    d = decide(world(consents=[grant()], endorsed=False), share())
    assert_denied(d, "protocol-not-endorsed")


def test_purpose_not_in_protocol_denies() -> None:
    d = decide(world(consents=[grant("s1", "livelihoods")]), share("livelihoods"))
    assert_denied(d, "purpose-not-in-protocol")


def test_recipient_not_party_to_the_purpose_denies() -> None:
    d = decide(world(consents=[grant(recipients=["ngo-b"])]), share(recipient="ngo-b"))
    assert_denied(d, "party-not-in-purpose")


def test_sender_not_party_to_the_purpose_denies() -> None:
    d = decide(world(consents=[grant()]), share(sender="ngo-b"))
    assert_denied(d, "party-not-in-purpose")


@pytest.mark.parametrize(
    "benefit", ["International protection", "UNHCR's mandate", "fulfilment of UNHCR's mandate"]
)
def test_always_vague_purpose_denies_even_with_services(benefit: str) -> None:
    w = with_purpose(world(consents=[grant()]), referral_purpose(benefit=benefit))
    d = decide(w, share())
    assert_denied(d, "purpose-too-vague")


def test_durable_solutions_without_services_is_too_vague() -> None:
    w = with_purpose(
        world(consents=[grant()]), referral_purpose(benefit="Durable solutions", services=())
    )
    d = decide(w, share())
    assert_denied(d, "purpose-too-vague")


def test_durable_solutions_with_services_named_is_specific() -> None:
    """Operation E: "durable solutions" is acceptable once the services are listed."""
    w = with_purpose(
        world(consents=[grant()]),
        referral_purpose(
            benefit="Durable solutions", services=("resettlement counselling", "return support")
        ),
    )
    d = decide(w, share())
    assert d.outcome is Outcome.ALLOW
    assert "purpose-too-vague" not in codes(d)


@pytest.mark.parametrize(
    "missing",
    [
        {"retention": None},
        {"access_roles": ()},
        {"benefit": ""},
        {"data_elements": ()},
    ],
    ids=["retention", "access-roles", "benefit", "data-elements"],
)
def test_incomplete_purpose_denies(missing: dict[str, object]) -> None:
    w = with_purpose(world(consents=[grant()]), referral_purpose(**missing))
    d = decide(w, share())
    assert_denied(d, "purpose-incomplete")


def test_open_ended_retention_word_is_a_retention_period() -> None:
    w = with_purpose(
        world(consents=[grant()]), referral_purpose(retention=period("duration-of-partnership"))
    )
    d = decide(w, share())
    assert d.outcome is Outcome.ALLOW
    assert "purpose-incomplete" not in codes(d)


def test_indirect_benefit_denies_a_referral() -> None:
    w = with_purpose(
        world(consents=[grant()]),
        referral_purpose(benefit="Programme improvement", benefit_kind=BenefitKind.INDIRECT),
    )
    d = decide(w, share())
    assert_denied(d, "purpose-indirect-benefit")


def test_statistics_allowed_with_indirect_benefit_anonymised() -> None:
    """Statistics: an indirect benefit is acceptable there and only there; identifying
    elements are withheld and the answer is anonymised (aggregate-sufficient, anonymise)."""
    d = decide(
        world(),  # no consent needed for anonymised statistics
        share(STATISTICS, data_elements=["name", "age", "specific_needs_codes", "priority"]),
    )
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    assert "aggregate-sufficient" in codes(d)
    assert "purpose-indirect-benefit" not in codes(d)
    assert "anonymise" in condition_codes(d)
    assert set(d.share_elements) == {"specific_needs_codes", "priority"}


def test_statistics_request_of_an_element_outside_the_purpose_is_dropped() -> None:
    d = decide(world(), share(STATISTICS, data_elements=["priority", "incident_description"]))
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    assert {"aggregate-sufficient", "data-not-minimal"} <= codes(d)
    assert d.share_elements == ("priority",)


def test_statistics_refusal_is_respected() -> None:
    d = decide(
        world(consents=[refuse("s1", STATISTICS)]),
        share(STATISTICS, data_elements=["priority"]),
    )
    assert_denied(d, "consent-refused")


def test_statistics_purpose_changed_to_referral_loses_its_exemption() -> None:
    """The indirect benefit is acceptable for statistics only."""
    w = with_purpose(
        world(consents=[grant()]),
        statistics_purpose(id=REFERRAL, general=referral_purpose().general),
    )
    d = decide(w, share(REFERRAL, sender="ngo-a", recipient="unhcr", data_elements=["priority"]))
    assert_denied(d, "purpose-indirect-benefit")
