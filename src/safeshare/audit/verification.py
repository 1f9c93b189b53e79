"""Verifying a stored chain and its checkpoints: :func:`verify_chain_rows` (every check,
streaming, with an exact diagnosis of the first problem), and the fast path for a database
that checks the ``prev_hash`` links itself (:func:`verify_links`,
:func:`verified_chain_result`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from safeshare.audit.body import _SEQ_TAIL
from safeshare.audit.checkpoints import Checkpoint, verify_checkpoint
from safeshare.audit.links import GENESIS_HASH, StoredEvent

__all__ = [
    "VerificationResult",
    "verified_chain_result",
    "verify_chain",
    "verify_chain_rows",
    "verify_links",
]


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
