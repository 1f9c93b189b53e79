"""Referrals: send one (the engine decides; only what may go is sealed to the recipient
organisation), list outgoing and inbox (within retention), open a packet (the recipient
organisation's caseworkers only), accept, reject, give feedback, close. On the sending side a
referral names its persons: it is seen (listed, read, closed) only by staff with need-to-know
for every one of them, as a case is. Not yours and not there answer the same: 404, audited."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, Field, StringConstraints

from safeshare.api.answers import json_answer, on_event_loop
from safeshare.api.deps import ClockDep, Principal, StoreDep, deny, not_found, require
from safeshare.api.schemas import Element, ErrorOut, Id, Strict
from safeshare.api.schemas_decisions import CircumstanceIn
from safeshare.core.request import Circumstance, ShareRequest
from safeshare.core.vocabulary import Basis
from safeshare.crypto.org_keys import OrgKeyDirectory
from safeshare.services.common import NotFoundError
from safeshare.services.org_keys import NoPublicKeyError, SharingSettings, key_directory
from safeshare.services.referral_feedback import send_feedback
from safeshare.services.referral_sending import send_referral
from safeshare.services.referral_store import ReferralStateError
from safeshare.services.referrals import (
    PacketRefusedError,
    ReferralOutcome,
    accept_referral,
    close_referral_as,
    inbox,
    open_referral,
    opens_packets,
    outgoing_for,
    referral_for,
    reject_referral,
)
from safeshare.services.roles import Role, Scope
from safeshare.sharing.payload import NotShareableError
from safeshare.store.unit import Store

router = APIRouter(prefix="/api/referrals", tags=["referrals"])
STAFF = (Role.CASEWORKER, Role.SUPERVISOR, Role.DP_FOCAL_POINT)
Reader = Annotated[Principal, Depends(require(*STAFF, scope=Scope.REFERRALS_READ))]
Writer = Annotated[Principal, Depends(require(*STAFF, scope=Scope.REFERRALS_WRITE))]
Label = Annotated[str, StringConstraints(max_length=200)]
Method = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z-]{0,31}$")]
Value = Annotated[str, StringConstraints(max_length=2000)]


def org_keys_of(request: Request) -> OrgKeyDirectory:
    """The organisations' key files (``app.state.org_keys`` when set, else from settings)."""
    keys: OrgKeyDirectory | None = getattr(request.app.state, "org_keys", None)
    if keys is None:
        settings = request.app.state.settings
        keys = key_directory(SharingSettings(env=settings.env))
        request.app.state.org_keys = keys
    return keys


async def get_org_keys(request: Request) -> OrgKeyDirectory:
    """:func:`org_keys_of` as a dependency (on the event loop: it reads a cached value, or
    once the key directory's settings)."""
    return org_keys_of(request)


KeysDep = Annotated[OrgKeyDirectory, Depends(get_org_keys)]


class ReferralIn(Strict):
    to: Id
    purpose: Id
    basis: Basis = Basis.CONSENT
    subjects: list[Id] = Field(min_length=1, max_length=50)
    data_elements: list[Element] = Field(min_length=1, max_length=100)
    label: Label | None = Field(default=None, description="Replaced when stigmatising.")
    contact_method: Method | None = None
    circumstance: CircumstanceIn | None = None
    detail: Annotated[str, StringConstraints(max_length=1000)] | None = Field(
        default=None, description="The circumstance in words (sealed; for the focal point)."
    )
    risk_assessment: Id | None = None
    alternative_available: bool = False


class FeedbackIn(Strict):
    purpose: Id
    values: dict[Element, Value] = Field(default_factory=dict, max_length=20)


class RejectIn(Strict):
    reason: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z-]{0,31}$")] = "other"


class ReferralOut(BaseModel):
    decision: dict[str, Any]
    decision_id: str
    referral: dict[str, Any] | None
    escalation_id: str | None = None


