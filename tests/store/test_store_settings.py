"""Settings are validated at start: production refuses the convenience defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from safeshare.settings import Env, Settings


def test_production_refuses_default_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DATABASE_URL", "FIELD_KEY_FILE", "FIELD_KEYS", "AUDIT_KEY_FILE"):
        monkeypatch.delenv(f"SAFESHARE_{var}", raising=False)
    with pytest.raises(ValidationError, match="refuses default secrets"):
        Settings(env=Env.PRODUCTION)


def test_production_starts_with_explicit_settings(tmp_path: Path) -> None:
    s = Settings(
        env=Env.PRODUCTION,
        database_url="postgresql+psycopg://u@h/db",
        field_key_file=tmp_path / "k.json",
        audit_key_file=tmp_path / "a.pem",
    )
    assert s.resolved_database_url().startswith("postgresql")


def test_unknown_env_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(env="staging")  # type: ignore[arg-type]
