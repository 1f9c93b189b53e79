"""The catalogue of reason and condition codes: for each, a plain sentence, the section of
the Note it rests on, and what the caseworker does next. Codes are stable; messages may
name the subject, purpose, recipient or elements concerned."""

from __future__ import annotations

from dataclasses import dataclass

from safeshare.core.decision import Condition, Outcome, Reason

PURPOSE_SPEC = "Cross-cutting issues > Purpose Specification"
CONSENT = "Cross-cutting issues > Consent"
ASSENT = "Terminology > (Informed) assent"
OTHER_PURPOSES = "Cross-cutting issues > Processing for Other Purposes"
EXCEPTIONAL = "Cross-cutting issues > Exceptional Circumstances"
DATA_SECURITY = "Cross-cutting issues > Data Security"
SENSITIVE = "Cross-cutting issues > Protection Sensitive Processing"
VITAL = "Legitimate Bases > Vital interests"
BEST_INTERESTS = "Legitimate Bases > Best interests"
MANDATE = "Legitimate Bases > To enable UNHCR to carry out its mandate"
BASES = "Legitimate Bases"
DO_NO_HARM = "Principles > Do No Harm"
NECESSITY = "Principles > Necessity and Proportionality"
NEED_TO_KNOW = "Principles > Need-to-Know"
CONFIDENTIALITY = "Principles > Confidentiality"
REFERRALS = (
    "Legitimate Purposes > Open, active cases for referrals for specific and immediate services"
)
ELIGIBILITY = "Legitimate Purposes > Open, active cases for services provided in the future"
FEEDBACK = "Legitimate Purposes > Feedback on service referrals"
CLOSED_TRANSFER = "Legitimate Purposes > Closed cases for access for future services"
ARCHIVING = "Legitimate Purposes > Closed cases for archiving"


@dataclass(frozen=True, slots=True)
class Entry:
    message: str
    section: str
    next_step: str = ""


