"""A worker process of the fast audit verification (:mod:`safeshare.store.audit_verify`):
it opens its own connection on the verifying process's snapshot and checks the runs of events
it is given, answering one line per run. Started as ``python -I -m safeshare.store.audit_worker``;
it imports the hash-chain library only, not the store or SQLAlchemy."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from safeshare.audit.verification import verify_links

SQL: dict[str, dict[str, str]] = {
    "sqlite": {
        "anchor": "SELECT hash FROM audit_events WHERE seq = ?",
        "links": "SELECT count(*) FROM audit_events a JOIN audit_events b ON b.seq = a.seq - 1"
        " WHERE a.seq BETWEEN ? AND ? AND a.prev_hash IS NOT b.hash",
        "range": "SELECT body, hash FROM audit_events WHERE seq BETWEEN ? AND ? ORDER BY seq",
    },
    "postgresql": {
        "anchor": "SELECT hash FROM audit_events WHERE seq = %s",
        "links": "SELECT count(*) FROM audit_events a JOIN audit_events b ON b.seq = a.seq - 1"
        " WHERE a.seq BETWEEN %s AND %s AND a.prev_hash IS DISTINCT FROM b.hash",
        "range": "SELECT body, hash FROM audit_events WHERE seq BETWEEN %s AND %s ORDER BY seq",
    },
}


def check_run(conn: Any, sql: Mapping[str, str], lo: int, hi: int) -> bool:
    """True when events ``lo..hi`` all pass: present, linked (``prev_hash``) to the event
    before, hashed, carrying their seq."""
    cursor = conn.cursor()
    try:
        if lo == 1:
            prev = bytes(32)
        else:
            cursor.execute(sql["anchor"], (lo - 1,))
            row = cursor.fetchone()
            if row is None or not isinstance(row[0], bytes):
                return False
            prev = row[0]
        cursor.execute(sql["links"], (lo, hi))
        if cursor.fetchone()[0] != 0:
            return False
        cursor.execute(sql["range"], (lo, hi))
        passed, _ = verify_links(cursor, lo, prev)
        return passed == hi - lo + 1 and cursor.fetchone() is None
    except Exception:  # anything odd: the reference will say what
        return False
    finally:
        cursor.close()


def main() -> None:
    """A worker process: reads its connection spec (a JSON line), then runs ``lo hi`` (one
    per line) and answers ``lo hi 1`` (pass) or ``lo hi 0``."""

    spec = json.loads(sys.stdin.readline())
    conn: Any
    if spec["driver"] == "sqlite3":
        import sqlite3  # noqa: PLC0415

        conn = sqlite3.connect(spec["database"], isolation_level=None)
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("BEGIN")
    else:
        import psycopg  # noqa: PLC0415

        conn = psycopg.connect(spec["conninfo"])
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.execute(f"SET TRANSACTION SNAPSHOT '{spec['snapshot']}'")
    cursor = conn.cursor()
    cursor.execute(spec["sql"]["anchor"], (spec["last_seq"],))
    row = cursor.fetchone()
    cursor.close()
    if row is None or bytes(row[0]).hex() != spec["head_hash"]:
        return  # not the snapshot the main process verifies: it will do the runs itself
    for line in sys.stdin:
        lo, hi = (int(x) for x in line.split())
        ok = check_run(conn, spec["sql"], lo, hi)
        sys.stdout.write(f"{lo} {hi} {int(ok)}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
