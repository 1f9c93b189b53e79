"""Decisions are values with reasons: an outcome, the reasons (each with a stable code, a
sentence a caseworker understands and the section of the Note), the conditions to apply
before anything leaves, what may leave, and each subject's own decision."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    ALLOW = "allow"
    ALLOW_WITH_CONDITIONS = "allow-with-conditions"
    ESCALATE = "escalate"
    DENY = "deny"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {
    Outcome.ALLOW: 0,
    Outcome.ALLOW_WITH_CONDITIONS: 1,
    Outcome.ESCALATE: 2,
    Outcome.DENY: 3,
}


def strictest(outcomes: Iterable[Outcome], default: Outcome = Outcome.ALLOW) -> Outcome:
    """``deny`` beats ``escalate`` beats ``allow-with-conditions`` beats ``allow``."""
    best = default
    for o in outcomes:
        if _RANK[o] > _RANK[best]:
            best = o
    return best


@dataclass(frozen=True, slots=True)
class Reason:
    """Why: a stable code, a plain sentence, the Note's section, and what it does on its own
    (``allow`` for a reason that only informs)."""

    code: str
    message: str
    section: str
    outcome: Outcome
    next_step: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "section": self.section,
            "effect": self.outcome.value,
        }


@dataclass(frozen=True, slots=True)
class Condition:
    """What must be done before anything leaves; applied by the workflow, not just shown."""

    code: str
    message: str
    section: str
    elements: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    records: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message, "section": self.section}
        if self.elements:
            out["elements"] = list(self.elements)
        if self.subjects:
            out["subjects"] = list(self.subjects)
        if self.records:
            out["records"] = list(self.records)
        return out


@dataclass(frozen=True, slots=True)
class SubjectDecision:
    id: str
    outcome: Outcome
    reasons: tuple[Reason, ...] = ()
    conditions: tuple[Condition, ...] = ()
    data_elements: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "decision": self.outcome.value,
            "reasons": [r.to_dict() for r in self.reasons],
            "conditions": [c.to_dict() for c in self.conditions],
            "data_elements": list(self.data_elements) if self.outcome is not Outcome.DENY else [],
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's answer. ``share_*`` is what may leave once every condition is met;
    it is empty for ``deny``."""

    kind: str
    outcome: Outcome
    reasons: tuple[Reason, ...] = ()
    conditions: tuple[Condition, ...] = ()
    share_subjects: tuple[str, ...] = ()
    share_elements: tuple[str, ...] = ()
    share_records: tuple[str, ...] | None = None
    subjects: tuple[SubjectDecision, ...] = field(default=())

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(r.code for r in self.reasons)

    @property
    def condition_codes(self) -> frozenset[str]:
        return frozenset(c.code for c in self.conditions)

    def condition(self, code: str) -> Condition | None:
        for c in self.conditions:
            if c.code == code:
                return c
        return None

    def to_dict(self) -> dict[str, Any]:
        share: dict[str, Any] = {
            "subjects": list(self.share_subjects),
            "data_elements": list(self.share_elements),
        }
        if self.share_records is not None:
            share["records"] = list(self.share_records)
        return {
            "kind": self.kind,
            "decision": self.outcome.value,
            "reasons": [r.to_dict() for r in self.reasons],
            "conditions": [c.to_dict() for c in self.conditions],
            "share": share,
            "subjects": [s.to_dict() for s in self.subjects],
        }
