"""Migrations, SQLite pragmas and the append-only consent ledger, enforced by the database."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

import factories as f
from safeshare.core.vocabulary import ConsentDecision
from safeshare.services import consent as consent_service
from safeshare.services.registry import open_case, register_subject, save_organisation
from safeshare.store import migrate
from safeshare.store.unit import Store

TABLES = {
    "organisations",
    "protocol_versions",
    "protocol_endorsements",
    "subjects",
    "subject_categories",
    "cases",
    "consent_ledger",
    "assessments",
    "staff",
    "staff_cases",
    "records",
    "decisions",
    "audit_events",
    "audit_head",
    "audit_checkpoints",
}


def test_migrations_run_up_from_empty(store: Store) -> None:
    assert set(inspect(store.engine).get_table_names()) >= TABLES
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    migrate.upgrade(store.engine)  # idempotent at head


def test_sqlite_connections_get_the_pragmas(store: Store, backend: str) -> None:
    if backend != "sqlite":
        return
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


def _one_entry(store: Store) -> str:
    for org in f.organisations():
        save_organisation(store, org, actor="tester")
    register_subject(store, f.subject(), actor="tester")
    open_case(store, f.case(), actor="tester")
    entry = f.consent(evidence_ref="paper form 12 in cabinet B")
    return consent_service.record_consent(store, entry, actor="tester")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE consent_ledger SET decision = 'refused'",
        "UPDATE consent_ledger SET date = '2020-01-01'",
        "UPDATE consent_ledger SET evidence_ref_enc = NULL",
        "DELETE FROM consent_ledger",
    ],
)
def test_the_database_refuses_to_change_the_ledger(store: Store, statement: str) -> None:
    _one_entry(store)
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text(statement))
    history = consent_service.consent_history(store, "s1")
    assert [r.decision for r in history] == [ConsentDecision.GRANTED]


def test_postgres_refuses_truncate(store: Store, backend: str) -> None:
    if backend != "postgresql":
        return
    _one_entry(store)
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("TRUNCATE consent_ledger CASCADE"))
