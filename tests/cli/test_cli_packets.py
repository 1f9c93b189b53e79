"""``safeshare packets purge``: erases the packets past their recipient's window (for a daily
timer), reporting how many and why; a bad ``--date`` is refused before anything changes."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import safeshare.cli.serve
import safeshare.cli.store_commands  # noqa: F401
from safeshare.bootstrap import bootstrap
from safeshare.cli import app
from safeshare.services.referrals import accept_referral, create_referral
from safeshare.store.models_sharing import ReferralRow
from sharing_world import ACTOR, TODAY, build, referral_request

runner = CliRunner()


@pytest.fixture
def referral(cli_env: Path) -> str:
    """An accepted referral whose window ends on 2026-09-01, in a store the CLI opens."""
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    store = bootstrap()
    try:
        op = build(store, cli_env / "org-keys")
        request = referral_request(data_elements=("name", "phone"))
        ref = create_referral(op.store, op.keys, request, actor=ACTOR, today=TODAY).referral
        assert ref is not None
        accept_referral(op.store, ref.id, org_id="ngo-a", actor="u", today=TODAY)
        return ref.id
    finally:
        store.dispose()


def _ciphertext_kept(referral_id: str) -> bool:
    store = bootstrap()
    try:
        with store.reading() as session:
            row = session.get(ReferralRow, referral_id)
            assert row is not None
            return row.ciphertext is not None
    finally:
        store.dispose()


def test_purge_erases_only_after_the_window(referral: str) -> None:
    inside = runner.invoke(app, ["packets", "purge", "--date", "2026-09-01", "--actor", "im"])
    assert inside.exit_code == 0, inside.output
    assert "packets erased: 0" in inside.output
    assert _ciphertext_kept(referral)

    after = runner.invoke(app, ["packets", "purge", "--date", "2026-09-02", "--actor", "im"])
    assert after.exit_code == 0, after.output
    assert "packets erased: 1 (1 past retention, 0 unanswered, 0 rejected)" in after.output
    assert not _ciphertext_kept(referral)


def test_purge_refuses_a_date_after_today(referral: str) -> None:
    later = (date.today() + timedelta(days=1)).isoformat()
    result = runner.invoke(app, ["packets", "purge", "--date", later])
    assert result.exit_code == 2
    assert "--date may not be after today" in result.output
    assert _ciphertext_kept(referral)


def test_purge_refuses_a_bad_date(referral: str) -> None:
    result = runner.invoke(app, ["packets", "purge", "--date", "1 Sept"])
    assert result.exit_code == 2
    assert "--date must be YYYY-MM-DD" in result.output
    assert _ciphertext_kept(referral)


def test_serve_purges_at_start(referral: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert date.today() > date(2026, 9, 1)  # the window ended before the server starts
    monkeypatch.setattr("uvicorn.run", lambda application, **kwargs: None)
    result = runner.invoke(app, ["serve", "--port", "8124"])
    assert result.exit_code == 0, result.output
    assert "Erased 1 referral packets past their recipients' window." in result.output
    assert not _ciphertext_kept(referral)
