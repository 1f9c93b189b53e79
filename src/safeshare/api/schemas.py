"""Request and response models (Pydantic 2): precise types, bounded strings, examples.

Ids are restricted to ``[A-Za-z0-9._-]`` (never names); free text is bounded. Requests forbid
unknown fields. The models of a share to decide and of the decision are
:mod:`safeshare.api.schemas_decisions`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from safeshare.core.vocabulary import (
    CaseStatus,
    ConsentDecision,
    ConsentKind,
    ConsentMethod,
    ConsentStage,
    Duty,
    GivenBy,
)
from safeshare.services.roles import Role, Scope

Day = date


def _utc(value: datetime) -> datetime:
    """Aware UTC (SQLite hands back naive datetimes that were stored as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Instant = Annotated[datetime, AfterValidator(_utc)]

NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"  # no NUL or control characters (PostgreSQL refuses NUL)
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, min_length=1, max_length=64)]
Element = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$", min_length=1, max_length=64)
]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    detail: str = Field(examples=["not found"])


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    detail: list[ValidationIssue]


# --- auth -----------------------------------------------------------------------------------


class LoginRequest(Strict):
    username: Annotated[
        str, StringConstraints(min_length=1, max_length=120, pattern=NO_CONTROL)
    ] = Field(examples=["unhcr.caseworker"])
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)] = Field(
        examples=["correct horse battery staple"]
    )


class LoginOut(BaseModel):
    token: str = Field(description="Bearer token: shown once, never stored in clear.")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme name, not a secret
    session_id: str
    expires_at: Instant = Field(description="Absolute end of the session.")
    idle_timeout_seconds: int
    csrf_token: str = Field(description="For the web UI's cookie session (X-CSRF-Token).")


class SessionOut(BaseModel):
    session_id: str
    expires_at: Instant
    idle_timeout_seconds: int
    csrf_token: str


class CsrfOut(BaseModel):
    csrf_token: str


class MeOut(BaseModel):
    user_id: str
    staff_id: str
    org_id: str
    role: Role
    duty: Duty
    kind: Literal["session", "api-token"]
    scopes: list[Scope] | None = Field(description="None for a person's session.")
    cases: list[str] = Field(description="Cases assigned to this person.")


class TokenIssueRequest(Strict):
    user_id: Id = Field(description="A (service) account of your own organisation.")
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope), examples=[["cases:read"]])
    label: Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=NO_CONTROL)] = (
        Field(examples=["ngo-a case management system"])
    )
    expires_in_days: int | None = Field(default=90, ge=1, le=365)


class TokenIssuedOut(BaseModel):
    token: str = Field(description="Shown once: only its SHA-256 digest is kept.")
    token_id: str
    org_id: str
    user_id: str
    scopes: list[Scope]
    expires_at: Instant | None


class TokenOut(BaseModel):
    token_id: str
    org_id: str
    user_id: str
    label: str
    scopes: list[Scope]
    created_at: Instant
    expires_at: Instant | None
    revoked_at: Instant | None
    last_used_at: Instant | None


# --- organisations, staff -------------------------------------------------------------------


class OrganisationOut(BaseModel):
    id: str = Field(examples=["ngo-a"])
    kind: Literal["unhcr", "partner", "authority", "other"]
    name: str
    dp_assessment: Literal["passed", "pending", "failed", "none"]
    anonymity_only: bool
    refoulement_risk: bool


class StaffOut(BaseModel):
    user_id: str
    username: str
    staff_id: str
    org_id: str
    role: Role
    duty: Duty
    active: bool
    cases: list[str]


class StaffCreate(Strict):
    username: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{2,119}$")] = Field(
        examples=["ngo-a.caseworker2"]
    )
    password: Annotated[str, StringConstraints(min_length=12, max_length=1024)]
    role: Role
    cases: list[Id] = Field(default_factory=list, max_length=500)


class NeedCreate(Strict):
    staff_id: Id
    need: Literal[
        "technical-assistance",
        "supervision-review",
        "case-conference",
        "dp-incident-review",
        "archiving-review",
    ] = Field(examples=["technical-assistance"])
    valid_days: int = Field(default=7, ge=1, le=30)


class NeedOut(BaseModel):
    need_id: str
    staff_id: str
    case_id: str
    need: str


# --- cases, subjects, consent ---------------------------------------------------------------


class CaseSummary(BaseModel):
    id: str
    subject_id: str
    owner: str
    status: CaseStatus | None = Field(
        description="The owner's case status; None through a share (it was not shared)."
    )
    closed_on: date | None
    access: Literal["assigned", "need", "shared"]


