"""A case's data elements (name, phone, service needed, ...), each encrypted under its
subject's own data key. The data key is sealed with the store's field keys; erasing a subject
destroys it (crypto-shredding), so every value it encrypted becomes unreadable at once while
ids, and the audit chain that names them, stay intact."""

from __future__ import annotations

import base64
import os
from collections.abc import Collection, Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from safeshare.crypto.errors import FieldDecryptionError
from safeshare.services.common import NotFoundError, audit
from safeshare.services.world_loader import Q_CASES_OF
from safeshare.store import reads
from safeshare.store.audit_log import now
from safeshare.store.models import CaseRow
from safeshare.store.models_sharing import CaseElementRow, SubjectKeyRow
from safeshare.store.unit import Store

_AAD = b"safeshare/case-element/v1\x00"


class SubjectErasedError(RuntimeError):
    """The subject's data key was destroyed: her data is erased."""


def _aad(case_id: str, element: str) -> bytes:
    out = bytearray(_AAD)
    for part in (case_id, element):
        raw = part.encode()
        out += len(raw).to_bytes(4, "big") + raw
    return bytes(out)


def subject_key(store: Store, session: Session, subject_id: str, *, create: bool) -> bytes:
    row = session.get(SubjectKeyRow, subject_id)
    if row is None:
        if not create:
            raise NotFoundError(f"subject {subject_id!r} has no data key")
        key = AESGCM.generate_key(bit_length=256)
        sealed = store.sealer.seal(
            base64.b64encode(key).decode("ascii"),
            table="subject_keys",
            column="key_enc",
            row_id=subject_id,
        )
        session.add(SubjectKeyRow(subject_id=subject_id, key_enc=sealed, created_at=now()))
        session.flush()
        return key
    if row.key_enc is None:
        raise SubjectErasedError(f"subject {subject_id!r} was erased")
    text = store.sealer.open(
        bytes(row.key_enc), table="subject_keys", column="key_enc", row_id=subject_id
    )
    assert text is not None
    return base64.b64decode(text)


def put_case_elements(
    store: Store, session: Session, case_id: str, values: Mapping[str, str]
) -> None:
    """Sets (replaces) elements of a case, in the caller's transaction."""
    case = session.get(CaseRow, case_id)
    if case is None:
        raise NotFoundError(f"case {case_id!r} is not in the store")
    aead = AESGCM(subject_key(store, session, case.subject_id, create=True))
    for element, value in values.items():
        nonce = os.urandom(12)
        blob = nonce + aead.encrypt(nonce, value.encode(), _aad(case_id, element))
        row = session.get(CaseElementRow, (case_id, element))
        if row is None:
            session.add(CaseElementRow(case_id=case_id, element=element, value_enc=blob))
        else:
            row.value_enc = blob
    session.flush()


def set_case_elements(store: Store, case_id: str, values: Mapping[str, str], *, actor: str) -> None:
    with store.transaction() as session:
        put_case_elements(store, session, case_id, values)
        audit(
            store,
            session,
            actor=actor,
            action="case.elements",
            object_type="case",
            object_id=case_id,
            details={"elements": ",".join(sorted(values))},
        )


def element_values(
    store: Store,
    session: Session,
    subject_ids: Collection[str],
    elements: Collection[str],
    *,
    owner: str,
) -> dict[str, dict[str, str | None]]:
    """Subject → element → value, from the subject's cases held by ``owner`` only."""
    out: dict[str, dict[str, str | None]] = {}
    wanted = set(elements)
    for sid in subject_ids:
        own: dict[str, str | None] = {}
        # The person's cases, as her world was read (kept by a session that keeps its reads).
        cases = [r.id for r in reads.rows(session, Q_CASES_OF, [sid]) if r.owner == owner]
        if not cases or session.get(SubjectKeyRow, sid) is None:
            out[sid] = own
            continue
        aead = AESGCM(subject_key(store, session, sid, create=False))
        rows = session.scalars(
            select(CaseElementRow)
            .where(CaseElementRow.case_id.in_(sorted(cases)), CaseElementRow.element.in_(wanted))
            .order_by(CaseElementRow.case_id)
        )
        for row in rows:
            blob = bytes(row.value_enc)
            try:
                own[row.element] = aead.decrypt(
                    blob[:12], blob[12:], _aad(row.case_id, row.element)
                ).decode()
            except InvalidTag:
                raise FieldDecryptionError(
                    "tampered or moved",
                    table="case_elements",
                    column="value_enc",
                    row_id=f"{row.case_id}/{row.element}",
                ) from None
        out[sid] = own
    return out


def shred_subject(session: Session, subject_id: str) -> int:
    """Destroys the subject's data key and deletes her case elements; returns how many
    element values were destroyed."""
    row = session.get(SubjectKeyRow, subject_id)
    if row is not None:
        row.key_enc = None
        row.shredded_at = now()
    else:
        session.add(
            SubjectKeyRow(subject_id=subject_id, key_enc=None, created_at=now(), shredded_at=now())
        )
    cases = select(CaseRow.id).where(CaseRow.subject_id == subject_id)
    result = session.execute(delete(CaseElementRow).where(CaseElementRow.case_id.in_(cases)))
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)
