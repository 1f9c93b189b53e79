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
  shared           another organisation's case shared to her organisation (within retention)
  shared-expired   shared to her organisation, but the retention period is over
  missing          no such case
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
