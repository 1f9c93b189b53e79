"""Consent: record consent, assent, refusal or withdrawal (withdrawing takes one call, as
easy as consenting) and read a subject's ledger timeline. Only someone who may see the
person (need-to-know) may record or read her consent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.exceptions import RequestValidationError

from safeshare.api.deps import ClockDep, Principal, StoreDep, not_found, require
from safeshare.api.schemas import ConsentCreate, ConsentOut, PathId, WithdrawRequest
from safeshare.core.world import ConsentRecord
from safeshare.services import access, consent_effects
from safeshare.services import consent as consent_service
from safeshare.services.common import NotFoundError
from safeshare.services.consent import FutureConsentDateError
from safeshare.services.roles import PERSONAL_DATA_ROLES, Role, Scope
from safeshare.store.ledger import NewConsent

router = APIRouter(prefix="/api/subjects", tags=["consent"])

Reader = Annotated[Principal, Depends(require(*PERSONAL_DATA_ROLES, scope=Scope.CASES_READ))]
Recorder = Annotated[
    Principal,
    Depends(
        require(Role.CASEWORKER, Role.SUPERVISOR, Role.DP_FOCAL_POINT, scope=Scope.CONSENT_WRITE)
    ),
]


def _out(r: ConsentRecord) -> ConsentOut:
    return ConsentOut(
        id=r.id,
        subject_id=r.subject,
        kind=r.kind,
        given_by=r.given_by,
        decision=r.decision,
        purposes=sorted(r.purposes),
        recipients=None if r.recipients is None else sorted(r.recipients),
        data_elements=None if r.data_elements is None else sorted(r.data_elements),
        stage=r.stage,
        method=r.method,
        date=r.date,
        seq=r.seq,
    )


def _unprocessable(error: FutureConsentDateError) -> RequestValidationError:
    """A 422 naming the field, as a schema violation would."""
    return RequestValidationError(
        [{"loc": ["body", error.field], "msg": str(error), "type": "value_error"}]
    )


def _entry(store: StoreDep, entry_id: str, subject_id: str) -> ConsentOut:
    for r in consent_service.consent_history(store, subject_id):
        if r.id == entry_id:
            return _out(r)
    raise not_found()


def _authorise(store: StoreDep, principal: Principal, subject_id: str, clock: ClockDep) -> None:
    grant = access.subject_access(store, principal, subject_id, access.CONSENT_ELEMENTS, at=clock())
    _own_organisation_only(store, principal, subject_id, grant)


def _own_organisation_only(
    store: StoreDep, principal: Principal, subject_id: str, grant: access.CaseAccess | None
) -> None:
    """The ledger is kept and changed by the person's own organisation, not by a recipient."""
    if grant is None:
        raise not_found()
    if grant.via is access.Via.SHARED:
        access.denied(
            store,
            principal,
            object_type="subject",
            object_id=subject_id,
            codes=["recipient-no-consent-ledger"],
        )
        raise not_found()


@router.get("/{subject_id}/consents", response_model=list[ConsentOut])
def timeline(
    subject_id: PathId, principal: Reader, store: StoreDep, clock: ClockDep
) -> list[ConsentOut]:
    """The subject's consent ledger, oldest first (refusals and withdrawals included)."""
    grant = access.subject_access(store, principal, subject_id, access.CONSENT_ELEMENTS, at=clock())
    _own_organisation_only(store, principal, subject_id, grant)
    return [_out(r) for r in consent_service.consent_history(store, subject_id)]


@router.post(
    "/{subject_id}/consents", response_model=ConsentOut, status_code=status.HTTP_201_CREATED
)
def record(
    subject_id: PathId, body: ConsentCreate, principal: Recorder, store: StoreDep, clock: ClockDep
) -> ConsentOut:
    """Records consent, a child's assent, a refusal or a withdrawal: a new ledger entry (the
    ledger is append-only)."""
    _authorise(store, principal, subject_id, clock)
    today = clock().date()
    entry = NewConsent(
        subject=subject_id,
        decision=body.decision,
        purposes=tuple(body.purposes),
        date=body.date or today,
        kind=body.kind,
        given_by=body.given_by,
        recipients=None if body.recipients is None else tuple(body.recipients),
        data_elements=None if body.data_elements is None else tuple(body.data_elements),
        method=body.method,
        stage=body.stage,
        explanation_language=body.explanation_language,
        explanation_version=body.explanation_version,
    )
    try:  # the entry and its effects (stopped shares, notices): one transaction
        effects = consent_effects.record_consent_and_apply(
            store, entry, actor=principal.user_id, today=today
        )
    except NotFoundError:
        raise not_found() from None
    except FutureConsentDateError as error:  # dated after today: never counts as consent
        raise _unprocessable(error) from None
    return _entry(store, effects.entry_id, subject_id)


@router.post(
    "/{subject_id}/consents/withdraw",
    response_model=ConsentOut,
    status_code=status.HTTP_201_CREATED,
)
def withdraw(
    subject_id: PathId, body: WithdrawRequest, principal: Recorder, store: StoreDep, clock: ClockDep
) -> ConsentOut:
    """Withdraws consent for these purposes (and recipients): one call, effective at once."""
    _authorise(store, principal, subject_id, clock)
    today = clock().date()
    try:  # the withdrawal and its effects (stopped shares, notices): one transaction
        effects = consent_effects.withdraw_consent_and_apply(
            store,
            subject=subject_id,
            purposes=body.purposes,
            actor=principal.user_id,
            on=today,
            today=today,
            recipients=body.recipients,
            kind=body.kind,
            given_by=body.given_by,
            method=body.method,
        )
    except NotFoundError:
        raise not_found() from None
    return _entry(store, effects.entry_id, subject_id)
