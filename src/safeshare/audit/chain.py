"""A tamper-evident audit log, as pure functions: a SHA-256 hash chain over canonically
encoded event bodies, anchored by Ed25519-signed checkpoints.

**What goes in an event.** Ids and codes only: who (an actor id), what (an action code), on
what (an object type and id), the reason codes, and scalar details (ids, counts, flags,
codes). **Never personal data in clear** — no names, dates of birth, case narratives or free
text about a person: the log is kept for years, copied to auditors and cannot be edited or
erased without breaking the chain. The encoder refuses non-scalar detail values; keeping
personal data out of strings is the caller's duty.

**Chain.** Event ``n`` (``seq`` 1, 2, 3... with no gaps) is stored as
``(seq, body_bytes, prev_hash, hash)`` with ``body_bytes = canonical_bytes(body)``,
``prev_hash`` the hash of event ``n - 1`` (:data:`GENESIS_HASH`, 32 zero bytes, for event 1)
and ``hash = chain_hash(prev_hash, body_bytes) = SHA-256(prev_hash || body_bytes)``.
:func:`next_link` computes both.

**Checkpoints.** Whoever can write the database can recompute every hash; the chain alone
only proves that a rewrite, if any, was done carefully. A :class:`Checkpoint` is an Ed25519
signature over ``(seq, head_hash)`` by a key kept outside the database: a chain rewritten
from event ``k`` is detected at the first checkpoint at or after ``k``. Events after the
last checkpoint are **not** protected against a rewrite, or against being cut off together
with their checkpoints: checkpoint often, and copy checkpoints out of the database (to the
auditors, to a write-once store). ``verify_chain(..., require_anchored_head=True)`` fails
when events follow the last checkpoint.

**Canonical encoding** (version 1): compact JSON (``,`` and ``:`` separators, no spaces),
keys sorted, ASCII only (``\\uXXXX`` escapes), UTF-8, with the keys ``action``, ``actor``,
``at``, ``codes``, ``details``, ``object_id``, ``object_type``, ``seq`` and ``v`` (= 1). As
the keys are sorted, a body always ends with ``,"seq":<seq>,"v":1}``, which lets the
verifier check the body's own seq without parsing JSON. Integers are limited to
±(2**53 - 1) so that any JSON implementation reads them exactly.

The module is split by idea: :mod:`safeshare.audit.body` (event bodies and the canonical
encoding), :mod:`safeshare.audit.links` (the hash links), :mod:`safeshare.audit.checkpoints`
(checkpoints and signing keys) and :mod:`safeshare.audit.verification` (verifying a chain,
and the fast path). This module re-exports their public names.
"""

from safeshare.audit.body import (
    BODY_VERSION,
    AuditBodyError,
    AuditEventBody,
    Scalar,
    canonical_bytes,
    canonical_prefix,
    parse_body,
    utc_timestamp,
)
from safeshare.audit.checkpoints import (
    CHECKPOINT_DOMAIN,
    Checkpoint,
    SigningKey,
    checkpoint_message,
    load_public_key,
    public_key_id,
    sign_checkpoint,
    verify_checkpoint,
)
from safeshare.audit.links import GENESIS_HASH, HASH_BYTES, StoredEvent, chain_hash, next_link
from safeshare.audit.verification import (
    VerificationResult,
    verified_chain_result,
    verify_chain,
    verify_chain_rows,
    verify_links,
)

__all__ = [
    "BODY_VERSION",
    "CHECKPOINT_DOMAIN",
    "GENESIS_HASH",
    "HASH_BYTES",
    "AuditBodyError",
    "AuditEventBody",
    "Checkpoint",
    "Scalar",
    "SigningKey",
    "StoredEvent",
    "VerificationResult",
    "canonical_bytes",
    "canonical_prefix",
    "chain_hash",
    "checkpoint_message",
    "load_public_key",
    "next_link",
    "parse_body",
    "public_key_id",
    "sign_checkpoint",
    "utc_timestamp",
    "verified_chain_result",
    "verify_chain",
    "verify_chain_rows",
    "verify_checkpoint",
    "verify_links",
]
