"""Referral packets: what leaves one organisation for another, sealed end to end.

A packet is a signed header and an HPKE ciphertext::

    header     = {v, referral_id, sender, recipient, created, suite, sender_key, recipient_key}
    ciphertext = HPKE-Base-Seal(recipient X25519 key, info = DOMAIN || canonical(header),
                                plaintext = canonical(payload))
    signature  = Ed25519(sender signing key, SIG_DOMAIN || len(header) || header || ciphertext)

**Suite.** RFC 9180 base mode with DHKEM(X25519, HKDF-SHA256) (KEM 0x0020), HKDF-SHA256
(KDF 0x0001) and ChaCha20-Poly1305 (AEAD 0x0003), from ``cryptography``'s
``hazmat.primitives.hpke``. The header is the HPKE ``info``: it enters the key schedule, so a
header changed after sealing (another recipient, another referral id) cannot decrypt even if
the signature check were skipped.

**Opening** verifies the signature first (:class:`PacketSignatureError`), then that the packet
is addressed to the opener's organisation and key (:class:`PacketRecipientError`), then
decrypts (:class:`PacketDecryptionError`). The payload's referral id must equal the header's.

The payload is canonical JSON: the referral id (random, never the case number), the purpose,
a label, the contact method and, per subject, only the elements the decision lets go. Build it
with :func:`safeshare.sharing.payload.payload_from_decision`, which applies the conditions.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hpke

from safeshare.crypto.errors import CryptoError
from safeshare.crypto.org_keys import OrgKeyPair, OrgPublicKeys

__all__ = [
    "PACKET_VERSION",
    "SUITE",
    "Packet",
    "PacketDecryptionError",
    "PacketError",
    "PacketHeader",
    "PacketPayload",
    "PacketRecipientError",
    "PacketSignatureError",
    "SubjectEntry",
    "new_referral_id",
    "open_packet",
    "seal_packet",
]

PACKET_VERSION = 1
SUITE = "HPKE-base/DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/ChaCha20-Poly1305"
_INFO_DOMAIN = b"safeshare/referral-packet/v1/info\x00"
_SIG_DOMAIN = b"safeshare/referral-packet/v1/signature\x00"
_HPKE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)


class PacketError(CryptoError):
    """A packet cannot be opened. Messages never carry plaintext or key material."""


class PacketSignatureError(PacketError):
    """The signature does not verify with the sender's key: changed or forged."""


class PacketRecipientError(PacketError):
    """The packet is addressed to another organisation or key."""


class PacketDecryptionError(PacketError):
    """The ciphertext does not decrypt with the recipient's key, or its payload is malformed."""


def new_referral_id() -> str:
    """A random referral id (128 bits): never derived from a case number or a subject."""
    return "ref-" + secrets.token_hex(16)


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class PacketHeader:
    referral_id: str
    sender: str
    recipient: str
    created: str
    sender_key_id: str
    recipient_key_id: str
    suite: str = SUITE
    version: int = PACKET_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": self.version,
            "referral_id": self.referral_id,
            "sender": self.sender,
            "recipient": self.recipient,
            "created": self.created,
            "suite": self.suite,
            "sender_key": self.sender_key_id,
            "recipient_key": self.recipient_key_id,
        }

    def canonical(self) -> bytes:
        return _canonical(self.to_dict())

    @classmethod
    def from_dict(cls, data: Any) -> PacketHeader:
        try:
            values = {
                "version": data["v"],
                "referral_id": data["referral_id"],
                "sender": data["sender"],
                "recipient": data["recipient"],
                "created": data["created"],
                "suite": data["suite"],
                "sender_key_id": data["sender_key"],
                "recipient_key_id": data["recipient_key"],
            }
        except (KeyError, TypeError):
            raise PacketSignatureError("the packet header is malformed") from None
        if set(data) != {
            "v",
            "referral_id",
            "sender",
            "recipient",
            "created",
            "suite",
            "sender_key",
            "recipient_key",
        }:
            raise PacketSignatureError("the packet header has unknown or missing fields")
        if not isinstance(values["version"], int) or not all(
            isinstance(v, str) for k, v in values.items() if k != "version"
        ):
            raise PacketSignatureError("the packet header is malformed")
        return cls(**values)


@dataclass(frozen=True)
class SubjectEntry:
    """One subject's permitted elements (element, value), in a stable order."""

    subject: str
    elements: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, str]:
        return dict(self.elements)


