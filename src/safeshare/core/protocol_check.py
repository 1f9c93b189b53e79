"""Checking a data sharing protocol on its own (SOP / PPA Annex F), so an operation sees
what the Note objects to before anything is shared."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from safeshare.core.do_no_harm import stigmatising
from safeshare.core.minimisation import is_full_account
from safeshare.core.purposes import is_vague, missing_parts
from safeshare.core.reasons import DO_NO_HARM, NECESSITY, PURPOSE_SPEC, REASONS, SENSITIVE
from safeshare.core.vocabulary import (
    HOME_VISIT,
    IDENTIFYING_CATEGORIES,
    STANDARD_ELEMENTS,
    BenefitKind,
    Category,
    GeneralPurpose,
)
from safeshare.core.world import Organisation, Protocol, Purpose

# Biographical elements that commonly serve as breakdowns of aggregate figures; listing
# them for statistics is a warning, listing a direct identifier an error.
AGGREGATE_DIMENSIONS = frozenset({"sex", "age", "nationality", "language", "location"})

# A purpose stated for survivors of gender-based violence (Protection Sensitive Processing:
# "DON'T follow up with GBV survivors in their home").
GBV_WORDS = re.compile(
    r"\b(s?gbv|gender[- ]based|sexual (and gender[- ]based )?violence|rape|ipv|"
    r"intimate partner|domestic violence)\b",
    re.IGNORECASE,
)

ERROR = "error"
WARNING = "warning"

# "avoid ... vague qualifiers such as 'may', 'might', 'possible', 'some', etc." and "for
# research purposes" (Cross-cutting issues > Purpose Specification).
VAGUE_QUALIFIERS = re.compile(
    r"\b(may|might|possibl[ey]|possibly|some|perhaps|could|various|etc|other purposes|"
    r"for research purposes|and so on)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    purpose: str | None
    severity: str  # "error" | "warning"
    message: str
    section: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "purpose": self.purpose,
            "severity": self.severity,
            "message": self.message,
            "section": self.section,
        }


def _finding(
    code: str, purpose: str | None, severity: str, message: str, section: str = ""
) -> Finding:
    return Finding(code, purpose, severity, message, section or REASONS[code].section)


def check_protocol(
    protocol: Protocol,
    organisations: Mapping[str, Organisation] | None = None,
    elements: Mapping[str, Category] | None = None,
) -> tuple[Finding, ...]:
    """Every finding of the Note's rules on a protocol: errors must be fixed before sharing
    under it; warnings deserve a look."""
    categories = dict(STANDARD_ELEMENTS) if elements is None else dict(elements)
    found: list[Finding] = []
    if not protocol.endorsed:
        found.append(
            _finding(
                "protocol-not-endorsed",
                None,
                WARNING,
                f"The protocol {protocol.id} is not yet endorsed by the management of all "
                "parties: nothing may be shared under it.",
            )
        )
    if protocol.consent_review is None:
        found.append(
            _finding(
                "consent-review-missing",
                None,
                WARNING,
                "No period is set after which consent is re-verified (e.g. P1Y).",
                "Legitimate Purposes > Closed cases for access (regular review mechanism)",
            )
        )
    for purpose in protocol.purposes:
        found.extend(_check_purpose(purpose, categories))
        if organisations is not None:
            found.extend(_check_parties(purpose, organisations))
    return tuple(found)


def _check_parties(purpose: Purpose, organisations: Mapping[str, Organisation]) -> list[Finding]:
    out: list[Finding] = []
    statistics = purpose.general is GeneralPurpose.STATISTICS
    for org_id in sorted(purpose.recipients):
        org = organisations.get(org_id)
        if org is None:
            continue
        if org.anonymity_only and not statistics:
            out.append(
                _finding(
                    "recipient-anonymity-only",
                    purpose.id,
                    ERROR,
                    f"{org_id} works only on anonymity: give people its contact details "
                    "instead of referring them.",
                )
            )
        if org.dp_assessment.value == "failed":
            out.append(
                _finding(
                    "recipient-assessment-failed",
                    purpose.id,
                    ERROR,
                    f"{org_id} failed its joint data protection assessment.",
                )
            )
        if org.refoulement_risk:
            out.append(
                _finding(
                    "recipient-not-safe",
                    purpose.id,
                    WARNING,
                    f"Sharing with {org_id} could expose people to refoulement.",
                )
            )
    return out


def _check_purpose(purpose: Purpose, categories: Mapping[str, Category]) -> list[Finding]:
    pid = purpose.id
    out: list[Finding] = []
    if is_vague(purpose.benefit, purpose.services):
        out.append(
            _finding(
                "purpose-too-vague",
                pid,
                ERROR,
                f"'{purpose.benefit or pid}' does not say which service the person will receive; "
                "list the specific services.",
            )
        )
    missing = missing_parts(purpose)
    if missing:
        out.append(
            _finding("purpose-incomplete", pid, ERROR, "Missing: " + ", ".join(missing) + ".")
        )
    if purpose.retention is None:
        out.append(
            _finding(
                "retention-missing",
                pid,
                ERROR,
                "No storage period is given (e.g. P6M, duration-of-partnership).",
                PURPOSE_SPEC,
            )
        )
    statistics = purpose.general is GeneralPurpose.STATISTICS
    if purpose.benefit_kind is BenefitKind.INDIRECT and not statistics:
        out.append(
            _finding(
                "purpose-indirect-benefit",
                pid,
                ERROR,
                "An indirect benefit (e.g. better programming) does not justify sharing "
                "personal data; use anonymised or aggregate data.",
            )
        )
    if statistics:
        named = [e for e in purpose.data_elements if categories.get(e) in IDENTIFYING_CATEGORIES]
        if named:
            direct = [e for e in named if e not in AGGREGATE_DIMENSIONS]
            out.append(
                _finding(
                    "aggregate-sufficient",
                    pid,
                    ERROR if direct else WARNING,
                    "Statistics need anonymised or aggregate data: "
                    + ", ".join(named)
                    + " are withheld from each record"
                    + ("" if direct else " (they may serve only as aggregate breakdowns)")
                    + ".",
                )
            )
    full = [
        e for e in purpose.data_elements if is_full_account(e, categories.get(e), purpose.general)
    ]
    if full:
        forbidden = purpose.general in (
            GeneralPurpose.REFERRAL_FEEDBACK,
            GeneralPurpose.ELIGIBILITY,
        )
        out.append(
            _finding(
                "whole-case-file",
                pid,
                ERROR if forbidden or statistics else WARNING,
                (
                    "Not allowed for this purpose: "
                    if forbidden
                    else "Only in rare, consented "
                    "transfers (e.g. total care moves to another organisation): "
                )
                + ", ".join(full)
                + ".",
                NECESSITY,
            )
        )
    if HOME_VISIT in purpose.contact_methods:
        for_survivors = bool(GBV_WORDS.search(" ".join((pid, purpose.benefit, *purpose.services))))
        out.append(
            _finding(
                "unsafe-contact-method",
                pid,
                ERROR if for_survivors else WARNING,
                (
                    "This purpose serves survivors of GBV: never follow them up in their home."
                    if for_survivors
                    else "Home visits must never be used to follow up with survivors of GBV; "
                    "for those cases a safe contact method is required."
                ),
                SENSITIVE,
            )
        )
    for text, what in ((purpose.label, "label"), (pid.replace("-", " "), "purpose name")):
        if text and stigmatising(text):
            out.append(
                _finding(
                    "stigmatising-label",
                    pid,
                    WARNING,
                    f"The {what} '{text}' reveals the protection issue; referrals under it "
                    "must carry a neutral label.",
                    DO_NO_HARM,
                )
            )
            break
    if not purpose.explanation.strip():
        out.append(
            _finding(
                "explanation-missing",
                pid,
                ERROR,
                "No plain-language explanation for the person (what is shared, with whom, "
                "why, for how long).",
                PURPOSE_SPEC,
            )
        )
    else:
        vague = sorted({m.group(0).lower() for m in VAGUE_QUALIFIERS.finditer(purpose.explanation)})
        if vague:
            out.append(
                _finding(
                    "vague-explanation",
                    pid,
                    ERROR,
                    "The explanation uses vague qualifiers: "
                    + ", ".join(repr(v) for v in vague)
                    + ". Say exactly what will be shared and with whom.",
                    PURPOSE_SPEC,
                )
            )
    return out
