"""PostgreSQL's pooled connections are pinged only after idling (store/database.py): one used
within ``PING_AFTER_IDLE_S`` is handed out as it is (no round trip), one idle longer is
pinged, and a dead one is replaced before anyone gets it. SQLite has no server and no ping."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from safeshare.store import database
from safeshare.store.unit import Store


def _counting_pings(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    real = store.engine.dialect.do_ping

    def do_ping(dbapi_connection: Any) -> bool:
        pings.append(1)
        return bool(real(dbapi_connection))

    monkeypatch.setattr(store.engine.dialect, "do_ping", do_ping)
    return pings


def _one(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text("SELECT 1")).scalar_one())


def test_a_connection_is_pinged_only_after_idling(
    store: Store, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.engine.dispose()  # a pool of fresh connections
    pings = _counting_pings(store, monkeypatch)
    assert _one(store) == 1
    first = len(pings)
    assert _one(store) == 1
    assert _one(store) == 1
    assert len(pings) == first  # reused at once: not pinged
    monkeypatch.setattr(database, "PING_AFTER_IDLE_S", 0.0)
    assert _one(store) == 1
    if backend == "postgresql":
        assert first == 1  # a new connection is pinged once
        assert len(pings) == 2  # idle "long enough": pinged
    else:
        assert pings == []


def test_a_dead_idle_connection_is_replaced(
    store: Store, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend != "postgresql":
        assert _one(store) == 1  # SQLite: nothing to drop
        return
    store.engine.dispose()
    with store.engine.connect() as conn:
        pid = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
    url = store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    monkeypatch.setattr(database, "PING_AFTER_IDLE_S", 0.0)
    with store.engine.connect() as conn:
        assert int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one()) != pid
