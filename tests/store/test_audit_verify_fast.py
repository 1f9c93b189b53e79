"""The fast audit verification (``audit_verify.verify_fast``: links checked by the database,
hashes by this process and worker processes) gives exactly the reference's
``VerificationResult`` (``chain.verify_chain_rows`` over every row): on intact chains, with
and without an anchored head, and after every tampering kind of ``test_audit_tamper_db``,
both in this process (a session bound to a connection with uncommitted tampering) and with a
worker process (tampering committed, then undone). SQLite, and PostgreSQL when
SAFESHARE_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session
from test_audit_tamper_db import TAMPERINGS, rewrite_chain
from test_audit_tamper_db import audited as audited_fixture  # noqa: F401 (a fixture)

import factories as f
from safeshare.audit import chain
from safeshare.services import audit as audit_service
from safeshare.services.registry import register_subject
from safeshare.store import audit_log, audit_verify, audit_worker
from safeshare.store.unit import Store


@pytest.fixture
def audited(audited_fixture: Store) -> Store:  # noqa: F811 (requests the imported fixture)
    """``test_audit_tamper_db``'s store: a few hundred events, a checkpoint every 40."""
    return audited_fixture


@pytest.fixture(autouse=True)
def short_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs of a few dozen events, so that a small chain is shared among processes."""
    monkeypatch.setattr(audit_verify, "RUN_MIN", 16)
    monkeypatch.setattr(audit_verify, "RUN_MAX", 40)


def _reference(session: Session, store: Store, anchored: bool) -> chain.VerificationResult:
    return chain.verify_chain_rows(
        audit_log.stream_event_rows(session),
        audit_log.checkpoints(session),
        store.public_keys,
        require_anchored_head=anchored,
    )


def _both(store: Store, anchored: bool, workers: int) -> tuple[Any, Any]:
    with store.reading() as session:
        fast = audit_verify.verify_fast(
            session,
            store.public_keys,
            require_anchored_head=anchored,
            workers=workers,
            parallel_min=0,
        )
    with store.reading() as session:
        return fast, _reference(session, store, anchored)


def _saved(store: Store) -> Iterator[tuple[str, list[Any]]]:
    with store.engine.connect() as conn:
        for table, cols in (
            ("audit_events", "seq, body, prev_hash, hash, object_type, object_id, subject_id"),
            ("audit_head", "id, seq, hash"),
        ):
            rows = [tuple(r) for r in conn.execute(text(f"SELECT {cols} FROM {table}"))]
            yield f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(rows[0]))})", rows


def _restore(conn: Connection, saved: list[tuple[str, list[Any]]]) -> None:
    conn.execute(text("DELETE FROM audit_events"))
    conn.execute(text("DELETE FROM audit_head"))
    for insert, rows in saved:
        conn.exec_driver_sql(
            insert.replace("?", "%s") if conn.dialect.name == "postgresql" else insert, rows
        )


def _n(store: Store) -> int:
    return audit_service.verify_audit(store).events_checked


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_an_intact_chain_gives_the_reference_result(
    audited: Store, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    answered: list[bool] = []
    real = audit_verify._Worker.answers

    def counting(self: audit_verify._Worker, *, wait: bool) -> Iterator[bool]:
        for ok in real(self, wait=wait):
            answered.append(ok)
            yield ok

    monkeypatch.setattr(audit_verify._Worker, "answers", counting)
    for anchored in (False, True):
        fast, ref = _both(audited, anchored, workers)
        assert fast == ref
        assert fast.ok
    for i in range(3):  # events after the last checkpoint
        register_subject(audited, f.subject(f"late{i}"), actor="im")
    for anchored in (False, True):
        fast, ref = _both(audited, anchored, workers)
        assert fast == ref
        assert fast.ok is not anchored
    assert (len(answered) > 0) is (workers > 0)  # the workers did runs


def test_an_empty_chain_gives_the_reference_result(store: Store) -> None:
    for anchored in (False, True):
        for workers in (0, 1):
            fast, ref = _both(store, anchored, workers)
            assert fast == ref
            assert fast.ok
            assert fast.events_checked == 0


def test_every_tampering_gives_the_reference_result_in_one_process(
    audited: Store, backend: str
) -> None:
    """Uncommitted tampering, seen through a session bound to the tampering connection."""
    rnd = random.Random(11)
    n = _n(audited)
    for case in range(len(TAMPERINGS) * (4 if backend == "sqlite" else 2)):
        tamper = TAMPERINGS[case % len(TAMPERINGS)]
        k = rnd.randrange(1, n + 1)
        with audited.engine.connect() as conn, conn.begin() as trans:
            tamper(conn, k, n, rnd)
            session = Session(bind=conn)
            fast = audit_verify.verify_fast(session, audited.public_keys, workers=1)
            ref = _reference(session, audited, False)
            session.close()
            trans.rollback()
        assert fast == ref, f"{tamper.__name__} at {k}"
        assert not fast.ok


def test_every_tampering_gives_the_reference_result_with_workers(audited: Store) -> None:
    """Committed tampering (then undone), verified with worker processes on their own
    connections."""
    rnd = random.Random(12)
    n = _n(audited)
    saved = list(_saved(audited))
    try:
        for case, tamper in enumerate(TAMPERINGS * 2):
            k = rnd.randrange(1, n + 1) if case < len(TAMPERINGS) else n - rnd.randrange(40)
            with audited.engine.begin() as conn:
                tamper(conn, k, n, rnd)
            for anchored in (False, True):
                fast, ref = _both(audited, anchored, workers=1)
                assert fast == ref, f"{tamper.__name__} at {k}"
                assert not fast.ok or (tamper is rewrite_chain and not anchored)
            with audited.engine.begin() as conn:
                _restore(conn, saved)
    finally:
        with audited.engine.begin() as conn:
            _restore(conn, saved)
    assert audit_service.verify_audit(audited, require_anchored_head=True).ok


def test_a_worker_on_another_snapshot_is_not_trusted(
    audited: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that does not see the head this process sees does no run: this process
    does them all, with the same result."""
    real = audit_verify._worker_spec

    def wrong(*args: Any) -> dict[str, Any]:
        spec = real(*args)
        return {**spec, "head_hash": "00" * 32} if spec else spec

    monkeypatch.setattr(audit_verify, "_worker_spec", wrong)
    fast, ref = _both(audited, True, workers=1)
    assert fast == ref
    assert fast.ok


def test_verify_audit_uses_the_fast_path(audited: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = audit_worker.check_run

    def counting(*args: Any) -> bool:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(audit_worker, "check_run", counting)
    assert audit_service.verify_audit(audited, require_anchored_head=True).ok
    assert calls
