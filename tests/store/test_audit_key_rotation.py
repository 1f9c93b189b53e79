"""Rotating the audit checkpoint signing key: checkpoints signed before the rotation still
verify with the retired public key (kept next to the key file, or named in the settings)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import factories as f
import safeshare.cli.store_commands  # noqa: F401  (registers the commands)
from safeshare.audit.chain import SigningKey
from safeshare.bootstrap import MissingKeyError, bootstrap
from safeshare.cli import app
from safeshare.services import audit as audit_service
from safeshare.services.registry import register_subject, save_organisation
from safeshare.settings import Env, Settings
from safeshare.store.models import AuditCheckpointRow


def _write(settings: Settings, start: int, n: int) -> None:
    store = bootstrap(settings)
    try:
        for i in range(start, start + n):
            register_subject(store, f.subject(f"s{i}"), actor="cw")
        audit_service.write_checkpoint(store, actor="auditor")
    finally:
        store.dispose()


def test_checkpoints_signed_before_a_rotation_still_verify(store_settings: Settings) -> None:
    store = bootstrap(store_settings, upgrade=True)
    try:
        for org in f.organisations():
            save_organisation(store, org, actor="tester")
        old_id = store.signer.key_id  # type: ignore[union-attr]
    finally:
        store.dispose()
    _write(store_settings, 0, 3)

    store = bootstrap(store_settings)
    try:
        done = audit_service.rotate_signing_key(
            store,
            key_file=store_settings.resolved_audit_key_file(),
            trusted_dir=store_settings.resolved_trusted_keys_dir(),
            actor="admin",
        )
        assert done.old_key_id == old_id
        assert done.new_key_id != old_id
        assert audit_service.verify_audit(store, require_anchored_head=True).ok
    finally:
        store.dispose()
    assert SigningKey.load(store_settings.resolved_audit_key_file()).key_id == done.new_key_id
    _write(store_settings, 3, 3)

    # A fresh start reads the retired key from trusted-audit-keys/ next to the key file.
    store = bootstrap(store_settings)
    try:
        with store.reading() as session:
            signers = set(session.scalars(select(AuditCheckpointRow.key_id)))
        assert signers == {old_id, done.new_key_id}
        result = audit_service.verify_audit(store, require_anchored_head=True)
        assert result.ok, result.problem
        assert result.checkpoints_checked >= 4
    finally:
        store.dispose()

    # Without the retired public key, the old checkpoints are not trusted...
    moved = store_settings.resolved_audit_key_file().parent.parent / "elsewhere"
    shutil.move(store_settings.resolved_trusted_keys_dir(), moved)
    store = bootstrap(store_settings)
    try:
        result = audit_service.verify_audit(store)
        assert not result.ok
        assert old_id in result.problem
    finally:
        store.dispose()

    # ...and the setting that lists extra trusted keys (a file or a directory) restores them.
    for trusted in (moved, next(moved.glob("*.pem"))):
        settings = store_settings.model_copy(update={"audit_trusted_keys": [trusted]})
        store = bootstrap(settings)
        try:
            assert audit_service.verify_audit(store).ok
        finally:
            store.dispose()


def test_trusted_keys_setting_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = tmp_path / "a.pem", tmp_path / "b"
    monkeypatch.setenv("SAFESHARE_AUDIT_TRUSTED_KEYS", f"{a}:{b}")
    assert Settings(env=Env.TEST).audit_trusted_keys == [a, b]
    monkeypatch.setenv("SAFESHARE_AUDIT_TRUSTED_KEYS", "")
    assert Settings(env=Env.TEST).audit_trusted_keys == []


def test_a_missing_trusted_key_file_stops_the_start(tmp_path: Path) -> None:
    settings = Settings(
        env=Env.TEST,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        field_key_file=tmp_path / "keys.json",
        audit_key_file=tmp_path / "audit.pem",
        audit_trusted_keys=[tmp_path / "nope.pem"],
    )
    with pytest.raises(MissingKeyError, match=r"nope\.pem"):
        bootstrap(settings)


def test_rotate_signing_key_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFESHARE_ENV", "test")
    monkeypatch.setenv("SAFESHARE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SAFESHARE_FIELD_KEY_FILE", str(tmp_path / "keys" / "keys.json"))
    monkeypatch.setenv("SAFESHARE_AUDIT_KEY_FILE", str(tmp_path / "keys" / "audit.pem"))
    monkeypatch.delenv("SAFESHARE_FIELD_KEYS", raising=False)
    monkeypatch.delenv("SAFESHARE_AUDIT_TRUSTED_KEYS", raising=False)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    run("db", "upgrade")
    run("audit", "checkpoint")
    old = SigningKey.load(tmp_path / "keys" / "audit.pem").key_id
    out = run("audit", "rotate-signing-key", "--actor", "admin")
    assert "retired" in out
    assert list((tmp_path / "keys" / "trusted-audit-keys").glob("*.pem"))
    assert SigningKey.load(tmp_path / "keys" / "audit.pem").key_id != old
    run("audit", "checkpoint")
    assert "intact" in run("audit", "verify", "--anchored")
