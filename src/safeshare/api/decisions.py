"""Evaluate a share: the engine's decision with its reasons, codes and the Note's sections.
Nothing is shared here; the decision is recorded (ids and codes only).

Who may ask: caseworkers, supervisors and data protection focal points, from their own
organisation, about people they may see (need-to-know); a blanket selection only of one's
own organisation's cases, and only by supervisors and focal points."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from safeshare.api.answers import json_answer
from safeshare.api.deps import Clock, Principal, not_found, require
from safeshare.api.schemas_decisions import DecisionOut, ShareRequestIn
from safeshare.core.request import Circumstance, Selection, ShareRequest
from safeshare.core.vocabulary import STANDARD_ELEMENTS
from safeshare.services import access, reads_ahead
from safeshare.services.decisions import RecordedDecision, decide_request_in
from safeshare.services.roles import Role, Scope
from safeshare.services.world_loader import reference
from safeshare.store.unit import Store

router = APIRouter(prefix="/api/decisions", tags=["decisions"])
Evaluator = Annotated[
    Principal,
    Depends(
        require(
            Role.CASEWORKER, Role.SUPERVISOR, Role.DP_FOCAL_POINT, scope=Scope.DECISIONS_EVALUATE
        )
    ),
]
SELECTORS = frozenset({Role.SUPERVISOR, Role.DP_FOCAL_POINT})


def _unprocessable(field: str, msg: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ["body", field], "msg": msg, "type": "value_error"}])


@router.post("", response_model=DecisionOut)
async def evaluate(body: ShareRequestIn, principal: Evaluator, request: Request) -> Response:
    """Decides a share from your organisation (evaluation only) and records the decision.
    The access checks and the decision are made on one snapshot; their records (the
    decision, the audit events) are written before the answer."""
    state = request.app.state  # not dependencies: each costs as much as the lookup they do
    store: Store = state.store
    clock: Clock = state.clock
    if body.select is not None:  # a selection may cover thousands of cases: a thread's work
        return await run_in_threadpool(_evaluate, body, principal, store, clock)
    return _evaluate(body, principal, store, clock)  # named subjects: bounded, run in place


def _evaluate(body: ShareRequestIn, principal: Principal, store: Store, clock: Clock) -> Response:
    """:func:`evaluate`'s work (see :func:`safeshare.api.answers.on_event_loop`)."""
    at = clock()
    if not body.subjects and body.select is None:
        raise _unprocessable("subjects", "name subjects or give a selection")
    if body.subjects and body.select is not None:
        raise _unprocessable("select", "name subjects or give a selection, not both")
    with store.recorded_read() as session:
        recorded = _evaluate_in(store, session, body, principal, at)
    if isinstance(recorded, Exception):  # raised after the commit: refusals stay audited
        raise recorded
    answer = DecisionOut.model_validate(
        {
            **recorded.decision.to_dict(),
            "decision_id": recorded.id,
            "protocol_version_id": recorded.protocol_version_id,
        }
    )
    return json_answer(answer)


def _evaluate_in(
    store: Store, session: Session, body: ShareRequestIn, principal: Principal, at: datetime
) -> RecordedDecision | Exception:
    """The decision, or the error to answer (after the refusals' audit events commit)."""
    if body.select is None:  # PostgreSQL: what the decision reads, in one round trip
        reads_ahead.evaluation(session, principal.staff_id, body.subjects)
    organisations, extra = reference(session)  # kept for the decision
    if body.to not in {o.id for o in organisations}:
        return not_found()
    unknown = [e for e in body.data_elements if e not in STANDARD_ELEMENTS and e not in extra]
    if unknown:
        return _unprocessable("data_elements", "unknown data element")
    selection = None
    if body.select is not None:
        owner = body.select.owner or principal.org_id
        if principal.role not in SELECTORS or owner != principal.org_id:
            access.denied_in(
                store,
                session,
                principal,
                object_type="selection",
                object_id=owner,
                codes=["bulk-not-allowed"],
            )
            return not_found()
        selection = Selection(
            categories=frozenset(body.select.categories),
            owner=owner,
            status=body.select.status.value if body.select.status else None,
        )
    subjects = tuple(dict.fromkeys(body.subjects))
    for subject in subjects:
        elements = access.CONSENT_ELEMENTS
        seen = access.own_subject_access_in(store, session, principal, subject, elements, at=at)
        if seen is None:
            return not_found()
    circumstance = None
    if body.circumstance is not None:
        circumstance = Circumstance(
            kind=body.circumstance.kind,
            immediate=body.circumstance.immediate,
            individuals_named=body.circumstance.individuals_named,
        )
    request = ShareRequest(
        sender=principal.org_id,
        recipient=body.to,
        purpose=body.purpose,
        basis=body.basis,
        data_elements=tuple(body.data_elements),
        subjects=subjects,
        select=selection,
        label=body.label or "",
        contact_method=body.contact_method or "",
        routine=body.routine,
        circumstance=circumstance,
        risk_assessment=body.risk_assessment,
        alternative_available=body.alternative_available,
    )
    return decide_request_in(store, session, request, actor=principal.user_id, today=at.date())
