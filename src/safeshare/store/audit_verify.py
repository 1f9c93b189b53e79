"""Fast verification of the audit chain: the same answer as the reference
(:func:`safeshare.audit.chain.verify_chain_rows` over every event), in a fraction of the time.

``verify_chain_rows`` (the reference) reads (seq, body, prev_hash, hash) for every event and
checks everything in Python. The fast path splits the work:

* the database checks, per run of events, that every ``prev_hash`` is the previous event's
  stored ``hash`` (a self-join on the primary key, in C), and ``min(seq)`` is 1;
* Python reads only ``(body, hash)`` per event and checks, with ``chain.verify_links``,
  ``hash == SHA-256(previous stored hash || body)``, the seq inside the body, and (by
  counting the rows of each run of seqs ``lo..hi``) that no seq is missing;
* runs are independent (each starts from the stored hash of the event before it), so they
  are shared between this process and worker processes, each with its own connection on
  the same snapshot: on SQLite this session holds the write lock (``BEGIN IMMEDIATE``) for
  the whole verification, so no commit can happen between its snapshot and the workers';
  on PostgreSQL this session exports its REPEATABLE READ snapshot and the workers import it.

Any problem at all, or anything unexpected, and the reference runs over the whole chain in
this session: a tampered chain gets exactly the reference's answer (first bad event,
problem). An intact chain gets the same result too (``chain.verified_chain_result``).
"""

from __future__ import annotations

import json
import os
import re
import select as _select
import subprocess
import sys
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from safeshare.audit import chain
from safeshare.store import audit_worker
from safeshare.store.audit_log import checkpoints, stream_event_rows
from safeshare.store.audit_worker import SQL
from safeshare.store.models import AuditEventRow

VERIFY_WORKERS = 1  # worker processes besides this one (2 cores: this process and 1 worker)
PARALLEL_MIN_EVENTS = 200_000  # below this, starting a worker costs more than it saves
RUN_MIN, RUN_MAX = 5_000, 100_000  # events per run (guided: smaller towards the end)

_SNAPSHOT_RE = re.compile(r"[0-9A-Fa-f-]{1,64}")


class _Worker:
    """A worker process and the runs it was given and has not answered yet."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "safeshare.store.audit_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.pending: dict[int, tuple[int, int]] = {}
        self.buffer = b""
        self.alive = True
        self.send(json.dumps(spec) + "\n")

    def send(self, text: str) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(text.encode())
            self.proc.stdin.flush()
        except OSError:
            self.alive = False

    def give(self, lo: int, hi: int) -> None:
        self.pending[lo] = (lo, hi)
        self.send(f"{lo} {hi}\n")

    def answers(self, *, wait: bool) -> Iterator[bool]:
        """Answers received (waiting for one if ``wait``); marks the worker dead on EOF."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while self.alive and (wait or _select.select([fd], [], [], 0)[0]):
            data = os.read(fd, 4096)
            if not data:
                self.alive = False
                break
            self.buffer += data
            *lines, self.buffer = self.buffer.split(b"\n")
            for line in lines:
                lo, _hi, ok = (int(x) for x in line.split())
                self.pending.pop(lo, None)
                yield ok == 1
            if lines:
                wait = False

    def close(self) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _worker_spec(session: Session, dialect: str, last_seq: int, head: bytes) -> dict[str, Any]:
    """How a worker reaches this session's snapshot; empty when it cannot."""
    bind = session.get_bind()
    if not isinstance(bind, Engine):
        return {}  # bound to a connection (perhaps with uncommitted changes): verify here
    spec: dict[str, Any] = {"sql": SQL[dialect], "last_seq": last_seq, "head_hash": head.hex()}
    if dialect == "sqlite":
        database = bind.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return {}
        return {**spec, "driver": "sqlite3", "database": os.path.abspath(database)}
    snapshot = session.connection().exec_driver_sql("SELECT pg_export_snapshot()").scalar()
    if not isinstance(snapshot, str) or not _SNAPSHOT_RE.fullmatch(snapshot):
        return {}
    url = bind.url.set(drivername="postgresql")
    conninfo = url.render_as_string(hide_password=False)
    return {**spec, "driver": "psycopg", "conninfo": conninfo, "snapshot": snapshot}


