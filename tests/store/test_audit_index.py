"""The audit log's index columns (migration 0004): filled on append and, by the migration,
for events written before it; the case page's trail reads through them (never the whole
chain), and the chain itself is unchanged (it still verifies)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from safeshare.audit import chain
from safeshare.services import audit as audit_service
from safeshare.services.audit import case_access_trail
from safeshare.services.case_elements import set_case_elements
from safeshare.settings import Settings
from safeshare.store import audit_log, migrate
from safeshare.store.database import make_engine
from safeshare.store.models import AuditEventRow
from safeshare.store.unit import Store
from sharing_world import Operation, build


@pytest.fixture
def op(store: Store, tmp_path: Path) -> Operation:
    return build(store, tmp_path / "org-keys")


def _full_scan(store: Store, case_id: str, subject_id: str) -> list[int]:
    """The trail as it was computed before the index: every event of the chain read."""
    wanted = {("case", case_id), ("subject", subject_id)}
    found = []
    with store.reading() as session:
        for event in audit_log.read_events(session, after=0, limit=1_000_000):
            subject = event.details.get("subject") if event.details else None
            about = (event.object_type, event.object_id) in wanted or subject == subject_id
            if about and event.action.startswith(audit_service.TRAIL_ACTIONS):
                found.append(event.seq)
    return list(reversed(found))


def test_append_fills_the_index_outside_the_hashed_body(op: Operation) -> None:
    set_case_elements(op.store, "c1", {"language": "Somali"}, actor="tester")
    with op.store.reading() as session:
        row = session.scalars(
            select(AuditEventRow).order_by(AuditEventRow.seq.desc()).limit(1)
        ).one()
        assert (row.object_type, row.object_id, row.subject_id) == ("case", "c1", None)
        body = chain.parse_body(bytes(row.body))
        assert (body.object_type, body.object_id) == ("case", "c1")
        assert b'object_type":"case' in bytes(row.body)
    assert audit_service.verify_audit(op.store).ok


def test_case_trail_equals_the_full_scan(op: Operation) -> None:
    for i in range(3):
        set_case_elements(op.store, "c1", {"language": f"L{i}"}, actor="tester")
        set_case_elements(op.store, "c2", {"language": f"L{i}"}, actor="tester")
    trail = case_access_trail(op.store, "c1")
    assert [e.seq for e in trail] == _full_scan(op.store, "c1", "s1")
    assert trail  # the case's own events, newest first
    assert [e.seq for e in trail] == sorted((e.seq for e in trail), reverse=True)
    assert all(e.action.startswith(audit_service.TRAIL_ACTIONS) for e in trail)
    assert len(case_access_trail(op.store, "c1", limit=2)) == 2
    assert case_access_trail(op.store, "no-such-case") == []


def test_case_trail_ignores_a_forged_index_column(op: Operation) -> None:
    """The index is outside the chain: a row pointed at the case by its index alone is not
    shown (the body decides)."""
    set_case_elements(op.store, "c2", {"language": "Somali"}, actor="tester")
    with op.store.transaction() as session:
        seq = session.scalar(select(AuditEventRow.seq).order_by(AuditEventRow.seq.desc()))
        session.execute(text("UPDATE audit_events SET object_id = 'c1' WHERE seq = :s"), {"s": seq})
    assert seq not in {e.seq for e in case_access_trail(op.store, "c1")}


def test_migration_0004_indexes_the_events_written_before_it(store_settings: Settings) -> None:
    url = store_settings.resolved_database_url()
    engine = make_engine(url)
    try:
        migrate.upgrade(engine, "0003_sharing")
        prev = chain.GENESIS_HASH
        rows = []
        bodies = [
            ("access.case", "case", "c-9", {}),
            ("consent.granted", "consent_entry", "e-1", {"subject": "s-9"}),
            ("subject.register", "subject", "s-9", {}),
        ]
        for seq, (action, otype, oid, details) in enumerate(bodies, start=1):
            body = chain.AuditEventBody(
                seq=seq,
                at=chain.utc_timestamp(datetime(2026, 3, 1, tzinfo=UTC)),
                actor="tester",
                action=action,
                object_type=otype,
                object_id=oid,
                codes=(),
                details=details,
            )
            raw, digest = chain.next_link(prev, body)
            rows.append({"s": seq, "b": raw, "p": prev, "h": digest})
            prev = digest
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO audit_events (seq, body, prev_hash, hash) VALUES (:s, :b, :p, :h)"
                ),
                rows,
            )
        migrate.upgrade(engine)
        with engine.connect() as conn:
            found = conn.execute(
                text(
                    "SELECT seq, object_type, object_id, subject_id FROM audit_events ORDER BY seq"
                )
            ).all()
            hashes = [
                bytes(h)
                for (h,) in conn.execute(text("SELECT hash FROM audit_events ORDER BY seq"))
            ]
        assert [tuple(r) for r in found] == [
            (1, "case", "c-9", None),
            (2, "consent_entry", "e-1", "s-9"),
            (3, "subject", "s-9", "s-9"),
        ]
        assert hashes == [r["h"] for r in rows]  # the chain is untouched
    finally:
        engine.dispose()
