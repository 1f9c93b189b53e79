"""Randomised tampering with the audit log in the real database (SQLite, and PostgreSQL when
SAFESHARE_TEST_POSTGRES_URL is set).

A few hundred audited changes are written through the services, with a signed checkpoint
every 40 events and one at the end. Then, for many seeded cases, raw SQL through the engine
modifies, deletes, inserts, swaps, moves or truncates audit rows at a random position ``k``;
``verify_audit`` must fail and name a first bad event between ``k`` and the first checkpoint
at or after ``k``. Each case runs in its own transaction on one connection (the service
reads through a session bound to it), rolled back afterwards: every case starts from the
same, intact store.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import sessionmaker

import factories as f
from safeshare.audit import chain
from safeshare.core.vocabulary import ConsentDecision
from safeshare.services import audit as audit_service
from safeshare.services.consent import record_consent
from safeshare.services.decisions import decide_request
from safeshare.services.protocols import endorse_protocol, load_protocol
from safeshare.services.registry import open_case, register_subject
from safeshare.store.unit import Store

EVERY = 40
SUBJECTS = 70
CASES = {"sqlite": 400, "postgresql": 150}


@pytest.fixture
def audited(store: Store) -> Store:
    """A store with a few hundred audited changes and checkpoints, the head included."""
    assert store.signer is not None
    store.signer = dataclasses.replace(store.signer, every=EVERY)
    version = load_protocol(store, f.protocol(), actor="im", organisations=f.organisations())
    endorse_protocol(store, version.id, by="Representative", actor="im")
    rnd = random.Random(7)
    for i in range(SUBJECTS):
        register_subject(store, f.subject(f"s{i}"), actor="im", name=f"Person {i}")
        open_case(store, f.case(f"c{i}", f"s{i}"), actor="im", details="incident")
    for i in range(SUBJECTS * 2):
        sid = f"s{rnd.randrange(SUBJECTS)}"
        if i % 2:
            decision = rnd.choice(list(ConsentDecision))
            record_consent(store, f.consent(sid, decision, on=date(2026, 2, 1)), actor="cw")
        else:
            decide_request(store, f.share_request(subjects=(sid,)), actor="cw", today=f.TODAY)
    audit_service.write_checkpoint(store, actor="auditor")
    result = audit_service.verify_audit(store, require_anchored_head=True)
    assert result.ok, result.problem
    assert result.events_checked > 270
    return store


# -- raw SQL helpers ---------------------------------------------------------------------


def _row(conn: Connection, seq: int) -> tuple[bytes, bytes, bytes]:
    body, prev, h = conn.execute(
        text("SELECT body, prev_hash, hash FROM audit_events WHERE seq = :s"), {"s": seq}
    ).one()
    return bytes(body), bytes(prev), bytes(h)


def _set(conn: Connection, at: int, **values: object) -> None:
    cols = ", ".join(f"{c} = :{c}" for c in values)
    conn.execute(text(f"UPDATE audit_events SET {cols} WHERE seq = :_seq"), {**values, "_seq": at})


def _shift(conn: Connection, start: int, by: int) -> None:
    """seq += by for every seq >= start (through negatives: no transient key clash)."""
    conn.execute(
        text("UPDATE audit_events SET seq = -(seq + :by) WHERE seq >= :k"), {"by": by, "k": start}
    )
    conn.execute(text("UPDATE audit_events SET seq = -seq WHERE seq < 0"))


def _flip(data: bytes, rnd: random.Random) -> bytes:
    i = rnd.randrange(len(data))
    return data[:i] + bytes([data[i] ^ (1 << rnd.randrange(8))]) + data[i + 1 :]


def _forged_body(seq: int, actor: str = "intruder") -> bytes:
    return chain.canonical_bytes(
        chain.AuditEventBody(
            seq=seq,
            at="2026-03-01T00:00:00.000000Z",
            actor=actor,
            action="decision",
            object_type="decision",
            object_id="forged",
        )
    )


# -- tamperings: each returns the first seq it touched -----------------------------------

Tamper = Callable[[Connection, int, int, random.Random], int]


def modify_body(conn: Connection, k: int, n: int, rnd: random.Random) -> int:
    body, _, _ = _row(conn, k)
    _set(conn, k, body=_flip(body, rnd))
    return k


def modify_body_rehash(conn: Connection, k: int, n: int, rnd: random.Random) -> int:
    """A consistent row k (its own hash recomputed): the next link, or a checkpoint, breaks."""
    body, prev, _ = _row(conn, k)
    body = body.replace(b'"actor":"', b'"actor":"x', 1)
    _set(conn, k, body=body, hash=hashlib.sha256(prev + body).digest())
    return k


def modify_prev_hash(conn: Connection, k: int, n: int, rnd: random.Random) -> int:
    _, prev, _ = _row(conn, k)
    _set(conn, k, prev_hash=_flip(prev, rnd))
    return k


def modify_hash(conn: Connection, k: int, n: int, rnd: random.Random) -> int:
    _, _, h = _row(conn, k)
    _set(conn, k, hash=_flip(h, rnd))
    return k


def truncate_body(conn: Connection, k: int, n: int, rnd: random.Random) -> int:
    body, _, _ = _row(conn, k)
    _set(conn, k, body=body[: rnd.randrange(len(body))])
    return k


def delete_row(conn: Connection, k: int, n: int, rnd: random.Random) -> int:
    conn.execute(text("DELETE FROM audit_events WHERE seq = :k"), {"k": k})
    return k


def delete_and_renumber(conn: Connection, k: int, n: int, rnd: random.Random) -> int:
    conn.execute(text("DELETE FROM audit_events WHERE seq = :k"), {"k": k})
    _shift(conn, k + 1, -1)
    return k


def insert_row(conn: Connection, k: int, n: int, rnd: random.Random) -> int:
    """A forged event linked correctly to event k - 1; the later rows renumbered."""
    prev = _row(conn, k - 1)[2] if k > 1 else chain.GENESIS_HASH
    _shift(conn, k, 1)
    body = _forged_body(k)
    conn.execute(
        text("INSERT INTO audit_events (seq, body, prev_hash, hash) VALUES (:s, :b, :p, :h)"),
        {"s": k, "b": body, "p": prev, "h": hashlib.sha256(prev + body).digest()},
    )
    return k


def duplicate_row(conn: Connection, k: int, n: int, rnd: random.Random) -> int:
    """Event k - 1 copied over event k (an event recorded twice)."""
    if k == 1:
        return modify_hash(conn, k, n, rnd)
    body, prev, h = _row(conn, k - 1)
    _set(conn, k, body=body, prev_hash=prev, hash=h)
    return k


def swap_rows(conn: Connection, k: int, n: int, rnd: random.Random) -> int:
    j = rnd.randrange(1, n + 1)
    while j == k:
        j = rnd.randrange(1, n + 1)
    i, j = min(k, j), max(k, j)
    a, b = _row(conn, i), _row(conn, j)
    _set(conn, i, body=b[0], prev_hash=b[1], hash=b[2])
    _set(conn, j, body=a[0], prev_hash=a[1], hash=a[2])
    return i


def move_row(conn: Connection, k: int, n: int, rnd: random.Random) -> int:
    """Event k given another seq, beyond the end."""
    _set(conn, k, seq=n + 1 + rnd.randrange(5))
    return k


def truncate_chain(conn: Connection, k: int, n: int, rnd: random.Random) -> int:
    """Events k to the end cut off (and the head row set back)."""
    conn.execute(text("DELETE FROM audit_events WHERE seq >= :k"), {"k": k})
    last = _row(conn, k - 1)[2] if k > 1 else b""
    conn.execute(text("UPDATE audit_head SET seq = :s, hash = :h"), {"s": k - 1, "h": last})
    return k


def rewrite_chain(conn: Connection, k: int, n: int, rnd: random.Random) -> int:
    """Event k altered and every hash from k to the end recomputed (no signing key)."""
    prev = _row(conn, k - 1)[2] if k > 1 else chain.GENESIS_HASH
    rows = conn.execute(
        text("SELECT seq, body FROM audit_events WHERE seq >= :k ORDER BY seq"), {"k": k}
    ).all()
    for seq, stored in rows:
        body = bytes(stored)
        if seq == k:
            body = body.replace(b'"actor":"', b'"actor":"x', 1)
        h = hashlib.sha256(prev + body).digest()
        _set(conn, seq, body=body, prev_hash=prev, hash=h)
        prev = h
    conn.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})
    return k


TAMPERINGS: tuple[Tamper, ...] = (
    modify_body,
    modify_body_rehash,
    modify_prev_hash,
    modify_hash,
    truncate_body,
    delete_row,
    delete_and_renumber,
    insert_row,
    duplicate_row,
    swap_rows,
    move_row,
    truncate_chain,
    rewrite_chain,
)


def _tampered(
    store: Store, tamper: Tamper, k: int, n: int, rnd: random.Random
) -> tuple[int, chain.VerificationResult]:
    with store.engine.connect() as conn:
        trans = conn.begin()
        try:
            first = tamper(conn, k, n, rnd)
            bound = dataclasses.replace(store, sessions=sessionmaker(bind=conn))
            return first, audit_service.verify_audit(bound)
        finally:
            trans.rollback()


def _checkpoint_seqs(store: Store) -> list[int]:
    with store.engine.connect() as conn:
        return [s for (s,) in conn.execute(text("SELECT seq FROM audit_checkpoints ORDER BY seq"))]


def test_random_tampering_is_always_detected(audited: Store, backend: str) -> None:
    seed = int(os.environ.get("SAFESHARE_TAMPER_SEED", "20260301"))
    rnd = random.Random(seed)
    n = audit_service.verify_audit(audited).events_checked
    cps = _checkpoint_seqs(audited)
    assert cps[-1] == n
    seen: set[str] = set()
    for case in range(CASES[backend]):
        tamper = TAMPERINGS[case % len(TAMPERINGS)]
        k = rnd.randrange(1, n + 1)
        first, result = _tampered(audited, tamper, k, n, rnd)
        where = f"seed {seed}, case {case}: {tamper.__name__} at {k}"
        assert not result.ok, where
        assert result.first_bad_seq is not None, where
        next_cp = min(c for c in cps if c >= first)
        assert first <= result.first_bad_seq <= next_cp, f"{where}: {result.problem}"
        if tamper is rewrite_chain:
            # Every link is consistent: only the signed checkpoint can tell.
            assert result.first_bad_seq == next_cp, f"{where}: {result.problem}"
            assert "rewritten" in result.problem, where
        seen.add(tamper.__name__)
    assert seen == {t.__name__ for t in TAMPERINGS}
    assert audit_service.verify_audit(audited, require_anchored_head=True).ok  # all rolled back


def test_a_rewrite_after_the_last_checkpoint_needs_an_anchored_head(audited: Store) -> None:
    """The documented limit: events after the last checkpoint can be rewritten unseen;
    ``require_anchored_head`` reports them as not covered."""
    for i in range(3):
        register_subject(audited, f.subject(f"late{i}"), actor="im")
    n = audit_service.verify_audit(audited).events_checked
    first, result = _tampered(audited, rewrite_chain, n - 1, n, random.Random(1))
    assert result.ok
    with audited.engine.connect() as conn, conn.begin() as trans:
        rewrite_chain(conn, first, n, random.Random(1))
        bound = dataclasses.replace(audited, sessions=sessionmaker(bind=conn))
        anchored = audit_service.verify_audit(bound, require_anchored_head=True)
        trans.rollback()
    assert not anchored.ok
    assert anchored.first_bad_seq == n - 2
