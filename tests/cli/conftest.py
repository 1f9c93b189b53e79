"""The CLI tests' environment: a development store, keys and organisations' packet keys in
the test's own directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Points every ``SAFESHARE_*`` path setting into ``tmp_path`` (returned)."""
    monkeypatch.setenv("SAFESHARE_ENV", "development")
    monkeypatch.setenv("SAFESHARE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SAFESHARE_FIELD_KEY_FILE", str(tmp_path / "keys.json"))
    monkeypatch.setenv("SAFESHARE_AUDIT_KEY_FILE", str(tmp_path / "audit.pem"))
    monkeypatch.setenv("SAFESHARE_ORG_KEY_DIR", str(tmp_path / "org-keys"))
    monkeypatch.delenv("SAFESHARE_FIELD_KEYS", raising=False)
    return tmp_path
