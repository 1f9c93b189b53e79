# ruff: noqa: PLC0415 - the server stack is imported only when serving, not for every command
"""``safeshare serve``: migrate the store, load the demo operation into an empty store
(development and demo only: case data, the organisations' packet keys and staff accounts; the
generated passwords are printed once), and serve the web pages (``/``) and the API
(``/api/openapi.json``, docs at ``/api/docs``)."""

from __future__ import annotations

import gc
import os
import secrets
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from safeshare.cli import app

if TYPE_CHECKING:
    from safeshare.api.config import WebSettings

HostOption = Annotated[str, typer.Option("--host", help="interface to listen on")]
PortOption = Annotated[int, typer.Option("--port", help="port to listen on", min=1, max=65535)]
WorkersOption = Annotated[
    int,
    typer.Option(
        "--workers",
        min=1,
        max=64,
        help="server processes, each listening on the port with SO_REUSEPORT (the kernel "
        "spreads connections across them; writers are serialised by the database, so SQLite "
        "and PostgreSQL are both safe)",
    ),
]
DemoOption = Annotated[
    bool,
    typer.Option(
        "--demo/--no-demo",
        help="load the demo operation into an empty store (development and demo environments only)",
    ),
]


@app.command()
def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    demo: DemoOption = True,
    workers: WorkersOption = 1,
) -> None:
    """Serve the safeshare API (creating and migrating the store; demo data when empty)."""
    from datetime import date

    import uvicorn
    from pydantic import ValidationError

    from safeshare.api.app import create_app
    from safeshare.api.config import WebSettings
    from safeshare.api.logs import log_config
    from safeshare.bootstrap import bootstrap
    from safeshare.demo import load_demo, store_is_empty
    from safeshare.services.org_keys import SharingSettings, key_directory
    from safeshare.services.packet_retention import purge_expired_packets
    from safeshare.settings import Env, Settings

    try:
        settings = Settings()
        web = WebSettings(env=settings.env)
    except (ValidationError, ValueError) as exc:
        typer.echo(f"safeshare: refusing to start: {_first_line(exc)}", err=True)
        raise typer.Exit(2) from None
    try:
        keys = key_directory(SharingSettings())
    except (ValidationError, ValueError) as exc:
        typer.echo(f"safeshare: refusing to start: {_first_line(exc)}", err=True)
        raise typer.Exit(2) from None
    store = bootstrap(settings, upgrade=True)
    base = f"http://{_url_host(host)}:{port}"
    if demo and settings.env in (Env.DEVELOPMENT, Env.DEMO) and store_is_empty(store):
        loaded = load_demo(store, policy=web.access_policy(), keys=keys)
        typer.echo(
            f"Loaded the demo operation (fictional): {loaded.subjects} subjects, "
            f"{loaded.cases} cases with their data, {loaded.consents} consent entries, "
            f"packet keys of {len(loaded.keys_registered)} organisations (in {keys.path})."
        )
        typer.echo(
            f"Demo accounts: sign in at {base}/login "
            "(passwords shown once; they are not stored anywhere):"
        )
        for a in loaded.accounts:
            typer.echo(f"  {a.username:<24} {a.role.value:<15} {a.password}")
    purged = purge_expired_packets(store, today=date.today(), actor="safeshare serve")
    if purged.count:
        typer.echo(f"Erased {purged.count} referral packets past their recipients' window.")
    typer.echo(f"Web: {base}/")
    typer.echo(f"API: {base}/api/docs  (OpenAPI: {base}/api/openapi.json)")
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": log_config(),
        "server_header": False,
        "proxy_headers": False,
    }
    if workers > 1:
        store.dispose()
        _serve_with_workers(workers, web, common)
    application = create_app(settings, store, web=web)
    application.state.org_keys = keys
    settle_heap()
    uvicorn.run(application, **common)


def _serve_with_workers(workers: int, web: WebSettings, common: dict[str, Any]) -> NoReturn:
    """Each worker process builds its own store and app from the same environment, and
    listens on its own socket of the port (see safeshare.cli.workers); returns only by
    ``typer.Exit`` with the workers' exit status."""
    from safeshare.cli.workers import PortInUseError, run_workers

    if web.session_secret is None:
        # Development and demo only (elsewhere the setting is required): one secret for
        # every worker, which each read from the environment, so that a CSRF token bound
        # to a session by one worker is accepted by the others.
        os.environ["SAFESHARE_SESSION_SECRET"] = secrets.token_urlsafe(32)
    try:
        status = run_workers(WORKER_APP, workers, common)
    except PortInUseError as exc:
        typer.echo(f"safeshare: {exc}", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(status)


WORKER_APP = "safeshare.cli.serve:worker_app"


def worker_app() -> Any:
    """The app of one worker process of ``safeshare serve --workers N``: settings, store and
    packet keys read again from the environment the parent process validated (the parent
    has already migrated the store and loaded the demo)."""
    from safeshare.api.app import create_app
    from safeshare.api.config import WebSettings
    from safeshare.services.org_keys import SharingSettings, key_directory
    from safeshare.settings import Settings

    settings = Settings()
    application = create_app(settings, web=WebSettings(env=settings.env))  # owns its store
    application.state.org_keys = key_directory(SharingSettings())
    settle_heap()
    return application


def settle_heap() -> None:
    """Called once the server's app is built, before it serves: collects the start-up's
    garbage, then takes every object still alive — modules, the app with its routes and
    schemas, the store's table metadata — out of the cyclic garbage collector's passes
    (:func:`gc.freeze`). They live as long as the process; without this, each full pass
    walks all of them again while requests wait (measured in process with
    ``benchmarks/api_cpu.py``: a 67 ms pause every few thousand requests)."""
    gc.collect()
    gc.freeze()


def _url_host(host: str) -> str:
    """The host as it goes in a URL: an IPv6 address in brackets, and the loopback
    address for a server listening on every interface."""
    if host in ("0.0.0.0", ""):  # noqa: S104 - printing, not binding
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__
