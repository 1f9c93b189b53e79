"""The shared scenarios (tests/scenarios/shared, a verbatim copy of shared/scenarios) and the
team's own (tests/scenarios/extra): each is
decided in-process with its ``expect:`` block removed, and compared exactly as
shared/tools/score_scenarios.py compares; one is also run through the real console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from safeshare.core.engine import decide
from safeshare.scenario import parse_scenario

SHARED = Path(__file__).resolve().parent / "scenarios" / "shared"
FILES = sorted(SHARED.glob("*.yaml"))
# Scenarios written from the Note by the team, in the same format (the examiner's view).
EXTRA = sorted(
    path
    for folder in ("extra", "extra2", "extra3")
    for path in (Path(__file__).resolve().parent / "scenarios" / folder).glob("*.yaml")
)


def _codes(items: Any) -> set[str]:
    return {i["code"] if isinstance(i, dict) else i for i in items or []}


def compare(expect: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """score_scenarios.compare: the differences between the expected and the given answer."""
    diffs = []
    if got.get("decision") != expect["decision"]:
        diffs.append(f"decision {got.get('decision')!r}, expected {expect['decision']!r}")
    missing = set(expect.get("reasons", [])) - _codes(got.get("reasons"))
    if missing:
        diffs.append(f"reasons lack {sorted(missing)} (got {sorted(_codes(got.get('reasons')))})")
    missing = set(expect.get("conditions", [])) - _codes(got.get("conditions"))
    if missing:
        got_codes = sorted(_codes(got.get("conditions")))
        diffs.append(f"conditions lack {sorted(missing)} (got {got_codes})")
    for key, want in (expect.get("share") or {}).items():
        have = (got.get("share") or {}).get(key)
        if sorted(have or []) != sorted(want):
            diffs.append(f"share.{key} {have}, expected {want}")
    per_subject = {s.get("id"): s for s in got.get("subjects") or []}
    for sid, want in (expect.get("subjects") or {}).items():
        have = per_subject.get(sid)
        if have is None:
            diffs.append(f"no decision for subject {sid}")
            continue
        diffs += [
            f"subject {sid}: {d}" for d in compare({"decision": want["decision"], **want}, have)
        ]
    return diffs


def _blind(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The scenario without its expect block, and the expect block."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    expect = data.pop("expect")
    return data, expect


def test_the_copy_is_complete() -> None:
    assert len(FILES) == 24
    assert (SHARED / "FORMAT.md").is_file()


def test_compare_matches_score_scenarios_semantics() -> None:
    got = {
        "decision": "allow-with-conditions",
        "reasons": [{"code": "data-not-minimal"}, {"code": "other"}],
        "conditions": [{"code": "drop-elements"}],
        "share": {"subjects": ["s1"], "data_elements": ["b", "a"]},
        "subjects": [{"id": "s1", "decision": "allow", "reasons": []}],
    }
    expect = {
        "decision": "allow-with-conditions",
        "reasons": ["data-not-minimal"],
        "conditions": ["drop-elements"],
        "share": {"data_elements": ["a", "b"]},
        "subjects": {"s1": {"decision": "allow"}},
    }
    assert compare(expect, got) == []
    assert compare({**expect, "decision": "deny"}, got)
    assert compare({**expect, "share": {"data_elements": ["a"]}}, got)
    assert compare({**expect, "subjects": {"s2": {"decision": "allow"}}}, got)
    assert compare({**expect, "reasons": ["consent-missing"]}, got)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_shared_scenario(path: Path) -> None:
    data, expect = _blind(path)
    scenario = parse_scenario(data, str(path))
    assert scenario.expect is None
    got = decide(scenario.world, scenario.request).to_dict()
    assert compare(expect, got) == []


@pytest.mark.parametrize("path", EXTRA, ids=lambda p: p.stem)
def test_extra_scenario(path: Path) -> None:
    data, expect = _blind(path)
    scenario = parse_scenario(data, str(path))
    got = decide(scenario.world, scenario.request).to_dict()
    assert compare(expect, got) == []


def test_extra_scenarios_are_there() -> None:
    assert len(EXTRA) >= 110


def test_console_script_on_a_scenario(tmp_path: Path) -> None:
    data, expect = _blind(SHARED / "p08-client-list-partly-consented.yaml")
    blind = tmp_path / "p08.yaml"
    blind.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    script = Path(sys.executable).parent / "safeshare"
    run = subprocess.run(
        [str(script), "evaluate", str(blind), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert compare(expect, json.loads(run.stdout)) == []
