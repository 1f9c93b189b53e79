"""The ``safeshare`` command line, for information managers and focal points.

Each area adds its commands in its own module below and registers it in ``_register``.
The CLI calls services; it never writes SQL.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="safeshare",
    no_args_is_help=True,
    add_completion=False,
    help="Decide and record the sharing of personal protection data under the UNHCR "
    "Technical Note on Sharing Personal Protection Data (2020).",
)

# Modules that add commands to ``app`` when imported (each defines its commands on ``app``
# or adds a sub-application with ``app.add_typer``).
COMMAND_MODULES: tuple[str, ...] = (
    "safeshare.cli.evaluate",
    "safeshare.cli.store_commands",
)


def _register() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name)


def main() -> None:
    _register()
    app()
