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
  send      POST /api/referrals                     (send a referral naming the subject: "A"
                                                    when her access to the person passes;
                                                    the engine's decision may still deny it)
  A person held only through a share is seen (list, case, subject: the values as shared)
  but is not the recipient's record to decide from: evaluate and send are denied (the
  decision would be made from the sender's current record, and its reasons would tell it).

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
  outgoing  GET  /api/referrals/outgoing            (the referral appears in the list)
  packet    GET  /api/referrals/{id}/packet
  accept    POST /api/referrals/{id}/accept
  reject    POST /api/referrals/{id}/reject
  feedback  POST /api/referrals/{id}/feedback
  close     POST /api/referrals/{id}/close         (last: it changes the referral's state)

The referral behind each relation where one is meaningful (matrix_world.py):
  assigned         her organisation sent it about her own case (she is the sender's staff)
  unassigned       her organisation sent it about its case not assigned to her
  need             her organisation sent it about its case with a need recorded for her
  shared           the referral sharing the 'shared' case to her organisation, accepted
  shared-expired   the referral sharing the 'shared-expired' case, retention over
  other-org        a referral between two other organisations
  missing          no such referral
Policy: only caseworkers, supervisors and data protection focal points use the referral
endpoints. The SENDING side names the referral's persons: it is seen (read, listed, closed)
only by staff with need-to-know for every one of them, decided as a case read is (the
assigned caseworker, or a recorded case-specific need; a supervisor's or focal point's
assignment does not count: theirs is oversight). The RECEIVING side (no person named) is
seen by the recipient organisation's caseworkers, supervisors and focal points within its
window (pending, or accepted and within the purpose's retention), who may accept, reject
or close it; only its CASEWORKERS open the packet or give feedback (both reveal the person;
a need cannot be recorded for another organisation's case, so oversight roles never do).
Other roles, other organisations and an expired window get the same 404 as a missing
referral, audited; absence from the outgoing list is no answer of its own.
"A" for accept/reject/close on a referral no longer pending (or already closed) means the
request passes authorization and meets the state check (409), not the 404.
"""

from __future__ import annotations

OPS = ("list", "case", "subject", "timeline", "consent", "withdraw", "evaluate", "send")
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

#                  list case subj time cons withd eval send
TABLE: dict[str, dict[str, str]] = {
    "caseworker": {
        "assigned": "AAAAAAAA",
        "unassigned": "DDDDDDDD",
        "need": "AAAAAAAA",
        "withdrawn": "AAAAAAAA",
        "archived": "AAAAAAAA",
        "other-org": "DDDDDDDD",
        "shared": "AAADDDDD",
        "shared-expired": "DDDDDDDD",
        "missing": "DDDDDDDD",
    },
    "supervisor": {
        "assigned": "DDDDDDDD",
        "unassigned": "DDDDDDDD",
        "need": "AAAAAAAA",
        "withdrawn": "DDDDDDDD",
        "archived": "DDDDDDDD",
        "other-org": "DDDDDDDD",
        "shared": "DDDDDDDD",
        "shared-expired": "DDDDDDDD",
        "missing": "DDDDDDDD",
    },
    "dp-focal-point": {
        "assigned": "DDDDDDDD",
        "unassigned": "DDDDDDDD",
        "need": "AAAAAAAA",
        "withdrawn": "DDDDDDDD",
        "archived": "DDDDDDDD",
        "other-org": "DDDDDDDD",
        "shared": "DDDDDDDD",
        "shared-expired": "DDDDDDDD",
        "missing": "DDDDDDDD",
    },
    "im-officer": {
        "assigned": "DDDDDDDD",
        "unassigned": "DDDDDDDD",
        "need": "AAAADDDD",
        "withdrawn": "DDDDDDDD",
        "archived": "DDDDDDDD",
        "other-org": "DDDDDDDD",
        "shared": "DDDDDDDD",
        "shared-expired": "DDDDDDDD",
        "missing": "DDDDDDDD",
    },
    "archivist": {
        "assigned": "DDDDDDDD",
        "unassigned": "DDDDDDDD",
        "need": "AAAADDDD",
        "withdrawn": "DDDDDDDD",
        "archived": "DDDDDDDD",
        "other-org": "DDDDDDDD",
        "shared": "DDDDDDDD",
        "shared-expired": "DDDDDDDD",
        "missing": "DDDDDDDD",
    },
    "administrator": {relation: "DDDDDDDD" for relation in RELATIONS},
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
    "/api/referrals/inbox": frozenset({"caseworker", "supervisor", "dp-focal-point"}),
    "/api/referrals/outgoing": frozenset({"caseworker", "supervisor", "dp-focal-point"}),
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

REFERRAL_OPS = ("referral", "outgoing", "packet", "accept", "reject", "feedback", "close")
REFERRAL_RELATIONS = (
    "assigned",
    "unassigned",
    "need",
    "shared",
    "shared-expired",
    "other-org",
    "missing",
)
_CASEWORKER = {
    #                  ref out pack acc rej fb close
    "assigned": "AADDDDA",
    "unassigned": "DDDDDDD",
    "need": "AADDDDA",
    "shared": "ADAAAAA",
    "shared-expired": "DDDDDDD",
    "other-org": "DDDDDDD",
    "missing": "DDDDDDD",
}
_OVERSIGHT = {  # supervisor, data protection focal point
    #                  ref out pack acc rej fb close
    "assigned": "DDDDDDD",
    "unassigned": "DDDDDDD",
    "need": "AADDDDA",
    "shared": "ADDAADA",
    "shared-expired": "DDDDDDD",
    "other-org": "DDDDDDD",
    "missing": "DDDDDDD",
}
_NO_REFERRALS = {relation: "DDDDDDD" for relation in REFERRAL_RELATIONS}
REFERRAL_TABLE: dict[str, dict[str, str]] = {
    "caseworker": _CASEWORKER,
    "supervisor": _OVERSIGHT,
    "dp-focal-point": _OVERSIGHT,
    "im-officer": _NO_REFERRALS,
    "archivist": _NO_REFERRALS,
    "administrator": _NO_REFERRALS,
}
