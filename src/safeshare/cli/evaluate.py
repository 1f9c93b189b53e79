"""``safeshare evaluate FILE`` and ``safeshare protocol check FILE``.

Exit codes: ``evaluate`` exits 0 whatever the decision and 2 for a file that is not a valid
scenario; ``protocol check`` exits 0 without errors, 1 with an error finding, 2 for a file
that is not a protocol. A bad file gets one line on stderr naming the field, never a
traceback (a traceback could print the personal data being read).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, NoReturn

import typer

from safeshare.cli import app
from safeshare.core.engine import decide
from safeshare.core.protocol_check import check_protocol
from safeshare.render_text import render_decision, render_findings
from safeshare.scenario import ScenarioFileError, load_protocol_file, load_scenario

EXIT_INVALID = 2


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="text for people, json for programs")
]
FileArgument = Annotated[str, typer.Argument(help="a YAML file", show_default=False)]

protocol_app = typer.Typer(
    no_args_is_help=True, help="Check a data sharing protocol on its own, before it is used."
)
app.add_typer(protocol_app, name="protocol")


def _invalid(error: ScenarioFileError) -> NoReturn:
    typer.echo(f"safeshare: invalid file: {error}", err=True)
    raise typer.Exit(EXIT_INVALID)


def _color() -> bool:
    return sys.stdout.isatty()


@app.command()
def evaluate(file: FileArgument, output: FormatOption = OutputFormat.TEXT) -> None:
    """Decide the request in a scenario FILE (shared/scenarios/FORMAT.md) against its world."""
    try:
        scenario = load_scenario(file)
    except ScenarioFileError as e:
        _invalid(e)
    for notice in scenario.notices:
        typer.echo(f"safeshare: warning: {notice}", err=True)
    decision = decide(scenario.world, scenario.request)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(decision.to_dict(), indent=2))
    else:
        typer.echo(render_decision(decision, scenario.request, color=_color()), nl=False)


@protocol_app.command("check")
def check(file: FileArgument, output: FormatOption = OutputFormat.TEXT) -> None:
    """Check the data sharing protocol in FILE: a `protocol:` block, with `organisations:`
    beside it when parties are named. Exits 1 when a finding is an error."""
    try:
        protocol, organisations = load_protocol_file(file)
    except ScenarioFileError as e:
        _invalid(e)
    findings = check_protocol(protocol, organisations)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps({"findings": [f.to_dict() for f in findings]}, indent=2))
    else:
        typer.echo(render_findings(findings, protocol.id, color=_color()), nl=False)
    if any(f.severity == "error" for f in findings):
        raise typer.Exit(1)
