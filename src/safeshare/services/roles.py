"""Staff roles, the engine duty of each, and the scopes of partner API tokens."""

from __future__ import annotations

from enum import StrEnum

from safeshare.core.vocabulary import Duty


class Role(StrEnum):
    CASEWORKER = "caseworker"
    SUPERVISOR = "supervisor"
    DP_FOCAL_POINT = "dp-focal-point"
    IM_OFFICER = "im-officer"
    ARCHIVIST = "archivist"
    ADMINISTRATOR = "administrator"


# The engine's duty for each role: only caseworkers manage cases; oversight, monitoring and
# archive duties see what does not identify a person unless a case-specific need is recorded.
ROLE_DUTY: dict[Role, Duty] = {
    Role.CASEWORKER: Duty.CASE_MANAGEMENT,
    Role.SUPERVISOR: Duty.OVERSIGHT,
    Role.DP_FOCAL_POINT: Duty.OVERSIGHT,
    Role.IM_OFFICER: Duty.MONITORING,
    Role.ARCHIVIST: Duty.ARCHIVE,
    Role.ADMINISTRATOR: Duty.OVERSIGHT,
}


# Roles that may ever be shown personal data (still case by case, by need-to-know): the
# administrator manages accounts and tokens and sees none.
PERSONAL_DATA_ROLES: tuple[Role, ...] = (
    Role.CASEWORKER,
    Role.SUPERVISOR,
    Role.DP_FOCAL_POINT,
    Role.IM_OFFICER,
    Role.ARCHIVIST,
)


class Scope(StrEnum):
    """What a partner system's API token may do (sessions of people have every scope their
    role allows)."""

    CASES_READ = "cases:read"
    CONSENT_WRITE = "consent:write"
    DECISIONS_EVALUATE = "decisions:evaluate"
    PROTOCOL_READ = "protocol:read"
    STATS_READ = "stats:read"
    REFERRALS_READ = "referrals:read"
    REFERRALS_WRITE = "referrals:write"
    # The data protection focal point's exceptional-circumstances queue, and her decisions.
    ESCALATIONS_READ = "escalations:read"
    ESCALATIONS_DECIDE = "escalations:decide"
    # A person's rights: answering her subject access request (her records, opened), and
    # erasing her data.
    RIGHTS_ACCESS = "rights:access"
    RIGHTS_ERASE = "rights:erase"
    # Recording a colleague's case-specific need to know.
    NEEDS_WRITE = "needs:write"
