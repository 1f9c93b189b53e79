"""The decision engine: a pure function from (world, request) to a decision.

``decide`` reads the world and never trusts what a request claims that the world can check.
A share is decided for the request as a whole (protocol, purpose, parties, basis, recipient,
label, elements) and then for each subject (consent, assent, best interests, contact);
the top-level decision folds the subjects' own decisions (``shared/scenarios/FORMAT.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from safeshare.core import consent, need_to_know, subject_access
from safeshare.core.bases import (
    ConsentScope,
    child_best_interests,
    consent_basis,
    without_consent,
)
from safeshare.core.closed_cases import needs_reconfirmation
from safeshare.core.decision import Condition, Decision, Outcome, SubjectDecision, strictest
from safeshare.core.do_no_harm import contact_findings, label_findings, recipient_findings
from safeshare.core.exceptional import check_basis, general_of
from safeshare.core.feedback import process_feedback_findings, split
from safeshare.core.findings import Findings, unique_reasons
from safeshare.core.minimisation import minimise, unique
from safeshare.core.purposes import agreement_reasons, quality_reasons
from safeshare.core.reasons import condition, reason
from safeshare.core.request import Request, ShareRequest, SubjectAccessRequest
from safeshare.core.selection import selection_findings, subjects_of
from safeshare.core.vocabulary import Basis, Category, ConsentDecision, GeneralPurpose
from safeshare.core.world import ConsentRecord, Purpose, Subject, World

_ROUTINE_FORBIDDEN = frozenset({Category.CASE_FILE, Category.PROTECTION_DETAIL})


def decide(world: World, request: Request) -> Decision:
    """Decides a request from the world alone."""
    if isinstance(request, ShareRequest):
        return decide_share(world, request)
    if isinstance(request, SubjectAccessRequest):
        return subject_access.decide(world, request)
    return need_to_know.decide(world, request)


def decide_share(world: World, request: ShareRequest) -> Decision:
    purpose = world.purposes.get(request.purpose)
    risk = world.assessments.get(request.risk_assessment) if request.risk_assessment else None
    general = general_of(purpose, request)
    basis = check_basis(request, purpose, risk)

    common = Findings()
    common.merge(basis.findings)
    agreement = Outcome.ESCALATE if basis.genuine else Outcome.DENY
    common.extend(
        agreement_reasons(
            world.protocol,
            purpose_id=request.purpose,
            purpose=purpose,
            sender=request.sender,
            recipient=request.recipient,
            outcome=agreement,
        )
    )
    if purpose is not None:
        common.extend(quality_reasons(purpose))
    subject_ids = subjects_of(world, request)
    common.merge(selection_findings(request, general, len(subject_ids)))
    common.merge(
        recipient_findings(
            world.organisations[request.recipient], purpose, risk, request.alternative_available
        )
    )
    common.merge(label_findings(request.label))
    if request.routine and any(
        world.elements.get(e) in _ROUTINE_FORBIDDEN for e in request.data_elements
    ):
        common.add(reason("routine-case-files", Outcome.DENY))

    if purpose is not None:
        elements, minimised = minimise(purpose, request.data_elements, world.elements)
    else:
        elements, minimised = unique(request.data_elements), Findings()
    if not elements:
        minimised.reasons = [replace(r, outcome=Outcome.DENY) for r in minimised.reasons]
    common.merge(minimised)
    exempt, service = (
        split(purpose, elements, world.elements) if purpose else (frozenset(), frozenset())
    )
    common.merge(process_feedback_findings(exempt))

    ctx = _Share(world, request, purpose, general, elements, exempt, service, common)
    decisions = [_decide_subject(ctx, world.subjects[sid]) for sid in subject_ids]
    return _fold(request, elements, common, decisions)


@dataclass(frozen=True, slots=True)
class _Share:
    """What the request-wide part of a share decision settled, for the subjects' part."""

    world: World
    request: ShareRequest
    purpose: Purpose | None
    general: GeneralPurpose | None
    elements: list[str]
    exempt: frozenset[str]
    service: frozenset[str]
    common: Findings


