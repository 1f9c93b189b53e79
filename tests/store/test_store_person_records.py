"""A share's persons' records read in one statement on PostgreSQL (store/person_records.py)
equal what the four separate prepared reads give — the same rows, values, value types and
names (dates, timestamps, encrypted bytes, NULLs) — for one person, several, and persons
with no records; the reads then come from what was kept. On SQLite nothing is prefetched."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeshare.api.config import WebSettings
from safeshare.demo import load_demo
from safeshare.services import world_loader
from safeshare.settings import Env
from safeshare.store.models import ConsentEntryRow, SubjectRow
from safeshare.store.prepared import fetch
from safeshare.store.reads import ROWS_SEEN, is_kept, rows
from safeshare.store.unit import Store

POLICY = WebSettings(env=Env.TEST, fast_password_hashing=True).access_policy()
PARTS = world_loader.PERSON_RECORDS.parts


def _plain(found: list[Any]) -> list[tuple[Any, ...]]:
    return sorted((tuple(r) for r in found), key=repr)


def _separately(session: Session, ids: list[str]) -> list[list[Any]]:
    return [fetch(session, part.query, {"ids": ids}) for part in PARTS]


def _check(store: Store, backend: str, ids: list[str]) -> None:
    with store.reading() as session:
        expected = _separately(session, ids)
    with store.reading() as session:
        done = world_loader.PERSON_RECORDS.prefetch(session, ids)
        assert done is (backend == "postgresql")
        if not done:
            assert not session.info.get(ROWS_SEEN)
            return
        assert world_loader.PERSON_RECORDS.prefetch(session, ids) is False  # kept already
        for part, want in zip(PARTS, expected, strict=True):
            assert is_kept(session, part.query, ids)
            got = rows(session, part.query, ids)  # answered from what was kept
            assert _plain(got) == _plain(want), part.query
            types = sorted([[type(v) for v in r] for r in got], key=repr)
            assert types == sorted([[type(v) for v in r] for r in want], key=repr)
            if got:
                assert got[0]._fields == tuple(want[0]._fields)
        consents = rows(session, world_loader.Q_CONSENTS, ids)
        assert [c.seq for c in consents] == sorted(c.seq for c in consents)


def test_one_statement_gives_the_separate_reads_rows(store: Store, backend: str) -> None:
    load_demo(store, policy=POLICY, today=date(2026, 11, 26))
    with store.reading() as session:
        subjects = sorted(session.scalars(select(SubjectRow.id)))
        with_consent = sorted(set(session.scalars(select(ConsentEntryRow.subject_id))))
        with_name = sorted(
            session.scalars(select(SubjectRow.id).where(SubjectRow.name_enc.is_not(None)))
        )
        born = sorted(session.scalars(select(SubjectRow.id).where(SubjectRow.born.is_not(None))))
    assert len(subjects) > 10
    assert with_consent
    assert with_name  # encrypted bytes come back as bytes
    for ids in (
        subjects[:1],
        with_consent[:1],
        with_consent[:3] + with_name[:2] + born[:2],
        subjects,
        ["no-such-person"],
    ):
        _check(store, backend, ids)


def test_nothing_is_prefetched_outside_a_session_that_keeps_its_reads(store: Store) -> None:
    with store.transaction() as session:
        assert world_loader.PERSON_RECORDS.prefetch(session, ["anyone"]) is False
    with store.reading() as session:
        assert world_loader.PERSON_RECORDS.prefetch(session, []) is False
        too_many = [f"s{i}" for i in range(10_000)]
        assert world_loader.PERSON_RECORDS.prefetch(session, too_many) is False
