"""Words shown for the vocabulary's values (outcomes, statuses, roles, bases, ...): the
English msgid of each, translated through the catalogues."""

from __future__ import annotations

LABELS: dict[str, str] = {
    # decisions
    "allow": "Allowed",
    "allow-with-conditions": "Allowed with conditions",
    "escalate": "Needs the data protection focal point",
    "deny": "Not allowed",
    # referral statuses
    "pending": "Waiting for the recipient",
    "accepted": "Accepted",
    "rejected": "Rejected",
    "closed": "Closed",
    "escalated": "With the focal point",
    "refused": "Refused",
    "stopped": "Stopped (consent withdrawn)",
    "lapsed": "Lapsed (never answered in time)",
    "approved": "Approved",
    # notices about referrals
    "consent-withdrawn": "Consent withdrawn",
    "referral-stopped": "Stopped before it was accepted: do not act on it",
    "resend-others": "Stopped for everyone on it: refer the others again",
    # consent
    "granted": "Consent given",
    "withdrawn": "Withdrawn",
    "consent": "Consent",
    "assent": "Assent (child)",
    "self": "The person",
    "parent": "Parent",
    "guardian": "Guardian",
    "caregiver": "Caregiver",
    "written": "Written",
    "oral-recorded": "Oral, recorded",
    "audio": "Audio",
    "note-for-file": "Note for the file",
    "intake": "Intake",
    "referral": "Referral",
    "closure": "Case closure",
    "review": "Review",
    # cases
    "open": "Open",
    "assigned": "Assigned to me",
    "need": "Case-specific need",
    "shared": "Shared with my organisation",
    # bases
    "vital-interests": "Vital interests",
    "best-interests": "Best interests (child)",
    "mandate": "UNHCR's mandate",
    "safety-and-security": "Safety and security",
    # circumstances
    "emergency": "Emergency",
    "investigation": "Investigation",
    "security-threat": "Security threat",
    # contact methods
    "phone": "Phone",
    "office": "At the office",
    "home-visit": "Home visit",
    "sms": "Text message",
    "email": "Email",
    # roles
    "caseworker": "Caseworker",
    "supervisor": "Supervisor",
    "dp-focal-point": "Data protection focal point",
    "im-officer": "Information management officer",
    "archivist": "Archivist",
    "administrator": "Administrator",
    # reject reasons
    "not-eligible": "Not eligible",
    "no-capacity": "No capacity",
    "service-unavailable": "Service unavailable",
    "person-unreachable": "Person cannot be reached",
    "other": "Other",
    # severities
    "error": "Error",
    "warning": "Warning",
}


def label(value: object, gettext: object) -> str:
    text = str(getattr(value, "value", value))
    msgid = LABELS.get(text)
    if msgid is None:
        return text
    assert callable(gettext)
    return str(gettext(msgid))


ELEMENT_OVERRIDES = {
    "referral_id": "Referral number",
    "individual_number": "Registration number",
    "specific_needs_codes": "Specific needs codes",
    "bip_status": "Best interests procedure status",
    "rsd_information": "Refugee status determination file",
    "phone": "Phone number",
    "referral_status": "Referral status",
}


def element_msgid(element: str) -> str:
    """The staff-facing English name of a data element (the msgid to translate)."""
    return ELEMENT_OVERRIDES.get(element, element.replace("_", " ").capitalize())


def element_label(element: str, gettext: object) -> str:
    assert callable(gettext)
    return str(gettext(element_msgid(element)))
