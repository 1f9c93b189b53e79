"""Field key rotation: every sealed field is re-encrypted under the new active key in ONE
transaction, with an audit event. Keys live in a key file or the environment, never in the
database.

Write the new keyring (which keeps the old keys) to its file BEFORE calling
:func:`rotate_field_keys`: if the transaction fails, the old blobs still open with the old
keys; if the file were written after, a crash in between would leave blobs no key opens.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Table, bindparam, select

from safeshare.crypto.fields import FieldCipher
from safeshare.crypto.keyring import Keyring
from safeshare.services.common import audit_now
from safeshare.store.fields import Sealer
from safeshare.store.models import ENCRYPTED_COLUMNS, Base
from safeshare.store.models_sharing import SHARING_ENCRYPTED_COLUMNS
from safeshare.store.unit import Store

BATCH = 1000


class KeysFromEnvironmentError(RuntimeError):
    """Rotation writes the new keyring to the key file; a keyring from SAFESHARE_FIELD_KEYS
    must be rotated by whoever sets the environment."""


@dataclass(frozen=True)
class RotationReport:
    active_key_id: str
    fields_reencrypted: int
    by_column: dict[str, int]
    audit_seq: int


def rotate_field_keys(store: Store, keyring: Keyring, *, actor: str) -> RotationReport:
    """Re-encrypts every sealed field not yet under ``keyring``'s active key."""
    cipher = FieldCipher(keyring)
    counts: Counter[str] = Counter()
    with store.transaction() as session:
        for table_name, pk, column in (*ENCRYPTED_COLUMNS, *SHARING_ENCRYPTED_COLUMNS):
            table: Table = Base.metadata.tables[table_name]
            key_col, blob_col = table.c[pk], table.c[column]
            stmt = (
                table.update()
                .where(key_col == bindparam("_pk"))
                .values({column: bindparam("_blob")})
            )
            last = ""
            while True:
                rows = session.execute(
                    select(key_col, blob_col)
                    .where(blob_col.is_not(None), key_col > last)
                    .order_by(key_col)
                    .limit(BATCH)
                ).all()
                if not rows:
                    break
                last = rows[-1][0]
                updates = [
                    {
                        "_pk": row_id,
                        "_blob": cipher.rotate(
                            bytes(blob), table=table_name, column=column, row_id=row_id
                        ),
                    }
                    for row_id, blob in rows
                    if cipher.needs_rotation(bytes(blob))
                ]
                if updates:
                    session.connection().execute(stmt, updates)
                    counts[f"{table_name}.{column}"] += len(updates)
        total = sum(counts.values())
        seq = audit_now(
            store,
            session,
            actor=actor,
            action="keys.rotate",
            object_type="keyring",
            object_id=keyring.active_key_id,
            details={"fields": total, **{k: v for k, v in counts.items()}},
        )
    store.sealer = Sealer(cipher)
    store.keyring = keyring
    return RotationReport(keyring.active_key_id, total, dict(counts), seq)


def rotate_key_file(store: Store, *, actor: str) -> RotationReport:
    """Makes a new active key, writes the keyring file (old keys kept), then rotates."""
    if store.field_key_file is None or store.keyring is None:
        raise KeysFromEnvironmentError(
            "the field keys come from SAFESHARE_FIELD_KEYS: set a new keyring there and call "
            "rotate_field_keys"
        )
    new = store.keyring.with_new_active_key()
    new.write(store.field_key_file)
    return rotate_field_keys(store, new, actor=actor)
