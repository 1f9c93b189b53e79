"""Decisions from the store: the world is built from the operation's records for ONE request
(only the rows it needs, through indexed queries), never from what the request claims; the
decision and its audit event are recorded in the same transaction."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from safeshare import core
from safeshare.core.decision import Decision
from safeshare.core.request import (
    Request,
    StaffAccessRequest,
    SubjectAccessRequest,
)
from safeshare.core.world import Protocol
from safeshare.services.common import audit
from safeshare.services.protocols import current_protocol
from safeshare.services.world_loader import build_world, staff_access_world
from safeshare.store.audit_append import write_with_events
from safeshare.store.audit_log import now
from safeshare.store.models import (
    DecisionRow,
)
from safeshare.store.unit import Store, record

_DECISIONS: Any = DecisionRow.__table__
Q_INSERT_DECISION = _DECISIONS.insert()


@dataclass(frozen=True)
class RecordedDecision:
    id: str
    decision: Decision
    protocol_version_id: str | None


def request_summary(request: Request, protocol: Protocol) -> dict[str, Any]:
    """What the request asked, as ids and codes only: free text (the label, a purpose not in
    the protocol, a circumstance's detail) is never kept in clear."""
    if isinstance(request, StaffAccessRequest):
        return {
            "kind": "staff-access",
            "actor": request.actor,
            "case": request.case,
            "data_elements": list(request.data_elements),
            "need": bool(request.need),
        }
    if isinstance(request, SubjectAccessRequest):
        return {
            "kind": "subject-access",
            "requester": request.requester,
            "records": list(request.records),
        }
    in_protocol = protocol.purpose(request.purpose) is not None
    purpose: str = request.purpose if in_protocol else "(not in protocol)"
    out: dict[str, Any] = {
        "kind": "share",
        "from": request.sender,
        "to": request.recipient,
        "purpose": purpose,
        "basis": request.basis.value,
        "subjects": list(request.subjects),
        "data_elements": list(request.data_elements),
        "routine": request.routine,
        "risk_assessment": request.risk_assessment,
        "alternative_available": request.alternative_available,
        "has_label": bool(request.label),
    }
    if not in_protocol:
        out["purpose_sha256"] = hashlib.sha256(request.purpose.encode()).hexdigest()
    if request.select is not None:
        out["select"] = {
            "categories": sorted(request.select.categories),
            "owner": request.select.owner,
            "status": request.select.status,
        }
    if request.circumstance is not None:
        out["circumstance"] = {
            "kind": request.circumstance.kind.value,
            "immediate": request.circumstance.immediate,
            "individuals_named": request.circumstance.individuals_named,
        }
    return out


def decide_unrecorded_in(session: Session, request: Request, *, today: date) -> Decision:
    """The engine's decision from the store's records, not recorded: for a caller that
    records it itself (a staff access is one audit event holding the decision's codes). A
    staff access is decided from the few rows need-to-know reads (:func:`staff_access_world`)."""
    if isinstance(request, StaffAccessRequest):
        return core.decide(staff_access_world(session, request, today=today), request)
    found = current_protocol(session)
    return core.decide(build_world(session, request, today=today, current=found), request)


def decide_request_in(
    store: Store, session: Session, request: Request, *, actor: str, today: date | None = None
) -> RecordedDecision:
    """Builds the world from the store, decides, and records the decision with its audit
    event in the caller's transaction (composite services record what they do with the
    decision in the same transaction), or when the caller's recorded read ends."""
    found = current_protocol(session)
    world = build_world(session, request, today=today or date.today(), current=found)
    decision = core.decide(world, request)
    version_id = found[1] if found else None
    decision_id = uuid.uuid4().hex
    row = {
        "id": decision_id,
        "at": now(),
        "actor": actor,
        "kind": decision.kind,
        "outcome": decision.outcome.value,
        "reason_codes": json.dumps(sorted(decision.codes)),
        "condition_codes": json.dumps(sorted(decision.condition_codes)),
        "request_summary": json.dumps(request_summary(request, world.protocol), sort_keys=True),
        "protocol_version_id": version_id,
    }

    def write(writer: Session) -> None:
        write_with_events(writer, Q_INSERT_DECISION, row)  # with its event: one statement
        audit(
            store,
            writer,
            actor=actor,
            action="decision",
            object_type="decision",
            object_id=decision_id,
            codes=[*decision.codes, *decision.condition_codes],
            details={
                "kind": decision.kind,
                "outcome": decision.outcome.value,
                "protocol_version": version_id,
            },
        )

    record(session, write, one_statement=True)
    return RecordedDecision(decision_id, decision, version_id)


def decide_request(
    store: Store, request: Request, *, actor: str, today: date | None = None
) -> RecordedDecision:
    """Builds the world from the store, decides, and records the decision with its audit
    event in one transaction. Nothing is recorded when deciding fails."""
    with store.transaction() as session:
        return decide_request_in(store, session, request, actor=actor, today=today)
