"""The operation's data sharing protocol: the current version and the Note's findings on it
(``safeshare.core.check_protocol``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select

from safeshare import core
from safeshare.api.deps import Principal, StoreDep, not_found, require
from safeshare.api.schemas import FindingOut, FindingsOut, ProtocolOut, PurposeOut
from safeshare.core.vocabulary import STANDARD_ELEMENTS, Category
from safeshare.core.world import Protocol
from safeshare.services.protocols import current_protocol, current_version
from safeshare.services.roles import Role, Scope
from safeshare.store import mapping
from safeshare.store.models import DataElementRow, OrganisationRow

router = APIRouter(prefix="/api/protocol", tags=["protocol"])
Reader = Annotated[Principal, Depends(require(*tuple(Role), scope=Scope.PROTOCOL_READ))]


def _current(store: StoreDep) -> tuple[Protocol, str]:
    with store.reading() as session:
        found = current_protocol(session)
    if found is None:
        raise not_found()
    return found


@router.get("", response_model=ProtocolOut)
def get_protocol(_principal: Reader, store: StoreDep) -> ProtocolOut:
    """The current version (endorsed only when every party's endorsement is recorded)."""
    protocol, version_id = _current(store)
    info = current_version(store)
    if info is None:
        raise not_found()
    return ProtocolOut(
        version_id=version_id,
        protocol_id=protocol.id,
        version=info.version,
        content_hash=info.content_hash,
        loaded_at=info.loaded_at,
        endorsed=protocol.endorsed,
        endorsed_by=list(info.endorsed_by),
        consent_review=protocol.consent_review.text if protocol.consent_review else None,
        purposes=[
            PurposeOut(
                id=p.id,
                general=p.general.value,
                benefit=p.benefit,
                benefit_kind=p.benefit_kind.value,
                services=list(p.services),
                senders=sorted(p.senders),
                recipients=sorted(p.recipients),
                data_elements=list(p.data_elements),
                retention=p.retention.text if p.retention else None,
                access_roles=list(p.access_roles),
                contact_methods=list(p.contact_methods),
                feedback=list(p.feedback),
                explanation=p.explanation,
            )
            for p in protocol.purposes
        ],
    )


@router.get("/findings", response_model=FindingsOut)
def findings(_principal: Reader, store: StoreDep) -> FindingsOut:
    """The Note's findings on the current version: errors must be fixed before sharing."""
    protocol, version_id = _current(store)
    with store.reading() as session:
        orgs = {r.id: mapping.organisation(r) for r in session.scalars(select(OrganisationRow))}
        extra = {r.id: Category(r.category) for r in session.scalars(select(DataElementRow))}
    found = core.check_protocol(protocol, orgs, {**STANDARD_ELEMENTS, **extra})
    out = [FindingOut.model_validate(f.to_dict()) for f in found]
    return FindingsOut(
        version_id=version_id,
        errors=sum(1 for f in out if f.severity == "error"),
        warnings=sum(1 for f in out if f.severity == "warning"),
        findings=out,
    )