class SharedValueOut(BaseModel):
    element: str
    value: str


class SharedPacketOut(BaseModel):
    """One packet your organisation holds about the person: its elements with the values
    as they were shared (not the sender's current record)."""

    referral_id: str
    purpose: str
    label: str
    sent_on: date | None
    until: date | None = Field(description="The end of your access; None: open-ended.")
    values: list[SharedValueOut]


class CaseOut(CaseSummary):
    categories: list[str]
    details: str | None = Field(description="Protection details (incident description).")
    notes: str | None = Field(description="Caseworker notes.")
    data_elements: list[str] = Field(description="The elements this access may see.")
    shared_until: date | None = None
    shared: list[SharedPacketOut] = Field(
        default=[],
        description="Through a share: what was shared to your organisation, packet by packet, "
        "newest first, with the values as they were shared.",
    )


class CountOut(BaseModel):
    key: str
    count: int | None = Field(description="None: a small cell, suppressed.")


class StatisticsOut(BaseModel):
    org_id: str
    total: int | None
    by_status: list[CountOut]
    by_category: list[CountOut]
    by_age_group: list[CountOut]
    suppressed_below: int


class SubjectOut(BaseModel):
    id: str
    name: str | None
    contact: str | None
    age: int | None
    child: bool | None
    categories: list[str]
    via_case: str
    data_elements: list[str]
    shared: list[SharedPacketOut] = Field(
        default=[],
        description="Through a share: the packets your organisation holds about her, newest "
        "first, with the values as they were shared.",
    )


class ConsentCreate(Strict):
    decision: ConsentDecision = Field(examples=["granted"])
    purposes: list[Id] = Field(min_length=1, max_length=50, examples=[["legal-aid-referral"]])
    kind: ConsentKind = ConsentKind.CONSENT
    given_by: GivenBy = GivenBy.SELF
    recipients: list[Id] | None = Field(default=None, max_length=50)
    data_elements: list[Element] | None = Field(default=None, max_length=100)
    method: ConsentMethod | None = ConsentMethod.ORAL_RECORDED
    stage: ConsentStage | None = None
    date: Day | None = Field(
        default=None,
        description="The day the person decided. Default today; a day after today is refused "
        "(422): an entry dated ahead would count as consent before it was given.",
    )
    explanation_language: (
        Annotated[
            str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=35)
        ]
        | None
    ) = None
    explanation_version: Id | None = None


class WithdrawRequest(Strict):
    purposes: list[Id] = Field(min_length=1, max_length=50, examples=[["legal-aid-referral"]])
    recipients: list[Id] | None = Field(default=None, max_length=50)
    kind: ConsentKind = ConsentKind.CONSENT
    given_by: GivenBy = GivenBy.SELF
    method: ConsentMethod | None = ConsentMethod.ORAL_RECORDED


class ConsentOut(BaseModel):
    id: str
    subject_id: str
    kind: ConsentKind
    given_by: GivenBy
    decision: ConsentDecision
    purposes: list[str]
    recipients: list[str] | None
    data_elements: list[str] | None
    stage: ConsentStage | None
    method: ConsentMethod | None
    date: Day
    seq: int


# --- protocol -------------------------------------------------------------------------------


class PurposeOut(BaseModel):
    id: str
    general: str
    benefit: str
    benefit_kind: Literal["direct", "indirect"]
    services: list[str]
    senders: list[str]
    recipients: list[str]
    data_elements: list[str]
    retention: str | None
    access_roles: list[str]
    contact_methods: list[str]
    feedback: list[str]
    explanation: str


class ProtocolOut(BaseModel):
    version_id: str
    protocol_id: str
    version: int
    content_hash: str
    loaded_at: Instant
    endorsed: bool
    endorsed_by: list[str]
    consent_review: str | None
    purposes: list[PurposeOut]


class FindingOut(BaseModel):
    code: str = Field(examples=["explanation-missing"])
    purpose: str | None
    severity: Literal["error", "warning"]
    message: str
    section: str


class FindingsOut(BaseModel):
    version_id: str
    errors: int
    warnings: int
    findings: list[FindingOut]


# --- audit ----------------------------------------------------------------------------------


class AuditStatusOut(BaseModel):
    ok: bool
    events_checked: int
    first_bad_seq: int | None
    checkpoints_checked: int
    last_seq: int
    last_checkpoint_seq: int | None
    summary: str


PathId = Annotated[
    str, Path(pattern=ID_PATTERN, min_length=1, max_length=64, description="An id, never a name.")
]
