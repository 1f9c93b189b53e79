"""What the rules found while deciding: reasons, conditions and dropped elements, gathered
for the request as a whole or for one subject, then folded into a decision."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from safeshare.core.decision import Condition, Outcome, Reason, strictest


@dataclass(slots=True)
class Findings:
    reasons: list[Reason] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    dropped: dict[str, None] = field(default_factory=dict)  # an ordered set

    def add(self, *reasons: Reason) -> None:
        self.reasons.extend(reasons)

    def extend(self, reasons: Iterable[Reason]) -> None:
        self.reasons.extend(reasons)

    def require(self, *conditions: Condition) -> None:
        for c in conditions:
            if all(existing.code != c.code for existing in self.conditions):
                self.conditions.append(c)

    def drop(self, elements: Iterable[str]) -> None:
        for e in elements:
            self.dropped[e] = None

    def merge(self, other: Findings) -> None:
        if not (other.reasons or other.conditions or other.dropped):
            return
        self.reasons.extend(other.reasons)
        self.require(*other.conditions)
        self.drop(other.dropped)

    @property
    def outcome(self) -> Outcome:
        if not (self.reasons or self.conditions or self.dropped):
            return Outcome.ALLOW
        base = strictest(r.outcome for r in self.reasons)
        if self.conditions or self.dropped:
            return strictest((base, Outcome.ALLOW_WITH_CONDITIONS))
        return base

    @property
    def denied(self) -> bool:
        return any(r.outcome is Outcome.DENY for r in self.reasons)


def unique_reasons(reasons: Iterable[Reason], *, by_code: bool = False) -> tuple[Reason, ...]:
    """Reasons without repeats (same code and message, or same code when ``by_code``: the
    top level names each rule once, the subjects' own decisions say whom it concerns), in
    first-seen order; the strictest outcome of a code is kept."""
    out: dict[tuple[str, str], Reason] = {}
    for r in reasons:
        key = (r.code, "" if by_code else r.message)
        seen = out.get(key)
        if seen is None:
            out[key] = r
        elif r.outcome.rank > seen.outcome.rank:
            out[key] = replace(seen, outcome=r.outcome)
    return tuple(out.values())
