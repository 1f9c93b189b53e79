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
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from safeshare.crypto.errors import KeyFileError
from safeshare.crypto.files import read_secret_file, write_secret_file

__all__ = [
    "BODY_VERSION",
    "CHECKPOINT_DOMAIN",
    "GENESIS_HASH",
    "HASH_BYTES",
    "AuditBodyError",
    "AuditEventBody",
    "Checkpoint",
    "SigningKey",
    "StoredEvent",
    "VerificationResult",
    "canonical_bytes",
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

BODY_VERSION = 1
HASH_BYTES = 32
GENESIS_HASH = bytes(HASH_BYTES)
CHECKPOINT_DOMAIN = b"safeshare/audit-checkpoint/v1\x00"
_MAX_JSON_INT = 2**53 - 1
_MAX_SEQ = 2**63 - 1
_BODY_KEYS = frozenset(
    ("action", "actor", "at", "codes", "details", "object_id", "object_type", "seq", "v")
)
_SEQ_TAIL = b',"seq":%d,"v":1}'
_KEY_ID_RE = re.compile(r"[\x21-\x7e]{1,128}")

Scalar = str | int | bool | None


class AuditBodyError(ValueError):
    """An event body cannot be encoded (or decoded): a non-scalar detail, a bad timestamp..."""


# ---------------------------------------------------------------------------------------
# Event bodies
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditEventBody:
    """What happened, in ids and codes only — never personal data in clear.

    ``at`` is an ISO 8601 timestamp in UTC (see :func:`utc_timestamp`); ``details`` maps
    names to scalars (``str``, ``int``, ``bool`` or ``None``)."""

    seq: int
    at: str
    actor: str
    action: str
    object_type: str
    object_id: str
    codes: tuple[str, ...] = ()
    details: Mapping[str, Scalar] = field(default_factory=dict)


def utc_timestamp(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC."""
    moment = datetime.now(UTC) if moment is None else moment
    if moment.tzinfo is None:
        raise AuditBodyError("the timestamp must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_utc(at: object, what: str) -> str:
    if not isinstance(at, str):
        raise AuditBodyError(f"{what} must be an ISO 8601 string, not {type(at).__name__}")
    try:
        parsed = datetime.fromisoformat(at)
    except ValueError:
        raise AuditBodyError(f"{what} is not an ISO 8601 timestamp: {at!r}") from None
    offset = parsed.utcoffset()
    if offset is None or offset.total_seconds() != 0:
        raise AuditBodyError(f"{what} must be in UTC (end in 'Z' or '+00:00'): {at!r}")
    return at


def _check_int(value: object, what: str, *, low: int, high: int) -> int:
    if type(value) is not int:  # bool is an int subclass: refused here on purpose
        raise AuditBodyError(f"{what} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise AuditBodyError(f"{what} must be between {low} and {high}")
    return value


def _check_str(value: object, what: str, *, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise AuditBodyError(f"{what} must be a str, not {type(value).__name__}")
    if not value and not empty:
        raise AuditBodyError(f"{what} must not be empty")
    return value


def _check_scalar(name: str, value: object) -> Scalar:
    if value is None or isinstance(value, bool | str):
        return value
    if type(value) is int:
        return _check_int(value, f"detail {name!r}", low=-_MAX_JSON_INT, high=_MAX_JSON_INT)
    raise AuditBodyError(
        f"detail {name!r} must be a str, int, bool or None, not {type(value).__name__} "
        "(audit details hold ids, codes, counts and flags only)"
    )


def _body_dict(body: AuditEventBody) -> dict[str, object]:
    if not isinstance(body, AuditEventBody):
        raise TypeError(f"expected an AuditEventBody, not {type(body).__name__}")
    codes = body.codes
    if isinstance(codes, str) or not isinstance(codes, tuple | list):
        raise AuditBodyError("codes must be a tuple of str")
    details = body.details
    if not isinstance(details, Mapping):
        raise AuditBodyError("details must be a mapping of str to scalars")
    checked: dict[str, Scalar] = {}
    for name, value in details.items():
        if not isinstance(name, str):
            raise AuditBodyError(f"detail names must be str, not {type(name).__name__}")
        checked[name] = _check_scalar(name, value)
    return {
        "v": BODY_VERSION,
        "seq": _check_int(body.seq, "seq", low=1, high=_MAX_JSON_INT),
        "at": _check_utc(body.at, "at"),
        "actor": _check_str(body.actor, "actor"),
        "action": _check_str(body.action, "action"),
        "object_type": _check_str(body.object_type, "object_type"),
        "object_id": _check_str(body.object_id, "object_id", empty=True),
        "codes": [_check_str(c, "each code") for c in codes],
        "details": checked,
    }


def canonical_bytes(body: AuditEventBody) -> bytes:
    """The canonical encoding of ``body`` (see the module doc): deterministic, ASCII JSON.

    Raises :class:`AuditBodyError` for a non-scalar detail value, a non-UTC timestamp, a
    seq below 1, and the like."""
    return json.dumps(
        _body_dict(body),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=False,
    ).encode("ascii")


def parse_body(body_bytes: bytes) -> AuditEventBody:
    """Decode ``body_bytes`` into an :class:`AuditEventBody`, refusing anything that is not
    exactly the canonical encoding of what it decodes to."""
    try:
        data = json.loads(body_bytes)
    except (ValueError, UnicodeDecodeError):
        raise AuditBodyError("the event body is not JSON") from None
    if not isinstance(data, dict) or set(data) != _BODY_KEYS:
        raise AuditBodyError("the event body does not have the expected fields")
    if data["v"] != BODY_VERSION or type(data["v"]) is not int:
        raise AuditBodyError(f"unsupported event body version {data['v']!r}")
    codes = data["codes"]
    details = data["details"]
    if not isinstance(codes, list) or not isinstance(details, dict):
        raise AuditBodyError("the event body's codes or details have the wrong type")
    body = AuditEventBody(
        seq=data["seq"],
        at=data["at"],
        actor=data["actor"],
        action=data["action"],
        object_type=data["object_type"],
        object_id=data["object_id"],
        codes=tuple(codes),
        details=details,
    )
    if canonical_bytes(body) != bytes(body_bytes):
        raise AuditBodyError("the event body is not in canonical form")
    return body


# ---------------------------------------------------------------------------------------
# Chain
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# Checkpoints and signing keys
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The outcome of :func:`verify_chain`.

    ``events_checked`` counts the events verified before the first problem (all of them when
    ``ok``); ``first_bad_seq`` is the first seq at which the stored chain departs from what
    was written (``None`` when ``ok``, or when the problem is not tied to a seq);
    ``problem`` is a sentence saying what is wrong (empty when ``ok``) and ``summary`` a
    sentence in every case;
    ``checkpoints_checked`` counts the checkpoints whose signature and head hash matched;
    ``last_seq`` and ``head_hash`` are the last verified event's (0 and the genesis hash for
    none); ``last_checkpoint_seq`` is the seq of the last matching checkpoint (``None`` if
    none) — events after it are not protected by a signature."""

    ok: bool
    events_checked: int
    first_bad_seq: int | None
    problem: str
    checkpoints_checked: int
    last_seq: int = 0
    head_hash: bytes = GENESIS_HASH
    last_checkpoint_seq: int | None = None
    summary: str = ""


def _group_checkpoints(
    checkpoints: Iterable[Checkpoint],
) -> tuple[dict[int, list[Checkpoint]], str | None]:
    by_seq: dict[int, list[Checkpoint]] = {}
    for cp in checkpoints:
        if type(cp.seq) is not int or cp.seq < 1:
            return by_seq, f"a checkpoint has an invalid seq {cp.seq!r}"
        by_seq.setdefault(cp.seq, []).append(cp)
    return by_seq, None


def _check_checkpoints(
    cps: list[Checkpoint], stored_hash: bytes, public_keys: Mapping[str, Ed25519PublicKey]
) -> str | None:
    for cp in cps:
        key = public_keys.get(cp.key_id)
        if key is None:
            return (
                f"the checkpoint at seq {cp.seq} is signed by key {cp.key_id!r}, "
                "which is not among the trusted public keys"
            )
        if not verify_checkpoint(key, cp):
            return (
                f"the checkpoint at seq {cp.seq} has an invalid signature: it was forged or altered"
            )
        if cp.head_hash != stored_hash:
            return (
                f"event {cp.seq} does not have the hash its signed checkpoint records: "
                "the chain was rewritten up to this point"
            )
    return None


def _diagnose(
    seq: object, body: bytes, prev: bytes, stored_hash: bytes, *, expected: int, last: bytes
) -> tuple[int, str] | None:
    """Why the event failed the fast checks, as (first_bad_seq, sentence); ``None`` when it
    passed them (it was stopped only because a checkpoint is due)."""
    if type(seq) is not int:
        return expected, f"event {expected} has a non-integer seq {seq!r}"
    if seq != expected:
        if expected == 1:
            return 1, f"the chain starts at seq {seq}, not 1: events were removed from the head"
        if seq > expected:
            missing = (
                f"event {expected} is"
                if seq == expected + 1
                else f"events {expected} to {seq - 1} are"
            )
            return expected, f"{missing} missing: seq jumps from {expected - 1} to {seq}"
        again = "again " if seq == expected - 1 else ""
        return seq, (
            f"seq {seq} appears {again}after seq {expected - 1}: an event was inserted, "
            "duplicated or moved"
        )
    if prev != last:
        what = "the genesis hash" if seq == 1 else f"the hash of event {seq - 1}"
        return seq, (
            f"event {seq}'s previous-hash is not {what}: an event before it was removed, "
            "inserted or altered"
        )
    if hashlib.sha256(prev + body).digest() != stored_hash:
        return seq, f"event {seq}'s body does not match its hash: it was modified"
    if not body.endswith(_SEQ_TAIL % seq):
        return seq, (
            f"event {seq}'s body does not carry seq {seq}: a body was moved from another position"
        )
    return None


def verify_chain_rows(
    rows: Iterable[tuple[int, bytes, bytes, bytes]],
    checkpoints: Iterable[Checkpoint],
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    require_anchored_head: bool = False,
) -> VerificationResult:
    """Verify a chain given as ``(seq, body_bytes, prev_hash, hash)`` rows in seq order
    (as ``bytes``: convert a driver's ``memoryview`` first).

    Checks that seq starts at 1 with no gaps, each ``prev_hash`` is the previous event's
    hash (:data:`GENESIS_HASH` for the first), each ``hash`` is ``chain_hash(prev_hash,
    body_bytes)``, each body carries its own seq, every checkpoint is signed by a trusted key
    (``public_keys``: key id → key, old keys included) and records the stored hash at its
    seq, and no checkpoint lies beyond the last event. Stops at the first problem.

    Streams: memory is constant in the number of events (checkpoints are held, and are few).
    With ``require_anchored_head``, events after the last checkpoint are a problem too."""
    by_seq, cp_problem = _group_checkpoints(checkpoints)
    if cp_problem is not None:
        return _failed(
            cp_problem,
            None,
            verified=0,
            head_hash=GENESIS_HASH,
            checkpoints_checked=0,
            last_cp=None,
        )
    cp_seqs = sorted(by_seq, reverse=True)  # pop() from the end gives the next one
    next_cp = cp_seqs.pop() if cp_seqs else -1
    checkpoints_checked = 0
    last_cp: int | None = None

    sha256 = hashlib.sha256
    tail = _SEQ_TAIL
    last = GENESIS_HASH
    expected = 1
    # The hot loop: one SHA-256, three comparisons and one formatting per event; diagnosis
    # and checkpoints happen off the fast path.
    try:
        for seq, body, prev, stored_hash in rows:
            if (
                seq != expected
                or prev != last
                or sha256(prev + body).digest() != stored_hash
                or not body.endswith(tail % seq)
                or seq == next_cp
            ):
                bad = _diagnose(seq, body, prev, stored_hash, expected=expected, last=last)
                if bad is not None:
                    return _failed(
                        bad[1],
                        bad[0],
                        verified=expected - 1,
                        head_hash=last,
                        checkpoints_checked=checkpoints_checked,
                        last_cp=last_cp,
                    )
                problem = _check_checkpoints(by_seq[seq], stored_hash, public_keys)
                if problem is not None:
                    return _failed(
                        problem,
                        seq,
                        verified=expected - 1,
                        head_hash=last,
                        checkpoints_checked=checkpoints_checked,
                        last_cp=last_cp,
                    )
                checkpoints_checked += len(by_seq[seq])
                last_cp = seq
                next_cp = cp_seqs.pop() if cp_seqs else -1
            last = stored_hash
            expected += 1

    except (TypeError, ValueError, AttributeError):
        return _failed(
            f"event {expected} is malformed: a row is (seq: int, body: bytes, "
            "prev_hash: bytes, hash: bytes)",
            expected,
            verified=expected - 1,
            head_hash=last,
            checkpoints_checked=checkpoints_checked,
            last_cp=last_cp,
        )

    last_seq = expected - 1
    if next_cp != -1:
        # Checkpoints beyond the last event: a forged one is reported as such; an authentic
        # one proves that events were cut off the end.
        for cp in by_seq[next_cp]:
            key = public_keys.get(cp.key_id)
            if key is None or not verify_checkpoint(key, cp):
                problem = (
                    f"the checkpoint at seq {cp.seq} (beyond the last event, {last_seq}) is "
                    "not validly signed by a trusted key"
                )
                return _failed(
                    problem,
                    cp.seq,
                    verified=last_seq,
                    head_hash=last,
                    checkpoints_checked=checkpoints_checked,
                    last_cp=last_cp,
                )
        problem = (
            f"the chain ends at seq {last_seq} but a signed checkpoint covers seq {next_cp}: "
            "events were removed from the end"
        )
        return _failed(
            problem,
            last_seq + 1,
            verified=last_seq,
            head_hash=last,
            checkpoints_checked=checkpoints_checked,
            last_cp=last_cp,
        )
    return _verified(last_seq, last, checkpoints_checked, last_cp, require_anchored_head)


def _verified(
    last_seq: int,
    last: bytes,
    checkpoints_checked: int,
    last_cp: int | None,
    require_anchored_head: bool,
) -> VerificationResult:
    """The outcome once events 1 to ``last_seq`` and their checkpoints have all verified."""
    if require_anchored_head and last_seq > (last_cp or 0):
        start = (last_cp or 0) + 1
        problem = f"events {start} to {last_seq} are not covered by a signed checkpoint"
        return _failed(
            problem,
            start,
            verified=last_seq,
            head_hash=last,
            checkpoints_checked=checkpoints_checked,
            last_cp=last_cp,
        )
    if last_seq == 0:
        summary = "the chain is empty"
    elif last_cp == last_seq:
        summary = f"events 1 to {last_seq} verified; the head is covered by a signed checkpoint"
    elif last_cp is None:
        summary = (
            f"events 1 to {last_seq} verified, but there is no checkpoint: a careful rewrite "
            "of the whole chain would not be detected"
        )
    else:
        summary = (
            f"events 1 to {last_seq} verified; events after {last_cp} are not yet covered "
            "by a signed checkpoint"
        )
    return VerificationResult(
        ok=True,
        events_checked=last_seq,
        first_bad_seq=None,
        problem="",
        checkpoints_checked=checkpoints_checked,
        last_seq=last_seq,
        head_hash=last,
        last_checkpoint_seq=last_cp,
        summary=summary,
    )


def _failed(
    problem: str,
    first_bad_seq: int | None,
    *,
    verified: int,
    head_hash: bytes,
    checkpoints_checked: int,
    last_cp: int | None,
) -> VerificationResult:
    return VerificationResult(
        ok=False,
        events_checked=verified,
        first_bad_seq=first_bad_seq,
        problem=problem,
        checkpoints_checked=checkpoints_checked,
        last_seq=verified,
        head_hash=head_hash,
        last_checkpoint_seq=last_cp,
        summary=problem,
    )


def verify_chain(
    events: Iterable[StoredEvent],
    checkpoints: Iterable[Checkpoint],
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    require_anchored_head: bool = False,
) -> VerificationResult:
    """:func:`verify_chain_rows` over :class:`StoredEvent` values (which are tuples)."""
    return verify_chain_rows(
        events, checkpoints, public_keys, require_anchored_head=require_anchored_head
    )


# ---------------------------------------------------------------------------------------
# The fast path (for a database that checks the prev_hash links itself)
# ---------------------------------------------------------------------------------------


def verify_links(
    rows: Iterable[tuple[bytes, bytes]], first_seq: int, prev_hash: bytes
) -> tuple[int, bytes]:
    """The hot loop of a verification split in runs of events: ``rows`` are the
    ``(body_bytes, hash)`` of events ``first_seq``, ``first_seq + 1``... in seq order and
    ``prev_hash`` is the stored hash of event ``first_seq - 1`` (:data:`GENESIS_HASH` for
    event 1). Returns how many events pass — each stored hash is ``SHA-256(previous stored
    hash || body)`` and each body carries its seq — before the first that does not, and the
    last passing event's hash.

    Together with a check, made elsewhere, that each stored ``prev_hash`` is the previous
    event's stored hash and that the seqs are exactly ``first_seq...`` (the database does
    both cheaply), this is what :func:`verify_chain_rows` checks per event. It never
    diagnoses: on any problem, run :func:`verify_chain_rows` for the exact result.

    Self-contained but for ``hashlib``, so that a worker process can run its source without
    importing safeshare."""
    sha256 = hashlib.sha256
    tail = b',"seq":%d,"v":1}'
    last = prev_hash
    seq = first_seq
    try:
        for body, stored in rows:
            if sha256(last + body).digest() != stored or not body.endswith(tail % seq):
                break
            last = stored
            seq += 1
    except (TypeError, ValueError, AttributeError):
        pass
    return seq - first_seq, last


def verified_chain_result(
    last_seq: int,
    head_hash: bytes,
    checkpoints: Iterable[Checkpoint],
    hashes_at: Mapping[int, bytes],
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    require_anchored_head: bool = False,
) -> VerificationResult | None:
    """The :class:`VerificationResult` of :func:`verify_chain_rows` for a chain whose events
    1 to ``last_seq`` are known to pass every per-event check (seq, links, hashes, body
    seq), given the stored hash at each checkpoint's seq (``hashes_at``) and the last
    event's (``head_hash``). ``None`` when a checkpoint is invalid, does not match or lies
    beyond the last event: then run :func:`verify_chain_rows`, which names the first bad
    event exactly as it always does."""
    by_seq, cp_problem = _group_checkpoints(checkpoints)
    if cp_problem is not None:
        return None
    checked = 0
    last_cp: int | None = None
    for seq in sorted(by_seq):
        if seq > last_seq:
            return None
        stored = hashes_at.get(seq)
        if stored is None or _check_checkpoints(by_seq[seq], stored, public_keys) is not None:
            return None
        checked += len(by_seq[seq])
        last_cp = seq
    head = head_hash if last_seq else GENESIS_HASH
    return _verified(last_seq, head, checked, last_cp, require_anchored_head)
