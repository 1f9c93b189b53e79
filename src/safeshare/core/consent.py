"""The consent ledger read for one sharing: for each element, the latest ledger entry that
covers the subject, purpose, recipient and element decides (Cross-cutting issues > Consent;
Processing for Other Purposes: consent for one purpose cannot be used for another).

Read as of a day (``today``), an entry dated after that day does not count: a grant dated
ahead can neither count as consent before its date nor outrank a withdrawal recorded since.
Among entries of one date, the ledger position decides (the later one wins)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache

from safeshare.core.vocabulary import CAREGIVERS, ConsentDecision, ConsentKind, GivenBy
from safeshare.core.world import ConsentRecord, Period, Purpose


class State(StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    MISSING = "missing"  # nothing on record from this person
    OTHER_SCOPE = "other-scope"  # consent exists, but for another purpose, recipient or elements


Giver = Callable[[ConsentRecord], bool]


def own_consent(entry: ConsentRecord) -> bool:
    """The person's own consent (an adult's, or a child's own agreement counted as assent)."""
    return entry.given_by is GivenBy.SELF


def caregiver_consent(entry: ConsentRecord) -> bool:
    return entry.kind is ConsentKind.CONSENT and entry.given_by in CAREGIVERS


@dataclass(frozen=True, slots=True)
class ElementConsent:
    element: str
    state: State
    entry: ConsentRecord | None


def covers(entry: ConsentRecord, purpose: Purpose, recipient: str) -> bool:
    """Whether a ledger entry covers this purpose and recipient (recipients default to the
    purpose's)."""
    if purpose.id not in entry.purposes:
        return False
    recipients = purpose.recipients if entry.recipients is None else entry.recipients
    return recipient in recipients


def _covers_element(entry: ConsentRecord, purpose: Purpose, element: str) -> bool:
    if entry.data_elements is None:
        return element in purpose.element_set
    return element in entry.data_elements


def in_force(ledger: Iterable[ConsentRecord], today: date | None) -> tuple[ConsentRecord, ...]:
    """The entries dated on or before ``today``, in ledger order (all of them if None): the
    ledger as read on that day (a tuple with none dated later is returned as it is)."""
    if isinstance(ledger, tuple) and (today is None or all(e.date <= today for e in ledger)):
        return ledger
    return tuple(_read_on(ledger, today))


def _read_on(ledger: Iterable[ConsentRecord], today: date | None) -> Iterable[ConsentRecord]:
    return ledger if today is None else (e for e in ledger if e.date <= today)


def element_states(
    ledger: Iterable[ConsentRecord],
    purpose: Purpose,
    recipient: str,
    elements: Iterable[str],
    giver: Giver,
    *,
    today: date | None = None,
) -> list[ElementConsent]:
    """For each element, the state given by the latest entry from ``giver`` that covers it
    (as of ``today``: later-dated entries do not count)."""
    relevant: list[ConsentRecord] = []
    granted_elsewhere = False
    for entry in _read_on(ledger, today):
        if not giver(entry):
            continue
        if covers(entry, purpose, recipient):
            relevant.append(entry)
        elif entry.decision is ConsentDecision.GRANTED:
            granted_elsewhere = True
    granted_in_scope = any(e.decision is ConsentDecision.GRANTED for e in relevant)
    fallback = State.OTHER_SCOPE if granted_elsewhere or granted_in_scope else State.MISSING
    out: list[ElementConsent] = []
    relevant.reverse()  # the ledger is in (date, seq) order: the first hit is the latest
    for element in elements:
        latest: ConsentRecord | None = None
        for entry in relevant:
            if _covers_element(entry, purpose, element):
                latest = entry
                break
        if latest is None:
            out.append(ElementConsent(element, fallback, None))
        else:
            out.append(ElementConsent(element, _STATES[latest.decision], latest))
    return out


_STATES = {
    ConsentDecision.GRANTED: State.GRANTED,
    ConsentDecision.REFUSED: State.REFUSED,
    ConsentDecision.WITHDRAWN: State.WITHDRAWN,
}


def latest_entry(
    ledger: Iterable[ConsentRecord],
    purpose: Purpose,
    recipient: str,
    giver: Giver,
    *,
    today: date | None = None,
) -> ConsentRecord | None:
    """The latest entry from ``giver`` covering the purpose and recipient, any elements (as
    of ``today``: later-dated entries do not count)."""
    latest: ConsentRecord | None = None
    for entry in _read_on(ledger, today):  # in (date, seq) order: the last hit is the latest
        if giver(entry) and covers(entry, purpose, recipient):
            latest = entry
    return latest


def reverification_due(entry: ConsentRecord, review: Period | None, today: date) -> bool:
    """Consent older than the protocol's review period must be re-verified."""
    if review is None:
        return False
    end = _period_end(review, entry.date)
    return end is not None and end < today


@lru_cache(maxsize=4096)
def _period_end(period: Period, start: date) -> date | None:
    return period.end(start)
