"""Organisation key pairs for referral packets: an X25519 key that receives (HPKE) and an
Ed25519 key that signs. Private keys live in key files outside the database, one file per
organisation (mode 0600), under a key directory; only public keys are ever stored in the
database or sent to another party.

**File format** (``<dir>/<org_id>.key.json``)::

    {"org": "ngo-a", "x25519": "<base64 raw 32 bytes>", "ed25519": "<base64 raw 32 bytes>"}

The key id is derived from both public keys (``sha256`` of the two raw keys, 16 hex digits),
so a packet header names exactly which key pair sealed or may open it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from safeshare.crypto.errors import KeyFileError
from safeshare.crypto.files import read_secret_file, write_secret_file

__all__ = ["OrgKeyDirectory", "OrgKeyPair", "OrgPublicKeys", "key_id_of"]

_ORG_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _raw(key: X25519PublicKey | Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id_of(encryption_public: bytes, signing_public: bytes) -> str:
    return hashlib.sha256(
        b"safeshare/org-key/v1\x00" + encryption_public + signing_public
    ).hexdigest()[:16]


@dataclass(frozen=True)
class OrgPublicKeys:
    """What others need: the recipient's encryption key and the sender's verification key."""

    org_id: str
    encryption: X25519PublicKey
    signing: Ed25519PublicKey

    @property
    def key_id(self) -> str:
        return key_id_of(_raw(self.encryption), _raw(self.signing))

    def encryption_raw(self) -> bytes:
        return _raw(self.encryption)

    def signing_raw(self) -> bytes:
        return _raw(self.signing)

    def to_dict(self) -> dict[str, str]:
        return {
            "org": self.org_id,
            "key_id": self.key_id,
            "x25519": base64.b64encode(self.encryption_raw()).decode("ascii"),
            "ed25519": base64.b64encode(self.signing_raw()).decode("ascii"),
        }

    @classmethod
    def from_raw(cls, org_id: str, encryption: bytes, signing: bytes) -> OrgPublicKeys:
        try:
            return cls(
                org_id,
                X25519PublicKey.from_public_bytes(bytes(encryption)),
                Ed25519PublicKey.from_public_bytes(bytes(signing)),
            )
        except ValueError:
            raise KeyFileError(f"public keys of {org_id!r} are malformed") from None


@dataclass(frozen=True)
class OrgKeyPair:
    """An organisation's private keys. ``repr`` never shows key material."""

    org_id: str
    encryption: X25519PrivateKey
    signing: Ed25519PrivateKey

    def __repr__(self) -> str:
        return f"OrgKeyPair(org_id={self.org_id!r}, key_id={self.key_id!r})"

    @classmethod
    def generate(cls, org_id: str) -> OrgKeyPair:
        return cls(_check_org(org_id), X25519PrivateKey.generate(), Ed25519PrivateKey.generate())

    def public(self) -> OrgPublicKeys:
        return OrgPublicKeys(self.org_id, self.encryption.public_key(), self.signing.public_key())

    @property
    def key_id(self) -> str:
        return self.public().key_id

    def to_json(self) -> bytes:
        enc = self.encryption.private_bytes_raw()
        sig = self.signing.private_bytes_raw()
        return json.dumps(
            {
                "org": self.org_id,
                "x25519": base64.b64encode(enc).decode("ascii"),
                "ed25519": base64.b64encode(sig).decode("ascii"),
            }
        ).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes, *, where: str = "key file") -> OrgKeyPair:
        try:
            obj = json.loads(data)
            org = _check_org(obj["org"])
            enc = base64.b64decode(obj["x25519"], validate=True)
            sig = base64.b64decode(obj["ed25519"], validate=True)
            return cls(
                org,
                X25519PrivateKey.from_private_bytes(enc),
                Ed25519PrivateKey.from_private_bytes(sig),
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise KeyFileError(f"{where} is not an organisation key file") from None


def _check_org(org_id: object) -> str:
    if not isinstance(org_id, str) or not _ORG_ID_RE.fullmatch(org_id):
        raise KeyFileError(f"not a usable organisation id for a key file: {org_id!r}")
    return org_id


class OrgKeyDirectory:
    """Key files per organisation under one directory (development and demo: under the data
    directory; production: a mounted secret directory holding only this server's
    organisations' keys)."""

    def __init__(self, path: str | os.PathLike[str], *, generate_missing: bool = False) -> None:
        self.path = Path(path)
        self.generate_missing = generate_missing
        self._loaded: dict[str, tuple[tuple[int, ...], OrgKeyPair]] = {}

    def __repr__(self) -> str:
        return f"OrgKeyDirectory({str(self.path)!r})"

    def file_of(self, org_id: str) -> Path:
        return self.path / f"{_check_org(org_id)}.key.json"

    def has(self, org_id: str) -> bool:
        return self.file_of(org_id).exists()

    def create(self, org_id: str, *, overwrite: bool = False) -> OrgKeyPair:
        """Generates and writes a key pair (mode 0600). Refuses to replace an existing one
        unless ``overwrite`` (a replaced key can no longer open packets sealed to it)."""
        path = self.file_of(org_id)
        if path.exists() and not overwrite:
            raise KeyFileError(f"organisation {org_id!r} already has a key file")
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        pair = OrgKeyPair.generate(org_id)
        write_secret_file(path, pair.to_json())
        return pair

    def load(self, org_id: str) -> OrgKeyPair:
        """The organisation's key pair. A file read before is parsed again only when it
        changed (its inode, size, modification time or mode: a rotated key or a loosened
        permission is seen at the next use)."""
        path = self.file_of(org_id)
        if not path.exists() and self.generate_missing:
            return self.create(org_id)
        try:
            st = path.stat()
            stamp: tuple[int, ...] = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode)
        except OSError:
            stamp = ()
        kept = self._loaded.get(org_id)
        if stamp and kept is not None and kept[0] == stamp:
            return kept[1]
        pair = OrgKeyPair.from_json(read_secret_file(path), where=f"key file {path}")
        if pair.org_id != org_id:
            raise KeyFileError(f"key file {path} belongs to another organisation")
        if stamp:
            self._loaded[org_id] = (stamp, pair)
        return pair

    def public(self, org_id: str) -> OrgPublicKeys:
        return self.load(org_id).public()
