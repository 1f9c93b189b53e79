"""The authorization matrix as data: for every role, every object relation and every API
operation on personal data, whether the request is allowed (A) or denied (D, answered 404
like a missing object and written to the audit log).

Operations (column order of each cell string):
  list      GET  /api/cases                         (the case appears in "my cases")
  case      GET  /api/cases/{case}
  subject   GET  /api/subjects/{subject}
  timeline  GET  /api/subjects/{subject}/consents
  consent   POST /api/subjects/{subject}/consents   (record a consent)
  withdraw  POST /api/subjects/{subject}/consents/withdraw
  evaluate  POST /api/decisions                     (evaluate a share naming the subject)

Relations (of the case to the actor; the same for both organisations tested):
  assigned         her organisation's case, assigned to her (for roles other than caseworker
                   the assignment is recorded too, and must not help: duty is not case work)
  unassigned       her organisation's case, not assigned to her
  need             her organisation's case, with a case-specific need recorded for her
  withdrawn        assigned to her; the person withdrew consent (she still manages the case)
  archived         a closed case of her organisation, assigned to her
  other-org        another organisation's case
  shared           another organisation's case shared to her organisation: a real referral,
                   accepted today, within the purpose's retention period
  shared-expired   shared to her organisation and accepted, but the purpose's retention
                   period (counted from acceptance) is over at the test's clock
  missing          no such case

Referral operations (REFERRAL_TABLE, column order of each cell string):
  referral  GET  /api/referrals/{id}
  packet    GET  /api/referrals/{id}/packet
  accept    POST /api/referrals/{id}/accept
  reject    POST /api/referrals/{id}/reject
  feedback  POST /api/referrals/{id}/feedback

The referral behind each relation where one is meaningful (matrix_world.py):
  assigned         her organisation sent it about her own case (she is the sender's staff)
  shared           the referral sharing the 'shared' case to her organisation, accepted
  shared-expired   the referral sharing the 'shared-expired' case, retention over
  other-org        a referral between two other organisations
  missing          no such referral
Policy: a referral is seen by its two parties' case-management staff (caseworker,
supervisor, data protection focal point) — the recipient only within its window (pending,
or accepted and within the purpose's retention); only the RECIPIENT organisation's
case-management staff open the packet, accept, reject or give feedback. Other roles, other
organisations and an expired window get the same 404 as a missing referral, audited.
"A" for accept/reject on an accepted referral means the request passes authorization and
meets the state check (409 "not pending"), not the 404.
"""

from __future__ import annotations

OPS = ("list", "case", "subject", "timeline", "consent", "withdraw", "evaluate")
ROLES = ("caseworker", "supervisor", "dp-focal-point", "im-officer", "archivist", "administrator")
RELATIONS = (
    "assigned",
    "unassigned",
    "need",
    "withdrawn",
    "archived",
    "other-org",
    "shared",
    "shared-expired",
    "missing",
)

#                  list case subj time cons withd eval
TABLE: dict[str, dict[str, str]] = {
    "caseworker": {
        "assigned": "AAAAAAA",
        "unassigned": "DDDDDDD",
        "need": "AAAAAAA",
        "withdrawn": "AAAAAAA",
        "archived": "AAAAAAA",
        "other-org": "DDDDDDD",
        "shared": "AAADDDA",
        "shared-expired": "DDDDDDD",
        "missing": "DDDDDDD",
    },
    "supervisor": {
        "assigned": "DDDDDDD",
        "unassigned": "DDDDDDD",
        "need": "AAAAAAA",
        "withdrawn": "DDDDDDD",
        "archived": "DDDDDDD",
        "other-org": "DDDDDDD",
        "shared": "DDDDDDD",
        "shared-expired": "DDDDDDD",
        "missing": "DDDDDDD",
    },
    "dp-focal-point": {
        "assigned": "DDDDDDD",
        "unassigned": "DDDDDDD",
        "need": "AAAAAAA",
        "withdrawn": "DDDDDDD",
        "archived": "DDDDDDD",
        "other-org": "DDDDDDD",
        "shared": "DDDDDDD",
        "shared-expired": "DDDDDDD",
        "missing": "DDDDDDD",
    },
    "im-officer": {
        "assigned": "DDDDDDD",
        "unassigned": "DDDDDDD",
        "need": "AAAADDD",
        "withdrawn": "DDDDDDD",
        "archived": "DDDDDDD",
        "other-org": "DDDDDDD",
        "shared": "DDDDDDD",
        "shared-expired": "DDDDDDD",
        "missing": "DDDDDDD",
    },
    "archivist": {
        "assigned": "DDDDDDD",
        "unassigned": "DDDDDDD",
        "need": "AAAADDD",
        "withdrawn": "DDDDDDD",
        "archived": "DDDDDDD",
        "other-org": "DDDDDDD",
        "shared": "DDDDDDD",
        "shared-expired": "DDDDDDD",
        "missing": "DDDDDDD",
    },
    "administrator": {relation: "DDDDDDD" for relation in RELATIONS},
}

# Role-only operations (no case relation): GET path -> roles allowed.
ROLE_OPS: dict[str, frozenset[str]] = {
    "/api/cases/statistics": frozenset({"supervisor", "dp-focal-point", "im-officer", "archivist"}),
    "/api/audit/verify": frozenset({"dp-focal-point", "administrator"}),
    "/api/staff": frozenset({"administrator", "supervisor", "dp-focal-point"}),
    "/api/auth/tokens": frozenset({"administrator"}),
    "/api/protocol": frozenset(ROLES),
    "/api/organisations": frozenset(ROLES),
    "/api/auth/me": frozenset(ROLES),
}

# The objects behind each relation, per organisation of the actor (demo operation ids).
TARGETS: dict[str, dict[str, str]] = {
    "unhcr": {
        "assigned": "c-022",
        "unassigned": "c-029",
        "need": "c-028",
        "withdrawn": "c-024",
        "archived": "c-027",
        "other-org": "c-002",
        "shared": "c-003",
        "shared-expired": "c-004",
        "missing": "c-999",
    },
    "ngo-a": {
        "assigned": "c-001",
        "unassigned": "c-006",
        "need": "c-009",
        "withdrawn": "c-002",
        "archived": "c-007",
        "other-org": "c-021",
        "shared": "c-022",
        "shared-expired": "c-023",
        "missing": "c-999",
    },
}

REFERRAL_OPS = ("referral", "packet", "accept", "reject", "feedback")
REFERRAL_RELATIONS = ("assigned", "shared", "shared-expired", "other-org", "missing")
_CASE_MANAGEMENT = {
    #                  ref pack acc rej fb
    "assigned": "ADDDD",
    "shared": "AAAAA",
    "shared-expired": "DDDDD",
    "other-org": "DDDDD",
    "missing": "DDDDD",
}
_NO_REFERRALS = {relation: "DDDDD" for relation in REFERRAL_RELATIONS}
REFERRAL_TABLE: dict[str, dict[str, str]] = {
    "caseworker": _CASE_MANAGEMENT,
    "supervisor": _CASE_MANAGEMENT,
    "dp-focal-point": _CASE_MANAGEMENT,
    "im-officer": _NO_REFERRALS,
    "archivist": _NO_REFERRALS,
    "administrator": _NO_REFERRALS,
}
