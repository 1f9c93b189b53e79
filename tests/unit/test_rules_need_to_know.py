"""Need-to-know (Principles > Need-to-Know; Confidentiality): the assigned caseworker sees
the case; anyone else without a recorded, case-specific need has identifying elements
withheld (anonymise where something remains, deny where nothing does)."""

from __future__ import annotations

from engine_builders import assert_denied, codes, condition_codes, staff, staff_access, world

from safeshare.core import Outcome, decide
from safeshare.core.vocabulary import Duty


def test_assigned_caseworker_sees_the_case() -> None:
    w = world(staff_members=[staff(cases=["c-s1"])])
    d = decide(w, staff_access(data_elements=["name", "incident_description"]))
    assert d.outcome is Outcome.ALLOW
    assert codes(d) == set()
    assert d.share_elements == ("name", "incident_description")


def test_caseworker_not_assigned_to_this_case_gets_no_identifying_data() -> None:
    w = world(staff_members=[staff(cases=["other-case"])])
    d = decide(w, staff_access(data_elements=["name", "incident_description"]))
    assert_denied(d, "need-to-know")


def test_oversight_without_need_anonymised_where_something_remains() -> None:
    w = world(staff_members=[staff(duty=Duty.OVERSIGHT, role="senior-protection-officer")])
    d = decide(w, staff_access(data_elements=["name", "case_summary", "priority"]))
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    assert "need-to-know" in codes(d)
    assert "anonymise" in condition_codes(d)
    assert d.share_elements == ("case_summary", "priority")


def test_oversight_without_need_denied_where_nothing_remains() -> None:
    w = world(staff_members=[staff(duty=Duty.OVERSIGHT)])
    d = decide(w, staff_access(data_elements=["name", "incident_description"]))
    assert_denied(d, "need-to-know")


def test_oversight_with_recorded_need_sees_the_case() -> None:
    w = world(staff_members=[staff(duty=Duty.OVERSIGHT)])
    d = decide(
        w, staff_access(data_elements=["name", "incident_description"], need="technical-assistance")
    )
    assert d.outcome is Outcome.ALLOW
    assert d.share_elements == ("name", "incident_description")


def test_monitoring_sees_only_non_identifying_elements() -> None:
    w = world(staff_members=[staff(duty=Duty.MONITORING)])
    d = decide(w, staff_access(data_elements=["priority", "specific_needs_codes"]))
    assert d.outcome is Outcome.ALLOW
    assert d.share_elements == ("priority", "specific_needs_codes")


def test_staff_of_another_organisation_is_denied() -> None:
    w = world(staff_members=[staff(org="ngo-a")])
    d = decide(w, staff_access(data_elements=["name", "case_summary"]))
    assert_denied(d, "need-to-know")


def test_staff_of_another_organisation_with_a_need_is_denied() -> None:
    w = world(staff_members=[staff(org="ngo-a", duty=Duty.OVERSIGHT)])
    d = decide(w, staff_access(data_elements=["priority"], need="technical-assistance"))
    assert_denied(d, "need-to-know")
