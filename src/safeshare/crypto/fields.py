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

**Keys.** A :class:`Keyring` maps key ids to 32-byte keys and names the active key, which
encrypts; every key in the ring decrypts. Rotation: ``keyring.with_new_active_key()``, write
it, then re-encrypt rows at leisure with :meth:`FieldCipher.rotate` (:meth:`needs_rotation`
tells which); a key is dropped (:meth:`Keyring.without_key`) only when no blob uses it.
With random 96-bit nonces a key must not encrypt more than 2**32 values (NIST SP 800-38D);
rotate long before that.

**Erasure.** There is no per-subject key (crypto-shredding): erasing a subject's data
overwrites (or nulls) the encrypted columns of their rows. Backups keep old ciphertexts until
they expire; retiring the key of an old backup generation is what erases those.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
from collections.abc import Callable, Mapping
from types import MappingProxyType

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from safeshare.crypto.errors import FieldDecryptionError, KeyFileError, KeyringError
from safeshare.crypto.files import read_secret_file, write_secret_file

__all__ = [
    "BLOB_VERSION",
    "KEY_BYTES",
    "NONCE_BYTES",
    "FieldCipher",
    "Keyring",
]

BLOB_VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
_AAD_DOMAIN = b"safeshare/field-encryption/v1\x00"
_KEY_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_NUMBERED_ID_RE = re.compile(r"k([0-9]{1,9})")


def _check_key_id(key_id: object) -> str:
    if not isinstance(key_id, str) or not _KEY_ID_RE.fullmatch(key_id):
        raise KeyringError(
            "a key id is 1 to 64 ASCII letters, digits, '.', '_', ':' or '-', "
            f"starting with a letter or digit; got {key_id!r}"
        )
    return key_id


