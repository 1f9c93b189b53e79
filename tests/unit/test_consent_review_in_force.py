"""Review: read as of a day, a ledger entry dated after that day does not count — a grant
dated ahead neither counts as consent early nor outranks a withdrawal recorded since; on
one date, the ledger position decides (the later entry wins)."""

from __future__ import annotations

from datetime import date, timedelta

from engine_builders import TODAY, grant, referral_purpose, withdraw, world

from safeshare.core import consent
from safeshare.core.consent import State
from safeshare.core.vocabulary import ConsentDecision
from safeshare.core.world import ConsentRecord
from safeshare.store import ledger

AHEAD = TODAY + timedelta(days=7)
ELEMENTS = ["name", "phone"]


def _ledger(*entries: ConsentRecord) -> tuple[ConsentRecord, ...]:
    """The entries as the engine reads them: World.build's (date, seq) order, seq in the
    order given (the order of recording)."""
    return world(consents=entries).consents("s1")


def _states(entries: tuple[ConsentRecord, ...], today: date) -> list[State]:
    found = consent.element_states(
        entries, referral_purpose(), "ngo-a", ELEMENTS, consent.own_consent, today=today
    )
    return [e.state for e in found]


def _latest(entries: tuple[ConsentRecord, ...], today: date) -> ConsentRecord | None:
    return consent.latest_entry(
        entries, referral_purpose(), "ngo-a", consent.own_consent, today=today
    )


def test_a_grant_dated_ahead_is_not_consent_today() -> None:
    entries = _ledger(grant(on=AHEAD))
    assert _states(entries, TODAY) == [State.MISSING, State.MISSING]
    assert _latest(entries, TODAY) is None
    assert _states(entries, AHEAD) == [State.GRANTED, State.GRANTED]  # on its day, it counts


def test_a_withdrawal_recorded_after_a_grant_dated_ahead_wins_today() -> None:
    entries = _ledger(grant(on=TODAY - timedelta(days=3)), grant(on=AHEAD), withdraw(on=TODAY))
    assert _states(entries, TODAY) == [State.WITHDRAWN, State.WITHDRAWN]
    latest = _latest(entries, TODAY)
    assert latest is not None
    assert latest.decision is ConsentDecision.WITHDRAWN


def test_on_one_date_the_ledger_position_decides() -> None:
    granted_then_withdrawn = _ledger(grant(on=TODAY), withdraw(on=TODAY))
    assert _states(granted_then_withdrawn, TODAY) == [State.WITHDRAWN, State.WITHDRAWN]
    withdrawn_then_granted = _ledger(withdraw(on=TODAY), grant(on=TODAY))
    assert _states(withdrawn_then_granted, TODAY) == [State.GRANTED, State.GRANTED]
    latest = _latest(withdrawn_then_granted, TODAY)
    assert latest is not None
    assert latest.decision is ConsentDecision.GRANTED


def test_the_store_reads_the_deciding_entry_as_of_a_day() -> None:
    """store.ledger.latest (current consent, the re-verification queue) reads the same way."""
    entries = _ledger(grant(on=TODAY - timedelta(days=3)), grant(on=AHEAD), withdraw(on=TODAY))
    found = ledger.latest(entries, "legal-aid-referral", "ngo-a", today=TODAY)
    assert found is not None
    assert found.decision is ConsentDecision.WITHDRAWN
    assert ledger.latest(_ledger(grant(on=AHEAD)), "legal-aid-referral", today=TODAY) is None


def test_in_force_is_the_ledger_as_read_on_a_day() -> None:
    early, ahead, today = grant(on=TODAY - timedelta(days=3)), grant(on=AHEAD), withdraw(on=TODAY)
    entries = _ledger(early, ahead, today)
    assert [e.date for e in consent.in_force(entries, TODAY)] == [early.date, TODAY]
    assert consent.in_force(entries, AHEAD) == entries
    assert consent.in_force(entries, None) == entries
