"""The keyring of field-level encryption: key id → 32-byte AES-256 key, and the active key.

The active key encrypts; every key in the ring decrypts (:mod:`safeshare.crypto.fields`).
A keyring is immutable: rotation (:meth:`Keyring.with_new_active_key`) and retiring a key no
blob uses (:meth:`Keyring.without_key`) return a new one. It is read from JSON
``{"active": "k2", "keys": {"k1": "<base64>", "k2": "<base64>"}}`` held in an environment
variable's value or in a key file (refused on POSIX when group or others can access it), and
written atomically with mode 0600. Error messages, ``repr`` and equality never reveal a key,
and a keyring cannot be pickled.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
from collections.abc import Mapping
from types import MappingProxyType

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from safeshare.crypto.errors import KeyFileError, KeyringError
from safeshare.crypto.files import read_secret_file, write_secret_file

__all__ = ["KEY_BYTES", "Keyring"]

KEY_BYTES = 32
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
