"""A person's access to her own records (Closed cases for archiving, UNHCR HQ scenario;
Principles > Confidentiality): records about other persons are withheld."""

from __future__ import annotations

from engine_builders import adult, assert_denied, codes, condition_codes, record, world

from safeshare.core import Outcome, SubjectAccessRequest, World, decide


def access_world() -> World:
    return world(
        subjects=[adult("s1"), adult("s2", categories=["gbv"])],
        records=[record("f1", "s1"), record("f2", "s1"), record("f3", "s2", "gbv")],
    )


def test_third_party_records_are_withheld() -> None:
    d = decide(access_world(), SubjectAccessRequest(requester="s1", records=("f1", "f2", "f3")))
    assert d.outcome is Outcome.ALLOW_WITH_CONDITIONS
    assert codes(d) == {"third-party-data"}
    assert condition_codes(d) == {"withhold-records"}
    withheld = d.condition("withhold-records")
    assert withheld is not None
    assert withheld.records == ("f3",)
    assert d.share_records == ("f1", "f2")


def test_all_own_records_are_allowed() -> None:
    d = decide(access_world(), SubjectAccessRequest(requester="s1", records=("f1", "f2")))
    assert d.outcome is Outcome.ALLOW
    assert codes(d) == set()
    assert d.share_records == ("f1", "f2")


def test_no_own_records_denies() -> None:
    d = decide(access_world(), SubjectAccessRequest(requester="s1", records=("f3",)))
    assert_denied(d, "third-party-data")
    assert d.share_records == ()
