"""The API's CPU cost per request, in process: the same store and requests as
``benchmarks/api.py``, but the application called straight through ASGI (no sockets, no
uvicorn, no second process), one request at a time, so that the figure is the application's
own CPU time and a profile shows only its code.

    .venv/bin/python benchmarks/api_cpu.py [--cases 20000] [--requests 200] [--rounds 5]
        [--backend sqlite|postgresql] [--statements] [--dir DIR]
        [--cprofile FILE.pstats [--profile-kind KIND]]

Prints one JSON object: CPU milliseconds per request (process time, which on PostgreSQL leaves
out the database server's own work, given beside it as ``database_cpu_ms``: the CPU time of
the machine's ``postgres`` processes, read from ``/proc``, 10 ms ticks) and wall milliseconds
per request, for ``GET
/api/auth/csrf`` (no database; the baseline), ``GET /api/auth/me``, ``GET /api/cases/{id}``,
``POST /api/decisions`` and ``POST /api/referrals``, with each kind's ratio to the baseline;
and ``shared_read``: ``GET /api/cases/{id}`` by a caseworker of ngo-a, for a case shared to it
by an accepted referral (its packet opened and verified on each read: the values as shared),
with its ratio to ``case_read`` (the assigned caseworker's read of her own case).
The kinds are measured in turn, ``--rounds`` times, and each figure is the rounds' median (a
noisy moment of a shared machine touches every kind alike). ``--statements`` counts the SQL
statements one request sends (on PostgreSQL, every round trip psycopg makes: prepared reads,
``BEGIN`` and ``COMMIT`` included; on SQLite, those that go through SQLAlchemy) and prints
them to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import api as load
from api import Account, database_cpu_s, make_backend, prepare

Request = tuple[str, str, bytes | None]


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"load"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }


async def call(
    app: Any, token: str | None, method: str, path: str, body: bytes | None
) -> tuple[int, bytes]:
    """One request through ASGI: its status and body."""
    payload = body or b""
    headers = [(b"content-length", str(len(payload)).encode())]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    sent = False
    status = 0
    captured: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            captured.append(message.get("body", b""))

    await app(_scope(method, path, headers), receive, send)
    return status, b"".join(captured)


def requests_of(accounts: list[Account], kind: str, n: int) -> list[tuple[int, Request]]:
    plan = load.mixed_plan("", [], accounts, n=n * 12, referral_share=0.1, seed=7)
    chosen = [(who, (m, p, b)) for k, m, p, who, b in plan.requests if k == kind]
    return chosen[:n]


async def measure(
    app: Any, tokens: list[str], plan: list[tuple[int, Request]], profiler: cProfile.Profile | None
) -> dict[str, float]:
    for who, (m, p, b) in plan[:20]:  # warm
        await call(app, tokens[who], m, p, b)
    database = database_cpu_s()
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for who, (m, p, b) in plan:
        status, _ = await call(app, tokens[who], m, p, b)
        if not 200 <= status < 300:
            raise RuntimeError(f"{m} {p}: {status}")
    if profiler:
        profiler.disable()
    n = len(plan)
    return {
        "requests": n,
        "cpu_ms": round(1000 * (time.process_time() - cpu) / n, 3),
        "database_cpu_ms": round(1000 * (database_cpu_s() - database) / n, 3),
        "wall_ms": round(1000 * (time.perf_counter() - wall) / n, 3),
    }


async def run(args: argparse.Namespace, url_env: dict[str, str], accounts: list[Account]) -> Any:
    from safeshare.api.app import create_app  # noqa: PLC0415
    from safeshare.api.config import WebSettings  # noqa: PLC0415
    from safeshare.bootstrap import bootstrap  # noqa: PLC0415
    from safeshare.settings import Env, Settings  # noqa: PLC0415

    settings = Settings(
        env=Env.TEST,
        database_url=url_env["SAFESHARE_DATABASE_URL"],
        field_key_file=Path(url_env["SAFESHARE_FIELD_KEY_FILE"]),
        audit_key_file=Path(url_env["SAFESHARE_AUDIT_KEY_FILE"]),
    )
    os.environ.update(url_env)  # the organisations' key directory, read by the services
    web = WebSettings(env=Env.TEST)
    store = bootstrap(settings)
    app = create_app(settings, store, web=web)
    statements: list[str] = []
    if args.statements:
        _count_round_trips(args.backend, store.engine, statements)
    try:
        async with app.router.lifespan_context(app):
            tokens = []
            for a in accounts:
                body = json.dumps({"username": a.username, "password": a.password}).encode()
                tokens.append(await _login(app, body))
            plans = {
                "csrf": [(0, ("GET", "/api/auth/csrf", None))] * args.requests,
                "me": [(0, ("GET", "/api/auth/me", None))] * args.requests,
            }
            for kind in ("case_read", "decision", "referral"):
                plans[kind] = requests_of(accounts, kind, args.requests * args.rounds)
            recipient, shared = await _recipient(app, store, tokens, accounts)
            tokens.append(recipient)
            plans["shared_read"] = [
                (len(tokens) - 1, ("GET", f"/api/cases/{case}", None)) for case in shared
            ] * (args.requests * args.rounds // SHARED_CASES)
            # Timed by CPU time: a profile shows the work, not the waits on the database.
            profiler = cProfile.Profile(time.process_time) if args.cprofile else None
            rounds: dict[str, list[dict[str, float]]] = {kind: [] for kind in plans}
            for r in range(args.rounds):  # interleaved: a noisy moment touches every kind
                for kind, plan in plans.items():
                    part = plan if kind in ("csrf", "me") else plan[r :: args.rounds]
                    watch = profiler if args.profile_kind in (None, kind) else None
                    rounds[kind].append(await measure(app, tokens, part, watch))
            if profiler:
                profiler.dump_stats(args.cprofile)
            figures: dict[str, Any] = {}
            for kind, measured in rounds.items():
                figures[kind] = {
                    "requests": sum(m["requests"] for m in measured),
                    "cpu_ms": statistics.median(m["cpu_ms"] for m in measured),
                    "database_cpu_ms": statistics.median(m["database_cpu_ms"] for m in measured),
                    "wall_ms": statistics.median(m["wall_ms"] for m in measured),
                }
                if args.statements:  # the request of the first few that sends the most
                    traces = []
                    for who, (m, p, b) in plans[kind][:8]:
                        statements.clear()
                        status, answer = await call(app, tokens[who], m, p, b)
                        traces.append((len(statements), status, answer[:120], list(statements)))
                    count, status, answer, trace = max(traces, key=lambda t: t[0])
                    figures[kind]["statements"] = count
                    print(f"--- {kind}: {status} {answer!r}", *trace, sep="\n", file=sys.stderr)
            base = figures["csrf"]["cpu_ms"]
            for kind in figures.values():
                kind["cpu_ratio_to_csrf"] = round(kind["cpu_ms"] / max(base, 1e-6), 2)
            own = figures["case_read"]["cpu_ms"]
            figures["shared_read"]["cpu_ratio_to_case_read"] = round(
                figures["shared_read"]["cpu_ms"] / max(own, 1e-6), 2
            )
            return figures
    finally:
        store.dispose()


def _count_round_trips(backend: str, engine: Any, statements: list[str]) -> None:
    """Records every statement the database driver sends, prepared reads and writes included
    (they bypass SQLAlchemy). On PostgreSQL each is a round trip to the server: psycopg's
    cursor executes and the commands it sends itself (``BEGIN``, ``COMMIT``, ``ROLLBACK``,
    savepoints). On SQLite, the statements SQLAlchemy and the prepared paths run."""

    def note(sql: Any) -> None:
        text = sql.decode() if isinstance(sql, bytes) else str(sql)
        statements.append(" ".join(text.split())[:300])

    if backend == "postgresql":
        import psycopg  # noqa: PLC0415
        from psycopg._connection_base import BaseConnection  # noqa: PLC0415

        execute, many = psycopg.Cursor.execute, psycopg.Cursor.executemany
        command = BaseConnection._exec_command

        def counted_execute(self: Any, query: Any, *a: Any, **k: Any) -> Any:
            note(query)
            return execute(self, query, *a, **k)

        def counted_many(self: Any, query: Any, params: Any, *a: Any, **k: Any) -> Any:
            params = list(params)
            for _ in params:  # one round trip each, unless psycopg pipelines them
                note(query)
            return many(self, query, params, *a, **k)

        def counted_command(self: Any, cmd: Any, *a: Any, **k: Any) -> Any:
            note(cmd)
            return command(self, cmd, *a, **k)

        psycopg.Cursor.execute = counted_execute  # type: ignore[method-assign]
        psycopg.Cursor.executemany = counted_many  # type: ignore[method-assign]
        BaseConnection._exec_command = counted_command  # type: ignore[method-assign]
        return
    from sqlalchemy import event  # noqa: PLC0415

    event.listen(engine, "before_cursor_execute", lambda *a: note(a[2]))


SHARED_CASES = 20  # cases referred to ngo-a and accepted, read in turn by its caseworker


async def _recipient(
    app: Any, store: Any, tokens: list[str], accounts: list[Account]
) -> tuple[str, list[str]]:
    """A caseworker of ngo-a, signed in, holding :data:`SHARED_CASES` accepted referrals of
    the first caseworker's cases (made and accepted through the API; a person without
    consent is refused by the engine and skipped): its token and those cases."""
    import secrets  # noqa: PLC0415

    from safeshare.api.config import WebSettings  # noqa: PLC0415
    from safeshare.services import accounts as account_service  # noqa: PLC0415
    from safeshare.services.accounts import Role  # noqa: PLC0415
    from safeshare.settings import Env  # noqa: PLC0415

    password = secrets.token_urlsafe(16)
    account_service.create_account(
        store,
        username="bench.ngo-a",
        password=password,
        org="ngo-a",
        role=Role.CASEWORKER,
        actor="bench",
        policy=WebSettings(env=Env.TEST).access_policy(),
    )
    login = {"username": "bench.ngo-a", "password": password}
    token = await _login(app, json.dumps(login).encode())
    shared: list[str] = []
    for case in accounts[0].cases:
        body = {
            "to": load.RECIPIENT,
            "purpose": load.PURPOSE,
            "subjects": ["S" + case[1:]],
            "data_elements": load.REFERRAL_ELEMENTS,
            "contact_method": "phone",
            "label": "Referral for legal counselling",
        }
        status, answer = await call(
            app, tokens[0], "POST", "/api/referrals", json.dumps(body).encode()
        )
        made = json.loads(answer).get("referral") if status == 201 else None
        if made is None:
            continue
        status, answer = await call(app, token, "POST", f"/api/referrals/{made['id']}/accept", None)
        if status != 200:
            raise RuntimeError(f"accepting {made['id']}: {status} {answer[:200]!r}")
        shared.append(case)
        if len(shared) == SHARED_CASES:
            return token, shared
    raise RuntimeError(f"fewer than {SHARED_CASES} referrals were allowed")


async def _login(app: Any, body: bytes) -> str:
    _status, answer = await call(app, None, "POST", "/api/auth/login", body)
    token: str = json.loads(answer)["token"]
    return token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=200, help="per kind and round")
    parser.add_argument("--rounds", type=int, default=5, help="figures are the rounds' medians")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--caseworkers", type=int, default=5)
    parser.add_argument("--assigned", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--cprofile", type=Path, default=None)
    parser.add_argument(
        "--profile-kind",
        choices=["csrf", "me", "case_read", "decision", "referral", "shared_read"],
        default=None,
        help="with --cprofile: profile only this kind of request",
    )
    parser.add_argument(
        "--statements", action="store_true", help="count (and print to stderr) SQL statements"
    )
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: temp)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="safeshare-api-cpu-", dir=args.dir))
    backend = make_backend(args.backend, root, args.pg_url)
    try:
        prepared = prepare(backend, args)
        figures = asyncio.run(run(args, backend.env(production=False), prepared.accounts))
    finally:
        load.drop_backend(backend)
        shutil.rmtree(root, ignore_errors=True)  # its SQLite file and key files
    json.dump(
        {"backend": args.backend, "cases": args.cases, "per_request": figures},
        sys.stdout,
        indent=2,
    )
    print()


if __name__ == "__main__":
    main()
