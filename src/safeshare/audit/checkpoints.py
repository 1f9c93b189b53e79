"""Checkpoints and the keys that sign them.

Whoever can write the database can recompute every hash; the chain alone only proves that a
rewrite, if any, was done carefully. A :class:`Checkpoint` is an Ed25519 signature over
``(seq, head_hash)`` by a key kept outside the database: a chain rewritten from event ``k``
is detected at the first checkpoint at or after ``k``. Events after the last checkpoint are
**not** protected against a rewrite, or against being cut off together with their
checkpoints: checkpoint often, and copy checkpoints out of the database (to the auditors, to
a write-once store).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from safeshare.audit.body import _check_utc, utc_timestamp
from safeshare.audit.links import HASH_BYTES
from safeshare.crypto.errors import KeyFileError
from safeshare.crypto.files import read_secret_file, write_secret_file

__all__ = [
    "CHECKPOINT_DOMAIN",
    "Checkpoint",
    "SigningKey",
    "checkpoint_message",
    "load_public_key",
    "public_key_id",
    "sign_checkpoint",
    "verify_checkpoint",
]

CHECKPOINT_DOMAIN = b"safeshare/audit-checkpoint/v1\x00"
_MAX_SEQ = 2**63 - 1
_KEY_ID_RE = re.compile(r"[\x21-\x7e]{1,128}")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement "the chain's event ``seq`` has hash ``head_hash``"."""

    seq: int
    head_hash: bytes
    at: str
    key_id: str
    signature: bytes


def _lp16(data: bytes) -> bytes:
    if len(data) > 0xFFFF:
        raise ValueError("field too long for a checkpoint")
    return len(data).to_bytes(2, "big") + data


def checkpoint_message(seq: int, head_hash: bytes, at: str, key_id: str) -> bytes:
    """The bytes a checkpoint signs: :data:`CHECKPOINT_DOMAIN`, ``seq`` (8 bytes, big
    endian), ``head_hash`` (32 bytes), then ``key_id`` and ``at`` (UTF-8, each with a 2-byte
    big-endian length prefix)."""
    if type(seq) is not int or not 1 <= seq <= _MAX_SEQ:
        raise ValueError("a checkpoint's seq must be an int of at least 1")
    if not isinstance(head_hash, bytes) or len(head_hash) != HASH_BYTES:
        raise ValueError(f"a checkpoint's head hash must be {HASH_BYTES} bytes")
    return b"".join(
        (
            CHECKPOINT_DOMAIN,
            seq.to_bytes(8, "big"),
            head_hash,
            _lp16(key_id.encode("utf-8")),
            _lp16(at.encode("utf-8")),
        )
    )


def sign_checkpoint(
    private_key: Ed25519PrivateKey, key_id: str, seq: int, head_hash: bytes, at: str
) -> Checkpoint:
    """Sign ``(seq, head_hash)`` (with ``at`` and ``key_id``) into a :class:`Checkpoint`."""
    if not isinstance(key_id, str) or not _KEY_ID_RE.fullmatch(key_id):
        raise ValueError("a checkpoint key id is 1 to 128 printable ASCII characters")
    _check_utc(at, "a checkpoint's at")
    head_hash = bytes(head_hash)
    signature = private_key.sign(checkpoint_message(seq, head_hash, at, key_id))
    return Checkpoint(seq=seq, head_hash=head_hash, at=at, key_id=key_id, signature=signature)


def verify_checkpoint(public_key: Ed25519PublicKey, cp: Checkpoint) -> bool:
    """True when ``cp``'s signature is valid under ``public_key``; never raises for a
    malformed checkpoint (it is simply not valid)."""
    try:
        message = checkpoint_message(cp.seq, bytes(cp.head_hash), cp.at, cp.key_id)
        public_key.verify(bytes(cp.signature), message)
    except (InvalidSignature, ValueError, TypeError, AttributeError, UnicodeError):
        return False
    return True


def public_key_id(public_key: Ed25519PublicKey) -> str:
    """A key id derived from the public key: ``ed25519:`` and the first 16 bytes of the
    SHA-256 of the raw public key, in hex."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).digest()[:16].hex()


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (``SubjectPublicKeyInfo``) or 32 raw bytes."""
    if len(data) == 32:
        return Ed25519PublicKey.from_public_bytes(bytes(data))
    key = serialization.load_pem_public_key(bytes(data))
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


@dataclass(frozen=True, slots=True, repr=False)
class SigningKey:
    """The Ed25519 key that signs checkpoints, with its key id (by default derived from the
    public key, :func:`public_key_id`). Keep the private key file outside the database."""

    private_key: Ed25519PrivateKey
    key_id: str

    @classmethod
    def generate(cls, key_id: str | None = None) -> SigningKey:
        private_key = Ed25519PrivateKey.generate()
        return cls(private_key, key_id or public_key_id(private_key.public_key()))

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        key_id: str | None = None,
        password: bytes | None = None,
        allow_insecure_permissions: bool = False,
    ) -> SigningKey:
        """Load a PEM (PKCS#8) private key file; refused (:class:`KeyFileError`) if group or
        others can access it, unless ``allow_insecure_permissions=True``."""
        data = read_secret_file(path, allow_insecure_permissions=allow_insecure_permissions)
        try:
            key = serialization.load_pem_private_key(data, password=password)
        except (ValueError, TypeError):
            raise KeyFileError(
                f"key file {os.fspath(path)} is not a readable PEM private key "
                "(or the password is wrong)"
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(f"key file {os.fspath(path)} is not an Ed25519 private key")
        return cls(key, key_id or public_key_id(key.public_key()))

    def private_pem(self, *, password: bytes | None = None) -> bytes:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def save(self, path: str | os.PathLike[str], *, password: bytes | None = None) -> None:
        """Write the private key as PEM (PKCS#8, encrypted if ``password``) atomically with
        mode 0600."""
        write_secret_file(Path(path), self.private_pem(password=password))

    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def public_pem(self) -> bytes:
        """The public key as PEM (``SubjectPublicKeyInfo``), to give to verifiers."""
        return self.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def public_raw(self) -> bytes:
        return self.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def sign_checkpoint(self, seq: int, head_hash: bytes, at: str | None = None) -> Checkpoint:
        return sign_checkpoint(
            self.private_key, self.key_id, seq, head_hash, utc_timestamp() if at is None else at
        )

    def __repr__(self) -> str:
        return f"SigningKey(key_id={self.key_id!r})"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a SigningKey is not picklable (it holds a private key)")
