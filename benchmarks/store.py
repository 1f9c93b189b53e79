"""The store at operation scale, each figure next to a baseline run in the same process.

    .venv/bin/python benchmarks/store.py [--cases 1000000] [--decisions 2000] [--events 1000000]

(a) **Bulk import**: ``--cases`` case records with their subjects and one consent entry each,
    from CSV into a fresh SQLite store (``import_file`` three times: checked, sealed, audited;
    one transaction per file). Baseline: raw ``sqlite3`` ``executemany`` of the same rows
    (read with ``csv.reader``, no checks, no encryption) into the same schema with the same
    pragmas, one transaction per file. Goal: < 60 s for 1,000,000 cases.
(b) **A decision from the store**: ``decide_request`` for referral requests naming one random
    subject (world loaded through indexed queries, decision and audit event recorded):
    p50/p95/p99. Baseline: ``core.decide`` alone on the same worlds. Goal: p99 < 5 ms.
(c) **Audit verification**: ``--events`` events appended to the chain (raw rows, canonical
    bodies, a signed checkpoint every 10,000), then ``verify_audit`` reading from the database
    (links checked by SQLite, hashes shared by this process and ``VERIFY_WORKERS`` worker
    processes), the same fast path in this process alone, and the reference
    (``verify_chain_rows`` over every row). Baselines: SHA-256 over the same
    ``prev_hash || body`` bytes in memory (one core), and a raw ``sqlite3`` read of the rows
    with the same hashing. CPU seconds of all processes are reported too: on a shared machine
    the wall-clock figures move with the load. Goal: >= 1,000,000 events/s and >= 50 % of the
    in-memory hashing rate.

Prints one JSON object. The machine may be shared: compare the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import bench_data

from safeshare import core
from safeshare.audit import chain
from safeshare.bootstrap import bootstrap
from safeshare.core.request import ShareRequest
from safeshare.core.vocabulary import (
    Basis,
    BenefitKind,
    DPAssessment,
    GeneralPurpose,
    OrgKind,
)
from safeshare.core.world import Organisation, Period, Protocol, Purpose
from safeshare.services import audit as audit_service
from safeshare.services.bulk_import import INSERT_COLUMNS, import_file
from safeshare.services.decisions import decide_request
from safeshare.services.protocols import endorse_protocol, load_protocol
from safeshare.services.world_loader import build_world
from safeshare.settings import Env, Settings
from safeshare.store import audit_log, audit_verify, migrate
from safeshare.store.database import SQLITE_PRAGMAS, make_engine
from safeshare.store.unit import Store

TODAY = date(2026, 3, 1)
PURPOSE = "legal-aid-referral"
ORGS = [
    Organisation("unhcr", OrgKind.UNHCR),
    Organisation("ngo-a", OrgKind.PARTNER, dp_assessment=DPAssessment.PASSED),
]


def protocol() -> Protocol:
    return Protocol(
        id="op-dsp",
        endorsed=True,
        consent_review=Period("P1Y", years=1),
        purposes=(
            Purpose(
                id=PURPOSE,
                general=GeneralPurpose.IMMEDIATE_REFERRAL,
                benefit="Free legal counselling",
                benefit_kind=BenefitKind.DIRECT,
                services=("legal counselling",),
                senders=frozenset({"unhcr"}),
                recipients=frozenset({"ngo-a"}),
                data_elements=("name", "phone", "service_needed"),
                retention=Period("P6M", months=6),
                access_roles=("legal-caseworker",),
                contact_methods=("phone",),
            ),
        ),
    )


# -- data -----------------------------------------------------------------------------------


def write_csv(folder: Path, n: int, seed: int) -> dict[str, Path]:
    """The shared synthetic operation (``bench_data``), consents dated in February 2026."""
    dates = [f"2026-02-{d:02d}" for d in range(1, 28)]
    return bench_data.write_csv(folder, n, seed, purpose=PURPOSE, recipient="ngo-a", dates=dates)


def settings_for(folder: Path, name: str) -> Settings:
    return Settings(
        env=Env.TEST,
        database_url=f"sqlite:///{folder / name}",
        field_key_file=folder / "keys" / "field-keys.json",
        audit_key_file=folder / "keys" / "audit-key.pem",
    )


# -- (a) import -----------------------------------------------------------------------------


def raw_baseline(folder: Path, paths: dict[str, Path]) -> dict[str, float]:
    """The same rows with sqlite3 executemany: no checks, no encryption, same schema."""
    db = folder / "baseline.db"
    engine = make_engine(f"sqlite:///{db}")
    migrate.upgrade(engine)
    engine.dispose()
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        conn.execute(pragma)
    conn.executemany(
        "INSERT INTO organisations VALUES (?, ?, ?, ?, ?, ?)",
        [("unhcr", "unhcr", "none", 0, 0, ""), ("ngo-a", "partner", "passed", 0, 0, "")],
    )
    stamp = "2026-03-01 00:00:00.000000"
    times: dict[str, float] = {}

    def rows(kind: str) -> Any:
        with paths[kind].open(newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            for r in reader:
                if kind == "subjects":
                    yield (r[0], int(r[1]), None, 1, 1, 0, None, None, r[3].encode(), r[4].encode())
                elif kind == "cases":
                    yield (r[0], r[1], r[2], r[3], None, r[4].encode(), None)
                else:
                    yield (
                        r[0], r[1], "consent", "self", r[2], json.dumps([r[3]]),
                        json.dumps([r[4]]), None, r[5], r[7].encode(), None, None, None,
                        r[6], "bench", stamp,
                    )  # fmt: skip

    def categories() -> Any:
        with paths["subjects"].open(newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            for r in reader:
                for c in sorted(set(r[2].split(";"))):
                    yield (r[0], c)

    tables = {"subjects": "subjects", "cases": "cases", "consents": "consent_ledger"}
    for kind, table in tables.items():
        cols = INSERT_COLUMNS[kind]
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        t = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows(kind))
        if kind == "subjects":
            conn.executemany("INSERT INTO subject_categories VALUES (?, ?)", categories())
        conn.execute("COMMIT")
        times[kind] = time.perf_counter() - t
    conn.close()
    return times


def our_import(store: Store, paths: dict[str, Path]) -> dict[str, float]:
    times: dict[str, float] = {}
    for kind in ("subjects", "cases", "consents"):
        t = time.perf_counter()
        report = import_file(store, paths[kind], kind, actor="bench")
        times[kind] = time.perf_counter() - t
        assert report.rows > 0
    return times


# -- (b) decisions --------------------------------------------------------------------------


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99), "mean_ms": round(
        statistics.fmean(ordered) * 1000, 3
    )}  # fmt: skip


def decisions(store: Store, n_subjects: int, n: int, seed: int) -> dict[str, Any]:
    rnd = random.Random(seed)
    requests = [
        ShareRequest(
            sender="unhcr",
            recipient="ngo-a",
            purpose=PURPOSE,
            basis=Basis.CONSENT,
            data_elements=("name", "phone"),
            subjects=(f"S{rnd.randrange(n_subjects):08d}",),
        )
        for _ in range(n)
    ]
    for r in requests[:20]:  # warm up
        decide_request(store, r, actor="bench", today=TODAY)
    store_times: list[float] = []
    outcomes: dict[str, int] = {}
    for r in requests:
        t = time.perf_counter()
        recorded = decide_request(store, r, actor="bench", today=TODAY)
        store_times.append(time.perf_counter() - t)
        outcome = recorded.decision.outcome.value
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    core_times: list[float] = []
    with store.reading() as session:
        for r in requests:
            world = build_world(session, r, today=TODAY)
            t = time.perf_counter()
            core.decide(world, r)
            core_times.append(time.perf_counter() - t)
    ours, base = percentiles(store_times), percentiles(core_times)
    return {
        "requests": n,
        "decide_request": ours,
        "baseline_core_decide": base,
        "p99_ratio": round(ours["p99_ms"] / max(base["p99_ms"], 1e-6), 1),
        "outcomes": outcomes,
    }


# -- (c) audit verification -----------------------------------------------------------------


def append_events(store: Store, n: int, every: int, seed: int) -> list[tuple[bytes, bytes]]:
    """``n`` canonical events after the head, with a checkpoint every ``every`` and one at
    the end; returns (prev_hash, body) of every event in the chain, for the baseline."""
    signer = store.signer
    assert signer is not None
    rnd = random.Random(seed)
    actions = (b"decision", b"consent.granted", b"consent.withdrawn", b"access.subject")
    with store.engine.connect() as conn:
        existing = [
            (bytes(p), bytes(b))
            for b, p in conn.exec_driver_sql(
                "SELECT body, prev_hash FROM audit_events ORDER BY seq"
            )
        ]
        head_seq, head_hash = conn.exec_driver_sql(
            "SELECT seq, hash FROM audit_head WHERE id = 1"
        ).one()
    prev = bytes(head_hash) if head_seq else chain.GENESIS_HASH
    pairs = existing
    rows: list[tuple[int, bytes, bytes, bytes]] = []
    cps: list[tuple[int, bytes, str, str, bytes]] = []
    sha256 = hashlib.sha256
    for seq in range(head_seq + 1, head_seq + n + 1):
        body = (
            b'{"action":"%s","actor":"user:%d","at":"2026-03-01T%02d:%02d:%02d.%06dZ",'
            b'"codes":["CONSENT-OK","PURPOSE-OK"],"details":{"kind":"share","outcome":"allow"},'
            b'"object_id":"%032x","object_type":"decision","seq":%d,"v":1}'
            % (
                rnd.choice(actions),
                rnd.randrange(5000),
                seq // 3600 % 24,
                seq // 60 % 60,
                seq % 60,
                rnd.randrange(10**6),
                rnd.getrandbits(128),
                seq,
            )
        )
        h = sha256(prev + body).digest()
        rows.append((seq, body, prev, h))
        pairs.append((prev, body))
        if seq % every == 0 or seq == head_seq + n:
            cp = chain.sign_checkpoint(
                signer.private_key, signer.key_id, seq, h, chain.utc_timestamp()
            )
            cps.append((cp.seq, cp.head_hash, cp.at, cp.key_id, cp.signature))
        prev = h
    assert chain.parse_body(rows[0][1]).seq == head_seq + 1  # canonical form
    with store.engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        cursor = raw.cursor()
        cursor.executemany(
            "INSERT INTO audit_events (seq, body, prev_hash, hash, object_type, object_id)"
            " VALUES (?, ?, ?, ?, 'decision', ?)",
            ((*r, r[1].split(b'"object_id":"')[1][:32].decode()) for r in rows),
        )
        cursor.executemany("INSERT INTO audit_checkpoints VALUES (?, ?, ?, ?, ?)", cps)
        cursor.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (rows[-1][0], prev))
        cursor.close()
    return pairs


def audit_verification(store: Store, n: int, repeat: int, seed: int) -> dict[str, Any]:
    pairs = append_events(store, n, 10_000, seed)
    total = len(pairs)
    db = store.engine.url.database
    assert db is not None
    sha256 = hashlib.sha256
    times: dict[str, list[float]] = {k: [] for k in ("parallel", "single", "reference")}
    cpu: dict[str, list[float]] = {k: [] for k in times}
    base_mem, base_db = [], []

    def timed(kind: str, run: Any) -> None:
        c0 = time.process_time() + _children_cpu()
        t = time.perf_counter()
        result = run()
        times[kind].append(time.perf_counter() - t)
        cpu[kind].append(time.process_time() + _children_cpu() - c0)
        assert result.ok, result.problem
        assert result.events_checked == total

    def fast(workers: int) -> Any:
        with store.reading() as session:
            return audit_verify.verify_fast(
                session, store.public_keys, require_anchored_head=True, workers=workers
            )

    def reference() -> Any:
        with store.reading() as session:
            return chain.verify_chain_rows(
                audit_log.stream_event_rows(session),
                audit_log.checkpoints(session),
                store.public_keys,
                require_anchored_head=True,
            )

    for _ in range(repeat):
        t = time.perf_counter()
        for prev, body in pairs:
            sha256(prev + body).digest()
        base_mem.append(time.perf_counter() - t)
        timed("parallel", lambda: audit_service.verify_audit(store, require_anchored_head=True))
        timed("single", lambda: fast(0))
        timed("reference", reference)
        conn = sqlite3.connect(db)
        t = time.perf_counter()
        for _seq, body, prev, _h in conn.execute(
            "SELECT seq, body, prev_hash, hash FROM audit_events ORDER BY seq"
        ):
            sha256(prev + body).digest()
        base_db.append(time.perf_counter() - t)
        conn.close()
    mem, raw_db = min(base_mem), min(base_db)
    best = {k: min(v) for k, v in times.items()}
    return {
        "events": total,
        "workers": audit_verify.VERIFY_WORKERS,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "verify_audit_events_per_s": round(total / best["parallel"]),
        "single_process_events_per_s": round(total / best["single"]),
        "reference_stream_events_per_s": round(total / best["reference"]),
        "baseline_sha256_in_memory_per_s": round(total / mem),
        "baseline_sqlite3_read_and_sha256_per_s": round(total / raw_db),
        "ratio_vs_in_memory_sha256": round(mem / best["parallel"], 3),
        "single_process_ratio_vs_in_memory_sha256": round(mem / best["single"], 3),
        "ratio_vs_sqlite3_read_and_sha256": round(raw_db / best["parallel"], 3),
        "cpu_s_all_processes": {k: round(min(v), 3) for k, v in cpu.items()},
        "wall_s": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "baseline_sha256_in_memory_s": [round(x, 3) for x in base_mem],
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--decisions", type=int, default=2000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: temp)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="safeshare-bench-", dir=args.dir) as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        paths = write_csv(folder, args.cases, args.seed)
        csv_s = time.perf_counter() - t
        csv_mb = sum(p.stat().st_size for p in paths.values()) / 1e6

        base = raw_baseline(folder, paths)
        store = bootstrap(settings_for(folder, "store.db"), upgrade=True)
        try:
            version = load_protocol(store, protocol(), actor="bench", organisations=ORGS)
            endorse_protocol(store, version.id, by="Representative", actor="bench")
            ours = our_import(store, paths)
            total_ours, total_base = sum(ours.values()), sum(base.values())
            report: dict[str, Any] = {
                "cases": args.cases,
                "python": sys.version.split()[0],
                "sqlite": sqlite3.sqlite_version,
                "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared)",
                "import": {
                    "csv_mb": round(csv_mb, 1),
                    "csv_written_s": round(csv_s, 1),
                    "import_file_s": {k: round(v, 2) for k, v in ours.items()},
                    "import_file_total_s": round(total_ours, 2),
                    "rows_per_s": round(3 * args.cases / total_ours),
                    "baseline_raw_executemany_s": {k: round(v, 2) for k, v in base.items()},
                    "baseline_total_s": round(total_base, 2),
                    "ratio_vs_baseline": round(total_ours / total_base, 2),
                    "goal_total_s": 60,
                },
            }
            report["decision"] = decisions(store, args.cases, args.decisions, args.seed)
            report["audit_verify"] = audit_verification(store, args.events, args.repeat, args.seed)
        finally:
            store.dispose()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
