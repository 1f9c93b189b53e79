"""Review: the engine decides as of the world's day — a ledger entry dated after it (a bad
row already in the ledger, e.g. imported) neither grants consent early nor outranks a
withdrawal recorded since; on one date, the ledger position decides."""

from __future__ import annotations

from datetime import timedelta

from engine_builders import (
    TODAY,
    assert_denied,
    codes,
    emergency,
    grant,
    refuse,
    risk,
    share,
    withdraw,
    world,
)

from safeshare.core import Outcome, decide
from safeshare.core.vocabulary import Basis

AHEAD = TODAY + timedelta(days=7)


def test_a_grant_dated_ahead_does_not_allow_today() -> None:
    assert_denied(decide(world(consents=[grant(on=AHEAD)]), share()), "consent-missing")
    # on its day it counts
    assert decide(world(consents=[grant(on=AHEAD)], today=AHEAD), share()).outcome is (
        Outcome.ALLOW
    )


def test_a_withdrawal_made_today_outranks_a_grant_dated_ahead() -> None:
    ledger = [grant(on=TODAY - timedelta(days=3)), grant(on=AHEAD), withdraw(on=TODAY)]
    assert_denied(decide(world(consents=ledger), share()), "consent-withdrawn")


def test_on_one_date_the_later_entry_wins() -> None:
    assert_denied(
        decide(world(consents=[grant(on=TODAY), withdraw(on=TODAY)]), share()),
        "consent-withdrawn",
    )
    d = decide(world(consents=[withdraw(on=TODAY), grant(on=TODAY)]), share())
    assert d.outcome is Outcome.ALLOW


def test_vital_interests_read_the_refusal_in_force_today() -> None:
    """A refusal dated ahead is not a 'no' yet; one dated today is (escalated)."""
    request = share(basis=Basis.VITAL_INTERESTS, circumstance=emergency(), risk_assessment="risk-1")
    ahead = decide(world(assessments=[risk()], consents=[refuse(on=AHEAD)]), request)
    assert "exceptional-review" not in codes(ahead)
    today = decide(world(assessments=[risk()], consents=[refuse(on=TODAY)]), request)
    assert "exceptional-review" in codes(today)
