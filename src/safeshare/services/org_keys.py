"""Organisations' packet keys: private keys in key files outside the database (one per
organisation under ``SAFESHARE_ORG_KEY_DIR``; in development, demo and test under the data
directory and generated when missing), public keys registered in the store (audited)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from safeshare.crypto.org_keys import OrgKeyDirectory, OrgPublicKeys
from safeshare.services.common import NotFoundError, audit
from safeshare.settings import InsecureSettingsError, Settings, data_dir
from safeshare.store.audit_log import now
from safeshare.store.models import OrganisationRow
from safeshare.store.models_sharing import OrgPublicKeyRow
from safeshare.store.prepared import fetch
from safeshare.store.unit import Store

_KEYS = OrgPublicKeyRow.__table__
Q_PUBLIC_KEYS = select(_KEYS.c.org_id, _KEYS.c.x25519, _KEYS.c.ed25519).where(
    _KEYS.c.org_id.in_(bindparam("orgs", expanding=True))
)


class SharingSettings(Settings):
    org_key_dir: Path | None = Field(
        default=None, description="Directory of organisation key files (outside the database)."
    )

    @model_validator(mode="after")
    def _org_keys_in_production(self) -> SharingSettings:
        if not self.convenience and self.org_key_dir is None:
            raise InsecureSettingsError(
                f"SAFESHARE_ENV={self.env.value} refuses default secrets and locations; "
                "set SAFESHARE_ORG_KEY_DIR"
            )
        return self


class NoPublicKeyError(LookupError):
    """The organisation has no registered public key: nothing can be sealed to it."""


def key_directory(settings: SharingSettings | None = None) -> OrgKeyDirectory:
    settings = settings or SharingSettings()
    path = settings.org_key_dir or data_dir() / "org-keys"
    return OrgKeyDirectory(path, generate_missing=settings.convenience)


def organisation_exists(session: Session, org_id: str) -> bool:
    return session.get(OrganisationRow, org_id) is not None


def public_keys_of(session: Session, org_id: str) -> OrgPublicKeys | None:
    """The organisation's registered public keys, read in the session's transaction."""
    return registered_keys(session, (org_id,)).get(org_id)


def registered_keys(session: Session, org_ids: Sequence[str]) -> dict[str, OrgPublicKeys]:
    """The registered public keys of these organisations (those that have some), read in the
    session's transaction in one statement (every referral reads both sides' keys: a
    prepared read, and the raw keys parsed once)."""
    session.flush()  # a registration made in this transaction is seen
    found = fetch(session, Q_PUBLIC_KEYS, {"orgs": sorted(set(org_ids))})
    return {r.org_id: _parsed(r.org_id, bytes(r.x25519), bytes(r.ed25519)) for r in found}


@lru_cache(maxsize=256)
def _parsed(org_id: str, encryption: bytes, signing: bytes) -> OrgPublicKeys:
    return OrgPublicKeys.from_raw(org_id, encryption, signing)


def put_public_keys(store: Store, session: Session, public: OrgPublicKeys, *, actor: str) -> bool:
    """Registers (or replaces) an organisation's public keys; True if they changed."""
    if session.get(OrganisationRow, public.org_id) is None:
        raise NotFoundError(f"organisation {public.org_id!r} is not in the store")
    row = session.get(OrgPublicKeyRow, public.org_id)
    if row is not None and row.key_id == public.key_id:
        return False
    if row is None:
        row = OrgPublicKeyRow(org_id=public.org_id)
        session.add(row)
    row.key_id = public.key_id
    row.x25519 = public.encryption_raw()
    row.ed25519 = public.signing_raw()
    row.registered_at = now()
    row.registered_by = actor
    session.flush()
    audit(
        store,
        session,
        actor=actor,
        action="org_key.register",
        object_type="organisation",
        object_id=public.org_id,
        details={"key_id": public.key_id},
    )
    return True


def register_public_keys(store: Store, public: OrgPublicKeys, *, actor: str) -> bool:
    with store.transaction() as session:
        return put_public_keys(store, session, public, actor=actor)


def ensure_org_keys(
    store: Store, session: Session, keys: OrgKeyDirectory, org_id: str, *, actor: str
) -> OrgPublicKeys:
    """The organisation's registered public keys; when none is registered, the key file's
    (generated in development, demo and test) is registered first."""
    return ensure_keys_of(store, session, keys, (org_id,), actor=actor)[org_id]


def ensure_keys_of(
    store: Store,
    session: Session,
    keys: OrgKeyDirectory,
    org_ids: Sequence[str],
    *,
    actor: str,
) -> dict[str, OrgPublicKeys]:
    """:func:`ensure_org_keys` for several organisations, their registered keys read at once.
    Raises :class:`NoPublicKeyError` for the first (in order) that has none and no key file."""
    found = registered_keys(session, org_ids)
    for org_id in org_ids:
        if org_id in found:
            continue
        if not (keys.has(org_id) or keys.generate_missing):
            raise NoPublicKeyError(f"organisation {org_id!r} has no registered public key")
        public = keys.load(org_id).public()
        put_public_keys(store, session, public, actor=actor)
        found[org_id] = public
    return found
