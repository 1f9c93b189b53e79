"""The Note's vocabulary as closed sets: kinds of organisation, general purposes,
legitimate bases, data element categories and the standard element catalogue.

Every value here is spelled as in ``shared/scenarios/FORMAT.md`` so that scenario files,
the API and the store all speak the same words.
"""

from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    UNHCR = "unhcr"
    PARTNER = "partner"
    AUTHORITY = "authority"
    OTHER = "other"


class DPAssessment(StrEnum):
    """The joint data protection assessment of a partner (Cross-cutting issues > Data Security)."""

    PASSED = "passed"
    PENDING = "pending"
    FAILED = "failed"
    NONE = "none"


class GeneralPurpose(StrEnum):
    """The Note's general legitimate purposes, plus its exceptional ones."""

    IMMEDIATE_REFERRAL = "immediate-referral"
    ELIGIBILITY = "eligibility-and-future-services"
    REFERRAL_FEEDBACK = "referral-feedback"
    CLOSED_CASE_TRANSFER = "closed-case-transfer"
    CLOSED_CASE_ARCHIVING = "closed-case-archiving"
    STATISTICS = "statistics"
    INVESTIGATION = "investigation"
    FILE_EVACUATION = "file-evacuation"


EXCEPTIONAL_PURPOSES = frozenset({GeneralPurpose.INVESTIGATION, GeneralPurpose.FILE_EVACUATION})
CLOSED_CASE_PURPOSES = frozenset(
    {GeneralPurpose.CLOSED_CASE_TRANSFER, GeneralPurpose.CLOSED_CASE_ARCHIVING}
)


class BenefitKind(StrEnum):
    DIRECT = "direct"
    INDIRECT = "indirect"


class Basis(StrEnum):
    """Legitimate bases (Legitimate Bases; Principles > Legitimate and fair processing)."""

    CONSENT = "consent"
    VITAL_INTERESTS = "vital-interests"
    BEST_INTERESTS = "best-interests"
    MANDATE = "mandate"
    SAFETY_AND_SECURITY = "safety-and-security"


class ConsentKind(StrEnum):
    CONSENT = "consent"
    ASSENT = "assent"


class GivenBy(StrEnum):
    SELF = "self"
    PARENT = "parent"
    GUARDIAN = "guardian"
    CAREGIVER = "caregiver"


CAREGIVERS = frozenset({GivenBy.PARENT, GivenBy.GUARDIAN, GivenBy.CAREGIVER})


class ConsentDecision(StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class ConsentStage(StrEnum):
    INTAKE = "intake"
    REFERRAL = "referral"
    CLOSURE = "closure"
    REVIEW = "review"


class ConsentMethod(StrEnum):
    WRITTEN = "written"
    ORAL_RECORDED = "oral-recorded"
    AUDIO = "audio"
    NOTE_FOR_FILE = "note-for-file"


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class AssessmentKind(StrEnum):
    BEST_INTERESTS = "best-interests"
    RISK = "risk"


class BestInterestsOutcome(StrEnum):
    SHARE = "share-in-best-interests"
    DO_NOT_SHARE = "do-not-share"


class Duty(StrEnum):
    CASE_MANAGEMENT = "case-management"
    OVERSIGHT = "oversight"
    MONITORING = "monitoring"
    ARCHIVE = "archive"


class CircumstanceKind(StrEnum):
    EMERGENCY = "emergency"
    INVESTIGATION = "investigation"
    SECURITY_THREAT = "security-threat"


class Category(StrEnum):
    """Categories of data elements (FORMAT.md, "Standard data elements")."""

    IDENTIFIER = "identifier"
    BIOGRAPHICAL = "biographical"
    PROTECTION_SUMMARY = "protection-summary"
    PROTECTION_DETAIL = "protection-detail"
    CASE_FILE = "case-file"
    INTERNAL = "internal"
    PROCESS_FEEDBACK = "process-feedback"
    SERVICE_FEEDBACK = "service-feedback"


IDENTIFYING_CATEGORIES = frozenset(
    {
        Category.IDENTIFIER,
        Category.BIOGRAPHICAL,
        Category.PROTECTION_DETAIL,
        Category.CASE_FILE,
        Category.INTERNAL,
    }
)

STANDARD_ELEMENTS: dict[str, Category] = {
    **dict.fromkeys(["case_number", "individual_number", "referral_id"], Category.IDENTIFIER),
    **dict.fromkeys(
        [
            "name",
            "date_of_birth",
            "age",
            "sex",
            "nationality",
            "phone",
            "address",
            "location",
            "language",
            "household_composition",
            "photo",
            "biometrics",
        ],
        Category.BIOGRAPHICAL,
    ),
    **dict.fromkeys(
        [
            "specific_needs_codes",
            "service_needed",
            "vulnerability_summary",
            "case_summary",
            "priority",
            "disability_status",
            "care_arrangement",
            "bip_status",
        ],
        Category.PROTECTION_SUMMARY,
    ),
    **dict.fromkeys(
        [
            "incident_description",
            "assessment",
            "action_plan",
            "follow_up_notes",
            "medical_records",
            "mental_health_status",
            "interview_transcript",
            "legal_case_details",
            "rsd_information",
        ],
        Category.PROTECTION_DETAIL,
    ),
    "case_file": Category.CASE_FILE,
    **dict.fromkeys(
        ["caseworker_notes", "drafts", "correspondence", "administrative_info"], Category.INTERNAL
    ),
    **dict.fromkeys(["referral_status", "status_dates"], Category.PROCESS_FEEDBACK),
    **dict.fromkeys(
        ["services_provided", "service_dates", "service_outcome"], Category.SERVICE_FEEDBACK
    ),
}

# Elements that are a full account of a case or incident: the Note allows them only in rare,
# consented transfers, never as feedback or for eligibility (Cross-cutting issues > Consent;
# Legitimate Purposes > Feedback on service referrals > Not Okay to Share).
FULL_ACCOUNT_ELEMENTS = frozenset({"case_file", "incident_description", "interview_transcript"})

# Subject categories for which a home visit exposes the person (Cross-cutting issues >
# Protection Sensitive Processing: "DON'T follow up with GBV survivors in their home").
HOME_VISIT_UNSAFE_CATEGORIES = frozenset(
    {"gbv", "sgbv", "ipv", "intimate-partner-violence", "child-sexual-abuse", "sexual-violence"}
)
HOME_VISIT = "home-visit"

ADULT_AGE = 18
