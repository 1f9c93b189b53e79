"""The audit log: verify the chain and checkpoints, sign a checkpoint on demand, rotate the
checkpoint signing key, and the trail of who opened, changed or shared a case (read through
the index columns, never by scanning the chain)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from safeshare.audit.checkpoints import SigningKey
from safeshare.audit.verification import VerificationResult
from safeshare.crypto.files import write_secret_file
from safeshare.services.accounts import get_account
from safeshare.services.common import audit
from safeshare.store import audit_log, audit_verify
from safeshare.store.models import CaseRow
from safeshare.store.unit import Store

TRAIL_ACTIONS = ("access.", "referral.", "consent.", "case.")


@dataclass(frozen=True)
class TrailEntry:
    seq: int
    at: str
    actor: str
    action: str
    codes: tuple[str, ...]


def case_access_trail(
    store: Store, case_id: str, *, limit: int = 50, org: str | None = None
) -> list[TrailEntry]:
    """Who opened, changed or shared this case or its person, newest first (ids, actions
    and codes: the audit log holds no personal data). Indexed lookups (``object_type`` and
    ``object_id``, ``subject_id``): the cost follows the case's own events, not the chain's
    length. ``org``: only the events of that organisation's staff (a recipient of a share
    sees its own staff's accesses, not which other organisations the person was referred
    to or who there opened her file)."""
    with store.reading() as session:
        subject_id = session.scalar(select(CaseRow.subject_id).where(CaseRow.id == case_id))
        objects = [("case", case_id)]
        if subject_id is not None:
            objects.append(("subject", subject_id))
        events = audit_log.events_about(
            session, objects=objects, subject_id=subject_id, actions=TRAIL_ACTIONS, limit=limit
        )
    users: dict[str, tuple[str, str | None]] = {}
    out = []
    for event in events:
        if event.actor not in users:
            account = get_account(store, event.actor)
            users[event.actor] = (
                (account.username, account.org_id) if account else (event.actor, None)
            )
        name, actor_org = users[event.actor]
        if org is not None and actor_org != org:
            continue
        out.append(TrailEntry(event.seq, event.at, name, event.action, tuple(event.codes)))
    return out


class NoSigningKeyError(RuntimeError):
    """Checkpoints need the audit signing key (SAFESHARE_AUDIT_KEY_FILE)."""


def verify_audit(store: Store, *, require_anchored_head: bool = False) -> VerificationResult:
    """Checks every event's hash link and every checkpoint's signature; names the first bad
    event. The result is :func:`chain.verify_chain_rows`'s over every event; the work is
    shared between the database (links) and processes (hashes): see
    :func:`audit_verify.verify_fast`."""
    with store.snapshot() as session:
        return audit_verify.verify_fast(
            session, store.public_keys, require_anchored_head=require_anchored_head
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


@dataclass(frozen=True)
class SigningKeyRotation:
    old_key_id: str
    new_key_id: str
    retired_public_key: Path
    last_old_checkpoint: int | None
    first_new_checkpoint: int | None


def retired_key_path(trusted_dir: Path, key_id: str) -> Path:
    return trusted_dir / f"{key_id.replace(':', '-')}.pem"


def rotate_signing_key(
    store: Store, *, key_file: Path, trusted_dir: Path, actor: str
) -> SigningKeyRotation:
    """Replaces the checkpoint signing key in ``key_file`` by a new one.

    In this order, so that a crash at any point leaves every checkpoint verifiable: the old
    public key is written to ``trusted_dir`` (read at start by :func:`safeshare.bootstrap`);
    the rotation is recorded as an event and the head is signed with the OLD key; the new
    private key replaces the old one in ``key_file`` (atomically); the head is signed with the
    new key. The old private key is gone afterwards: checkpoints it signed still verify with
    its public key."""
    signer = store.signer
    if signer is None:
        raise NoSigningKeyError("no audit signing key is configured")
    new = SigningKey.generate()
    old_public = signer.private_key.public_key()
    trusted_dir.mkdir(parents=True, exist_ok=True)
    retired = retired_key_path(trusted_dir, signer.key_id)
    write_secret_file(retired, SigningKey(signer.private_key, signer.key_id).public_pem())
    with store.transaction() as session:
        audit(
            store,
            session,
            actor=actor,
            action="audit.signing_key.rotate",
            object_type="audit_signing_key",
            object_id=new.key_id,
            details={"retired": signer.key_id},
        )
        row = audit_log.checkpoint(session, signer)
        last_old = None if row is None else row.seq
    new.save(key_file)
    public_keys = {**store.public_keys, signer.key_id: old_public, new.key_id: new.public_key()}
    store.public_keys = public_keys
    store.signer = dataclasses.replace(
        signer, private_key=new.private_key, key_id=new.key_id, public_keys=public_keys
    )
    first_new = write_checkpoint(store, actor=actor)
    return SigningKeyRotation(signer.key_id, new.key_id, retired, last_old, first_new)
