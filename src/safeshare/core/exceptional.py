"""Exceptional circumstances and the bases other than consent, for the request as a whole:
vital interests need a tangible and immediate danger; the mandate serves investigations
linked to particular individuals; safety and security an ongoing, serious threat; and every
one of them a benefit and risk assessment (Cross-cutting issues > Exceptional
Circumstances; Legitimate Bases)."""

from __future__ import annotations

from dataclasses import dataclass

from safeshare.core.decision import Outcome
from safeshare.core.findings import Findings
from safeshare.core.reasons import reason
from safeshare.core.request import ShareRequest
from safeshare.core.vocabulary import Basis, CircumstanceKind, GeneralPurpose
from safeshare.core.world import Assessment, Purpose

_MANDATE_PURPOSES = frozenset({GeneralPurpose.INVESTIGATION, GeneralPurpose.FILE_EVACUATION})
_CIRCUMSTANCE_WORDS = {
    CircumstanceKind.EMERGENCY: "an emergency",
    CircumstanceKind.INVESTIGATION: "an investigation",
    CircumstanceKind.SECURITY_THREAT: "a serious security threat",
}


@dataclass(frozen=True, slots=True)
class BasisCheck:
    """Request-wide findings for the basis, and whether a genuine exceptional circumstance
    stands (which turns "not agreed in advance" from a refusal into a case-by-case review)."""

    findings: Findings
    genuine: bool


def general_of(purpose: Purpose | None, request: ShareRequest) -> GeneralPurpose | None:
    if purpose is not None:
        return purpose.general
    circumstance = request.circumstance
    if circumstance is not None and circumstance.kind is CircumstanceKind.INVESTIGATION:
        return GeneralPurpose.INVESTIGATION
    if circumstance is not None and circumstance.kind is CircumstanceKind.SECURITY_THREAT:
        return GeneralPurpose.FILE_EVACUATION
    return None


def check_basis(
    request: ShareRequest, purpose: Purpose | None, risk: Assessment | None
) -> BasisCheck:
    found = Findings()
    basis = request.basis
    circumstance = request.circumstance
    if basis in (Basis.CONSENT, Basis.BEST_INTERESTS):
        return BasisCheck(found, genuine=False)
    described = _CIRCUMSTANCE_WORDS.get(circumstance.kind, "") if circumstance else ""
    genuine = False
    if basis is Basis.VITAL_INTERESTS:
        if circumstance is None or not circumstance.immediate:
            found.add(reason("vital-interests-not-immediate", Outcome.DENY))
        else:
            genuine = True
    elif basis is Basis.MANDATE:
        general = general_of(purpose, request)
        if general not in _MANDATE_PURPOSES:
            found.add(
                reason(
                    "basis-not-applicable",
                    Outcome.DENY,
                    basis="mandate",
                    why="the mandate is not a basis for referrals or other case work; it "
                    "serves formal investigations into particular individuals",
                )
            )
        elif general is GeneralPurpose.INVESTIGATION and (
            request.select is not None
            or circumstance is None
            or not circumstance.individuals_named
            or not request.subjects
        ):
            found.add(reason("mandate-blanket", Outcome.DENY))
        else:
            genuine = True
            found.add(
                reason(
                    "exceptional-review",
                    Outcome.ESCALATE,
                    circumstance=described or "an investigation",
                )
            )
    elif basis is Basis.SAFETY_AND_SECURITY:
        if (
            circumstance is None
            or not circumstance.immediate
            or circumstance.kind is CircumstanceKind.INVESTIGATION
        ):
            found.add(
                reason(
                    "basis-not-applicable",
                    Outcome.DENY,
                    basis="safety and security",
                    why="no ongoing and serious, immediate threat to the safety of persons is "
                    "recorded",
                )
            )
        else:
            genuine = True
            found.add(reason("exceptional-review", Outcome.ESCALATE, circumstance=described))
    if genuine and risk is None:
        # "DO conduct a risk assessment before sharing any information": even in an
        # emergency, nothing goes before the benefits and risks are weighed and recorded.
        found.add(reason("risk-assessment-missing", Outcome.DENY))
    return BasisCheck(found, genuine=genuine)
