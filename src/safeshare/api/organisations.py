"""The operation's organisations (no personal data: any signed-in user may list them)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from safeshare.api.deps import PrincipalDep, StoreDep, not_found
from safeshare.api.schemas import OrganisationOut, PathId
from safeshare.store.models import OrganisationRow

router = APIRouter(prefix="/api/organisations", tags=["organisations"])


def _out(row: OrganisationRow) -> OrganisationOut:
    return OrganisationOut.model_validate(
        {
            "id": row.id,
            "kind": row.kind,
            "name": row.name,
            "dp_assessment": row.dp_assessment,
            "anonymity_only": row.anonymity_only,
            "refoulement_risk": row.refoulement_risk,
        }
    )


@router.get("", response_model=list[OrganisationOut])
def list_organisations(_principal: PrincipalDep, store: StoreDep) -> list[OrganisationOut]:
    with store.reading() as session:
        return [
            _out(r) for r in session.scalars(select(OrganisationRow).order_by(OrganisationRow.id))
        ]


@router.get("/{org_id}", response_model=OrganisationOut)
def get_organisation(org_id: PathId, _principal: PrincipalDep, store: StoreDep) -> OrganisationOut:
    with store.reading() as session:
        row = session.get(OrganisationRow, org_id)
        if row is None:
            raise not_found()
        return _out(row)
