"""Nothing personal at rest: canary values written through the services never appear in the
SQLite file, its WAL, or a backup made with the sqlite3 backup API."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

import factories as f
from safeshare.services import audit as audit_service
from safeshare.services.consent import record_consent, withdraw_consent
from safeshare.services.decisions import decide_request
from safeshare.services.protocols import endorse_protocol, load_protocol
from safeshare.services.registry import (
    case_details,
    open_case,
    register_subject,
    save_organisation,
)
from safeshare.store.unit import Store

NAME = "Zawadi Canarywoman"
PHONE = "+254 799 314159"
INCIDENT = "Assaulted near the water point by her cousin Canaryman"
EVIDENCE = "Consent form CANARY-4711"
CANARIES = [NAME, PHONE, INCIDENT, EVIDENCE, "Canary"]


def _files(store: Store, tmp_path: Path) -> list[Path]:
    db = Path(make_url(str(store.engine.url)).database or "")
    backup = tmp_path / "backup.db"
    with sqlite3.connect(db) as source, sqlite3.connect(backup) as target:
        source.backup(target)
    return [p for p in (db, Path(f"{db}-wal"), backup) if p.exists()]


def _assert_clean(paths: list[Path]) -> None:
    for path in paths:
        data = path.read_bytes()
        for canary in CANARIES:
            for encoded in (canary.encode("utf-8"), canary.encode("utf-16-le")):
                assert encoded not in data, f"{canary!r} found in {path.name}"


def test_canaries_never_reach_the_disk(store: Store, backend: str, tmp_path: Path) -> None:
    if backend != "sqlite":
        return
    for org in f.organisations():
        save_organisation(store, org, actor="tester")
    version = load_protocol(store, f.protocol(), actor="im")
    endorse_protocol(store, version.id, by="Representative", actor="im")
    register_subject(store, f.subject(), actor="cw", name=NAME, contact=PHONE)
    open_case(store, f.case(), actor="cw", details=INCIDENT, notes=f"Called {PHONE}")
    record_consent(store, f.consent(evidence_ref=EVIDENCE), actor="cw")
    decide_request(store, f.share_request(label=NAME), actor="fp", today=f.TODAY)
    withdraw_consent(
        store, subject="s1", purposes=["legal-aid-referral"], actor="cw", evidence_ref=EVIDENCE
    )
    assert case_details(store, "c1", actor="fp").details == INCIDENT
    audit_service.write_checkpoint(store, actor="auditor")
    _assert_clean(_files(store, tmp_path))  # with the WAL still holding the pages
    store.dispose()
    db = make_url(str(store.engine.url)).database or ""
    with sqlite3.connect(db) as raw:
        raw.execute("PRAGMA wal_checkpoint(FULL)")
    _assert_clean(_files(store, tmp_path))
