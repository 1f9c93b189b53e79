"""Migration 0006 gives a record from before the organisation holding the person's cases,
when only one does; a person with cases at two organisations (or none) leaves her records
with no holder, so no organisation's subject access releases them. On SQLite and
PostgreSQL (a fresh database of ``store_settings``, migrated here step by step)."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from safeshare.settings import Settings
from safeshare.store.migrate import current_revision, head_revision, upgrade

BEFORE = "0005_cases_subject_owner_index"


def test_records_from_before_get_the_one_organisation_holding_the_persons_cases(
    store_settings: Settings,
) -> None:
    assert store_settings.database_url is not None
    engine = create_engine(store_settings.database_url)
    try:
        upgrade(engine, BEFORE)
        with engine.begin() as conn:
            for org in ("unhcr", "ngo-a"):
                conn.execute(
                    text(
                        "INSERT INTO organisations (id, kind, dp_assessment, anonymity_only,"
                        " refoulement_risk, name) VALUES (:id, 'partner', 'adequate', :no, :no,"
                        " :id)"
                    ),
                    {"id": org, "no": False},
                )
            for sid in ("s1", "s2", "s3"):
                conn.execute(
                    text(
                        "INSERT INTO subjects (id, reachable, can_consent, unaccompanied)"
                        " VALUES (:id, :yes, :yes, :no)"
                    ),
                    {"id": sid, "yes": True, "no": False},
                )
            cases = [("c1", "s1", "unhcr"), ("c2", "s1", "unhcr"), ("c3", "s2", "unhcr")]
            cases.append(("c4", "s2", "ngo-a"))
            for cid, sid, owner in cases:
                conn.execute(
                    text(
                        "INSERT INTO cases (id, subject_id, owner, status)"
                        " VALUES (:c, :s, :o, 'open')"
                    ),
                    {"c": cid, "s": sid, "o": owner},
                )
            for rid, sid in (("f1", "s1"), ("f2", "s2"), ("f3", "s3")):
                conn.execute(
                    text("INSERT INTO records (id, subject_id, category) VALUES (:r, :s, 'gbv')"),
                    {"r": rid, "s": sid},
                )
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            holders = dict(conn.execute(text("SELECT id, holder FROM records")).all())
        # s1: two cases, one organisation; s2: two organisations; s3: no case.
        assert holders == {"f1": "unhcr", "f2": None, "f3": None}
    finally:
        engine.dispose()
