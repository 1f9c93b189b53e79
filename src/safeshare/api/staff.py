"""Staff accounts of one's own organisation: list and create (administrator), case
assignment (supervisor), deactivation (administrator)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status
from sqlalchemy import select

from safeshare.api.deps import PolicyDep, Principal, StoreDep, not_found, require
from safeshare.api.schemas import ErrorOut, PathId, StaffCreate, StaffOut
from safeshare.services import accounts
from safeshare.services.accounts import AccountInfo, Role
from safeshare.services.common import AlreadyExistsError, NotFoundError
from safeshare.store.models import CaseRow

router = APIRouter(prefix="/api/staff", tags=["staff"])

Admin = Annotated[Principal, Depends(require(Role.ADMINISTRATOR))]
Managers = Annotated[
    Principal,
    Depends(require(Role.ADMINISTRATOR, Role.SUPERVISOR, Role.DP_FOCAL_POINT)),
]
Supervisor = Annotated[Principal, Depends(require(Role.SUPERVISOR))]


def _out(a: AccountInfo) -> StaffOut:
    return StaffOut(
        user_id=a.user_id,
        username=a.username,
        staff_id=a.staff_id,
        org_id=a.org_id,
        role=a.role,
        duty=a.duty,
        active=a.active,
        cases=list(a.cases),
    )


def _own(store: StoreDep, principal: Principal, staff_id: str) -> AccountInfo:
    account = accounts.account_for_staff(store, staff_id)
    if account is None or account.org_id != principal.org_id:
        raise not_found()
    return account


@router.get("", response_model=list[StaffOut])
def list_staff(principal: Managers, store: StoreDep) -> list[StaffOut]:
    """The accounts of your own organisation."""
    return [_out(a) for a in accounts.list_accounts(store, org=principal.org_id)]


@router.post(
    "",
    response_model=StaffOut,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": ErrorOut, "description": "The username is taken."}},
)
def create_staff(
    body: StaffCreate, principal: Admin, store: StoreDep, policy: PolicyDep
) -> StaffOut:
    """Creates a staff member and her account in your own organisation."""
    with store.reading() as session:
        owners = (
            dict(
                session.execute(
                    select(CaseRow.id, CaseRow.owner).where(CaseRow.id.in_(body.cases))
                ).all()
            )
            if body.cases
            else {}
        )
    if any(owners.get(c) != principal.org_id for c in body.cases):
        raise not_found()
    try:
        account = accounts.create_account(
            store,
            username=body.username,
            password=body.password,
            org=principal.org_id,
            role=body.role,
            actor=principal.user_id,
            policy=policy,
            cases=body.cases,
        )
    except AlreadyExistsError:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="already exists") from None
    return _out(account)


@router.get("/{staff_id}", response_model=StaffOut)
def get_staff(staff_id: PathId, principal: Managers, store: StoreDep) -> StaffOut:
    return _out(_own(store, principal, staff_id))


@router.put("/{staff_id}/cases/{case_id}", status_code=status.HTTP_204_NO_CONTENT)
def assign(staff_id: PathId, case_id: PathId, principal: Supervisor, store: StoreDep) -> Response:
    """Assigns one of your organisation's cases to one of its caseworkers."""
    _assign(store, principal, staff_id, case_id, True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{staff_id}/cases/{case_id}", status_code=status.HTTP_204_NO_CONTENT)
def unassign(staff_id: PathId, case_id: PathId, principal: Supervisor, store: StoreDep) -> Response:
    _assign(store, principal, staff_id, case_id, False)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _assign(
    store: StoreDep, principal: Principal, staff_id: str, case_id: str, assign: bool
) -> None:
    account = _own(store, principal, staff_id)
    with store.reading() as session:
        case = session.get(CaseRow, case_id)
        owner = case.owner if case is not None else None
    if owner != principal.org_id or account.role is not Role.CASEWORKER:
        raise not_found()
    accounts.assign_case(
        store, staff_id=staff_id, case_id=case_id, actor=principal.user_id, assign=assign
    )


@router.post("/{staff_id}/deactivate", status_code=status.HTTP_204_NO_CONTENT)
def deactivate(staff_id: PathId, principal: Admin, store: StoreDep) -> Response:
    """Deactivates the account: its sessions end and its API tokens are revoked."""
    account = _own(store, principal, staff_id)
    if account.user_id == principal.user_id:
        raise not_found()
    try:
        accounts.set_active(store, account.user_id, False, actor=principal.user_id)
    except NotFoundError:
        raise not_found() from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)
