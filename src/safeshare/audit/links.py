"""The chain's links: event ``n`` (``seq`` 1, 2, 3... with no gaps) is stored as
``(seq, body_bytes, prev_hash, hash)`` with ``body_bytes = canonical_bytes(body)``,
``prev_hash`` the hash of event ``n - 1`` (:data:`GENESIS_HASH`, 32 zero bytes, for event 1)
and ``hash = chain_hash(prev_hash, body_bytes) = SHA-256(prev_hash || body_bytes)``.
:func:`next_link` computes both."""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from safeshare.audit.body import AuditEventBody, canonical_bytes

__all__ = ["GENESIS_HASH", "HASH_BYTES", "StoredEvent", "chain_hash", "next_link"]

HASH_BYTES = 32
GENESIS_HASH = bytes(HASH_BYTES)


def chain_hash(prev_hash: bytes, body_bytes: bytes) -> bytes:
    """``SHA-256(prev_hash || body_bytes)``, 32 bytes."""
    if len(prev_hash) != HASH_BYTES:
        raise ValueError(f"prev_hash must be {HASH_BYTES} bytes")
    return hashlib.sha256(bytes(prev_hash) + bytes(body_bytes)).digest()


def next_link(prev_hash: bytes, body: AuditEventBody) -> tuple[bytes, bytes]:
    """``(body_bytes, hash)`` of the event that follows the event whose hash is
    ``prev_hash`` (:data:`GENESIS_HASH` for the first event)."""
    body_bytes = canonical_bytes(body)
    return body_bytes, chain_hash(prev_hash, body_bytes)


class StoredEvent(NamedTuple):
    """An event as stored. A tuple, so that :func:`verify_chain` reads it without copying."""

    seq: int
    body_bytes: bytes
    prev_hash: bytes
    hash: bytes
