"""``safeshare evaluate`` and ``safeshare protocol check``: exit codes, one-line errors that
name the field, and no tracebacks for bad files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import safeshare.cli.evaluate  # noqa: F401  (registers the commands on the app)
from safeshare.cli import COMMAND_MODULES, app

SHARED = Path(__file__).resolve().parents[1] / "scenarios" / "shared"
P01 = SHARED / "p01-referral-with-consent.yaml"
P08 = SHARED / "p08-client-list-partly-consented.yaml"
SCRIPT = Path(sys.executable).parent / "safeshare"

runner = CliRunner()


def scenario(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(P01.read_text(encoding="utf-8"))
    data.pop("expect")
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target: Any = data
        for step in parents:
            target = target[int(step)] if step.isdigit() else target[step]
        target[int(last) if last.isdigit() else last] = value
    return data


def write(tmp_path: Path, data: object, name: str = "case.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def assert_clean_failure(result: Any, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_evaluate_is_registered() -> None:
    assert "safeshare.cli.evaluate" in COMMAND_MODULES


# --- bad files: exit 2, the field named, no traceback ---------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"world__organisations__1__kind": "ngo"}, "world.organisations[1].kind"),
        ({"world__subjects__0__age": "abc"}, "world.subjects[0].age"),
        ({"world__today": "2026-02-31"}, "world.today"),
        ({"request__to": "ngo-z"}, "request.to"),
        ({"request__data_elements": ["name", "shoe_size"]}, "request.data_elements[1]"),
        (
            {"world__protocol__purposes__0__retention": "six months"},
            "world.protocol.purposes[0].retention",
        ),
        ({"request__subjects": "s1"}, "request.subjects"),
    ],
)
@pytest.mark.parametrize("output", ["json", "text"])
def test_evaluate_bad_file_exits_2_naming_the_field(
    tmp_path: Path, changes: dict[str, Any], field: str, output: str
) -> None:
    path = write(tmp_path, scenario(**changes))
    result = runner.invoke(app, ["evaluate", str(path), "--format", output])
    assert_clean_failure(result, str(path), field, "expected")


def test_evaluate_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(tmp_path / "nope.yaml"), "--format", "json"])
    assert_clean_failure(result, "nope.yaml", "no such file")


@pytest.mark.parametrize("text", ["world: [unclosed\n", "just a sentence\n", ""])
def test_evaluate_not_yaml_or_not_a_mapping_exits_2(tmp_path: Path, text: str) -> None:
    result = runner.invoke(app, ["evaluate", str(write(tmp_path, text))])
    assert_clean_failure(result, "case.yaml")


def test_evaluate_rejects_an_unknown_format(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(P01), "--format", "xml"])
    assert result.exit_code == 2


def test_console_script_bad_file_exits_2_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, scenario(world__subjects__0__age=-4))
    run = subprocess.run(
        [str(SCRIPT), "evaluate", str(path), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    assert "world.subjects[0].age" in run.stderr
    assert "Traceback" not in run.stderr


# --- protocol check -------------------------------------------------------------------


def protocol_file(tmp_path: Path, **purpose_changes: Any) -> Path:
    world = scenario()["world"]
    purpose = world["protocol"]["purposes"][0]
    purpose["explanation"] = (
        "If you want free legal counselling, I will share your name and phone number with NGO A."
    )
    purpose.update(purpose_changes)
    block = {**world["protocol"], "consent_review": "P1Y"}
    return write(
        tmp_path, {"organisations": world["organisations"], "protocol": block}, "protocol.yaml"
    )


@pytest.mark.parametrize(
    "text",
    ["title: not a protocol\n", "protocol: [a, b]\n", "[1, 2]\n", "protocol: {purposes: []}\n"],
)
def test_protocol_check_not_a_protocol_exits_2(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text, "protocol.yaml")
    result = runner.invoke(app, ["protocol", "check", str(path), "--format", "json"])
    assert_clean_failure(result, "protocol")


def test_protocol_check_unknown_party_exits_2(tmp_path: Path) -> None:
    path = protocol_file(tmp_path, to=["ngo-z"])
    result = runner.invoke(app, ["protocol", "check", str(path)])
    assert_clean_failure(result, "protocol.purposes[0].to[0]", "'ngo-z'")


def test_protocol_check_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["protocol", "check", str(tmp_path / "none.yaml")])
    assert_clean_failure(result, "none.yaml")


# The tests below need the engine and the protocol check (core/engine.py,
# core/protocol_check.py).


def test_protocol_check_complete_protocol_exits_0(tmp_path: Path) -> None:
    result = runner.invoke(app, ["protocol", "check", str(protocol_file(tmp_path)), "-f", "json"])
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)["findings"]
    assert all(f["severity"] != "error" for f in findings)


def test_protocol_check_error_exits_1(tmp_path: Path) -> None:
    path = protocol_file(tmp_path, retention=None)
    result = runner.invoke(app, ["protocol", "check", str(path), "--format", "json"])
    assert result.exit_code == 1, result.output
    findings = json.loads(result.stdout)["findings"]
    assert {"retention-missing"} <= {f["code"] for f in findings}
    assert set(findings[0]) == {"code", "purpose", "severity", "message", "section"}


def test_protocol_check_text_groups_by_purpose(tmp_path: Path) -> None:
    path = protocol_file(tmp_path, retention=None)
    result = runner.invoke(app, ["protocol", "check", str(path)])
    assert result.exit_code == 1
    assert "Purpose legal-aid-referral:" in result.stdout
    assert "ERROR retention-missing" in result.stdout
    assert "\x1b[" not in result.stdout


def test_evaluate_json_exits_0_with_the_decision() -> None:
    result = runner.invoke(app, ["evaluate", str(P01), "--format", "json"])
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["decision"] == "allow"
    assert sorted(decision["share"]["data_elements"]) == ["name", "phone", "service_needed"]


def test_evaluate_exits_0_for_a_deny(tmp_path: Path) -> None:
    path = write(tmp_path, scenario(world__consents=[]))
    result = runner.invoke(app, ["evaluate", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["decision"] == "deny"


def test_evaluate_text_is_for_a_caseworker() -> None:
    result = runner.invoke(app, ["evaluate", str(P08)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("Decision: ALLOWED WITH CONDITIONS")
    for heading in ("Why:", "What may be shared:", "Each person:", "What to do next:"):
        assert heading in out
    assert "s1: NOT ALLOWED" in out
    assert "Subjects: s2" in out
    assert "\x1b[" not in out


def test_evaluate_warns_about_an_ignored_field_and_still_decides(tmp_path: Path) -> None:
    path = write(tmp_path, scenario(world__subjects__0__nickname="A"))
    result = runner.invoke(app, ["evaluate", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "world.subjects[0].nickname" in result.stderr
    assert json.loads(result.stdout)["decision"] == "allow"