REASONS: dict[str, Entry] = {
    "protocol-not-endorsed": Entry(
        "The data sharing protocol {protocol} is not endorsed by the management of all parties, "
        "so nothing may be shared under it yet.",
        REFERRALS,
        "Have the protocol endorsed by the senior management of every party first.",
    ),
    "purpose-not-in-protocol": Entry(
        "The purpose '{purpose}' was not agreed in advance in the data sharing protocol.",
        PURPOSE_SPEC,
        "Agree this purpose with the partner and add it to the protocol (SOP / PPA Annex F).",
    ),
    "purpose-too-vague": Entry(
        "The purpose '{purpose}' is too broad: it does not say which service the person "
        "will receive.",
        PURPOSE_SPEC,
        "Name the specific services (e.g. counselling, resettlement consideration) in the "
        "protocol before asking anyone's consent.",
    ),
    "purpose-indirect-benefit": Entry(
        "The benefit of '{purpose}' is not direct to the person (e.g. programme improvement); "
        "that does not justify sharing personal data.",
        PURPOSE_SPEC,
        "Use anonymised or aggregate data for this purpose.",
    ),
    "purpose-incomplete": Entry(
        "The purpose '{purpose}' does not state {missing}.",
        PURPOSE_SPEC,
        "Complete the purpose in the protocol: benefit, services, retention, access roles and "
        "data elements.",
    ),
    "party-not-in-purpose": Entry(
        "{party} is not agreed as a {side} for the purpose '{purpose}'.",
        PURPOSE_SPEC,
        "Only the organisations named in the protocol for this purpose may send or receive.",
    ),
    "aggregate-sufficient": Entry(
        "Anonymised or aggregate data meet the purpose '{purpose}': identifying elements are "
        "withheld.",
        PURPOSE_SPEC,
        "Share anonymised or aggregate figures only; remove names and identifying details.",
    ),
    "consent-missing": Entry(
        "There is no consent on record from {subject} for '{purpose}' with {recipient}.",
        CONSENT,
        "Obtain her or his informed consent for this purpose and recipient before sharing.",
    ),
    "consent-refused": Entry(
        "{subject} refused this sharing{by}.",
        CONSENT,
        "Respect the refusal: do not share. Offer the person the service's contact details.",
    ),
    "consent-withdrawn": Entry(
        "{subject} withdrew consent for this sharing{by}.",
        CONSENT,
        "Do not share. The withdrawal stands until the person gives consent again.",
    ),
    "consent-scope-mismatch": Entry(
        "The consent on record for {subject} does not cover {scope}.",
        OTHER_PURPOSES,
        "Obtain consent for this purpose, recipient and these elements; consent for one "
        "purpose cannot be used for another.",
    ),
    "consent-reverification-due": Entry(
        "The consent of {subject} dates from {date}, older than the protocol's review period "
        "({period}).",
        CONSENT,
        "Re-verify consent with the person before sharing.",
    ),
    "consent-not-reconfirmed": Entry(
        "{subject} consented at intake but can be reached and has not reconfirmed at case closure.",
        ARCHIVING,
        "Ask the person to reconfirm consent at case closure.",
    ),
    "assent-missing": Entry(
        "{subject} is a child and her or his own assent is not on record for this sharing.",
        ASSENT,
        "Explain the referral in a child-friendly way and seek the child's assent.",
    ),
    "caregiver-consent-missing": Entry(
        "{subject} is a child: the consent of a parent, guardian or caregiver is needed and "
        "is not on record.",
        ASSENT,
        "Obtain the caregiver's consent, unless involving them is not in the child's best "
        "interests (record that assessment).",
    ),
    "basis-not-applicable": Entry(
        "The basis '{basis}' does not apply here: {why}.",
        BASES,
        "Use consent as the basis, or the basis the Note provides for this situation.",
    ),
    "best-interests-not-determined": Entry(
        "No best interests assessment concludes that sharing the data of {subject} is in the "
        "child's best interests{detail}.",
        BEST_INTERESTS,
        "Conduct a best interests assessment (BIA/BID) first.",
    ),
    "vital-interests-not-immediate": Entry(
        "Vital interests need a tangible and immediate danger; a vague or future risk does "
        "not justify sharing without consent.",
        VITAL,
        "Seek the person's consent instead.",
    ),
    "mandate-blanket": Entry(
        "An investigation may only concern particular individuals, never a blanket selection.",
        MANDATE,
        "Name the individuals the investigation concerns and justify each one.",
    ),
    "exceptional-review": Entry(
        "This is an exceptional circumstance ({circumstance}): the data protection focal point "
        "must decide case by case.",
        EXCEPTIONAL,
        "Send the request to the data protection focal point with the risk assessment.",
    ),
    "risk-assessment-missing": Entry(
        "No benefit and risk assessment is on record for this sharing.",
        EXCEPTIONAL,
        "Conduct and record a benefit and risk assessment before sharing.",
    ),
    "risks-outweigh-benefits": Entry(
        "The risk assessment {assessment} found that the risks outweigh the benefits.",
        DO_NO_HARM,
        "Do not share; look for a safer option (e.g. give the person the service's contact "
        "details).",
    ),
    "recipient-not-safe": Entry(
        "{recipient} was not assessed as safe and able to provide care, or sharing with it "
        "could expose the person to refoulement.",
        EXCEPTIONAL,
        "Choose another provider that was assessed as safe.",
    ),
    "recipient-anonymity-only": Entry(
        "{recipient} works only on anonymity and takes no referrals with personal data.",
        REFERRALS,
        "Give the person the service's contact details so they can approach it themselves.",
    ),
    "recipient-assessment-failed": Entry(
        "{recipient} has {status} its joint data protection assessment.",
        DATA_SECURITY,
        "Complete the joint data protection assessment and agree mitigation measures.",
    ),
    "bulk-indiscriminate": Entry(
        "Referrals and investigations are made case by case, not by blanket selection "
        "({count} people selected).",
        REFERRALS,
        "Decide each person's referral on its own, with her or his consent.",
    ),
    "routine-case-files": Entry(
        "Case files or incident forms may not be submitted as routine reporting.",
        CONSENT,
        "Report aggregate figures instead of individual case files.",
    ),
    "data-not-minimal": Entry(
        "These elements go beyond what '{purpose}' needs and are dropped: {elements}.",
        NECESSITY,
        "Drop these elements: {elements}.",
    ),
    "whole-case-file": Entry(
        "A whole case file or full incident account is not allowed for '{purpose}': "
        "{elements} dropped.",
        NECESSITY,
        "Share only the agreed elements, not the case file or the incident account.",
    ),
    "service-feedback-needs-consent": Entry(
        "Service feedback ({elements}) needs the consent of {subject}; it is dropped.",
        FEEDBACK,
        "Ask the person's consent before giving feedback on the services provided.",
    ),
    "process-feedback": Entry(
        "Process feedback on the referral may go without consent: it concerns the "
        "organisation's own process.",
        FEEDBACK,
    ),
    "stigmatising-label": Entry(
        "The label '{label}' reveals the protection issue.",
        DO_NO_HARM,
        "Use a neutral label such as 'High priority referral'.",
    ),
    "unsafe-contact-method": Entry(
        "Contacting {subject} by {method} could expose her or him{why}.",
        SENSITIVE,
        "Agree a safe way to contact the person (phone, office).",
    ),
    "inform-subject": Entry(
        "Data of {subject} would be shared without consent: the person must be told what was "
        "done and why.",
        EXCEPTIONAL,
        "Explain to the person the action taken on her or his behalf and listen to concerns.",
    ),
    "need-to-know": Entry(
        "{actor} has no need to know {what} of case {case}.",
        NEED_TO_KNOW,
        "Use aggregate data, or record a case-specific need (e.g. technical assistance).",
    ),
    "third-party-data": Entry(
        "Records about other persons are withheld: {records}.",
        ARCHIVING,
        "Share only the requester's own records.",
    ),
}

