"""Shared fixtures. ``store`` runs each store test on SQLite (a temp file) and, when
SAFESHARE_TEST_POSTGRES_URL is set, on PostgreSQL in a fresh schema dropped afterwards. An
unreachable PostgreSQL server fails the tests: it never skips them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from safeshare.bootstrap import bootstrap
from safeshare.settings import Settings
from safeshare.store.unit import Store

POSTGRES_URL = os.environ.get("SAFESHARE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]
SCENARIOS = Path(__file__).resolve().parent / "scenarios" / "shared"


def _with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=BACKENDS)
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a fresh, empty database (not yet migrated) and fresh key files."""
    keys = {
        "field_key_file": tmp_path / "keys" / "field-keys.json",
        "audit_key_file": tmp_path / "keys" / "audit-key.pem",
    }
    if request.param == "sqlite":
        yield Settings(env="test", database_url=f"sqlite:///{tmp_path / 'store.db'}", **keys)
        return
    assert POSTGRES_URL is not None
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield Settings(env="test", database_url=_with_search_path(POSTGRES_URL, schema), **keys)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(store_settings: Settings) -> Iterator[Store]:
    """A migrated store with its own keys."""
    s = bootstrap(store_settings, upgrade=True)
    try:
        yield s
    finally:
        s.dispose()


@pytest.fixture
def backend(store_settings: Settings) -> str:
    url = store_settings.database_url or ""
    return "postgresql" if url.startswith("postgresql") else "sqlite"  # not the temp path's name
