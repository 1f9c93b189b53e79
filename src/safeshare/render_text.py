"""Decisions and protocol findings in plain words, for a caseworker reading a terminal.

The JSON form (``Decision.to_dict``) is the contract; this is its reading. Colour is only
added when asked for (the CLI asks when stdout is a terminal).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import typer

from safeshare.core.decision import Decision, Outcome, Reason
from safeshare.core.protocol_check import Finding
from safeshare.core.request import (
    Request,
    ShareRequest,
    StaffAccessRequest,
    SubjectAccessRequest,
)

WORDS = {
    Outcome.ALLOW: "ALLOWED",
    Outcome.ALLOW_WITH_CONDITIONS: "ALLOWED WITH CONDITIONS",
    Outcome.ESCALATE: "ESCALATE: the data protection focal point must decide",
    Outcome.DENY: "NOT ALLOWED",
}
_COLOURS = {
    Outcome.ALLOW: typer.colors.GREEN,
    Outcome.ALLOW_WITH_CONDITIONS: typer.colors.YELLOW,
    Outcome.ESCALATE: typer.colors.MAGENTA,
    Outcome.DENY: typer.colors.RED,
}


def _words(outcome: Outcome, color: bool) -> str:
    text = WORDS[outcome]
    return typer.style(text, fg=_COLOURS[outcome], bold=True) if color else text


def _join(items: Iterable[str]) -> str:
    listed = list(items)
    return ", ".join(listed) if listed else "(none)"


def _dedup(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item and item not in seen:
            seen[item] = None
    return list(seen)


def describe_request(request: Request) -> str:
    """One line saying what was asked."""
    if isinstance(request, ShareRequest):
        who = (
            "subjects " + ", ".join(request.subjects)
            if request.subjects
            else "a blanket selection of subjects"
        )
        return (
            f"Share request: {request.sender} to {request.recipient}, purpose "
            f"'{request.purpose}', basis {request.basis.value}, for {who}."
        )
    if isinstance(request, SubjectAccessRequest):
        return (
            f"Subject access request: {request.requester} asks for records "
            f"{', '.join(request.records)}."
        )
    assert isinstance(request, StaffAccessRequest)
    return f"Staff access request: {request.actor} asks to open case {request.case}."


def _reason_line(reason: Reason) -> str:
    return f"  - {reason.message} [{reason.code}; the Note: {reason.section}]"


def render_decision(decision: Decision, request: Request | None = None, color: bool = False) -> str:
    """The decision in words: what, why, what may be shared, and what to do next."""
    lines = [f"Decision: {_words(decision.outcome, color)}"]
    if request is not None:
        lines.append(describe_request(request))
    lines += ["", "Why:"]
    if decision.reasons:
        lines += [_reason_line(r) for r in decision.reasons]
    else:
        lines.append("  - Every check the Note requires for this request is met.")

    lines += ["", "What may be shared:"]
    if decision.outcome is Outcome.DENY:
        lines.append("  Nothing.")
    elif decision.share_records is not None:
        lines.append(f"  Records: {_join(decision.share_records)}")
    else:
        lines.append(f"  Subjects: {_join(decision.share_subjects)}")
        lines.append(f"  Data elements: {_join(decision.share_elements)}")
    if decision.outcome in (Outcome.ALLOW_WITH_CONDITIONS, Outcome.ESCALATE):
        lines.append("  (only once every step below is done)")

    if len(decision.subjects) > 1:
        lines += ["", "Each person:"]
        for s in decision.subjects:
            lines.append(f"  {s.id}: {_words(s.outcome, color)}")
            lines += [f"    - {r.message} [{r.code}]" for r in s.reasons]

    steps = _dedup(
        [c.message for c in decision.conditions]
        + [r.next_step for r in decision.reasons]
        + [c.message for s in decision.subjects for c in s.conditions]
        + [r.next_step for s in decision.subjects for r in s.reasons]
    )
    lines += ["", "What to do next:"]
    if steps:
        lines += [f"  - {step}" for step in steps]
    elif decision.outcome is Outcome.ALLOW:
        lines.append("  - Share through the agreed, secure channel and record the sharing.")
    else:
        lines.append("  - Nothing further is listed.")
    return "\n".join(lines) + "\n"


def render_findings(findings: Sequence[Finding], protocol_id: str = "", color: bool = False) -> str:
    """Protocol findings grouped by purpose (the protocol as a whole first)."""
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    name = f"Protocol {protocol_id}" if protocol_id else "Protocol"
    head = f"{name}: {errors} error(s), {warnings} warning(s)"
    if color:
        head = typer.style(head, fg=typer.colors.RED if errors else typer.colors.GREEN, bold=True)
    lines = [head]
    if not findings:
        lines.append("No findings: every purpose is specified as the Note asks.")
        return "\n".join(lines) + "\n"
    groups: dict[str | None, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.purpose, []).append(f)
    order = sorted(groups, key=lambda p: (p is not None, list(groups).index(p)))
    for purpose in order:
        lines += ["", "The protocol as a whole:" if purpose is None else f"Purpose {purpose}:"]
        for f in groups[purpose]:
            lines.append(f"  {f.severity.upper()} {f.code}: {f.message} [the Note: {f.section}]")
    if errors:
        lines += ["", "Fix the errors before anything is shared under this protocol."]
    return "\n".join(lines) + "\n"
