"""Evaluate a share: the engine's decision with its reasons, codes and the Note's sections.
Nothing is shared here; the decision is recorded (ids and codes only).

Who may ask: caseworkers, supervisors and data protection focal points, from their own
organisation, about people they may see (need-to-know); a blanket selection only of one's
own organisation's cases, and only by supervisors and focal points."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.exceptions import RequestValidationError
from sqlalchemy import select

from safeshare.api.deps import ClockDep, Principal, StoreDep, not_found, require
from safeshare.api.schemas import DecisionOut, ShareRequestIn
from safeshare.core.request import Circumstance, Selection, ShareRequest
from safeshare.core.vocabulary import STANDARD_ELEMENTS
from safeshare.services import access
from safeshare.services.decisions import decide_request
from safeshare.services.roles import Role, Scope
from safeshare.store.models import DataElementRow, OrganisationRow

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
def evaluate(
    body: ShareRequestIn, principal: Evaluator, store: StoreDep, clock: ClockDep
) -> DecisionOut:
    """Decides a share from your organisation (evaluation only) and records the decision."""
    at = clock()
    if not body.subjects and body.select is None:
        raise _unprocessable("subjects", "name subjects or give a selection")
    if body.subjects and body.select is not None:
        raise _unprocessable("select", "name subjects or give a selection, not both")
    with store.reading() as session:
        recipient = session.get(OrganisationRow, body.to)
        extra = set(session.scalars(select(DataElementRow.id)))
    if recipient is None:
        raise not_found()
    unknown = [e for e in body.data_elements if e not in STANDARD_ELEMENTS and e not in extra]
    if unknown:
        raise _unprocessable("data_elements", "unknown data element")
    selection = None
    if body.select is not None:
        owner = body.select.owner or principal.org_id
        if principal.role not in SELECTORS or owner != principal.org_id:
            access.denied(
                store,
                principal,
                object_type="selection",
                object_id=owner,
                codes=["bulk-not-allowed"],
            )
            raise not_found()
        selection = Selection(
            categories=frozenset(body.select.categories),
            owner=owner,
            status=body.select.status.value if body.select.status else None,
        )
    for subject in dict.fromkeys(body.subjects):
        grant = access.subject_access(store, principal, subject, access.CONSENT_ELEMENTS, at=at)
        if grant is None:
            raise not_found()
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
        subjects=tuple(dict.fromkeys(body.subjects)),
        select=selection,
        label=body.label or "",
        contact_method=body.contact_method or "",
        routine=body.routine,
        circumstance=circumstance,
        risk_assessment=body.risk_assessment,
        alternative_available=body.alternative_available,
    )
    recorded = decide_request(store, request, actor=principal.user_id, today=at.date())
    return DecisionOut.model_validate(
        {
            **recorded.decision.to_dict(),
            "decision_id": recorded.id,
            "protocol_version_id": recorded.protocol_version_id,
        }
    )
