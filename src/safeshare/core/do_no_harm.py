"""Do no harm: a safe recipient, a label that does not reveal the protection issue, and a
way of contacting the person that does not expose her (Principles > Do No Harm;
Cross-cutting issues > Protection Sensitive Processing; Exceptional Circumstances)."""

from __future__ import annotations

import re

from safeshare.core.decision import Outcome
from safeshare.core.findings import Findings
from safeshare.core.reasons import condition, reason
from safeshare.core.vocabulary import (
    HOME_VISIT,
    HOME_VISIT_UNSAFE_CATEGORIES,
    DPAssessment,
    GeneralPurpose,
    OrgKind,
)
from safeshare.core.world import Assessment, Organisation, Purpose, Subject

# Words that reveal a protection issue in a referral's title ("GBV Referral" is the Note's
# example; "High priority referral" its neutral alternative).
STIGMATISING_WORDS = re.compile(
    r"\b(s?gbv|gender[- ]based|rape[ds]?|sexual(ly)?|sex(ual)? work(er)?|violence|violent|"
    r"survivors?|victims?|abused?|assault(ed)?|tortured?|lgbt\w*|gay|lesbian|bisexual|"
    r"trans(gender)?|intersex|queer|hiv|aids|mental(ly)?|psychiatric|psycho(sis|tic)|"
    r"suicid(e|al)|self[- ]harm|trafficking|trafficked|exploitation|fgm|"
    r"domestic|ipv|incest|perpetrators?|child soldiers?|abortion)\b",
    re.IGNORECASE,
)


def stigmatising(label: str) -> bool:
    return bool(STIGMATISING_WORDS.search(label))


def label_findings(label: str) -> Findings:
    found = Findings()
    if label and stigmatising(label):
        found.add(reason("stigmatising-label", Outcome.ALLOW_WITH_CONDITIONS, label=label))
        found.require(condition("neutral-label"))
    return found


def recipient_findings(
    recipient: Organisation,
    purpose: Purpose | None,
    risk: Assessment | None,
    alternative_available: bool,
) -> Findings:
    """Checks on the receiving organisation and the benefit and risk assessment."""
    found = Findings()
    statistics = purpose is not None and purpose.general is GeneralPurpose.STATISTICS
    if recipient.anonymity_only and not statistics:
        found.add(reason("recipient-anonymity-only", Outcome.DENY, recipient=recipient.id))
    unsafe = recipient.refoulement_risk or (risk is not None and risk.recipient_safe is False)
    if unsafe:
        # Where another option exists the unsafe one is refused; where none does, a person
        # weighs the risk (Exceptional Circumstances: "where another option ... may be available").
        outcome = Outcome.DENY if alternative_available else Outcome.ESCALATE
        found.add(reason("recipient-not-safe", outcome, recipient=recipient.id))
    if risk is not None and risk.benefits_outweigh_risks is False:
        found.add(reason("risks-outweigh-benefits", Outcome.DENY, assessment=risk.id))
    if recipient.kind is not OrgKind.UNHCR:
        if recipient.dp_assessment is DPAssessment.FAILED:
            found.add(
                reason(
                    "recipient-assessment-failed",
                    Outcome.DENY,
                    recipient=recipient.id,
                    status="failed",
                )
            )
        elif recipient.dp_assessment is not DPAssessment.PASSED:
            status = (
                "not yet completed"
                if recipient.dp_assessment is DPAssessment.PENDING
                else ("not had")
            )
            found.add(
                reason(
                    "recipient-assessment-failed",
                    Outcome.ALLOW_WITH_CONDITIONS,
                    recipient=recipient.id,
                    status=status,
                )
            )
            found.require(condition("complete-dp-assessment", recipient=recipient.id))
    return found


def contact_findings(subject: Subject, method: str, purpose: Purpose | None) -> Findings:
    """A home visit to a survivor of GBV, or a contact method not agreed for the purpose."""
    found = Findings()
    if not method:
        return found
    exposed = subject.categories & HOME_VISIT_UNSAFE_CATEGORIES
    if method == HOME_VISIT and exposed:
        found.add(
            reason(
                "unsafe-contact-method",
                Outcome.ALLOW_WITH_CONDITIONS,
                subject=subject.id,
                method="home visit",
                why=f" ({', '.join(sorted(exposed))}): a visit can reveal that she reported",
            )
        )
        found.require(condition("safe-contact"))
    elif purpose is not None and purpose.contact_methods and method not in purpose.contact_methods:
        found.add(
            reason(
                "unsafe-contact-method",
                Outcome.ALLOW_WITH_CONDITIONS,
                subject=subject.id,
                method=method,
                why=": it is not a contact method agreed for this purpose",
            )
        )
        found.require(condition("safe-contact"))
    return found
