"""The store's commands end to end through the CLI (they only call services)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

import safeshare.cli.store_commands  # noqa: F401  (registers the commands)
from safeshare.cli import app

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios" / "shared"

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "cli.db"
    monkeypatch.setenv("SAFESHARE_ENV", "test")
    monkeypatch.setenv("SAFESHARE_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("SAFESHARE_FIELD_KEY_FILE", str(tmp_path / "keys.json"))
    monkeypatch.setenv("SAFESHARE_AUDIT_KEY_FILE", str(tmp_path / "audit.pem"))
    monkeypatch.delenv("SAFESHARE_FIELD_KEYS", raising=False)
    return db


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_store_commands(env: Path, tmp_path: Path) -> None:
    run("db", "upgrade")
    run("import", "scenario", str(SCENARIOS / "p01-referral-with-consent.yaml"), "--actor", "im")
    out = run("protocol", "load", str(SCENARIOS / "p06-cash-score-minimisation.yaml"))
    assert "new version" in out
    version_id = out.split("id ")[1].split()[0]
    assert "endorsement recorded" in run("protocol", "endorse", version_id, "--by", "Rep")
    run("consent", "withdraw", "--subject", "s1", "--purpose", "legal-aid-referral")
    (tmp_path / "subjects.csv").write_text("subject_id,age,name\nx1,40,Someone\n")
    assert "imported 1 subjects" in run("import", "subjects", str(tmp_path / "subjects.csv"))
    assert "re-encrypted" in run("keys", "rotate")
    run("audit", "checkpoint")
    assert "intact" in run("audit", "verify")

    with sqlite3.connect(env) as raw:
        raw.execute("UPDATE audit_events SET hash = zeroblob(32) WHERE seq = 3")
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "event 3" in result.output


def test_bad_import_row_is_reported_with_line_and_column(env: Path, tmp_path: Path) -> None:
    run("db", "upgrade")
    bad = tmp_path / "subjects.csv"
    bad.write_text("subject_id,age\nx1,40\nx2,old\n")
    result = runner.invoke(app, ["import", "subjects", str(bad)])
    assert result.exit_code == 1
    assert "line 3" in result.output
    assert "'age'" in result.output


def test_commands_refuse_an_unmigrated_database(env: Path) -> None:
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "db upgrade" in result.output
