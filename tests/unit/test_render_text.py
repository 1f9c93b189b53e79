"""The text form of decisions and protocol findings, from hand-made values."""

from __future__ import annotations

from safeshare.core.decision import Condition, Decision, Outcome, Reason, SubjectDecision
from safeshare.core.protocol_check import Finding
from safeshare.core.request import SubjectAccessRequest
from safeshare.render_text import render_decision, render_findings

MISSING = Reason(
    "consent-missing",
    "There is no consent on record from s1.",
    "Cross-cutting issues > Consent",
    Outcome.DENY,
    next_step="Obtain her or his informed consent.",
)


def test_conditions_reasons_and_next_steps_deduplicated() -> None:
    decision = Decision(
        kind="share",
        outcome=Outcome.ALLOW_WITH_CONDITIONS,
        reasons=(MISSING,),
        conditions=(Condition("only-subjects", "Share only for: s2.", "x", subjects=("s2",)),),
        share_subjects=("s2",),
        share_elements=("name",),
        subjects=(
            SubjectDecision("s1", Outcome.DENY, reasons=(MISSING,)),
            SubjectDecision("s2", Outcome.ALLOW, data_elements=("name",)),
        ),
    )
    text = render_decision(decision)
    assert text.startswith("Decision: ALLOWED WITH CONDITIONS\n")
    assert (
        "  - There is no consent on record from s1. "
        "[consent-missing; the Note: Cross-cutting issues > Consent]"
    ) in text
    assert "  Subjects: s2\n  Data elements: name\n" in text
    assert "  s1: NOT ALLOWED\n" in text
    assert "  s2: ALLOWED\n" in text
    assert text.count("Obtain her or his informed consent.") == 1
    assert text.index("Share only for: s2.") < text.index("Obtain her")
    assert "\x1b[" not in text


def test_deny_shares_nothing_and_one_subject_has_no_per_subject_lines() -> None:
    decision = Decision(
        kind="share",
        outcome=Outcome.DENY,
        reasons=(MISSING,),
        subjects=(SubjectDecision("s1", Outcome.DENY, reasons=(MISSING,)),),
    )
    text = render_decision(decision)
    assert "What may be shared:\n  Nothing.\n" in text
    assert "Each person:" not in text


def test_subject_access_lists_records_and_colour_only_when_asked() -> None:
    decision = Decision(kind="subject-access", outcome=Outcome.ALLOW, share_records=("f1",))
    text = render_decision(decision, SubjectAccessRequest("s1", ("f1",)))
    assert "Records: f1" in text
    assert "Subject access request: s1 asks for records f1." in text
    assert "\x1b[" in render_decision(decision, color=True)


def test_findings_grouped_by_purpose_protocol_first() -> None:
    findings = [
        Finding("retention-missing", "p1", "error", "No storage period.", "Sec"),
        Finding("consent-review-missing", None, "warning", "No review period.", "Sec"),
        Finding("explanation-missing", "p1", "error", "No explanation.", "Sec"),
    ]
    text = render_findings(findings, "op-dsp")
    assert text.startswith("Protocol op-dsp: 2 error(s), 1 warning(s)")
    assert text.index("The protocol as a whole:") < text.index("Purpose p1:")
    assert "  ERROR retention-missing: No storage period. [the Note: Sec]" in text
    assert "  WARNING consent-review-missing" in text
    assert "No findings" in render_findings([], "op-dsp")
