"""Consent (Cross-cutting issues > Consent; Processing for Other Purposes): the latest ledger
entry that covers the subject, purpose and recipient decides; consent for one purpose,
recipient or set of elements cannot be used for another (FORMAT.md, "Rules the format
itself fixes")."""

from __future__ import annotations

from datetime import date

from engine_builders import (
    ELIGIBILITY,
    adult,
    assert_denied,
    caregiver_consent,
    codes,
    grant,
    refuse,
    share,
    subject_outcome,
    withdraw,
    world,
)

from safeshare.core import Outcome, decide
from safeshare.core.vocabulary import GivenBy


def test_consent_granted_allows() -> None:
    d = decide(world(consents=[grant()]), share())
    assert d.outcome is Outcome.ALLOW
    assert d.share_elements == ("name", "phone", "service_needed")


def test_consent_missing_denies() -> None:
    assert_denied(decide(world(), share()), "consent-missing")


def test_consent_refused_denies() -> None:
    assert_denied(decide(world(consents=[refuse()]), share()), "consent-refused")


def test_consent_withdrawn_denies() -> None:
    d = decide(world(consents=[grant(on=date(2026, 1, 5)), withdraw()]), share())
    assert_denied(d, "consent-withdrawn")


def test_consent_for_another_purpose_is_a_scope_mismatch() -> None:
    d = decide(world(consents=[grant("s1", ELIGIBILITY)]), share())
    assert_denied(d, "consent-scope-mismatch")
    assert "consent-missing" not in codes(d)


def test_consent_for_another_recipient_is_a_scope_mismatch() -> None:
    d = decide(world(consents=[grant(recipients=["ngo-b"])]), share())
    assert_denied(d, "consent-scope-mismatch")


def test_consent_for_fewer_elements_drops_the_others() -> None:
    d = decide(world(consents=[grant(data_elements=["name", "phone"])]), share())
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    assert "consent-scope-mismatch" in codes(d)
    drop = d.condition("drop-elements")
    assert drop is not None
    assert drop.elements == ("service_needed",)
    assert d.share_subjects == ("s1",)
    assert d.share_elements == ("name", "phone")


def test_consent_for_other_elements_only_denies() -> None:
    d = decide(world(consents=[grant(data_elements=["referral_id"])]), share())
    assert_denied(d, "consent-scope-mismatch")


def test_grant_after_refusal_wins() -> None:
    d = decide(world(consents=[refuse(on=date(2026, 1, 10)), grant(on=date(2026, 2, 20))]), share())
    assert d.outcome is Outcome.ALLOW
    assert d.share_subjects == ("s1",)


def test_refusal_after_grant_wins() -> None:
    d = decide(world(consents=[grant(on=date(2026, 1, 10)), refuse(on=date(2026, 2, 20))]), share())
    assert_denied(d, "consent-refused")


def test_latest_by_date_not_by_ledger_position() -> None:
    """A grant entered later in the ledger but dated earlier does not beat a later refusal."""
    d = decide(world(consents=[refuse(on=date(2026, 2, 20)), grant(on=date(2026, 1, 10))]), share())
    assert_denied(d, "consent-refused")


def test_same_date_later_ledger_entry_wins_refusal() -> None:
    d = decide(world(consents=[grant(), refuse()]), share())
    assert_denied(d, "consent-refused")


def test_same_date_later_ledger_entry_wins_grant() -> None:
    d = decide(world(consents=[refuse(), grant()]), share())
    assert d.outcome is Outcome.ALLOW


def test_new_grant_after_withdrawal_allows() -> None:
    d = decide(
        world(
            consents=[
                grant(on=date(2025, 12, 1)),
                withdraw(on=date(2026, 1, 1)),
                grant(on=date(2026, 2, 1)),
            ]
        ),
        share(),
    )
    assert d.outcome is Outcome.ALLOW


def test_refusal_of_some_elements_drops_only_those() -> None:
    d = decide(
        world(consents=[grant(on=date(2026, 1, 1)), refuse(data_elements=["phone"])]), share()
    )
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    assert "consent-refused" in codes(d)
    assert d.share_elements == ("name", "service_needed")


def test_refusal_for_another_purpose_does_not_block_this_one() -> None:
    d = decide(world(consents=[refuse("s1", ELIGIBILITY), grant()]), share())
    assert d.outcome is Outcome.ALLOW


def test_consent_claimed_in_request_is_not_trusted_ledger_of_other_subject() -> None:
    """Another person's consent never covers this subject."""
    d = decide(world(consents=[grant("s2")]), share())
    assert_denied(d, "consent-missing")


def test_consent_older_than_review_period_needs_reverification() -> None:
    d = decide(world(consents=[grant(on=date(2024, 12, 1))], consent_review="P1Y"), share())
    assert_denied(d, "consent-reverification-due")
    assert subject_outcome(d, "s1") is Outcome.DENY


def test_consent_within_review_period_is_valid() -> None:
    d = decide(world(consents=[grant(on=date(2025, 6, 1))], consent_review="P1Y"), share())
    assert d.outcome is Outcome.ALLOW


def test_old_consent_without_review_period_stays_valid() -> None:
    d = decide(world(consents=[grant(on=date(2020, 1, 1))]), share())
    assert d.outcome is Outcome.ALLOW


def test_person_without_capacity_guardian_consent_counts() -> None:

    d = decide(
        world(
            subjects=[adult(can_consent=False)],
            consents=[caregiver_consent(given_by=GivenBy.GUARDIAN)],
        ),
        share(),
    )
    assert d.outcome is Outcome.ALLOW