def _runs_ok(conn: Any, sql: Mapping[str, str], last_seq: int, workers: list[_Worker]) -> bool:
    """Every event 1..last_seq checked in runs, shared with the workers; False at the first
    run that does not pass."""
    todo: deque[tuple[int, int]] = deque()
    lo = 1
    while lo <= last_seq:
        size = min(RUN_MAX, max(RUN_MIN, (last_seq - lo + 1) // (4 * (len(workers) + 1))))
        hi = min(last_seq, lo + size - 1)
        todo.append((lo, hi))
        lo = hi + 1

    def feed() -> None:
        for w in workers:
            while w.alive and len(w.pending) < 2 and todo:
                w.give(*todo.popleft())

    try:
        feed()
        while todo:
            if not audit_worker.check_run(conn, sql, *todo.popleft()):
                return False
            for w in workers:
                if not all(w.answers(wait=False)):
                    return False
            feed()
        for w in workers:
            while w.pending and w.alive:
                if not all(w.answers(wait=True)):
                    return False
            # A worker that died leaves its runs to this process.
            for lo, hi in list(w.pending.values()):
                if not audit_worker.check_run(conn, sql, lo, hi):
                    return False
            w.pending.clear()
        return True
    finally:
        for w in workers:
            w.close()


def verify_fast(
    session: Session,
    public_keys: Mapping[str, Any],
    *,
    require_anchored_head: bool = False,
    workers: int | None = None,
    parallel_min: int | None = None,
) -> chain.VerificationResult:
    """The same result as ``chain.verify_chain_rows`` over every event (see the comment
    above): the database checks the links, Python the hashes, in ``workers`` processes
    besides this one (default :data:`VERIFY_WORKERS`; 0 for none) when the chain has at
    least ``parallel_min`` events (default :data:`PARALLEL_MIN_EVENTS`)."""
    bind = session.get_bind()
    dialect = bind.dialect.name
    # Workers share this session's snapshot only if it is a fresh one from the engine (on
    # PostgreSQL, in REPEATABLE READ so that every read here sees that snapshot too).
    shareable = isinstance(bind, Engine) and not session.in_transaction()
    if shareable and dialect == "postgresql":
        conn = session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        conn = session.connection()
    cps = checkpoints(session)

    def reference() -> chain.VerificationResult:
        return chain.verify_chain_rows(
            stream_event_rows(session),
            cps,
            public_keys,
            require_anchored_head=require_anchored_head,
        )

    if dialect not in SQL:
        return reference()
    raw: Any = conn.connection.driver_connection
    sql = SQL[dialect]
    lowest, last_seq = conn.exec_driver_sql("SELECT min(seq), max(seq) FROM audit_events").one()
    if last_seq is None:
        result = chain.verified_chain_result(
            0, chain.GENESIS_HASH, cps, {}, public_keys, require_anchored_head=require_anchored_head
        )
        return result or reference()
    if lowest != 1:
        return reference()
    firsts = conn.exec_driver_sql(sql["anchor"].replace("hash", "prev_hash", 1), (1,)).scalar()
    head = conn.exec_driver_sql(sql["anchor"], (last_seq,)).scalar()
    if firsts != chain.GENESIS_HASH or not isinstance(head, bytes):
        return reference()
    count = VERIFY_WORKERS if workers is None else workers
    floor = PARALLEL_MIN_EVENTS if parallel_min is None else parallel_min
    pool: list[_Worker] = []
    if shareable and count > 0 and last_seq >= floor:
        spec = _worker_spec(session, dialect, last_seq, head)
        if spec:
            pool = [_Worker(spec) for _ in range(count)]
    if not _runs_ok(raw, sql, last_seq, pool):
        return reference()
    wanted = sorted({cp.seq for cp in cps if type(cp.seq) is int and 1 <= cp.seq <= last_seq})
    hashes_at: dict[int, bytes] = {}
    for i in range(0, len(wanted), 500):
        part = wanted[i : i + 500]
        rows = session.execute(
            select(AuditEventRow.seq, AuditEventRow.hash).where(AuditEventRow.seq.in_(part))
        )
        hashes_at.update((s, bytes(h)) for s, h in rows)
    result = chain.verified_chain_result(
        last_seq, head, cps, hashes_at, public_keys, require_anchored_head=require_anchored_head
    )
    return result or reference()
