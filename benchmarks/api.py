"""The API under load: ``safeshare serve`` on loopback over a store of ``--cases`` cases, driven
at a fixed rate by an open-loop client in a second process, on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/api.py [--cases 1000000] [--seconds 60] [--rate 200[,25,...]]
        [--backend sqlite|postgresql|both] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/]

Per backend:

1. **Set-up**: a fresh data directory (and, for PostgreSQL, a fresh database); ``safeshare db
   upgrade``; the demo operation (organisations, the endorsed protocol, staff accounts) through
   ``load_demo``; ``--cases`` subjects, cases and consent entries (80 % granted for
   ``legal-aid-referral`` to ngo-a) written as CSV and loaded with ``safeshare import``;
   ``--caseworkers`` UNHCR caseworker accounts, each created with ``--assigned`` random UNHCR
   cases (``accounts.create_account(cases=...)``); the organisations' packet keys registered;
   on PostgreSQL ``VACUUM ANALYZE`` and ``CHECKPOINT`` (what autovacuum would soon do).
2. **Server**: ``safeshare serve --no-demo --workers N`` (uvicorn, ``--workers``, default 2:
   one per core of the machine this was measured on) as a subprocess with
   ``SAFESHARE_ENV=production`` and every secret given; readiness polled; each account logs in
   once through ``POST /api/auth/login`` (bearer sessions).
3. **Load** (a separate process, asyncio with a minimal HTTP/1.1 client, ``--connections``
   keep-alive connections):
   requests are *scheduled* at ``--rate`` per second for ``--seconds`` and latency runs from the
   scheduled send time (no coordinated omission). Three phases at the same rate, same client:
   ``GET /api/auth/csrf`` (no database), ``GET /api/auth/me`` (authenticated: a session
   lookup, its last-seen time written at most once a minute — the baseline), then the mix:
   ``POST /api/decisions`` (a referral evaluated for the subject of an assigned case),
   ``GET /api/cases/{id}`` (an assigned case) and, a ``--referral-share`` of the requests,
   ``POST /api/referrals`` (a real referral: decided, sealed and signed to ngo-a). Only
   requests that should succeed are sent: any non-2xx answer or exception is an error.

``--rate 200,20`` runs the three phases at each rate in turn on the same server;
``--profile DIR`` records the server with py-spy (collapsed stacks) during each mix (py-spy is
not among the project's dependencies: ``.venv/bin/pip install py-spy`` first).

Prints one JSON object (per backend: requests, achieved rate, p50/p95/p99/max ms per kind,
errors, the server's, the database's (PostgreSQL's processes, from ``/proc``) and the client's
CPU milliseconds per request, baselines, ratios, and how
the client's connections were spread across the worker processes: the kernel spreads them by
a hash, and a worker holding 11 of 16 serves two-thirds of the load, so read p99 beside it).
Goal: p99 < 25 ms and no error at 200 requests/s. The machine may be shared: read the ratios
to the baseline, and the CPU milliseconds per request, next to the latencies.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import bench_data
import httpx
from bench_data import case_owner

from safeshare.cli.workers import connections_per_worker

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SAFESHARE = str(BIN / "safeshare")
PURPOSE = "legal-aid-referral"  # the demo protocol: from unhcr (and ngo-b) to ngo-a
RECIPIENT = "ngo-a"
DECISION_ELEMENTS = ["name", "phone", "service_needed"]
REFERRAL_ELEMENTS = ["referral_id", "name", "phone", "service_needed"]
BENCH_PASSWORD_BYTES = 18
GOAL_P99_MS = 25
# -- data -----------------------------------------------------------------------------------


def write_csv(folder: Path, n: int, seed: int, today: date) -> dict[str, Path]:
    """The shared synthetic operation (``bench_data``), consents dated within the last four
    weeks (so that the protocol's consent review period has not run out)."""
    days = [(today - timedelta(days=1 + d)).isoformat() for d in range(27)]
    return bench_data.write_csv(
        folder, n, seed, purpose=PURPOSE, recipient=RECIPIENT, dates=days, stage="referral"
    )


# -- set-up ---------------------------------------------------------------------------------


@dataclass
class Backend:
    name: str
    url: str
    folder: Path
    pg_admin: str | None = None
    pg_db: str | None = None

    def env(self, *, production: bool) -> dict[str, str]:
        keys = self.folder / "keys"
        env = {
            **os.environ,
            "SAFESHARE_DATABASE_URL": self.url,
            "SAFESHARE_FIELD_KEY_FILE": str(keys / "field-keys.json"),
            "SAFESHARE_AUDIT_KEY_FILE": str(keys / "audit-key.pem"),
            "SAFESHARE_ORG_KEY_DIR": str(keys / "org-keys"),
            "SAFESHARE_ENV": "production" if production else "test",
        }
        if production:
            env["SAFESHARE_SESSION_SECRET"] = secrets.token_urlsafe(48)
        return env


def pg_admin_exec(admin_url: str, sql: str) -> None:
    from sqlalchemy import create_engine, text  # noqa: PLC0415

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def make_backend(name: str, root: Path, pg_url: str) -> Backend:
    folder = root / name
    folder.mkdir(parents=True)
    if name == "sqlite":
        return Backend(name, f"sqlite:///{folder / 'store.db'}", folder)
    db = f"safeshare_bench_{os.getpid()}"
    admin = pg_url.rstrip("/") + "/postgres"
    pg_admin_exec(admin, f'DROP DATABASE IF EXISTS "{db}"')
    pg_admin_exec(admin, f'CREATE DATABASE "{db}"')
    return Backend(name, pg_url.rstrip("/") + f"/{db}", folder, admin, db)


def drop_backend(backend: Backend) -> None:
    if backend.pg_admin and backend.pg_db:
        pg_admin_exec(backend.pg_admin, f'DROP DATABASE IF EXISTS "{backend.pg_db}" WITH (FORCE)')


def run_cli(backend: Backend, *args: str) -> float:
    t = time.perf_counter()
    subprocess.run(
        [SAFESHARE, *args],
        env=backend.env(production=False),
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=backend.folder,
    )
    return time.perf_counter() - t


@dataclass
class Account:
    username: str
    password: str
    cases: list[str] = field(default_factory=list)


@dataclass
class Prepared:
    accounts: list[Account]
    baseline: Account
    timings: dict[str, float]


def prepare(backend: Backend, args: argparse.Namespace) -> Prepared:
    """Everything before the server starts (in this process, through the services)."""
    from safeshare.api.config import WebSettings  # noqa: PLC0415
    from safeshare.bootstrap import bootstrap  # noqa: PLC0415
    from safeshare.demo import load_demo  # noqa: PLC0415
    from safeshare.services import accounts  # noqa: PLC0415
    from safeshare.services.accounts import Role  # noqa: PLC0415
    from safeshare.services.org_keys import (  # noqa: PLC0415
        SharingSettings,
        ensure_org_keys,
        key_directory,
    )
    from safeshare.settings import Env, Settings  # noqa: PLC0415

    timings: dict[str, float] = {}
    timings["db_upgrade_s"] = run_cli(backend, "db", "upgrade")
    env = backend.env(production=False)
    settings = Settings(
        env=Env.TEST,
        database_url=backend.url,
        field_key_file=Path(env["SAFESHARE_FIELD_KEY_FILE"]),
        audit_key_file=Path(env["SAFESHARE_AUDIT_KEY_FILE"]),
    )
    policy = WebSettings(env=Env.TEST).access_policy()  # production argon2id parameters
    store = bootstrap(settings)
    try:
        t = time.perf_counter()
        load_demo(store, policy=policy)
        timings["demo_s"] = time.perf_counter() - t

        t = time.perf_counter()
        paths = write_csv(backend.folder, args.cases, args.seed, date.today())
        timings["csv_write_s"] = time.perf_counter() - t
        for kind in ("subjects", "cases", "consents"):
            timings[f"import_{kind}_s"] = run_cli(backend, "import", kind, str(paths[kind]))
        for p in paths.values():
            p.unlink()

        rnd = random.Random(args.seed + 1)
        unhcr_cases = [i for i in range(args.cases) if case_owner(i) == "unhcr"]
        want = min(len(unhcr_cases), args.caseworkers * args.assigned)
        sample = rnd.sample(unhcr_cases, want)
        t = time.perf_counter()
        made: list[Account] = []
        for k in range(args.caseworkers):
            mine = [f"C{i:08d}" for i in sample[k * args.assigned : (k + 1) * args.assigned]]
            if not mine:
                break
            account = Account(
                f"bench.caseworker{k:03d}", secrets.token_urlsafe(BENCH_PASSWORD_BYTES), mine
            )
            accounts.create_account(
                store,
                username=account.username,
                password=account.password,
                org="unhcr",
                role=Role.CASEWORKER,
                actor="bench",
                policy=policy,
                cases=mine,
            )
            made.append(account)
        baseline = Account("bench.baseline", secrets.token_urlsafe(BENCH_PASSWORD_BYTES))
        accounts.create_account(
            store,
            username=baseline.username,
            password=baseline.password,
            org="unhcr",
            role=Role.CASEWORKER,
            actor="bench",
            policy=policy,
        )
        timings["accounts_s"] = time.perf_counter() - t

        if backend.pg_db:
            # What autovacuum would do shortly anyway: statistics and a clean checkpoint, so
            # the first phase does not run beside the vacuum of three million new rows.
            t = time.perf_counter()
            pg_admin_exec(backend.url, "VACUUM ANALYZE")
            pg_admin_exec(backend.url, "CHECKPOINT")
            timings["pg_vacuum_analyze_s"] = time.perf_counter() - t
        keys = key_directory(
            SharingSettings(env=Env.TEST, org_key_dir=Path(env["SAFESHARE_ORG_KEY_DIR"]))
        )
        with store.transaction() as session:
            for org in ("unhcr", RECIPIENT):
                ensure_org_keys(store, session, keys, org, actor="bench")
    finally:
        store.dispose()
    return Prepared(made, baseline, {k: round(v, 2) for k, v in timings.items()})


# -- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(backend: Backend, port: int, workers: int) -> Iterator[subprocess.Popen[bytes]]:
    log = (backend.folder / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            SAFESHARE,
            "serve",
            "--no-demo",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=backend.env(production=True),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=backend.folder,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited: see {backend.folder / 'server.log'}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/auth/csrf", timeout=2).is_success:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not become ready in 180 s")
            time.sleep(0.2)
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@contextlib.contextmanager
def profiling(pid: int, folder: Path | None, name: str, seconds: float) -> Iterator[None]:
    """``py-spy record`` of the server during the mixed phase (collapsed stacks), if asked."""
    if folder is None:
        yield
        return
    spy = shutil.which("py-spy") or str(BIN / "py-spy")
    if not Path(spy).exists():  # a profile asked for is never silently skipped
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{name}.collapsed.txt"
    proc = subprocess.Popen(
        [spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--nonblocking",
         "--duration", str(int(seconds) + 2), "--subprocesses", "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield
    finally:
        proc.wait(timeout=seconds + 60)


def login(base: str, account: Account) -> str:
    res = httpx.post(
        f"{base}/api/auth/login",
        json={"username": account.username, "password": account.password},
        timeout=30,
    )
    res.raise_for_status()
    token: str = res.json()["token"]
    return token


# -- the load generator (a separate process) ------------------------------------------------


@dataclass
class Plan:
    """Requests as (kind, method, path, token index, body bytes or None)."""

    base: str
    tokens: list[str]
    requests: list[tuple[str, str, str, int, bytes | None]]
    rate: float = 0.0
    connections: int = 16


def mixed_plan(
    base: str,
    tokens: list[str],
    accounts: list[Account],
    *,
    n: int,
    referral_share: float,
    seed: int,
) -> Plan:
    rnd = random.Random(seed)
    requests: list[tuple[str, str, str, int, bytes | None]] = []
    for _ in range(n):
        who = rnd.randrange(len(accounts))
        case = rnd.choice(accounts[who].cases)
        subject = "S" + case[1:]
        roll = rnd.random()
        if roll < referral_share:
            body = {
                "to": RECIPIENT,
                "purpose": PURPOSE,
                "subjects": [subject],
                "data_elements": REFERRAL_ELEMENTS,
                "contact_method": "phone",
                "label": "Referral for legal counselling",
            }
            requests.append(("referral", "POST", "/api/referrals", who, json.dumps(body).encode()))
        elif roll < referral_share + (1 - referral_share) / 2:
            body = {
                "to": RECIPIENT,
                "purpose": PURPOSE,
                "subjects": [subject],
                "data_elements": DECISION_ELEMENTS,
                "contact_method": "phone",
            }
            requests.append(("decision", "POST", "/api/decisions", who, json.dumps(body).encode()))
        else:
            requests.append(("case_read", "GET", f"/api/cases/{case}", who, None))
    return Plan(base, tokens, requests)


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {
        "requests": len(ordered),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


class Connection:
    """One keep-alive HTTP/1.1 connection, spoken by hand: the load generator shares the
    machine with the server, and a full client library costs it milliseconds of CPU per
    request (httpx: about 3.5 ms here), which the server would then miss."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(
        self, method: str, path: str, headers: bytes, body: bytes | None
    ) -> tuple[int, bytes]:
        payload = body or b""
        head = f"{method} {path} HTTP/1.1\r\nhost: load\r\ncontent-length: {len(payload)}\r\n"
        self.writer.write(head.encode() + headers + b"\r\n" + payload)
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked = 0, False
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, await self.reader.readexactly(length)
        parts = []
        while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)
        await self.reader.readuntil(b"\r\n")
        return status, b"".join(parts)

    def close(self) -> None:
        self.writer.close()


async def _drive(plan: Plan) -> dict[str, Any]:
    host, port = plan.base.removeprefix("http://").rsplit(":", 1)
    headers = [
        f"authorization: Bearer {t}\r\ncontent-type: application/json\r\n".encode()
        for t in plan.tokens
    ]
    latencies: dict[str, list[float]] = {}
    statuses: dict[str, dict[str, int]] = {}
    outcomes: dict[str, dict[str, int]] = {}
    lag: list[float] = []
    samples_of_errors: list[str] = []
    cpu_start = time.process_time()
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(plan.connections):
        idle.put_nowait(await Connection.open(host, int(port)))
    loop = asyncio.get_running_loop()

    async def fetch(method: str, path: str, who: int, body: bytes | None) -> tuple[int, bytes]:
        conn = await idle.get()
        try:
            result = await conn.request(method, path, headers[who], body)
        except BaseException:
            conn.close()
            idle.put_nowait(await Connection.open(host, int(port)))
            raise
        idle.put_nowait(conn)
        return result

    async def send(req: tuple[str, str, str, int, bytes | None], scheduled: float) -> None:
        kind, method, path, who, body = req
        lag.append(loop.time() - scheduled)
        try:
            code, content = await fetch(method, path, who, body)
            status = str(code)
            ok = 200 <= code < 300
            if ok and kind in {"decision", "referral"}:
                doc = json.loads(content)
                outcome = doc["decision"] if kind == "decision" else doc["decision"]["decision"]
                bucket = outcomes.setdefault(kind, {})
                bucket[outcome] = bucket.get(outcome, 0) + 1
            elif not ok and len(samples_of_errors) < 10:
                samples_of_errors.append(f"{kind} {path} {status} {content[:200]!r}")
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            status = type(exc).__name__
            if len(samples_of_errors) < 10:
                samples_of_errors.append(f"{kind} {path} {status} {exc}")
        latencies.setdefault(kind, []).append(loop.time() - scheduled)
        counts = statuses.setdefault(kind, {})
        counts[status] = counts.get(status, 0) + 1

    # Warm the server's code paths on every connection (not counted).
    warm = plan.requests[: min(len(plan.requests), 2 * plan.connections)]
    await asyncio.gather(*(fetch(m, p, w, b) for _k, m, p, w, b in warm))
    tasks: list[asyncio.Task[None]] = []
    start = loop.time() + 0.2
    for i, req in enumerate(plan.requests):
        scheduled = start + i / plan.rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(req, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    while not idle.empty():
        idle.get_nowait().close()
    per_kind = {}
    for kind, values in sorted(latencies.items()):
        ok_counts = statuses[kind]
        errors = sum(v for s, v in ok_counts.items() if not (s.isdigit() and 200 <= int(s) < 300))
        per_kind[kind] = {**percentiles(values), "errors": errors, "statuses": ok_counts}
        if kind in outcomes:
            per_kind[kind]["outcomes"] = outcomes[kind]
    total = len(plan.requests)
    return {
        "requests": total,
        "target_rate": plan.rate,
        "achieved_rate": round(total / elapsed, 1),
        "errors": sum(k["errors"] for k in per_kind.values()),
        "all": percentiles([v for vs in latencies.values() for v in vs]),
        "by_kind": per_kind,
        "generator_lag_p99_ms": percentiles(lag).get("p99_ms"),
        "client_cpu_ms_per_request": round(1000 * (time.process_time() - cpu_start) / total, 2),
        "error_samples": samples_of_errors,
    }


def _load_process(plan: Plan, out: Any) -> None:
    out.send(asyncio.run(_drive(plan)))
    out.close()


def run_load(plan: Plan) -> dict[str, Any]:
    """Runs the plan in a separate (spawned) process and returns its figures."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_load_process, args=(plan, child))
    proc.start()
    child.close()
    result: dict[str, Any] = parent.recv()
    proc.join()
    return result


# -- a run ----------------------------------------------------------------------------------


def server_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def bench_backend(name: str, root: Path, args: argparse.Namespace) -> dict[str, Any]:
    backend = make_backend(name, root, args.pg_url)
    try:
        t = time.perf_counter()
        prepared = prepare(backend, args)
        setup_s = time.perf_counter() - t
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with serving(backend, port, args.workers) as proc:
            accounts = prepared.accounts
            tokens = [login(base, a) for a in accounts]
            base_token = login(base, prepared.baseline)
            runs = {}
            for rate in args.rate:
                spy = (proc.pid, f"{name}-{rate:g}")
                runs[f"{rate:g}/s"] = one_rate(base, tokens, base_token, accounts, rate, args, spy)
            rss = server_rss_mb(proc.pid)
        size = (
            sum(p.stat().st_size for p in backend.folder.glob("store.db*"))
            if name == "sqlite"
            else None
        )
    finally:
        drop_backend(backend)
    return {
        "setup_s": round(setup_s, 1),
        "setup": prepared.timings,
        "caseworkers": len(prepared.accounts),
        "assigned_cases": sum(len(a.cases) for a in prepared.accounts),
        "database_mb": round(size / 1e6, 1) if size else None,
        "server_rss_mb_after": rss,
        "loadavg_1min_after": round(os.getloadavg()[0], 2),
        "runs": runs,
    }


def _tree(pid: int) -> list[int]:
    pids = [pid]
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                pids += _tree(int(child))
    return pids


def server_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by the server and its worker processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in _tree(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def database_cpu_s() -> float:
    """CPU seconds used so far by this machine's PostgreSQL server processes (every process
    named ``postgres``: the backends serving this benchmark, and the server's own writers),
    from ``/proc``; 0 where there is none."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        if name == "postgres" or name.startswith("postgres:"):
            fields = text[text.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def _measured(pid: int, plan: Plan) -> dict[str, Any]:
    """The load's figures, with the server's CPU milliseconds per request and how the
    client's connections were spread across the workers (sampled once, 2 s in)."""
    port = int(plan.base.rsplit(":", 1)[1])
    split: list[int] = []

    def sample() -> None:
        time.sleep(2)
        split.extend(connections_per_worker(_tree(pid), port))

    sampler = threading.Thread(target=sample, daemon=True)
    before, database_before = server_cpu_s(pid), database_cpu_s()
    sampler.start()
    result = run_load(plan)
    used = server_cpu_s(pid) - before
    database_used = database_cpu_s() - database_before
    sampler.join()
    n = max(1, len(plan.requests))
    result["server_cpu_ms_per_request"] = round(1000 * used / n, 2)
    # The machine's PostgreSQL processes (0 on SQLite, which runs inside the server).
    result["database_cpu_ms_per_request"] = round(1000 * database_used / n, 2)
    result["connections_per_worker"] = split
    return result


def one_rate(
    base: str,
    tokens: list[str],
    base_token: str,
    accounts: list[Account],
    rate: float,
    args: argparse.Namespace,
    spy: tuple[int, str],
) -> dict[str, Any]:
    """The two baselines, then the mix, each at ``rate`` for ``--seconds`` (the server is
    profiled during the mix when ``--profile`` is given)."""
    n = int(rate * args.seconds)
    phases: dict[str, Any] = {}
    for phase, path in (("csrf", "/api/auth/csrf"), ("me", "/api/auth/me")):
        requests: list[tuple[str, str, str, int, bytes | None]] = [(phase, "GET", path, 0, None)]
        phases[phase] = _measured(
            spy[0], Plan(base, [base_token], requests * n, rate, args.connections)
        )
    plan = mixed_plan(
        base, tokens, accounts, n=n, referral_share=args.referral_share, seed=args.seed
    )
    plan.rate, plan.connections = rate, args.connections
    with profiling(spy[0], args.profile, spy[1], args.seconds):
        mixed = _measured(spy[0], plan)
    me = phases["me"]["all"]
    keys = ("p50_ms", "p95_ms", "p99_ms", "max_ms")
    return {
        "load": mixed,
        "baseline_me": {k: me.get(k) for k in keys}
        | {"errors": phases["me"]["errors"], "achieved_rate": phases["me"]["achieved_rate"]}
        | {k: phases["me"][k] for k in ("server_cpu_ms_per_request", "client_cpu_ms_per_request")},
        "baseline_csrf": {k: phases["csrf"]["all"].get(k) for k in keys}
        | {"errors": phases["csrf"]["errors"], "achieved_rate": phases["csrf"]["achieved_rate"]}
        | {
            k: phases["csrf"][k] for k in ("server_cpu_ms_per_request", "client_cpu_ms_per_request")
        },
        "ratio_p50_vs_me": _ratios(mixed, me, "p50_ms"),
        "ratio_p99_vs_me": _ratios(mixed, me, "p99_ms"),
        "connections_per_worker": mixed["connections_per_worker"],
        "goal": {"p99_ms": GOAL_P99_MS, "errors": 0},
        "goal_met": mixed["errors"] == 0
        and all(k["p99_ms"] < GOAL_P99_MS for k in mixed["by_kind"].values()),
    }


def _ratios(mixed: dict[str, Any], base: dict[str, Any], key: str) -> dict[str, float]:
    return {kind: round(v[key] / max(base[key], 1e-3), 1) for kind, v in mixed["by_kind"].items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--rate",
        type=lambda text: [float(r) for r in text.split(",")],
        default=[200.0],
        help="requests/s; a comma-separated list runs each rate in turn on the same server",
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--caseworkers", type=int, default=20)
    parser.add_argument("--assigned", type=int, default=100, help="cases per caseworker")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="safeshare serve --workers")
    parser.add_argument(
        "--referral-share", type=float, default=0.1, help="share of real referral creations"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--profile", type=Path, default=None, help="py-spy the server into this folder"
    )
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: temp)")
    args = parser.parse_args()

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    report: dict[str, Any] = {
        "cases": args.cases,
        "rate": args.rate,
        "seconds": args.seconds,
        "connections": args.connections,
        "mix": {
            "referral": args.referral_share,
            "decision": round((1 - args.referral_share) / 2, 3),
            "case_read": round((1 - args.referral_share) / 2, 3),
        },
        "python": sys.version.split()[0],
        "sqlite_version": sqlite3.sqlite_version,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared)",
        "server": f"safeshare serve (uvicorn, {args.workers} worker(s)), "
        "SAFESHARE_ENV=production, loopback",
    }
    tmp = tempfile.mkdtemp(prefix="safeshare-api-bench-", dir=args.dir)
    try:
        for name in backends:
            report[name] = bench_backend(name, Path(tmp), args)
            print(f"{name}: done", file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
