"""Field-level encryption of personal protection data with AES-256-GCM.

Each sensitive column value is encrypted on its own, bound to where it lives::

    blob = cipher.encrypt("Amina, 14", table="subjects", column="name", row_id=str(row.id))
    cipher.decrypt(blob, table="subjects", column="name", row_id=str(row.id))

**Blob format** (version 1)::

    0x01 | len(key_id) (1 byte) | key_id (ASCII) | nonce (12 bytes) | ciphertext | tag (16 bytes)

The nonce is random (96 bits, from the OS) for every encryption. The associated data
authenticates the whole header (version and key id) and binds the value to its table, column
and row id, each UTF-8 encoded with a 4-byte big-endian length prefix, after a
domain-separation prefix. A ciphertext copied into another row, another column or another
table, or a header edited to name another key, fails to decrypt with
:class:`FieldDecryptionError`.

**Row ids** must be known before the value is encrypted: use identifiers the application
assigns (UUIDs), not ones the database assigns on insert.

**Keys.** A :class:`~safeshare.crypto.keyring.Keyring` (:mod:`safeshare.crypto.keyring`)
maps key ids to 32-byte keys and names the active key, which encrypts; every key in the ring
decrypts. Rotation: ``keyring.with_new_active_key()``, write it, then re-encrypt rows at
leisure with :meth:`FieldCipher.rotate` (:meth:`needs_rotation` tells which); a key is
dropped (:meth:`Keyring.without_key`) only when no blob uses it. With random 96-bit nonces a
key must not encrypt more than 2**32 values (NIST SP 800-38D); rotate long before that.

**Erasure.** There is no per-subject key (crypto-shredding): erasing a subject's data
overwrites (or nulls) the encrypted columns of their rows. Backups keep old ciphertexts until
they expire; retiring the key of an old backup generation is what erases those.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from safeshare.crypto.errors import FieldDecryptionError
from safeshare.crypto.keyring import Keyring

__all__ = [
    "BLOB_VERSION",
    "NONCE_BYTES",
    "FieldCipher",
]

BLOB_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
_AAD_DOMAIN = b"safeshare/field-encryption/v1\x00"


def _lp(value: str, what: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if not value:
        raise ValueError(f"{what} must not be empty")
    data = value.encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def _header(key_id: str) -> bytes:
    kid = key_id.encode("ascii")
    return bytes((BLOB_VERSION, len(kid))) + kid


def _aad(header: bytes, table: str, column: str, row_id: str) -> bytes:
    return b"".join(
        (
            _AAD_DOMAIN,
            header,
            _lp(table, "table"),
            _lp(column, "column"),
            _lp(row_id, "row_id"),
        )
    )


def _parse(blob: object) -> tuple[str, bytes, bytes, bytes]:
    """(key_id, header, nonce, ciphertext+tag); raises ``FieldDecryptionError`` (unbound)."""
    if isinstance(blob, bytearray | memoryview):
        blob = bytes(blob)
    if not isinstance(blob, bytes):
        raise TypeError(f"an encrypted field is bytes, not {type(blob).__name__}")
    if len(blob) < 2:
        raise FieldDecryptionError("malformed blob (too short)")
    if blob[0] != BLOB_VERSION:
        raise FieldDecryptionError(f"unsupported blob format version {blob[0]}")
    kid_len = blob[1]
    header_len = 2 + kid_len
    if kid_len == 0 or len(blob) < header_len + NONCE_BYTES + TAG_BYTES:
        raise FieldDecryptionError("malformed blob (too short)")
    try:
        key_id = blob[2:header_len].decode("ascii")
    except UnicodeDecodeError:
        raise FieldDecryptionError("malformed blob (key id is not ASCII)") from None
    nonce_end = header_len + NONCE_BYTES
    return key_id, blob[:header_len], blob[header_len:nonce_end], blob[nonce_end:]


class FieldCipher:
    """Encrypts and decrypts column values with a :class:`Keyring` (see the module doc)."""

    __slots__ = ("_aeads", "_keyring")

    def __init__(self, keyring: Keyring) -> None:
        if not isinstance(keyring, Keyring):
            raise TypeError("FieldCipher needs a Keyring")
        self._keyring = keyring
        self._aeads = {kid: AESGCM(key) for kid, key in keyring.keys.items()}

    @property
    def keyring(self) -> Keyring:
        return self._keyring

    def encrypt(self, plaintext: str, *, table: str, column: str, row_id: str) -> bytes:
        """Encrypt ``plaintext`` under the active key, bound to (table, column, row_id)."""
        if not isinstance(plaintext, str):
            raise TypeError(f"plaintext must be a str, not {type(plaintext).__name__}")
        key_id = self._keyring.active
        header = _header(key_id)
        aad = _aad(header, table, column, row_id)
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aeads[key_id].encrypt(nonce, plaintext.encode("utf-8"), aad)
        return header + nonce + sealed

    def column_encryptor(self, *, table: str, column: str) -> Callable[[str, str], bytes]:
        """``encrypt(plaintext, row_id)`` for one column under the active key: the same blobs
        as :meth:`encrypt`, with the header and the table and column part of the associated
        data computed once (bulk import)."""
        key_id = self._keyring.active
        header = _header(key_id)
        prefix = _AAD_DOMAIN + header + _lp(table, "table") + _lp(column, "column")
        seal = self._aeads[key_id].encrypt
        urandom = os.urandom

        def encrypt(plaintext: str, row_id: str) -> bytes:
            rid = row_id.encode("utf-8")
            if not rid:
                raise ValueError("row_id must not be empty")
            nonce = urandom(NONCE_BYTES)
            aad = prefix + len(rid).to_bytes(4, "big") + rid
            return header + nonce + seal(nonce, plaintext.encode("utf-8"), aad)

        return encrypt

    def decrypt(self, blob: bytes, *, table: str, column: str, row_id: str) -> str:
        """Decrypt a blob made by :meth:`encrypt` for the same (table, column, row_id).

        Raises :class:`FieldDecryptionError` if the blob is malformed, tampered with, bound
        elsewhere, or under a key the keyring does not hold."""
        try:
            key_id, header, nonce, sealed = _parse(blob)
        except FieldDecryptionError as exc:
            raise FieldDecryptionError(
                exc.reason, table=table, column=column, row_id=row_id
            ) from None
        aad = _aad(header, table, column, row_id)
        aead = self._aeads.get(key_id)
        if aead is None:
            raise FieldDecryptionError(
                f"unknown key id {key_id!r} (not in the keyring)",
                table=table,
                column=column,
                row_id=row_id,
            )
        try:
            plaintext = aead.decrypt(nonce, sealed, aad)
        except InvalidTag:
            raise FieldDecryptionError(
                "authentication failed: the blob was tampered with, or belongs to another "
                "table, column or row",
                table=table,
                column=column,
                row_id=row_id,
            ) from None
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:  # authentic but not UTF-8: not written by encrypt()
            raise FieldDecryptionError(
                "decrypted value is not UTF-8 text", table=table, column=column, row_id=row_id
            ) from None

    def encrypt_optional(
        self, plaintext: str | None, *, table: str, column: str, row_id: str
    ) -> bytes | None:
        """:meth:`encrypt`, with ``None`` passed through (a NULL column stays NULL)."""
        if plaintext is None:
            return None
        return self.encrypt(plaintext, table=table, column=column, row_id=row_id)

    def decrypt_optional(
        self, blob: bytes | None, *, table: str, column: str, row_id: str
    ) -> str | None:
        """:meth:`decrypt`, with ``None`` passed through."""
        if blob is None:
            return None
        return self.decrypt(blob, table=table, column=column, row_id=row_id)

    @staticmethod
    def key_id_of(blob: bytes) -> str:
        """The id of the key a blob was encrypted under (read from its header, unverified)."""
        return _parse(blob)[0]

    def needs_rotation(self, blob: bytes) -> bool:
        """True when ``blob`` is not under the active key."""
        return _parse(blob)[0] != self._keyring.active

    def rotate(self, blob: bytes, *, table: str, column: str, row_id: str) -> bytes:
        """Re-encrypt ``blob`` under the active key (with a fresh nonce). A blob already under
        the active key is returned unchanged. Raises :class:`FieldDecryptionError` like
        :meth:`decrypt`."""
        try:
            key_id = _parse(blob)[0]
        except FieldDecryptionError as exc:
            raise FieldDecryptionError(
                exc.reason, table=table, column=column, row_id=row_id
            ) from None
        if key_id == self._keyring.active:
            return bytes(blob)
        plaintext = self.decrypt(blob, table=table, column=column, row_id=row_id)
        return self.encrypt(plaintext, table=table, column=column, row_id=row_id)

    def __repr__(self) -> str:
        return f"FieldCipher({self._keyring!r})"