class PacketOut(BaseModel):
    referral_id: str
    kind: str
    purpose: str
    label: str
    contact_method: str
    answers: str | None
    conditions: list[str]
    subjects: list[dict[str, Any]]


def _today(clock: ClockDep) -> date:
    return clock().date()


def _outcome(out: ReferralOutcome) -> ReferralOut:
    return ReferralOut(
        decision=out.decision.to_dict(),
        decision_id=out.decision_id,
        referral=out.referral.to_dict() if out.referral else None,
        escalation_id=out.escalation_id,
    )


def _conflict(message: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_409_CONFLICT, detail=message)


@router.post("", response_model=ReferralOut, status_code=status.HTTP_201_CREATED)
@on_event_loop
def create(body: ReferralIn, principal: Writer, http: Request) -> Response:
    """Sends a referral from your organisation: decided by the engine from the store; on
    allow the packet holds only what may go, with the conditions applied; on escalate it
    waits for the data protection focal point; on deny nothing is sent."""
    store: Store = http.app.state.store  # not dependencies: each costs as much as its work
    keys = org_keys_of(http)
    at = http.app.state.clock()
    circumstance = None
    if body.circumstance is not None:
        circumstance = Circumstance(
            kind=body.circumstance.kind,
            immediate=body.circumstance.immediate,
            detail=body.detail or "",
            individuals_named=body.circumstance.individuals_named,
        )
    request = ShareRequest(
        sender=principal.org_id,
        recipient=body.to,
        purpose=body.purpose,
        basis=body.basis,
        data_elements=tuple(body.data_elements),
        subjects=tuple(dict.fromkeys(body.subjects)),
        label=body.label or "",
        contact_method=body.contact_method or "",
        circumstance=circumstance,
        risk_assessment=body.risk_assessment,
        alternative_available=body.alternative_available,
    )
    try:
        out = send_referral(store, keys, request, actor=principal, at=at)
    except NoPublicKeyError:
        raise _conflict("the recipient organisation has no registered key") from None
    except NotShareableError:
        raise _conflict("nothing may be shared for this request") from None
    except (KeyError, NotFoundError):  # an unknown recipient (or record the request names)
        raise deny(
            store, principal, object_type="organisation", object_id=body.to, codes=("not-found",)
        ) from None
    if out is None:  # a person not the sender's to see: the refusal is audited
        raise not_found()
    return json_answer(_outcome(out), status.HTTP_201_CREATED)


@router.get("/outgoing")
def list_outgoing(principal: Reader, store: StoreDep, clock: ClockDep) -> list[dict[str, Any]]:
    """Referrals your organisation sent (or asked for) about persons you need to know (every
    person named: your assigned cases, a recorded need, or shared to your organisation),
    newest first. Each read is audited."""
    return [r.to_dict() for r in outgoing_for(store, principal, at=clock())]


@router.get("/inbox")
def list_inbox(principal: Reader, store: StoreDep, clock: ClockDep) -> list[dict[str, Any]]:
    """Referrals your organisation received and may still see (pending, or accepted and
    within the purpose's retention period)."""
    return [
        r.to_dict(for_recipient=True) for r in inbox(store, principal.org_id, today=_today(clock))
    ]


@router.get("/{referral_id}")
def get_one(referral_id: Id, principal: Reader, store: StoreDep, clock: ClockDep) -> dict[str, Any]:
    """A referral: sent by your organisation about persons you need to know (every one), or
    received by it and within its window (its persons not named). The read is audited."""
    found = referral_for(store, principal, referral_id, at=clock())
    if found is None:
        raise deny(store, principal, object_type="referral", object_id=referral_id)
    return found.to_dict(for_recipient=found.sender != principal.org_id)


PACKET_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorOut,
        "description": "The packet fails a check and is not opened (its signature, addressee, "
        "decryption, the referral it names, or a key): the refusal is audited with the rule "
        "broken.",
    }
}