CONDITIONS: dict[str, Entry] = {
    "drop-elements": Entry("Remove these elements before sending: {elements}.", NECESSITY),
    "only-subjects": Entry("Share only for: {subjects}.", CONSENT),
    "neutral-label": Entry("Replace the label with a neutral one.", DO_NO_HARM),
    "safe-contact": Entry("Contact the person only by a safe, agreed method.", SENSITIVE),
    "inform-subject": Entry("Inform the person of the sharing and its reasons.", EXCEPTIONAL),
    "withhold-records": Entry("Withhold these records: {records}.", ARCHIVING),
    "anonymise": Entry("Share anonymised or aggregate data only.", CONFIDENTIALITY),
    "complete-dp-assessment": Entry(
        "Complete the joint data protection assessment with {recipient} before sending.",
        DATA_SECURITY,
    ),
}


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return key


def reason(code: str, outcome: Outcome, **params: str) -> Reason:
    """Builds the reason ``code`` with its catalogue sentence, section and next step."""
    entry = REASONS[code]
    values = _Blank(params)
    return Reason(
        code=code,
        message=entry.message.format_map(values),
        section=entry.section,
        outcome=outcome,
        next_step=entry.next_step.format_map(values),
    )


def condition(
    code: str,
    *,
    elements: tuple[str, ...] = (),
    subjects: tuple[str, ...] = (),
    records: tuple[str, ...] = (),
    **params: str,
) -> Condition:
    entry = CONDITIONS[code]
    values = _Blank(params)
    values.setdefault("elements", ", ".join(elements))
    values.setdefault("subjects", ", ".join(subjects))
    values.setdefault("records", ", ".join(records))
    return Condition(
        code=code,
        message=entry.message.format_map(values),
        section=entry.section,
        elements=elements,
        subjects=subjects,
        records=records,
    )
