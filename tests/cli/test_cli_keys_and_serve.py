"""``safeshare keys org ORG_ID`` (an organisation's packet key pair: file outside the
database, public keys registered and audited) and what ``safeshare serve`` prints (the web
address and the demo accounts, not only the API docs)."""

from __future__ import annotations

import gc
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import safeshare.cli.serve
import safeshare.cli.store_commands  # noqa: F401
from safeshare.bootstrap import bootstrap
from safeshare.cli import app
from safeshare.cli.serve import _url_host, worker_app
from safeshare.crypto.org_keys import OrgKeyDirectory
from safeshare.demo import raw_operation
from safeshare.services import audit as audit_service
from safeshare.services.org_keys import public_keys_of

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "shared"
P01 = SCENARIO / "p01-referral-with-consent.yaml"

runner = CliRunner()


@pytest.fixture
def env(cli_env: Path) -> Path:
    return cli_env


def run(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result


def test_keys_org_creates_registers_and_keeps(env: Path) -> None:
    run("db", "upgrade")
    run("import", "scenario", str(P01), "--actor", "im")
    out = run("keys", "org", "ngo-a", "--actor", "im").output
    key_file = env / "org-keys" / "ngo-a.key.json"
    assert "created key file" in out
    assert "public keys registered" in out
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert json.loads(key_file.read_text())["org"] == "ngo-a"
    key_id = OrgKeyDirectory(env / "org-keys").public("ngo-a").key_id
    assert key_id in out

    again = run("keys", "org", "ngo-a").output  # idempotent: the file is kept
    assert "kept existing key file" in again
    assert "already registered" in again
    assert OrgKeyDirectory(env / "org-keys").public("ngo-a").key_id == key_id

    replaced = run("keys", "org", "ngo-a", "--replace").output
    new_id = OrgKeyDirectory(env / "org-keys").public("ngo-a").key_id
    assert new_id != key_id
    assert f"key id {new_id}" in replaced

    store = bootstrap()
    try:
        with store.reading() as session:
            registered = public_keys_of(session, "ngo-a")
            assert registered is not None
            assert registered.key_id == new_id
        assert audit_service.verify_audit(store).ok
    finally:
        store.dispose()


def test_keys_org_refuses_an_unknown_organisation(env: Path) -> None:
    run("db", "upgrade")
    result = run("keys", "org", "nobody", code=1)
    assert "not in the store" in result.output
    assert not (env / "org-keys" / "nobody.key.json").exists()


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Serving freezes the process's heap (``settle_heap``); the tests share one process, so
    the objects are handed back to the collector afterwards."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_serve_prints_the_web_address_and_the_demo_accounts(
    env: Path, monkeypatch: pytest.MonkeyPatch, unfrozen: None
) -> None:
    served: dict[str, Any] = {}

    def fake_run(application: Any, **kwargs: Any) -> None:
        served["app"] = application
        served["frozen"] = gc.get_freeze_count()
        served["tracked"] = any(o is application for o in gc.get_objects())
        served.update(kwargs)

    monkeypatch.setattr("uvicorn.run", fake_run)
    out = run("serve", "--port", "8123").output
    assert "Web: http://127.0.0.1:8123/" in out
    assert "sign in at http://127.0.0.1:8123/login" in out
    assert "API: http://127.0.0.1:8123/api/docs" in out
    for account in raw_operation()["accounts"]:
        assert account["username"] in out
    assert served["port"] == 8123
    # The demo's organisations have registered keys, in the configured key directory.
    orgs = [o["id"] for o in raw_operation()["world"]["organisations"]]
    assert f"packet keys of {len(orgs)} organisations" in out
    for org in orgs:
        assert (env / "org-keys" / f"{org}.key.json").exists()
    assert served["app"].state.org_keys.path == env / "org-keys"
    # The app was built before the heap was set aside: the collector's passes skip it.
    assert served["frozen"] > 0
    assert served["tracked"] is False


def test_a_worker_process_app_is_built_then_frozen(env: Path, unfrozen: None) -> None:
    run("db", "upgrade")
    application = worker_app()
    try:
        assert gc.get_freeze_count() > 0
        assert not any(o is application for o in gc.get_objects())  # set aside, not tracked
        gc.unfreeze()
        assert any(o is application for o in gc.get_objects())
    finally:
        application.state.store.dispose()


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("0.0.0.0", "127.0.0.1"),
        ("::", "[::1]"),
        ("::1", "[::1]"),
        ("localhost", "localhost"),
    ],
)
def test_url_host(host: str, shown: str) -> None:
    assert _url_host(host) == shown