class Keyring:
    """Key id → 32-byte AES key, and the id of the active key (the one that encrypts).

    Immutable: rotation returns a new keyring. ``repr`` shows key ids, never keys."""

    __slots__ = ("_active", "_keys")

    def __init__(self, keys: Mapping[str, bytes], active: str) -> None:
        checked: dict[str, bytes] = {}
        for key_id, key in keys.items():
            _check_key_id(key_id)
            if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
                raise KeyringError(f"key {key_id!r} must be {KEY_BYTES} bytes (AES-256)")
            checked[key_id] = bytes(key)
        if not checked:
            raise KeyringError("a keyring needs at least one key")
        if active not in checked:
            raise KeyringError(f"the active key {active!r} is not in the keyring")
        self._keys: Mapping[str, bytes] = MappingProxyType(checked)
        self._active = active

    # -- construction -------------------------------------------------------------------

    @classmethod
    def generate(cls, key_id: str = "k1") -> Keyring:
        """A keyring holding one fresh random key, active."""
        return cls({_check_key_id(key_id): AESGCM.generate_key(bit_length=256)}, key_id)

    @classmethod
    def from_json(cls, text: str | bytes) -> Keyring:
        """Parse ``{"active": "k2", "keys": {"k1": "<base64>", "k2": "<base64>"}}``.

        Raises :class:`KeyringError`; the message never quotes a key."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            raise KeyringError("the keyring is not valid JSON") from None
        if not isinstance(data, dict):
            raise KeyringError('the keyring must be a JSON object {"active": ..., "keys": {...}}')
        unknown = sorted(set(data) - {"active", "keys"})
        if unknown:
            raise KeyringError(f"unknown field(s) in the keyring: {', '.join(map(str, unknown))}")
        active = data.get("active")
        raw_keys = data.get("keys")
        if not isinstance(active, str):
            raise KeyringError('the keyring\'s "active" must be a key id (a string)')
        if not isinstance(raw_keys, dict) or not raw_keys:
            raise KeyringError('the keyring\'s "keys" must be a non-empty object')
        keys: dict[str, bytes] = {}
        for key_id, encoded in raw_keys.items():
            _check_key_id(key_id)
            if not isinstance(encoded, str):
                raise KeyringError(f"key {key_id!r} must be a base64 string")
            try:
                keys[key_id] = base64.b64decode(encoded.encode("ascii"), validate=True)
            except (binascii.Error, UnicodeEncodeError):
                raise KeyringError(f"key {key_id!r} is not valid base64") from None
        return cls(keys, active)

    @classmethod
    def from_env(cls, value: str | None) -> Keyring:
        """Parse the keyring JSON held in an environment variable's value (the caller reads
        ``os.environ``; this function never does)."""
        if value is None or not value.strip():
            raise KeyringError("the keyring environment variable is empty or not set")
        return cls.from_json(value)

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, allow_insecure_permissions: bool = False
    ) -> Keyring:
        """Read a keyring JSON file. On POSIX a file that group or others can access is
        refused with :class:`KeyFileError` unless ``allow_insecure_permissions=True``."""
        data = read_secret_file(path, allow_insecure_permissions=allow_insecure_permissions)
        try:
            return cls.from_json(data)
        except KeyFileError:
            raise
        except KeyringError as exc:
            raise KeyFileError(f"key file {os.fspath(path)}: {exc}") from None

    # -- rotation -----------------------------------------------------------------------

    def with_new_active_key(self, key_id: str | None = None) -> Keyring:
        """A new keyring with a fresh random key, made active; every old key is kept so old
        blobs still decrypt. The default id is ``k<n+1>`` after the highest ``k<n>``."""
        if key_id is None:
            numbers = [int(m.group(1)) for k in self._keys if (m := _NUMBERED_ID_RE.fullmatch(k))]
            key_id = f"k{max(numbers, default=0) + 1}"
        _check_key_id(key_id)
        if key_id in self._keys:
            raise KeyringError(f"key id {key_id!r} is already in the keyring")
        keys = dict(self._keys)
        keys[key_id] = AESGCM.generate_key(bit_length=256)
        return Keyring(keys, key_id)

    def without_key(self, key_id: str) -> Keyring:
        """A new keyring without ``key_id`` (retire a key once no blob uses it)."""
        if key_id == self._active:
            raise KeyringError(f"cannot remove the active key {key_id!r}")
        if key_id not in self._keys:
            raise KeyringError(f"key id {key_id!r} is not in the keyring")
        return Keyring({k: v for k, v in self._keys.items() if k != key_id}, self._active)

    # -- access & serialisation ---------------------------------------------------------

    @property
    def active(self) -> str:
        """The id of the key that encrypts."""
        return self._active

    @property
    def active_key_id(self) -> str:
        """Alias of :attr:`active`."""
        return self._active

    @property
    def keys(self) -> Mapping[str, bytes]:
        """Read-only key id → key."""
        return self._keys

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def key(self, key_id: str) -> bytes:
        try:
            return self._keys[key_id]
        except KeyError:
            raise KeyringError(f"key id {key_id!r} is not in the keyring") from None

    def to_json(self) -> str:
        """The keyring as JSON (contains the keys: treat as a secret)."""
        return json.dumps(
            {
                "active": self._active,
                "keys": {k: base64.b64encode(v).decode("ascii") for k, v in self._keys.items()},
            },
            indent=2,
            sort_keys=True,
        )

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_json` to ``path`` atomically, mode 0600."""
        write_secret_file(path, (self.to_json() + "\n").encode("utf-8"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Keyring):
            return NotImplemented
        return self._active == other._active and secrets.compare_digest(
            _fingerprint(self._keys), _fingerprint(other._keys)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Keyring(active={self._active!r}, key_ids={list(self._keys)!r})"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Keyring is not picklable (it holds secret keys)")


def _fingerprint(keys: Mapping[str, bytes]) -> bytes:
    return b"".join(
        k.encode("ascii") + b"\x00" + v for k, v in sorted(keys.items(), key=lambda kv: kv[0])
    )


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
