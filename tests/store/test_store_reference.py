"""The reference data read in one statement on PostgreSQL (store/reference.py) equals what the
three separate reads give — organisations, the operation's data elements, the current
protocol version with its endorsers in order — with no protocol, a protocol no one endorsed,
and a protocol endorsed twice; on SQLite the separate reads run (nothing is prefetched)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from safeshare.api.config import WebSettings
from safeshare.core.vocabulary import Category, OrgKind
from safeshare.core.world import Organisation, Protocol
from safeshare.demo import load_demo
from safeshare.services import protocols, world_loader
from safeshare.services.registry import upsert_organisation
from safeshare.settings import Env
from safeshare.store import mapping, reference
from safeshare.store.models import DataElementRow
from safeshare.store.prepared import fetch
from safeshare.store.reads import CURRENT_PROTOCOL, OPERATION_ELEMENTS, WORLD_REFERENCE
from safeshare.store.unit import Store

POLICY = WebSettings(env=Env.TEST, fast_password_hashing=True).access_policy()


def _separately(session: Session) -> tuple[dict[str, Organisation], dict[str, Category], Any]:
    organisations = [mapping.organisation(r) for r in fetch(session, world_loader.Q_ORGANISATIONS)]
    elements = {r.id: Category(r.category) for r in fetch(session, world_loader.Q_ELEMENTS)}
    current = [tuple(r) for r in fetch(session, protocols.Q_CURRENT)]
    return {o.id: o for o in organisations}, elements, current


def _prefetched(
    store: Store, backend: str
) -> tuple[dict[str, Organisation], dict[str, Category], Any] | None:
    with store.reading() as session:
        done = reference.prefetch(session)
        assert done is (backend == "postgresql")
        if not done:
            assert WORLD_REFERENCE not in session.info
            return None
        assert reference.prefetch(session) is False  # read once per session
        organisations = session.info[WORLD_REFERENCE]
        kept = (
            {o.id: o for o in organisations},
            session.info[OPERATION_ELEMENTS],
            [tuple(r) for r in session.info[CURRENT_PROTOCOL]],
        )
        # What the services read now comes from what was kept, and equals it.
        assert world_loader.reference(session) == (organisations, kept[1])
        found = protocols.current_protocol(session)
        assert (found[1] if found else None) == (kept[2][0][0] if kept[2] else None)
        return kept


def _check(store: Store, backend: str) -> None:
    with store.reading() as session:
        expected = _separately(session)
    got = _prefetched(store, backend)
    if got is not None:
        assert got == expected
        assert len(got[0]) == len(expected[0])  # no organisation lost to the id mapping


def test_reference_data_in_one_statement_equals_the_separate_reads(
    store: Store, backend: str
) -> None:
    _check(store, backend)  # an empty store: no organisation, no element, no protocol
    load_demo(store, policy=POLICY, today=date(2026, 11, 26))
    _check(store, backend)  # the demo: organisations, an endorsed protocol
    with store.transaction() as session:
        session.add(DataElementRow(id="shelter_site", category=Category.BIOGRAPHICAL.value))
        upsert_organisation(session, Organisation(id="ngo-z", kind=OrgKind.PARTNER, name="Zed"))
    version = protocols.load_protocol(store, Protocol(id="p-new", endorsed=False), actor="test")
    _check(store, backend)  # a new version no one has endorsed yet
    for by, minute in (("ngo-z", 2), ("unhcr", 1)):
        protocols.endorse_protocol(
            store, version.id, by=by, actor="test", at=datetime(2026, 11, 27, 9, minute, tzinfo=UTC)
        )
    _check(store, backend)  # two endorsers, in the order they endorsed
    if backend == "postgresql":
        with store.reading() as session:
            rows = _separately(session)[2]
        assert [r[2] for r in rows] == ["unhcr", "ngo-z"]


def test_the_statement_names_the_models_tables() -> None:
    for table in reference.TABLES:
        assert f" {table} " in reference.REFERENCE_SQL
