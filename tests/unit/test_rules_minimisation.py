"""Necessity and proportionality (Principles > Necessity and Proportionality): only the
elements the purpose needs leave; whole case files and incident accounts only where the
purpose allows one; referrals case by case, never by blanket selection; no routine
submission of case files."""

from __future__ import annotations

from engine_builders import (
    ELIGIBILITY,
    adult,
    assert_denied,
    case,
    codes,
    eligibility_purpose,
    grant,
    share,
    transfer_purpose,
    with_purpose,
    world,
)

from safeshare.core import Outcome, Selection, decide


def test_elements_beyond_the_purpose_are_dropped() -> None:
    d = decide(
        world(consents=[grant()]),
        share(data_elements=["name", "phone", "incident_description"]),
    )
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    assert "data-not-minimal" in codes(d)
    drop = d.condition("drop-elements")
    assert drop is not None
    assert "incident_description" in drop.elements
    assert d.share_elements == ("name", "phone")


def test_only_elements_beyond_the_purpose_denies() -> None:
    d = decide(world(consents=[grant()]), share(data_elements=["incident_description"]))
    assert_denied(d, "data-not-minimal")


def test_eligibility_never_carries_an_incident_account_even_if_listed() -> None:

    w = with_purpose(
        world(subjects=[adult()], consents=[grant("s1", ELIGIBILITY)]),
        eligibility_purpose(data_elements=("name", "priority", "incident_description")),
    )
    d = decide(w, share(ELIGIBILITY, data_elements=["name", "priority", "incident_description"]))
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    assert "whole-case-file" in codes(d)
    assert d.share_elements == ("name", "priority")


def test_case_file_outside_the_purpose_is_a_whole_case_file() -> None:
    d = decide(world(consents=[grant()]), share(data_elements=["name", "case_file"]))
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    assert {"whole-case-file", "data-not-minimal"} <= codes(d)
    assert d.share_elements == ("name",)


def test_bulk_selection_for_referrals_denies() -> None:
    subjects = [adult("s1", categories=["gbv"]), adult("s2", categories=["gbv"])]
    d = decide(
        world(
            subjects=subjects,
            cases=[case("c1", "s1", "unhcr"), case("c2", "s2", "unhcr")],
            consents=[grant("s1"), grant("s2")],
        ),
        share(select=Selection(categories=frozenset({"gbv"}))),
    )
    assert_denied(d, "bulk-indiscriminate")


def test_routine_submission_of_case_files_denies() -> None:

    w = with_purpose(
        world(consents=[grant("s1", "closed-case-transfer")]),
        transfer_purpose(data_elements=("name", "case_summary", "incident_description")),
    )
    d = decide(
        w,
        share("closed-case-transfer", data_elements=["name", "incident_description"], routine=True),
    )
    assert_denied(d, "routine-case-files")


def test_routine_submission_of_summaries_is_not_routine_case_files() -> None:
    d = decide(
        world(consents=[grant("s1", ELIGIBILITY)]),
        share(ELIGIBILITY, data_elements=["individual_number", "priority"], routine=True),
    )
    assert d.outcome is Outcome.ALLOW
    assert "routine-case-files" not in codes(d)
