"""A referral as its parties see it: the recipient opens the packet (an audited access),
accepts or rejects it, gives feedback (process feedback always; service feedback only with
the person's consent: the engine decides) and closes it; the sender follows its status and
reads the feedback received."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safeshare.api.deps import ClockDep, Principal, StoreDep
from safeshare.api.referrals import org_keys_of
from safeshare.core.vocabulary import GeneralPurpose
from safeshare.core.world import Purpose
from safeshare.crypto.packets import PacketPayload
from safeshare.services import referrals
from safeshare.services.common import NotFoundError
from safeshare.services.org_keys import NoPublicKeyError
from safeshare.services.referral_feedback import send_feedback
from safeshare.services.referral_store import ReferralInfo, ReferralStateError
from safeshare.services.referrals import REJECT_REASONS
from safeshare.sharing.payload import NotShareableError
from safeshare.store.unit import Store
from safeshare.web.common import (
    CASE_ROLES,
    WebUser,
    current_protocol,
    field,
    org_names,
    refuse,
)
from safeshare.web.render import page

router = APIRouter()
FEEDBACK_FIELDS = ("status_dates", "services_provided", "service_dates", "service_outcome")


def _feedback_purposes(store: Store, org: str, to: str) -> list[Purpose]:
    protocol = current_protocol(store)
    if protocol is None:
        return []
    return [
        p
        for p in protocol.purposes
        if p.general is GeneralPurpose.REFERRAL_FEEDBACK and org in p.senders and to in p.recipients
    ]


def _feedback_received(
    store: Store, request: Request, referral: ReferralInfo, *, org: str, actor: str, today: date
) -> list[PacketPayload]:
    out = []
    for r in referrals.inbox(store, org, today=today):
        if r.answers == referral.id:
            try:
                out.append(
                    referrals.open_referral(
                        store, org_keys_of(request), r.id, org_id=org, actor=actor, today=today
                    )
                )
            except (NotFoundError, NoPublicKeyError, ReferralStateError):
                continue
    return out


def _missing(store: Store, principal: Principal, request: Request, referral_id: str) -> Response:
    """A referral missing or not the caller's organisation's: the audited 404 page, as the
    API answers it."""
    return refuse(
        store,
        principal,
        request,
        object_type="referral",
        object_id=referral_id,
        code="need-to-know",
    )


@router.get("/referrals/{referral_id}", response_class=HTMLResponse)
def referral_page(
    referral_id: str, request: Request, principal: WebUser, store: StoreDep, clock: ClockDep
) -> Response:
    if principal.role not in CASE_ROLES:
        return refuse(store, principal, request, object_type="referral", object_id=referral_id)
    at = clock()
    day = at.date()
    # The API's rule: the sending side sees a referral only with need-to-know for every
    # person it names; the recipient's staff see it within its window.
    referral = referrals.referral_for(store, principal, referral_id, at=at)
    if referral is None:
        return _missing(store, principal, request, referral_id)
    received = referral.recipient == principal.org_id and referral.sender != principal.org_id
    packet = None
    feedback: list[PacketPayload] = []
    opens = referrals.opens_packets(principal.duty)  # oversight: the status, no one's data
    if opens and received:
        try:
            packet = referrals.open_referral(
                store,
                org_keys_of(request),
                referral_id,
                org_id=principal.org_id,
                actor=principal.user_id,
                today=day,
            )
        except (NotFoundError, NoPublicKeyError, ReferralStateError):
            packet = None
    elif opens:
        feedback = _feedback_received(
            store, request, referral, org=principal.org_id, actor=principal.user_id, today=day
        )
    return page(
        request,
        "referral_view.html",
        {
            "referral": referral,
            "received": received,
            "packet": packet,
            "feedback": feedback,
            "feedback_purposes": _feedback_purposes(store, principal.org_id, referral.sender)
            if received and opens
            else [],
            "reject_reasons": sorted(REJECT_REASONS),
            "names": org_names(store, principal),
            "done": request.query_params.get("done", ""),
        },
    )


async def _step(
    referral_id: str,
    request: Request,
    *,
    principal: WebUser,
    store: Store,
    clock: ClockDep,
    action: str,
) -> Response:
    if principal.role not in CASE_ROLES or (
        action == "feedback" and not referrals.opens_packets(principal.duty)
    ):
        return refuse(store, principal, request, object_type="referral", object_id=referral_id)
    form = await request.form()
    day = clock().date()
    org, actor = principal.org_id, principal.user_id
    try:
        if action == "accept":
            referrals.accept_referral(store, referral_id, org_id=org, actor=actor, today=day)
        elif action == "reject":
            referrals.reject_referral(
                store,
                referral_id,
                org_id=org,
                actor=actor,
                today=day,
                reason=field(form, "reason", "other"),
            )
        elif action == "close":
            if referrals.close_referral_as(store, principal, referral_id, at=clock()) is None:
                return _missing(store, principal, request, referral_id)
        else:
            purpose = field(form, "purpose")
            values = {k: field(form, k) for k in FEEDBACK_FIELDS if field(form, k)}
            outcome = send_feedback(
                store,
                org_keys_of(request),
                referral_id,
                org_id=principal.org_id,
                purpose=purpose,
                values=values,
                actor=principal.user_id,
                today=day,
            )
            return page(
                request,
                "feedback_result.html",
                {
                    "referral_id": referral_id,
                    "decision": outcome.decision,
                    "sent": outcome.referral,
                    "names": org_names(store, principal),
                },
            )
    except NotFoundError:
        return _missing(store, principal, request, referral_id)
    except (ReferralStateError, NotShareableError, NoPublicKeyError):
        return page(
            request, "referral_conflict.html", {"referral_id": referral_id}, status_code=409
        )
    return RedirectResponse(f"/referrals/{referral_id}?done={action}", status_code=303)


@router.post("/referrals/{referral_id}/accept")
async def accept(
    referral_id: str, request: Request, principal: WebUser, store: StoreDep, clock: ClockDep
) -> Response:
    return await _step(
        referral_id, request, principal=principal, store=store, clock=clock, action="accept"
    )


@router.post("/referrals/{referral_id}/reject")
async def reject(
    referral_id: str, request: Request, principal: WebUser, store: StoreDep, clock: ClockDep
) -> Response:
    return await _step(
        referral_id, request, principal=principal, store=store, clock=clock, action="reject"
    )


@router.post("/referrals/{referral_id}/close")
async def close(
    referral_id: str, request: Request, principal: WebUser, store: StoreDep, clock: ClockDep
) -> Response:
    return await _step(
        referral_id, request, principal=principal, store=store, clock=clock, action="close"
    )


@router.post("/referrals/{referral_id}/feedback")
async def feedback(
    referral_id: str, request: Request, principal: WebUser, store: StoreDep, clock: ClockDep
) -> Response:
    return await _step(
        referral_id, request, principal=principal, store=store, clock=clock, action="feedback"
    )