def _decide_subject(ctx: _Share, subject: Subject) -> SubjectDecision:
    world, request, purpose, general = ctx.world, ctx.request, ctx.purpose, ctx.general
    elements, exempt, service, common = ctx.elements, ctx.exempt, ctx.service, ctx.common
    found = Findings()
    allowed = elements
    if purpose is not None and general is GeneralPurpose.STATISTICS:
        found.merge(_refusal_respected(world, subject, purpose, request.recipient))
    elif purpose is not None and request.basis is Basis.CONSENT:

        def entry_problem(entry: ConsentRecord) -> str | None:
            if consent.reverification_due(entry, world.protocol.consent_review, world.today):
                return "consent-reverification-due"
            if general is GeneralPurpose.CLOSED_CASE_ARCHIVING and needs_reconfirmation(
                entry, world, subject, request.sender
            ):
                return "consent-not-reconfirmed"
            return None

        scope = ConsentScope(purpose, request.recipient, exempt, service, entry_problem)
        allowed, by_consent = consent_basis(world, subject, elements, scope)
        found.merge(by_consent)
    elif request.basis is not Basis.CONSENT:
        found.merge(without_consent(world, subject, request.basis, purpose, request.recipient))
    found.merge(child_best_interests(world, subject, request.basis))
    found.merge(contact_findings(subject, request.contact_method, purpose))

    outcome = strictest((common.outcome, found.outcome))
    if not allowed:
        outcome = Outcome.DENY
    reasons = (
        tuple(common.reasons)
        if not found.reasons
        else unique_reasons([*common.reasons, *found.reasons])
    )
    if outcome is Outcome.DENY:
        return SubjectDecision(subject.id, outcome, reasons)
    conditions = _merge_conditions([*common.conditions, *found.conditions])
    if common.dropped or found.dropped:
        dropped = [e for e in unique([*common.dropped, *found.dropped]) if e not in allowed]
        if dropped:
            conditions = (*conditions, condition("drop-elements", elements=tuple(dropped)))
    return SubjectDecision(subject.id, outcome, reasons, conditions, tuple(allowed))


def _refusal_respected(
    world: World, subject: Subject, purpose: Purpose, recipient: str
) -> Findings:
    """Anonymised statistics need no consent, but a person who said no is left out."""
    found = Findings()
    latest = consent.latest_entry(
        world.consents(subject.id), purpose, recipient, consent.own_consent, today=world.today
    )
    if latest is not None and latest.decision is not ConsentDecision.GRANTED:
        code = (
            "consent-refused"
            if latest.decision is ConsentDecision.REFUSED
            else ("consent-withdrawn")
        )
        found.add(reason(code, Outcome.DENY, subject=subject.id, by=""))
    return found


def _merge_conditions(conditions: Sequence[Condition]) -> tuple[Condition, ...]:
    """One condition per code, its elements, subjects and records united."""
    merged: dict[str, Condition] = {}
    if len(conditions) < 2:
        return tuple(conditions)
    for c in conditions:
        seen = merged.get(c.code)
        if seen is None:
            merged[c.code] = c
        elif c.elements or c.subjects or c.records:
            merged[c.code] = condition(
                c.code,
                elements=tuple(unique([*seen.elements, *c.elements])),
                subjects=tuple(unique([*seen.subjects, *c.subjects])),
                records=tuple(unique([*seen.records, *c.records])),
            )
    return tuple(merged.values())


def _fold(
    request: ShareRequest, elements: list[str], common: Findings, decisions: list[SubjectDecision]
) -> Decision:
    """The top-level decision: allow where all allow, deny where all deny, otherwise the
    strictest of those who may go, with the condition only-subjects."""
    going = [d for d in decisions if d.outcome is not Outcome.DENY]
    reasons = unique_reasons(
        [*common.reasons, *(r for d in decisions for r in d.reasons)], by_code=True
    )
    if not decisions:
        outcome = Outcome.DENY if common.denied or not elements else common.outcome
        going_elements: list[str] = [] if outcome is Outcome.DENY else elements
        return Decision(
            kind="share",
            outcome=outcome,
            reasons=reasons,
            conditions=_merge_conditions(common.conditions) if outcome is not Outcome.DENY else (),
            share_elements=tuple(going_elements),
        )
    if not going:
        return Decision(
            kind="share", outcome=Outcome.DENY, reasons=reasons, subjects=tuple(decisions)
        )
    outcome = strictest(d.outcome for d in going)
    extra: list[Condition] = []
    if len(going) < len(decisions):
        outcome = strictest((outcome, Outcome.ALLOW_WITH_CONDITIONS))
        extra.append(condition("only-subjects", subjects=tuple(d.id for d in going)))
    shared = set(going[0].data_elements)
    for d in going[1:]:
        shared &= set(d.data_elements)
    share_elements = tuple(e for e in elements if e in shared)
    conditions = [c for d in going for c in d.conditions if c.code != "drop-elements"]
    dropped = tuple(e for e in unique(request.data_elements) if e not in shared)
    if dropped:
        extra.append(condition("drop-elements", elements=dropped))
    return Decision(
        kind="share",
        outcome=outcome,
        reasons=reasons,
        conditions=_merge_conditions([*conditions, *extra]),
        share_subjects=tuple(d.id for d in going),
        share_elements=share_elements,
        subjects=tuple(decisions),
    )
