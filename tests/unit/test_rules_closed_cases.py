"""Closed cases (Legitimate Purposes > Closed cases for access for future services; Closed
cases for archiving): transfer with consent, never against a refusal at closure; archiving
consent from intake covers only a person who can no longer be reached."""

from __future__ import annotations

from datetime import date

from engine_builders import (
    ARCHIVING,
    TRANSFER,
    adult,
    assert_denied,
    case,
    codes,
    grant,
    refuse,
    share,
    world,
)

from safeshare.core import Outcome, decide
from safeshare.core.vocabulary import ConsentStage

CLOSED = date(2026, 2, 15)
INTAKE = date(2025, 6, 1)


def closed_world(*, reachable: bool = True, consents=()):  # type: ignore[no-untyped-def]
    return world(
        subjects=[adult(reachable=reachable)],
        cases=[case("c1", "s1", "ngo-a", closed_on=CLOSED)],
        consents=consents,
    )


def test_closed_case_transfer_with_consent_at_closure() -> None:
    d = decide(
        closed_world(consents=[grant("s1", TRANSFER, on=CLOSED, stage=ConsentStage.CLOSURE)]),
        share(TRANSFER, data_elements=["individual_number", "case_summary"]),
    )
    assert d.outcome is Outcome.ALLOW
    assert d.share_elements == ("individual_number", "case_summary")


def test_closed_case_transfer_refused_at_closure_denies() -> None:
    d = decide(
        closed_world(
            consents=[
                grant("s1", TRANSFER, on=INTAKE, stage=ConsentStage.INTAKE),
                refuse("s1", TRANSFER, on=CLOSED, stage=ConsentStage.CLOSURE),
            ]
        ),
        share(TRANSFER, data_elements=["individual_number", "case_summary"]),
    )
    assert_denied(d, "consent-refused")


def test_archiving_intake_consent_for_a_reachable_person_is_not_reconfirmed() -> None:
    d = decide(
        closed_world(consents=[grant("s1", ARCHIVING, on=INTAKE, stage=ConsentStage.INTAKE)]),
        share(ARCHIVING, data_elements=["name", "individual_number", "case_file"]),
    )
    assert_denied(d, "consent-not-reconfirmed")


def test_archiving_intake_consent_for_an_unreachable_person_is_enough() -> None:
    d = decide(
        closed_world(
            reachable=False,
            consents=[grant("s1", ARCHIVING, on=INTAKE, stage=ConsentStage.INTAKE)],
        ),
        share(ARCHIVING, data_elements=["name", "individual_number", "case_file"]),
    )
    assert d.outcome is Outcome.ALLOW
    assert "consent-not-reconfirmed" not in codes(d)
    assert d.share_elements == ("name", "individual_number", "case_file")


def test_archiving_consent_reconfirmed_at_closure() -> None:
    d = decide(
        closed_world(
            consents=[
                grant("s1", ARCHIVING, on=INTAKE, stage=ConsentStage.INTAKE),
                grant("s1", ARCHIVING, on=CLOSED, stage=ConsentStage.CLOSURE),
            ]
        ),
        share(ARCHIVING, data_elements=["name", "individual_number", "case_file"]),
    )
    assert d.outcome is Outcome.ALLOW


def test_archiving_refused_at_closure_denies() -> None:
    d = decide(
        closed_world(
            reachable=False,
            consents=[
                grant("s1", ARCHIVING, on=INTAKE, stage=ConsentStage.INTAKE),
                refuse("s1", ARCHIVING, on=CLOSED, stage=ConsentStage.CLOSURE),
            ],
        ),
        share(ARCHIVING, data_elements=["name", "individual_number"]),
    )
    assert_denied(d, "consent-refused")


def test_closure_consent_of_an_earlier_case_does_not_reconfirm_a_later_closure() -> None:
    """The person reconfirmed at the closure of an earlier case (2025-01-10), then gave intake
    consent for a new case closed on 2026-02-15 and is still reachable. Her consent must be
    reconfirmed at the closure of the case now archived; the old closure-stage entry predates
    it. (Without this, removing the later intake grant would make the decision *more*
    permissive: the property "removing a granted entry never makes it more permissive".)"""
    w = world(
        subjects=[adult()],
        cases=[
            case("c0", "s1", "ngo-a", closed_on=date(2025, 1, 10)),
            case("c1", "s1", "ngo-a", closed_on=CLOSED),
        ],
        consents=[
            grant("s1", ARCHIVING, on=date(2025, 1, 10), stage=ConsentStage.CLOSURE),
            grant("s1", ARCHIVING, on=INTAKE, stage=ConsentStage.INTAKE),
        ],
    )
    request = share(ARCHIVING, data_elements=["name", "individual_number"])
    assert_denied(decide(w, request), "consent-not-reconfirmed")
    only_old_closure = world(
        subjects=[adult()],
        cases=list(w.cases.values()),
        consents=[grant("s1", ARCHIVING, on=date(2025, 1, 10), stage=ConsentStage.CLOSURE)],
    )
    assert_denied(decide(only_old_closure, request), "consent-not-reconfirmed")
