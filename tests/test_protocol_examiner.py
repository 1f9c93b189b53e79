"""Protocols written from the Note by an examiner (tests/protocols/examiner): each is checked
with the real ``safeshare protocol check`` command, its exit code and every expected finding
(code, purpose, severity) compared with the file's ``expect`` block."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

FILES = sorted((Path(__file__).resolve().parent / "protocols" / "examiner").glob("*.yaml"))
SAFESHARE = Path(sys.executable).parent / "safeshare"


def _key(finding: dict[str, Any]) -> tuple[Any, Any, Any]:
    return (finding.get("code"), finding.get("purpose"), finding.get("severity"))


def test_there_are_examiner_protocols() -> None:
    assert len(FILES) >= 25


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_examiner_protocol(path: Path, tmp_path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    expect = document.pop("expect")
    blind = tmp_path / path.name
    blind.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    run = subprocess.run(
        [str(SAFESHARE), "protocol", "check", str(blind), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == expect["exit"], run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    if expect["exit"] == 2:
        return
    findings = json.loads(run.stdout)["findings"]
    got = {_key(f) for f in findings}
    wanted = {_key(f) for f in expect.get("findings") or []}
    assert wanted <= got, f"missing {sorted(wanted - got, key=str)}"
    for code in expect.get("absent") or []:
        assert all(f["code"] != code for f in findings), f"unexpected {code}"
    if expect.get("only_listed"):
        assert got <= wanted, f"unlisted {sorted(got - wanted, key=str)}"