@dataclass(frozen=True)
class PacketPayload:
    referral_id: str
    purpose: str
    label: str
    contact_method: str = ""
    subjects: tuple[SubjectEntry, ...] = ()
    kind: str = "referral"
    answers: str | None = None  # feedback: the referral id this answers
    conditions: tuple[str, ...] = ()  # condition codes applied (no personal data)

    @property
    def subject_ids(self) -> frozenset[str]:
        return frozenset(s.subject for s in self.subjects)

    @property
    def element_names(self) -> frozenset[str]:
        return frozenset(e for s in self.subjects for e, _ in s.elements)

    def to_dict(self) -> dict[str, Any]:
        return {
            "referral_id": self.referral_id,
            "kind": self.kind,
            "purpose": self.purpose,
            "label": self.label,
            "contact_method": self.contact_method,
            "answers": self.answers,
            "conditions": list(self.conditions),
            "subjects": [
                {"subject": s.subject, "elements": dict(s.elements)} for s in self.subjects
            ],
        }

    def to_bytes(self) -> bytes:
        return _canonical(self.to_dict())

    @classmethod
    def from_bytes(cls, data: bytes) -> PacketPayload:
        try:
            obj = json.loads(data)
            subjects = tuple(
                SubjectEntry(
                    str(s["subject"]),
                    tuple((str(k), str(v)) for k, v in sorted(s["elements"].items())),
                )
                for s in obj["subjects"]
            )
            return cls(
                referral_id=str(obj["referral_id"]),
                purpose=str(obj["purpose"]),
                label=str(obj["label"]),
                contact_method=str(obj["contact_method"]),
                subjects=subjects,
                kind=str(obj["kind"]),
                answers=None if obj.get("answers") is None else str(obj["answers"]),
                conditions=tuple(str(c) for c in obj.get("conditions", ())),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise PacketDecryptionError("the decrypted payload is malformed") from None


@dataclass(frozen=True)
class Packet:
    header: PacketHeader
    ciphertext: bytes = field(repr=False)
    signature: bytes = field(repr=False)

    def header_bytes(self) -> bytes:
        return self.header.canonical()

    def to_dict(self) -> dict[str, Any]:
        return {
            "header": self.header.to_dict(),
            "ciphertext": base64.b64encode(self.ciphertext).decode("ascii"),
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> Packet:
        try:
            header = PacketHeader.from_dict(data["header"])
            ciphertext = base64.b64decode(data["ciphertext"], validate=True)
            signature = base64.b64decode(data["signature"], validate=True)
        except (KeyError, TypeError, binascii.Error, ValueError):
            raise PacketSignatureError("the packet is malformed") from None
        return cls(header, ciphertext, signature)

    @classmethod
    def from_json(cls, text: str | bytes) -> Packet:
        try:
            data = json.loads(text)
        except ValueError:
            raise PacketSignatureError("the packet is not valid JSON") from None
        return cls.from_dict(data)


def _signed_bytes(header: bytes, ciphertext: bytes) -> bytes:
    return _SIG_DOMAIN + len(header).to_bytes(4, "big") + header + ciphertext


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def seal_packet(
    payload: PacketPayload,
    *,
    sender: OrgKeyPair,
    recipient: OrgPublicKeys,
    created: datetime | None = None,
) -> Packet:
    """Encrypts ``payload`` to ``recipient`` and signs it as ``sender``."""
    header = PacketHeader(
        referral_id=payload.referral_id,
        sender=sender.org_id,
        recipient=recipient.org_id,
        created=(created.astimezone(UTC).isoformat() if created else _now()),
        sender_key_id=sender.key_id,
        recipient_key_id=recipient.key_id,
    )
    header_bytes = header.canonical()
    ciphertext = _HPKE.encrypt(
        payload.to_bytes(), recipient.encryption, info=_INFO_DOMAIN + header_bytes
    )
    signature = sender.signing.sign(_signed_bytes(header_bytes, ciphertext))
    return Packet(header, ciphertext, signature)


def verify_packet(packet: Packet, *, sender: OrgPublicKeys) -> None:
    """Checks the sender and its signature over header and ciphertext."""
    header = packet.header
    if header.sender != sender.org_id or header.sender_key_id != sender.key_id:
        raise PacketSignatureError("the packet was not signed by this sender's key")
    try:
        sender.signing.verify(
            bytes(packet.signature), _signed_bytes(packet.header_bytes(), bytes(packet.ciphertext))
        )
    except InvalidSignature:
        raise PacketSignatureError("the packet's signature does not verify") from None


def open_packet(packet: Packet, *, recipient: OrgKeyPair, sender: OrgPublicKeys) -> PacketPayload:
    """Verifies the signature, checks the addressee, then decrypts."""
    verify_packet(packet, sender=sender)
    header = packet.header
    if header.recipient != recipient.org_id or header.recipient_key_id != recipient.key_id:
        raise PacketRecipientError("the packet is addressed to another organisation or key")
    if header.version != PACKET_VERSION or header.suite != SUITE:
        raise PacketDecryptionError("unsupported packet version or suite")
    try:
        plaintext = _HPKE.decrypt(
            bytes(packet.ciphertext),
            recipient.encryption,
            info=_INFO_DOMAIN + packet.header_bytes(),
        )
    except (InvalidTag, ValueError):
        raise PacketDecryptionError("the packet does not decrypt with this key") from None
    payload = PacketPayload.from_bytes(plaintext)
    if payload.referral_id != header.referral_id:
        raise PacketDecryptionError("the payload does not belong to this header")
    return payload
