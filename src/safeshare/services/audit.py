"""The audit log: verify the chain and checkpoints, sign a checkpoint on demand."""

from __future__ import annotations

from safeshare.audit import chain
from safeshare.audit.chain import VerificationResult
from safeshare.services.common import audit
from safeshare.store import audit_log
from safeshare.store.unit import Store


class NoSigningKeyError(RuntimeError):
    """Checkpoints need the audit signing key (SAFESHARE_AUDIT_KEY_FILE)."""


def verify_audit(store: Store, *, require_anchored_head: bool = False) -> VerificationResult:
    """Checks every event's hash link and every checkpoint's signature; names the first bad
    event."""
    with store.reading() as session:
        return chain.verify_chain_rows(
            audit_log.event_rows(session),
            audit_log.checkpoints(session),
            store.public_keys,
            require_anchored_head=require_anchored_head,
        )


def write_checkpoint(store: Store, *, actor: str) -> int | None:
    """Signs a checkpoint at the head now (after recording the request as an event);
    returns its seq, or None when the chain is empty."""
    if store.signer is None:
        raise NoSigningKeyError("no audit signing key is configured")
    with store.transaction() as session:
        audit(
            store,
            session,
            actor=actor,
            action="audit.checkpoint",
            object_type="audit",
            object_id="chain",
        )
        row = audit_log.checkpoint(session, store.signer)
        return None if row is None else row.seq
