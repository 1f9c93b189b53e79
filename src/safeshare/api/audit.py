"""The audit log's integrity (data protection focal point, administrator)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from safeshare.api.deps import Principal, StoreDep, require
from safeshare.api.schemas import AuditStatusOut
from safeshare.services.audit import verify_audit
from safeshare.services.common import audit
from safeshare.services.roles import Role

router = APIRouter(prefix="/api/audit", tags=["audit"])
Verifier = Annotated[Principal, Depends(require(Role.DP_FOCAL_POINT, Role.ADMINISTRATOR))]


@router.get("/verify", response_model=AuditStatusOut)
def verify(principal: Verifier, store: StoreDep) -> AuditStatusOut:
    """Checks every event's hash link and every checkpoint's signature."""
    result = verify_audit(store)
    with store.transaction() as session:
        audit(
            store,
            session,
            actor=principal.user_id,
            action="audit.verify",
            object_type="audit",
            object_id="chain",
            codes=["ok" if result.ok else "broken"],
        )
    return AuditStatusOut(
        ok=result.ok,
        events_checked=result.events_checked,
        first_bad_seq=result.first_bad_seq,
        checkpoints_checked=result.checkpoints_checked,
        last_seq=result.last_seq,
        last_checkpoint_seq=result.last_checkpoint_seq,
        summary=result.summary,
    )
