"""Feedback on service referrals (Legitimate Purposes > Feedback on service referrals):
process feedback goes without consent, service feedback needs it, and never a whole case file
or incident account, even where the protocol lists one."""

from __future__ import annotations

from engine_builders import FEEDBACK, assert_denied, codes, grant, share, world

from safeshare.core import Outcome, decide


def test_process_feedback_without_consent_is_allowed() -> None:
    d = decide(world(), share(FEEDBACK, data_elements=["referral_id", "referral_status"]))
    assert d.outcome is Outcome.ALLOW
    assert "process-feedback" in codes(d)
    assert d.share_subjects == ("s1",)
    assert d.share_elements == ("referral_id", "referral_status")


def test_service_feedback_without_consent_is_dropped() -> None:
    d = decide(
        world(),
        share(FEEDBACK, data_elements=["referral_id", "referral_status", "services_provided"]),
    )
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    assert "service-feedback-needs-consent" in codes(d)
    drop = d.condition("drop-elements")
    assert drop is not None
    assert drop.elements == ("services_provided",)
    assert d.share_elements == ("referral_id", "referral_status")


def test_service_feedback_alone_without_consent_denies() -> None:
    d = decide(world(), share(FEEDBACK, data_elements=["services_provided", "service_outcome"]))
    assert_denied(d, "service-feedback-needs-consent")


def test_service_feedback_with_consent_is_allowed() -> None:
    d = decide(
        world(consents=[grant("s1", FEEDBACK)]),
        share(FEEDBACK, data_elements=["referral_id", "referral_status", "services_provided"]),
    )
    assert d.outcome is Outcome.ALLOW
    assert d.share_elements == ("referral_id", "referral_status", "services_provided")


def test_whole_case_file_dropped_in_feedback_even_if_the_purpose_lists_it() -> None:
    d = decide(
        world(consents=[grant("s1", FEEDBACK)]),
        share(FEEDBACK, data_elements=["referral_id", "referral_status", "case_file"]),
    )
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    assert "whole-case-file" in codes(d)
    assert "case_file" not in d.share_elements
    assert d.share_elements == ("referral_id", "referral_status")


def test_bare_referral_id_is_not_process_feedback() -> None:
    d = decide(world(), share(FEEDBACK, data_elements=["referral_id"]))
    assert_denied(d, "consent-missing")
    assert "process-feedback" not in codes(d)
