"""Reads made ahead in one statement on PostgreSQL (store/read_ahead.py, with the bundles of
services/reads_ahead.py) give what the separate prepared reads give — the same rows,
values, value types and names (timestamps with their zone, NULLs, encrypted bytes) — and
the reads then come from what was kept, with no statement of their own. On SQLite nothing is
read ahead."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from safeshare.api.config import WebSettings
from safeshare.demo import load_demo
from safeshare.services import needs, reads_ahead, world_loader
from safeshare.settings import Env
from safeshare.store.models import CaseRow, StaffCaseRow, StaffRow
from safeshare.store.prepared import fetch
from safeshare.store.read_ahead import read_ahead, rows_ahead
from safeshare.store.reads import OPERATION_ELEMENTS, ROWS_SEEN, is_kept, rows
from safeshare.store.unit import Store

POLICY = WebSettings(env=Env.TEST, fast_password_hashing=True).access_policy()
AT = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _plain(found: list[Any]) -> list[tuple[Any, ...]]:
    return sorted((tuple(r) for r in found), key=repr)


def _same(got: list[Any], want: list[Any]) -> None:
    assert _plain(got) == _plain(want)
    assert sorted([[type(v) for v in r] for r in got], key=repr) == sorted(
        [[type(v) for v in r] for r in want], key=repr
    )
    if got:
        assert got[0]._fields == tuple(want[0]._fields)


def _operation(store: Store) -> tuple[str, str, list[str], str]:
    """The demo, and a UNHCR caseworker with a recorded need for another's case: her id, that
    case, some persons, and the case's person."""
    load_demo(store, policy=POLICY, today=date(2026, 11, 26))
    with store.reading() as session:
        staff = sorted(
            session.scalars(
                select(StaffRow.id).where(StaffRow.org == "unhcr", StaffRow.role == "caseworker")
            )
        )
        cases = session.execute(
            select(CaseRow.id, CaseRow.subject_id).where(CaseRow.owner == "unhcr")
        ).all()
    granter = next(s for s in staff[1:])
    needs.record_need(
        store,
        staff_id=staff[0],
        case_id=cases[0].id,
        need="technical-assistance",
        actor_staff=granter,
        actor_org="unhcr",
        valid_for=timedelta(days=3),
        at=AT,
    )
    return staff[0], cases[0].id, sorted({c.subject_id for c in cases})[:4], cases[0].subject_id


def test_reads_made_ahead_give_the_separate_reads_rows(store: Store, backend: str) -> None:
    staff, case, subjects, _ = _operation(store)
    wanted = [
        (world_loader.Q_CASES, [case], {}),
        (needs.Q_NEEDS_OF_STAFF, [staff], {}),  # a timestamp with its zone, and a NULL
        (world_loader.Q_ASSIGNED, [staff], {"cases": [case]}),
        (world_loader.Q_STAFF, [staff], {}),
        (world_loader.Q_CASES_OF, subjects, {}),  # encrypted bytes, dates
        (world_loader.Q_CATEGORIES, ["no-such-person"], {}),  # no rows
    ]
    with store.reading() as session:
        expected = [fetch(session, q, {"ids": ids, **p}) for q, ids, p in wanted]
    assert expected[1], "the recorded need is read"
    with store.reading() as session:
        done = read_ahead(session, [rows_ahead(session, q, ids, **p) for q, ids, p in wanted])
        assert done is (backend == "postgresql")
        if not done:
            assert not session.info.get(ROWS_SEEN)
            return
        for (query, ids, params), want in zip(wanted, expected, strict=True):
            assert is_kept(session, query, ids, **params)
            _same(rows(session, query, ids, **params), want)
        # Kept already: nothing left to read ahead.
        assert (
            read_ahead(session, [rows_ahead(session, q, ids, **p) for q, ids, p in wanted]) is False
        )


def test_a_case_read_is_read_ahead_whole(store: Store, backend: str) -> None:
    staff, case, _, subject = _operation(store)
    with store.reading() as session:
        categories = fetch(session, world_loader.Q_CATEGORIES, {"ids": [subject]})
        elements = fetch(session, world_loader.Q_ELEMENTS)
    with store.reading() as session:
        done = reads_ahead.case_read(session, staff, case, categories=True)
        assert done is (backend == "postgresql")
        if not done:
            return
        assert is_kept(session, world_loader.Q_CATEGORIES, [subject])
        _same(rows(session, world_loader.Q_CATEGORIES, [subject]), categories)
        kept = session.info[OPERATION_ELEMENTS]
        assert kept == {e.id: world_loader.Category(e.category) for e in elements}
        assert needs.active_need(session, staff, case, AT) == "technical-assistance"


def test_an_evaluation_is_read_ahead_whole(store: Store, backend: str) -> None:
    staff, _, some, _ = _operation(store)
    with store.reading() as session:
        mine = session.scalars(
            select(CaseRow.subject_id)
            .join(StaffCaseRow, StaffCaseRow.case_id == CaseRow.id)
            .where(StaffCaseRow.staff_id == staff)
        ).first()
        assert mine is not None  # a person one of whose cases is hers
        subjects = sorted({*some, mine})
        cases_of = {
            s: [r.id for r in fetch(session, world_loader.Q_CASES_OF, {"ids": [s]})]
            for s in subjects
        }
        assigned = {
            s: fetch(session, world_loader.Q_ASSIGNED, {"ids": [staff], "cases": ids})
            for s, ids in cases_of.items()
        }
    assert assigned[mine]
    with store.reading() as session:
        world_loader.reference(session)
        expected_reference = dict(session.info)
        people = [
            fetch(session, p.query, {"ids": subjects}) for p in world_loader.PERSON_RECORDS.parts
        ]
    with store.reading() as session:
        done = reads_ahead.evaluation(session, staff, subjects)
        assert done is (backend == "postgresql")
        if not done:
            return
        for key in (world_loader.REFERENCE, OPERATION_ELEMENTS):
            assert session.info[key] == expected_reference[key]
        for part, want in zip(world_loader.PERSON_RECORDS.parts, people, strict=True):
            assert is_kept(session, part.query, subjects)
            _same(rows(session, part.query, subjects), want)
        for subject in subjects:
            assert is_kept(session, world_loader.Q_CASES_OF, [subject])
            ids = cases_of[subject]
            assert is_kept(session, world_loader.Q_ASSIGNED, [staff], cases=ids)
            _same(rows(session, world_loader.Q_ASSIGNED, [staff], cases=ids), assigned[subject])