@router.get("/{referral_id}/packet", response_model=PacketOut, responses=PACKET_RESPONSES)
def packet(
    referral_id: Id, principal: Reader, store: StoreDep, keys: KeysDep, clock: ClockDep
) -> PacketOut:
    """Opens the packet: the recipient organisation's caseworkers only (oversight and
    monitoring roles get the same 404 as a missing referral), within its window; the
    signature is verified first."""
    if not opens_packets(principal.duty):
        raise deny(store, principal, object_type="referral", object_id=referral_id)
    try:
        payload = open_referral(
            store,
            keys,
            referral_id,
            org_id=principal.org_id,
            actor=principal.user_id,
            today=_today(clock),
        )
    except NotFoundError:
        raise deny(store, principal, object_type="referral", object_id=referral_id) from None
    except PacketRefusedError as exc:  # audited by the service, with the rule broken
        raise _conflict(f"the packet cannot be opened: {exc}") from None
    data = payload.to_dict()
    return PacketOut.model_validate(data)


def _step(
    fn: Any, referral_id: str, principal: Principal, store: Any, clock: ClockDep, **kw: Any
) -> dict[str, Any]:
    try:
        found = fn(
            store,
            referral_id,
            org_id=principal.org_id,
            actor=principal.user_id,
            today=_today(clock),
            **kw,
        )
    except NotFoundError:
        raise deny(store, principal, object_type="referral", object_id=referral_id) from None
    except ReferralStateError as exc:
        raise _conflict(str(exc)) from None
    out: dict[str, Any] = found.to_dict(for_recipient=found.sender != principal.org_id)
    return out


@router.post("/{referral_id}/accept")
def accept(referral_id: Id, principal: Writer, store: StoreDep, clock: ClockDep) -> dict[str, Any]:
    """Accepts a pending referral: access runs for the purpose's retention period."""
    return _step(accept_referral, referral_id, principal, store, clock)


@router.post("/{referral_id}/reject")
def reject(
    referral_id: Id, body: RejectIn, principal: Writer, store: StoreDep, clock: ClockDep
) -> dict[str, Any]:
    """Rejects a pending referral: the packet can no longer be opened."""
    return _step(reject_referral, referral_id, principal, store, clock, reason=body.reason)


@router.post("/{referral_id}/close")
def close(referral_id: Id, principal: Writer, store: StoreDep, clock: ClockDep) -> dict[str, Any]:
    """Closes a pending or accepted referral: the recipient's staff within its window, or the
    sender's staff who need to know every person it names."""
    try:
        found = close_referral_as(store, principal, referral_id, at=clock())
    except ReferralStateError as exc:
        raise _conflict(str(exc)) from None
    if found is None:
        raise deny(store, principal, object_type="referral", object_id=referral_id)
    return found.to_dict(for_recipient=found.sender != principal.org_id)


@router.post(
    "/{referral_id}/feedback", response_model=ReferralOut, status_code=status.HTTP_201_CREATED
)
def feedback(
    referral_id: Id,
    *,
    body: FeedbackIn,
    principal: Writer,
    store: StoreDep,
    keys: KeysDep,
    clock: ClockDep,
) -> ReferralOut:
    """Feedback to the referral's sender: process feedback always; service feedback only
    with the person's consent; only agreed elements (the engine decides). The recipient
    organisation's caseworkers only (the answer names the person)."""
    if not opens_packets(principal.duty):
        raise deny(store, principal, object_type="referral", object_id=referral_id)
    try:
        out = send_feedback(
            store,
            keys,
            referral_id,
            org_id=principal.org_id,
            purpose=body.purpose,
            values=dict(body.values),
            actor=principal.user_id,
            today=_today(clock),
        )
    except NotFoundError:
        raise deny(store, principal, object_type="referral", object_id=referral_id) from None
    except NotShareableError:
        raise _conflict("nothing may be shared for this feedback") from None
    return _outcome(out)
