"""Children (Terminology > (Informed) assent): the child's own assent and the consent of a
parent, guardian or caregiver, unless the caregiver cannot be reached or involving them is
not in the child's best interests."""

from __future__ import annotations

from datetime import date

from engine_builders import (
    adult,
    assent,
    assert_denied,
    bia,
    caregiver_consent,
    child,
    codes,
    grant,
    share,
    world,
)

from safeshare.core import Outcome, decide
from safeshare.core.vocabulary import BestInterestsOutcome, ConsentDecision, GivenBy


def test_assent_and_caregiver_consent_allow() -> None:
    d = decide(world(subjects=[child()], consents=[assent(), caregiver_consent()]), share())
    assert d.outcome is Outcome.ALLOW
    assert d.share_elements == ("name", "phone", "service_needed")


def test_assent_only_with_reachable_caregiver_denies() -> None:
    d = decide(world(subjects=[child()], consents=[assent()]), share())
    assert_denied(d, "caregiver-consent-missing")


def test_caregiver_unreachable_assent_suffices() -> None:
    d = decide(world(subjects=[child(caregiver_reachable=False)], consents=[assent()]), share())
    assert d.outcome is Outcome.ALLOW
    assert "caregiver-consent-missing" not in codes(d)


def test_caregiver_not_in_best_interests_assent_suffices() -> None:
    d = decide(world(subjects=[child(involve_caregiver=False)], consents=[assent()]), share())
    assert d.outcome is Outcome.ALLOW


def test_caregiver_refused_denies() -> None:
    d = decide(
        world(
            subjects=[child()],
            consents=[assent(), caregiver_consent(decision=ConsentDecision.REFUSED)],
        ),
        share(),
    )
    assert_denied(d, "consent-refused")


def test_caregiver_consent_without_assent_denies() -> None:
    d = decide(world(subjects=[child()], consents=[caregiver_consent()]), share())
    assert_denied(d, "assent-missing")


def test_child_refusing_assent_is_not_overridden_by_caregiver() -> None:
    d = decide(
        world(
            subjects=[child()],
            consents=[caregiver_consent(), assent(decision=ConsentDecision.REFUSED)],
        ),
        share(),
    )
    assert_denied(d, "consent-refused")


def test_guardian_consent_counts_as_caregiver_consent() -> None:
    d = decide(
        world(
            subjects=[child()],
            consents=[assent(), caregiver_consent(given_by=GivenBy.GUARDIAN)],
        ),
        share(),
    )
    assert d.outcome is Outcome.ALLOW


def test_caregiver_consent_for_another_purpose_is_missing() -> None:
    d = decide(
        world(subjects=[child()], consents=[assent(), caregiver_consent("s1", "other-purpose")]),
        share(),
    )
    assert_denied(d, "caregiver-consent-missing")


def test_age_from_birth_date_makes_a_child() -> None:
    """Born 2008-03-02: 17 on 2026-03-01, so the caregiver's consent is needed."""
    d = decide(
        world(subjects=[child(age=None, born=date(2008, 3, 2))], consents=[assent()]), share()
    )
    assert_denied(d, "caregiver-consent-missing")


def test_eighteenth_birthday_makes_an_adult() -> None:

    d = decide(
        world(subjects=[adult(age=None, born=date(2008, 3, 1))], consents=[grant()]), share()
    )
    assert d.outcome is Outcome.ALLOW


def test_child_with_bia_against_sharing_is_denied_despite_consent() -> None:
    """ "Not ok to share ... when it's not in the child's best interests" (Closed cases);
    the latest best interests assessment concludes do-not-share."""
    d = decide(
        world(
            subjects=[child()],
            consents=[assent(), caregiver_consent()],
            assessments=[bia(outcome=BestInterestsOutcome.DO_NOT_SHARE)],
        ),
        share(),
    )
    assert_denied(d, "best-interests-not-determined")


def test_child_with_later_bia_for_sharing_is_allowed() -> None:
    d = decide(
        world(
            subjects=[child()],
            consents=[assent(), caregiver_consent()],
            assessments=[
                bia(outcome=BestInterestsOutcome.DO_NOT_SHARE, on=date(2025, 6, 1)),
                bia(assessment_id="bia-2", on=date(2026, 2, 1)),
            ],
        ),
        share(),
    )
    assert d.outcome is Outcome.ALLOW
