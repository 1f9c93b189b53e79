"""The ``safeshare`` command line, for information managers and focal points.

Each area adds its commands in its own module below and registers it in ``_register``.
The CLI calls services; it never writes SQL.
"""

from __future__ import annotations

import importlib
import sys

import typer

app = typer.Typer(
    name="safeshare",
    no_args_is_help=True,
    add_completion=False,
    help="Decide and record the sharing of personal protection data under the UNHCR "
    "Technical Note on Sharing Personal Protection Data (2020).",
)

# Modules that add commands to ``app`` when imported (each defines its commands on ``app``
# or adds a sub-application with ``app.add_typer``), with the commands each provides. Only
# the modules a command line needs are imported, so that ``safeshare evaluate`` starts fast
# (the store's modules bring SQLAlchemy, Alembic and openpyxl).
COMMANDS: dict[str, tuple[str, ...]] = {
    "safeshare.cli.evaluate": ("evaluate", "protocol check"),
    "safeshare.cli.store_commands": (
        "db",
        "import",
        "consent",
        "protocol load",
        "protocol endorse",
        "keys",
        "audit",
        "packets",
    ),
    "safeshare.cli.serve": ("serve",),
}
COMMAND_MODULES: tuple[str, ...] = tuple(COMMANDS)


@app.callback()
def _root() -> None:
    # Keeps the app a command group even when only one command module is imported (typer
    # would otherwise run a lone command as the root, and ``safeshare serve`` would fail).
    pass


def modules_for(argv: list[str]) -> list[str]:
    """The command modules a command line needs; all of them when it names no known command
    (help, or a mistake that deserves the full list)."""
    words = [a for a in argv if not a.startswith("-")][:2]
    wanted = [
        module
        for module, commands in COMMANDS.items()
        if any(words[: len(c.split())] == c.split() for c in commands)
    ]
    return wanted or list(COMMANDS)


def _register(argv: list[str] | None = None) -> None:
    for name in modules_for(argv) if argv is not None else COMMAND_MODULES:
        importlib.import_module(name)


def main() -> None:
    _register(sys.argv[1:])
    app()
