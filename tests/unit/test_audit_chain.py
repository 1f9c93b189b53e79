"""The tamper-evident audit chain: canonical encoding, links, checkpoints, signing keys,
and property-based tampering: every kind of tampering is detected, at the right place."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import random
import stat
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeshare.audit import (
    GENESIS_HASH,
    AuditBodyError,
    AuditEventBody,
    Checkpoint,
    SigningKey,
    StoredEvent,
    canonical_bytes,
    canonical_prefix,
    chain_hash,
    checkpoint_message,
    load_public_key,
    next_link,
    parse_body,
    public_key_id,
    sign_checkpoint,
    utc_timestamp,
    verify_chain,
    verify_chain_rows,
    verify_checkpoint,
)
from safeshare.crypto import KeyFileError

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")

# One signing key for the whole module: generating keys is cheap, but stable ids read better.
KEY = SigningKey.generate("audit-2025")
TRUSTED = {KEY.key_id: KEY.public_key()}
ACTIONS = ("decision.recorded", "referral.sent", "consent.recorded", "subject.erased")
CODES = ("TN-4.2", "TN-5.1", "DNH-RISK-HIGH", "CONSENT-CHILD", "PURPOSE-OK")


def body(seq: int, rnd: random.Random | None = None) -> AuditEventBody:
    rnd = rnd or random.Random(seq)
    return AuditEventBody(
        seq=seq,
        at=f"2025-03-{1 + seq % 28:02d}T{seq % 24:02d}:{seq % 60:02d}:00.000000Z",
        actor=f"user:{rnd.randrange(10_000):05d}",
        action=rnd.choice(ACTIONS),
        object_type=rnd.choice(("case", "referral", "request")),
        object_id=f"{rnd.getrandbits(128):032x}",
        codes=tuple(rnd.sample(CODES, rnd.randrange(len(CODES)))),
        details={"partner": f"org:{rnd.randrange(50)}", "count": rnd.randrange(100), "x": None},
    )


def build_chain(n: int, rnd: random.Random) -> list[StoredEvent]:
    events: list[StoredEvent] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        body_bytes, h = next_link(prev, body(seq, rnd))
        events.append(StoredEvent(seq, body_bytes, prev, h))
        prev = h
    return events


def checkpoints_for(
    events: Sequence[StoredEvent], every: int, key: SigningKey = KEY
) -> list[Checkpoint]:
    """A checkpoint every ``every`` events, and always one at the end."""
    n = len(events)
    seqs = sorted({*range(every, n + 1, every), n} - {0})
    return [key.sign_checkpoint(s, events[s - 1].hash, "2025-03-01T00:00:00Z") for s in seqs]


def relink(events: list[StoredEvent], start: int) -> None:
    """What a forger with write access (but no signing key) does: recompute prev_hash and
    hash from index ``start`` on, so that the chain itself is consistent again."""
    prev = events[start - 1].hash if start > 0 else GENESIS_HASH
    for i in range(start, len(events)):
        e = events[i]
        h = chain_hash(prev, e.body_bytes)
        events[i] = StoredEvent(e.seq, e.body_bytes, prev, h)
        prev = h


def resequence(events: list[StoredEvent], start: int) -> None:
    """Renumber events from index ``start`` so that seqs are contiguous, rewriting the seq in
    each body too (a forger who understands the format)."""
    for i in range(start, len(events)):
        b = dataclasses.replace(parse_body(events[i].body_bytes), seq=i + 1)
        events[i] = StoredEvent(i + 1, canonical_bytes(b), events[i].prev_hash, events[i].hash)


# -- canonical encoding -----------------------------------------------------------------


def test_canonical_bytes_golden() -> None:
    """Pinned bytes: a change here breaks every existing chain."""
    b = AuditEventBody(
        seq=42,
        at="2025-01-02T03:04:05.000006Z",
        actor="user:7",
        action="referral.sent",
        object_type="referral",
        object_id="r-1",
        codes=("TN-4.2", "DNH-OK"),
        details={"partner": "org:3", "n": 2, "urgent": True, "note": None, "é": 'ü"\n'},
    )
    assert canonical_bytes(b) == (
        b'{"action":"referral.sent","actor":"user:7","at":"2025-01-02T03:04:05.000006Z",'
        b'"codes":["TN-4.2","DNH-OK"],"details":{"n":2,"note":null,"partner":"org:3",'
        b'"urgent":true,"\\u00e9":"\\u00fc\\"\\n"},"object_id":"r-1","object_type":"referral",'
        b'"seq":42,"v":1}'
    )
    assert (
        hashlib.sha256(GENESIS_HASH + canonical_bytes(b)).digest() == next_link(GENESIS_HASH, b)[1]
    )


def test_canonical_bytes_is_deterministic_and_order_independent() -> None:
    a = dataclasses.replace(body(3), details={"a": 1, "b": "x"})
    b = dataclasses.replace(body(3), details={"b": "x", "a": 1})
    assert canonical_bytes(a) == canonical_bytes(b)
    assert canonical_bytes(a).endswith(b',"seq":3,"v":1}')


@pytest.mark.parametrize("value", [1.5, float("nan"), [1], {"a": 1}, (1,), b"bytes", {1}, object()])
def test_non_scalar_details_refused(value: object) -> None:
    with pytest.raises(AuditBodyError, match="detail 'x'"):
        canonical_bytes(dataclasses.replace(body(1), details={"x": value}))  # type: ignore[dict-item]


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 0},
        {"seq": True},
        {"seq": "1"},
        {"at": "2025-01-01T00:00:00"},  # naive
        {"at": "2025-01-01T00:00:00+02:00"},  # not UTC
        {"at": "yesterday"},
        {"actor": ""},
        {"action": ""},
        {"codes": "TN-4.2"},
        {"codes": (1,)},
        {"details": {1: "x"}},
        {"details": {"n": 2**60}},
    ],
)
def test_bad_bodies_refused(change: dict[str, object]) -> None:
    with pytest.raises(AuditBodyError):
        canonical_bytes(dataclasses.replace(body(1), **change))  # type: ignore[arg-type]


def test_parse_body_round_trip() -> None:
    b = body(17)
    assert parse_body(canonical_bytes(b)) == dataclasses.replace(b, details=dict(b.details))
    with pytest.raises(AuditBodyError, match="canonical"):
        parse_body(canonical_bytes(b).replace(b'{"action"', b'{ "action"'))
    with pytest.raises(AuditBodyError):
        parse_body(b"not json")


@settings(max_examples=200)
@given(
    seq=st.integers(1, 2**53 - 1),
    actor=st.text(min_size=1),
    codes=st.lists(st.text(min_size=1), max_size=5).map(tuple),
    details=st.dictionaries(
        st.text(),
        st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
        max_size=6,
    ),
)
def test_encoding_round_trip_property(
    seq: int, actor: str, codes: tuple[str, ...], details: dict[str, object]
) -> None:
    b = AuditEventBody(seq, utc_timestamp(), actor, "a", "t", "id", codes, details)  # type: ignore[arg-type]
    encoded = canonical_bytes(b)
    encoded.decode("ascii")
    assert encoded.endswith(b',"seq":%d,"v":1}' % seq)
    assert parse_body(encoded) == b
    # The prefix a store completes with the seq it gives the event (PostgreSQL's appends).
    prefix = canonical_prefix(b)
    assert prefix + b',"seq":%d,"v":1}' % seq == encoded
    other = dataclasses.replace(b, seq=1 if seq > 1 else 2)
    assert canonical_prefix(other) == prefix


def test_utc_timestamp() -> None:
    ts = utc_timestamp()
    assert ts.endswith("Z")
    assert len(ts) == len("2025-01-01T00:00:00.000000Z")
    with pytest.raises(AuditBodyError):
        utc_timestamp(datetime(2025, 1, 1))  # naive on purpose


# -- links and checkpoints --------------------------------------------------------------


def test_chain_hash() -> None:
    assert bytes(32) == GENESIS_HASH
    h = chain_hash(GENESIS_HASH, b"body")
    assert h == hashlib.sha256(bytes(32) + b"body").digest()
    assert len(h) == 32
    with pytest.raises(ValueError):
        chain_hash(b"short", b"body")


def test_checkpoint_sign_and_verify() -> None:
    head = hashlib.sha256(b"x").digest()
    cp = sign_checkpoint(KEY.private_key, KEY.key_id, 10, head, "2025-03-01T00:00:00Z")
    assert verify_checkpoint(KEY.public_key(), cp)
    assert not verify_checkpoint(Ed25519PrivateKey.generate().public_key(), cp)
    for change in (
        {"seq": 11},
        {"head_hash": bytes(32)},
        {"at": "2025-03-01T00:00:01Z"},
        {"key_id": "other"},
        {"signature": bytes(64)},
        {"signature": b""},
        {"head_hash": b"short"},
    ):
        assert not verify_checkpoint(KEY.public_key(), dataclasses.replace(cp, **change))


def test_checkpoint_message_is_domain_separated() -> None:
    msg = checkpoint_message(5, bytes(32), "2025-03-01T00:00:00Z", "k")
    assert msg.startswith(b"safeshare/audit-checkpoint/v1\x00")
    assert msg[30:38] == (5).to_bytes(8, "big")


def test_signing_key_files(tmp_path: Path) -> None:
    path = tmp_path / "audit-signing.pem"
    key = SigningKey.generate()
    assert key.key_id == public_key_id(key.public_key())
    assert key.key_id.startswith("ed25519:")
    key.save(path)
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = SigningKey.load(path)
    assert loaded.key_id == key.key_id
    assert loaded.public_raw() == key.public_raw()
    assert b"PRIVATE" not in key.public_pem()
    assert key.key_id in repr(key)
    assert b"PRIVATE" in path.read_bytes()
    assert load_public_key(key.public_pem()).public_bytes_raw() == key.public_raw()
    assert load_public_key(key.public_raw()).public_bytes_raw() == key.public_raw()

    enc = tmp_path / "enc.pem"
    key.save(enc, password=b"correct horse")
    assert b"ENCRYPTED" in enc.read_bytes()
    assert SigningKey.load(enc, password=b"correct horse").public_raw() == key.public_raw()
    with pytest.raises(KeyFileError):
        SigningKey.load(enc, password=b"wrong")


@posix_only
def test_signing_key_file_permissions(tmp_path: Path) -> None:
    path = tmp_path / "audit-signing.pem"
    SigningKey.generate().save(path)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="group or others"):
        SigningKey.load(path)
    SigningKey.load(path, allow_insecure_permissions=True)


def test_signing_key_not_picklable() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(KEY)


# -- verification: untampered chains ----------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 7, 50])
def test_untampered_chain_verifies(n: int) -> None:
    events = build_chain(n, random.Random(n))
    cps = checkpoints_for(events, 5)
    result = verify_chain(events, cps, TRUSTED)
    assert result.ok, result.problem
    assert result.events_checked == n
    assert result.first_bad_seq is None
    assert result.problem == ""
    assert result.checkpoints_checked == len(cps)
    assert result.last_seq == n
    assert result.head_hash == (events[-1].hash if events else GENESIS_HASH)
    assert result.last_checkpoint_seq == (n or None)
    assert result.summary


def test_rows_as_plain_tuples_and_generators() -> None:
    events = build_chain(30, random.Random(1))
    cps = checkpoints_for(events, 7)
    result = verify_chain_rows(
        ((e.seq, e.body_bytes, e.prev_hash, e.hash) for e in events), iter(cps), TRUSTED
    )
    assert result.ok
    assert result.events_checked == 30


def test_unanchored_head() -> None:
    events = build_chain(10, random.Random(2))
    cps = checkpoints_for(events[:6], 3)
    result = verify_chain(events, cps, TRUSTED)
    assert result.ok
    assert result.last_checkpoint_seq == 6
    assert "not yet covered" in result.summary
    strict = verify_chain(events, cps, TRUSTED, require_anchored_head=True)
    assert not strict.ok
    assert strict.first_bad_seq == 7
    no_cp = verify_chain(events, [], TRUSTED)
    assert no_cp.ok
    assert no_cp.last_checkpoint_seq is None
    assert "no checkpoint" in no_cp.summary


def test_unknown_checkpoint_key_fails() -> None:
    events = build_chain(10, random.Random(3))
    cps = checkpoints_for(events, 5, key=SigningKey.generate("stranger"))
    result = verify_chain(events, cps, TRUSTED)
    assert not result.ok
    assert result.first_bad_seq == 5
    assert "stranger" in result.problem


def test_rotated_signing_keys() -> None:
    events = build_chain(10, random.Random(4))
    new_key = SigningKey.generate("audit-2026")
    cps = checkpoints_for(events[:5], 5) + checkpoints_for(events, 10, key=new_key)[-1:]
    keys = TRUSTED | {new_key.key_id: new_key.public_key()}
    result = verify_chain(events, cps, keys)
    assert result.ok, result.problem
    assert result.checkpoints_checked == 2


def test_memoryview_rows_fail_cleanly() -> None:
    events = build_chain(3, random.Random(5))
    rows = [(e.seq, memoryview(e.body_bytes), e.prev_hash, e.hash) for e in events]
    result = verify_chain_rows(rows, [], TRUSTED)  # type: ignore[arg-type]
    assert not result.ok
    assert result.first_bad_seq == 1
    assert "malformed" in result.problem


def test_checkpoint_with_bad_seq_fails() -> None:
    events = build_chain(3, random.Random(6))
    cp = dataclasses.replace(checkpoints_for(events, 3)[0], seq=0)
    assert not verify_chain(events, [cp], TRUSTED).ok


# -- verification: property-based tampering ---------------------------------------------
#
# Each tampering returns the tampered events and checkpoints and the range
# [low, high] in which first_bad_seq must fall: never before the first changed event (the
# untouched prefix verifies), and at or before the place where a verifier can know.
#
# The chain ALWAYS has a checkpoint at its last event. Without one, a forger who rewrites
# (or removes) the events after the last checkpoint is undetectable: the chain alone proves
# consistency, only a signature proves authorship. That is why checkpoints must be frequent
# and copied out of the database.

Tamper = Callable[
    [list[StoredEvent], list[Checkpoint], random.Random, int],
    tuple[list[StoredEvent], list[Checkpoint], int, int],
]


def first_cp_at_or_after(cps: Sequence[Checkpoint], seq: int) -> int:
    return min(cp.seq for cp in cps if cp.seq >= seq)


def modify_body_byte(
    events: list[StoredEvent], cps: list[Checkpoint], rnd: random.Random, k: int
) -> tuple[list[StoredEvent], list[Checkpoint], int, int]:
    e = events[k - 1]
    b = bytearray(e.body_bytes)
    b[rnd.randrange(len(b))] ^= 1 << rnd.randrange(8)
    events[k - 1] = StoredEvent(e.seq, bytes(b), e.prev_hash, e.hash)
    return events, cps, k, k


def modify_body_and_hash(
    events: list[StoredEvent], cps: list[Checkpoint], rnd: random.Random, k: int
) -> tuple[list[StoredEvent], list[Checkpoint], int, int]:
    """Alter one event and recompute its hash only: the next link (or a checkpoint) breaks."""
    e = events[k - 1]
    b = dataclasses.replace(parse_body(e.body_bytes), actor="user:forged")
    bb = canonical_bytes(b)
    events[k - 1] = StoredEvent(e.seq, bb, e.prev_hash, chain_hash(e.prev_hash, bb))
    return events, cps, k, k + 1


def delete_event(
    events: list[StoredEvent], cps: list[Checkpoint], rnd: random.Random, k: int
) -> tuple[list[StoredEvent], list[Checkpoint], int, int]:
    del events[k - 1]
    return events, cps, k, k


def insert_forged(
    events: list[StoredEvent], cps: list[Checkpoint], rnd: random.Random, k: int
) -> tuple[list[StoredEvent], list[Checkpoint], int, int]:
    """A forged event with a correct hash, chained to event k - 1, put in position k."""
    prev = events[k - 2].hash if k > 1 else GENESIS_HASH
    bb, h = next_link(prev, dataclasses.replace(body(k, rnd), actor="user:forger"))
    events.insert(k - 1, StoredEvent(k, bb, prev, h))
    return events, cps, k, k


def insert_forged_and_rewrite(
    events: list[StoredEvent], cps: list[Checkpoint], rnd: random.Random, k: int
) -> tuple[list[StoredEvent], list[Checkpoint], int, int]:
    """Insert at k, then renumber and relink everything after: only a checkpoint catches it."""
    prev = events[k - 2].hash if k > 1 else GENESIS_HASH
    bb, h = next_link(prev, dataclasses.replace(body(k, rnd), actor="user:forger"))
    events.insert(k - 1, StoredEvent(k, bb, prev, h))
    resequence(events, k)
    relink(events, k - 1)
    return events, cps, k, first_cp_at_or_after(cps, k)


def swap_events(
    events: list[StoredEvent], cps: list[Checkpoint], rnd: random.Random, k: int
) -> tuple[list[StoredEvent], list[Checkpoint], int, int]:
    if len(events) < 2:
        return delete_event(events, cps, rnd, k)
    i, j = sorted(rnd.sample(range(len(events)), 2))
    events[i], events[j] = events[j], events[i]
    return events, cps, i + 1, i + 1


def swap_bodies_and_relink(
    events: list[StoredEvent], cps: list[Checkpoint], rnd: random.Random, k: int
) -> tuple[list[StoredEvent], list[Checkpoint], int, int]:
    """Swap two bodies, keep the stored seqs, relink: caught by the seq inside the body."""
    if len(events) < 2:
        return delete_event(events, cps, rnd, k)
    i, j = sorted(rnd.sample(range(len(events)), 2))
    ei, ej = events[i], events[j]
    events[i] = StoredEvent(ei.seq, ej.body_bytes, ei.prev_hash, ei.hash)
    events[j] = StoredEvent(ej.seq, ei.body_bytes, ej.prev_hash, ej.hash)
    relink(events, i)
    return events, cps, i + 1, i + 1


def truncate_tail(
    events: list[StoredEvent], cps: list[Checkpoint], rnd: random.Random, k: int
) -> tuple[list[StoredEvent], list[Checkpoint], int, int]:
    del events[k - 1 :]
    return events, cps, k, k


def truncate_head(
    events: list[StoredEvent], cps: list[Checkpoint], rnd: random.Random, k: int
) -> tuple[list[StoredEvent], list[Checkpoint], int, int]:
    del events[:k]
    return events, cps, 1, 1


def truncate_head_and_rewrite(
    events: list[StoredEvent], cps: list[Checkpoint], rnd: random.Random, k: int
) -> tuple[list[StoredEvent], list[Checkpoint], int, int]:
    """Remove the first k events, renumber from 1 and relink from genesis."""
    if len(events) == k:
        k -= 1
    if k == 0:
        return delete_event(events, cps, rnd, 1)
    del events[:k]
    resequence(events, 0)
    relink(events, 0)
    return events, cps, 1, first_cp_at_or_after(cps, 1)


def rewrite_from(
    events: list[StoredEvent], cps: list[Checkpoint], rnd: random.Random, k: int
) -> tuple[list[StoredEvent], list[Checkpoint], int, int]:
    """Alter event k and recompute every hash from there (no signing key): detected at the
    first checkpoint at or after k."""
    e = events[k - 1]
    b = dataclasses.replace(parse_body(e.body_bytes), object_id="forged")
    events[k - 1] = StoredEvent(e.seq, canonical_bytes(b), e.prev_hash, e.hash)
    relink(events, k - 1)
    return events, cps, k, first_cp_at_or_after(cps, k)


def rewrite_and_forge_checkpoints(
    events: list[StoredEvent], cps: list[Checkpoint], rnd: random.Random, k: int
) -> tuple[list[StoredEvent], list[Checkpoint], int, int]:
    """Rewrite from k and re-sign the later checkpoints with the forger's own key under the
    trusted key id."""
    events, cps, low, high = rewrite_from(events, cps, rnd, k)
    forger = SigningKey(Ed25519PrivateKey.generate(), KEY.key_id)
    cps = [
        cp if cp.seq < k else forger.sign_checkpoint(cp.seq, events[cp.seq - 1].hash, cp.at)
        for cp in cps
    ]
    return events, cps, low, high


def delete_range(
    events: list[StoredEvent], cps: list[Checkpoint], rnd: random.Random, k: int
) -> tuple[list[StoredEvent], list[Checkpoint], int, int]:
    """Cut a run of events out of the middle (or the end)."""
    del events[k - 1 : k - 1 + rnd.randint(1, 20)]
    return events, cps, k, k


def alter_checkpoint_hash(
    events: list[StoredEvent], cps: list[Checkpoint], rnd: random.Random, k: int
) -> tuple[list[StoredEvent], list[Checkpoint], int, int]:
    i = rnd.randrange(len(cps))
    cps[i] = dataclasses.replace(cps[i], head_hash=hashlib.sha256(b"forged").digest())
    return events, cps, cps[i].seq, cps[i].seq


TAMPERS: list[Tamper] = [
    modify_body_byte,
    modify_body_and_hash,
    delete_event,
    insert_forged,
    insert_forged_and_rewrite,
    swap_events,
    swap_bodies_and_relink,
    truncate_tail,
    truncate_head,
    truncate_head_and_rewrite,
    rewrite_from,
    rewrite_and_forge_checkpoints,
    delete_range,
    alter_checkpoint_hash,
]


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    n=st.integers(1, 200),
    every=st.integers(1, 60),
    tamper=st.sampled_from(TAMPERS),
    position=st.floats(0, 1, exclude_max=True),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_tampering_is_detected(
    n: int, every: int, tamper: Tamper, position: float, seed: int
) -> None:
    rnd = random.Random(seed)
    events = build_chain(n, rnd)
    cps = checkpoints_for(events, every)  # includes a checkpoint at the end, always
    assert verify_chain(events, cps, TRUSTED).ok

    k = 1 + int(position * n)  # the tampered position, 1..n
    events, cps, low, high = tamper(list(events), list(cps), rnd, k)
    result = verify_chain(events, cps, TRUSTED)

    assert not result.ok, f"{tamper.__name__} at {k} of {n} not detected"
    assert result.first_bad_seq is not None
    assert low <= result.first_bad_seq <= high, (
        f"{tamper.__name__} at {k} of {n}: first_bad_seq {result.first_bad_seq} "
        f"not in [{low}, {high}]: {result.problem}"
    )
    assert result.problem
    assert result.events_checked <= result.first_bad_seq


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 200), every=st.integers(1, 60), seed=st.integers(0, 2**32 - 1))
def test_untampered_random_chains_verify(n: int, every: int, seed: int) -> None:
    events = build_chain(n, random.Random(seed))
    result = verify_chain(events, checkpoints_for(events, every), TRUSTED)
    assert result.ok, result.problem
    assert result.events_checked == n


def test_rewrite_after_last_checkpoint_is_undetectable_without_one() -> None:
    """Documents the limit: with no checkpoint covering the tail, a careful rewrite of the
    tail verifies. ``require_anchored_head`` turns that into a failure."""
    events = build_chain(20, random.Random(7))
    cps = checkpoints_for(events[:10], 10)
    e = events[14]
    b = dataclasses.replace(parse_body(e.body_bytes), object_id="forged")
    events[14] = StoredEvent(e.seq, canonical_bytes(b), e.prev_hash, e.hash)
    relink(events, 14)
    assert verify_chain(events, cps, TRUSTED).ok
    strict = verify_chain(events, cps, TRUSTED, require_anchored_head=True)
    assert not strict.ok
    assert strict.first_bad_seq == 11
