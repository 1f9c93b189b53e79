"""Crash safety: writer PROCESSES killed with SIGKILL at random moments lose no acknowledged
write, leave no change without its audit event, and leave a chain that verifies and a
database that passes its integrity check.

Each writer (tests/store/crash_writer.py) records consent entries and decisions through the
services and acknowledges each one (an fsynced line) only after the service call returned.
Rounds: start the missing writers, wait until they are writing, sleep 0.2-1.5 s, SIGKILL a
random non-empty subset; the survivors go on into the next round.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select, text

import factories as f
from safeshare.audit import chain
from safeshare.bootstrap import bootstrap
from safeshare.services import audit as audit_service
from safeshare.services.protocols import endorse_protocol, load_protocol
from safeshare.services.registry import open_case, register_subject
from safeshare.settings import Settings
from safeshare.store.models import AuditEventRow, ConsentEntryRow, DecisionRow

pytestmark = pytest.mark.slow

WRITER = Path(__file__).with_name("crash_writer.py")
WRITERS = 4
SUBJECTS = 12
ROUNDS = {"sqlite": 8, "postgresql": 4}


def _prepare(settings: Settings) -> None:
    store = bootstrap(settings, upgrade=True)
    try:
        version = load_protocol(store, f.protocol(), actor="im", organisations=f.organisations())
        endorse_protocol(store, version.id, by="Representative", actor="im")
        for i in range(SUBJECTS):
            register_subject(store, f.subject(f"s{i}"), actor="im", name=f"Person {i}")
            open_case(store, f.case(f"c{i}", f"s{i}"), actor="im")
    finally:
        store.dispose()


def _environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFESHARE_")}
    env.update(
        SAFESHARE_ENV="test",
        SAFESHARE_DATABASE_URL=settings.resolved_database_url(),
        SAFESHARE_FIELD_KEY_FILE=str(settings.resolved_field_key_file()),
        SAFESHARE_AUDIT_KEY_FILE=str(settings.resolved_audit_key_file()),
        SAFESHARE_CHECKPOINT_EVERY="25",  # checkpoints are written (and killed) mid-run too
    )
    return env


class Writer:
    def __init__(self, number: int, ack: Path, env: dict[str, str], seed: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(ack), str(number), str(SUBJECTS), seed],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.ready = False
        self.error = ""

    def wait_ready(self) -> None:
        """Until the writer has started (read once: it writes nothing more to stdout)."""
        if self.ready:
            return
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != b"ready":
            self.kill()
            pytest.fail(f"writer did not start: {self.error}")
        self.ready = True

    def kill(self) -> None:
        """SIGKILL; ``error`` is set when the writer had stopped on its own (a failure)."""
        alive = self.proc.poll() is None
        if alive:
            os.kill(self.proc.pid, signal.SIGKILL)
        _, err = self.proc.communicate(timeout=30)
        self.error = "" if alive else err.decode(errors="replace") or "exited"


def _acknowledged(acks: list[Path]) -> Counter[str]:
    """Complete lines only: a line cut by the kill was not acknowledged."""
    seen: Counter[str] = Counter()
    for ack in acks:
        data = ack.read_bytes() if ack.exists() else b""
        for line in data.split(b"\n")[:-1]:
            kind, ident = line.decode("ascii").split()
            seen[kind] += 1
            seen[f"{kind}:{ident}"] += 1
    return seen


def test_killed_writers_lose_nothing_acknowledged(
    store_settings: Settings, backend: str, tmp_path: Path
) -> None:
    _prepare(store_settings)
    env = _environment(store_settings)
    rnd = random.Random(os.environ.get("SAFESHARE_CRASH_SEED", str(time.time_ns())))
    acks = [tmp_path / f"ack-{n}.log" for n in range(WRITERS)]
    writers: dict[int, Writer] = {}
    kills = 0
    failures: list[str] = []
    try:
        for round_no in range(ROUNDS[backend]):
            for n in range(WRITERS):
                if n not in writers:
                    writers[n] = Writer(n, acks[n], env, f"{round_no}-{n}-{rnd.random()}")
            for w in writers.values():
                w.wait_ready()
            time.sleep(rnd.uniform(0.2, 1.5))
            victims = rnd.sample(sorted(writers), rnd.randint(1, WRITERS))
            for n in victims:
                victim = writers.pop(n)
                victim.kill()
                kills += 1
                if victim.error:
                    failures.append(victim.error)
    finally:
        for w in writers.values():
            w.kill()
    assert not failures, failures[0]

    acknowledged = _acknowledged(acks)
    assert acknowledged["consent"] > 0
    assert acknowledged["decision"] > 0
    store = bootstrap(store_settings)
    try:
        with store.reading() as session:
            consents = set(session.scalars(select(ConsentEntryRow.id)))
            decisions = set(session.scalars(select(DecisionRow.id)))
            audited: dict[str, set[str]] = {"consent_entry": set(), "decision": set()}
            for body in session.scalars(select(AuditEventRow.body).order_by(AuditEventRow.seq)):
                event = chain.parse_body(bytes(body))
                if event.object_type in audited:
                    audited[event.object_type].add(event.object_id)
        for key in acknowledged:
            kind, _, ident = key.partition(":")
            if ident:
                assert ident in (consents if kind == "consent" else decisions), (
                    f"acknowledged {kind} {ident} is not in the database"
                )
        # No change without its audit event, and no audit event without its change.
        assert consents == audited["consent_entry"]
        assert decisions == audited["decision"]
        result = audit_service.verify_audit(store)
        assert result.ok, result.problem
        assert result.checkpoints_checked > 0
        if backend == "sqlite":
            with store.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
                assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
    finally:
        store.dispose()
    assert kills >= ROUNDS[backend]
    totals = {k: v for k, v in acknowledged.items() if ":" not in k}
    print(f"{backend}: {kills} kills, acknowledged {totals}")
