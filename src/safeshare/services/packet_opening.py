"""Opening a received packet: every check a packet must pass before its recipient reads it
(the sender's registered key, the recipient's own key, the signature, the addressee, the
decryption, and the referral it names). A packet that fails one is refused with the rule it
broke; the caller audits the refusal (:data:`OPEN_REFUSED`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from safeshare.crypto.errors import CryptoError
from safeshare.crypto.org_keys import OrgKeyDirectory
from safeshare.crypto.packets import (
    PacketDecryptionError,
    PacketPayload,
    PacketRecipientError,
    PacketSignatureError,
    open_packet,
)
from safeshare.services.org_keys import public_keys_of
from safeshare.services.referral_store import ReferralStateError, stored_packet
from safeshare.store.models_sharing import ReferralRow

OPEN_REFUSED = "referral.open-refused"


class PacketRefusedError(ReferralStateError):
    """The packet may not be opened: it fails a check (``code`` names the rule broken; the
    refusal is audited). The message names the rule only, never the packet's content."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def opened(keys: OrgKeyDirectory, session: Session, row: ReferralRow) -> PacketPayload:
    """The packet of ``row`` opened, or :class:`PacketRefusedError` naming the rule broken:
    the sender's registered key, the recipient's key, the signature, the addressee, the
    decryption, and the referral the packet names (a packet copied into another referral's
    row to the same recipient is not that referral's)."""
    sender = public_keys_of(session, row.sender)
    if sender is None:
        raise PacketRefusedError(
            "sender-key-missing", "the sending organisation has no registered key"
        )
    try:
        recipient = keys.load(row.recipient)
    except CryptoError:
        raise PacketRefusedError(
            "recipient-key-unavailable", "the receiving organisation's key cannot be used"
        ) from None
    try:
        packet = stored_packet(row)
    except PacketSignatureError:  # a malformed header
        raise PacketRefusedError(
            "packet-signature-invalid", "the packet's signature does not verify"
        ) from None
    except ReferralStateError:
        raise PacketRefusedError("packet-missing", "the referral holds no packet") from None
    if packet.header.referral_id != row.id:
        raise PacketRefusedError(
            "packet-referral-mismatch", "the packet belongs to another referral"
        )
    try:
        payload = open_packet(packet, recipient=recipient, sender=sender)
    except PacketSignatureError:
        raise PacketRefusedError(
            "packet-signature-invalid", "the packet's signature does not verify"
        ) from None
    except PacketRecipientError:
        raise PacketRefusedError(
            "packet-recipient-mismatch", "the packet is addressed to another organisation"
        ) from None
    except PacketDecryptionError:
        raise PacketRefusedError(
            "packet-undecryptable", "the packet does not decrypt with the recipient's key"
        ) from None
    if payload.referral_id != row.id:
        raise PacketRefusedError(
            "packet-referral-mismatch", "the packet belongs to another referral"
        )
    return payload
