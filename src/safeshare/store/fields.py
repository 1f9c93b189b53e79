"""Field-level encryption of sensitive values (names, contacts, protection details, free text,
evidence references) with the crypto helper's AES-GCM :class:`FieldCipher`. The table, column
and row id are bound as associated data, so a blob moved to another row or column fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Sealer:
    """Seals and opens optional values of one store."""

    def __init__(self, cipher: Any) -> None:
        self.cipher = cipher

    def seal(self, value: str | None, *, table: str, column: str, row_id: str) -> bytes | None:
        if value is None:
            return None
        blob: bytes = self.cipher.encrypt(value, table=table, column=column, row_id=row_id)
        return blob

    def open(self, blob: bytes | None, *, table: str, column: str, row_id: str) -> str | None:
        if blob is None:
            return None
        text: str = self.cipher.decrypt(bytes(blob), table=table, column=column, row_id=row_id)
        return text

    def column(self, *, table: str, column: str) -> Callable[[str, str], bytes]:
        """``seal(value, row_id)`` for one column, with what does not depend on the row
        computed once (bulk import)."""
        return self.cipher.column_encryptor(table=table, column=column)  # type: ignore[no-any-return]
