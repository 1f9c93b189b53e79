"""An audit append as ONE PostgreSQL statement (:mod:`safeshare.store.audit_append` decides
what to append; this is how it is written there).

The statement locks the chain's head, numbers the events after it, completes each body
(encoded up to its seq by the caller: ``chain.canonical_prefix``) with
``,"seq":<n>,"v":1}``, hashes it onto the one before with the server's ``sha256`` (the
chain's own rule, ``SHA-256(prev_hash || body)``), inserts the events, moves the head and
returns each seq and hash: one round trip where a read of the head, the inserts and the
head's move were three or more, all of them under the head's lock. Rows that go with the
events (a decision's record) can be written by the same statement, as its first parts."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.exc import DBAPIError

from safeshare.audit import chain

# The whole append in one statement, the head's lock taken in it and held to the
# commit. Python encodes each body up to its seq (``chain.canonical_prefix``); the statement
# numbers the events after the head, completes each body with ``,"seq":<n>,"v":1}`` and
# hashes it onto the one before with the server's ``sha256`` (the chain's own rule,
# ``SHA-256(prev_hash || body)``), inserts them, moves the head and returns each seq and hash.
PG_APPEND_SQL = """
WITH RECURSIVE
head AS (
    SELECT seq, CASE WHEN seq = 0 THEN %(genesis)s ELSE hash END AS hash
    FROM audit_head WHERE id = 1 FOR UPDATE
),
ev AS (
    SELECT * FROM unnest(%(prefixes)s::bytea[], %(types)s::text[], %(ids)s::text[],
                         %(subjects)s::text[])
        WITH ORDINALITY AS e(prefix, object_type, object_id, subject_id, n)
),
link AS (
    SELECT e.n, b.seq, h.hash AS prev_hash, b.body, sha256(h.hash || b.body) AS hash
    FROM head h JOIN ev e ON e.n = 1
    CROSS JOIN LATERAL (
        SELECT h.seq + 1 AS seq,
               e.prefix || convert_to(',"seq":' || (h.seq + 1) || ',"v":1}', 'UTF8') AS body
    ) b
    UNION ALL
    SELECT e.n, b.seq, l.hash, b.body, sha256(l.hash || b.body)
    FROM link l JOIN ev e ON e.n = l.n + 1
    CROSS JOIN LATERAL (
        SELECT l.seq + 1 AS seq,
               e.prefix || convert_to(',"seq":' || (l.seq + 1) || ',"v":1}', 'UTF8') AS body
    ) b
),
inserted AS (
    INSERT INTO audit_events (seq, body, prev_hash, hash, object_type, object_id, subject_id)
    SELECT l.seq, l.body, l.prev_hash, l.hash, e.object_type, e.object_id, e.subject_id
    FROM link l JOIN ev e ON e.n = l.n
),
moved AS (
    UPDATE audit_head SET seq = last.seq, hash = last.hash
    FROM (SELECT seq, hash FROM link ORDER BY seq DESC LIMIT 1) AS last
    WHERE audit_head.id = 1
)
SELECT seq, hash FROM link ORDER BY seq
"""
_PARAMETER = re.compile(r"%\((\w+)\)s")
PG_APPEND_BATCH = 5000  # events per statement (a bulk import defers thousands)


def _with_writes(writes: list[tuple[str, dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
    """:data:`PG_APPEND_SQL` with ``writes`` (see :func:`write_with_events`) as its first
    parts, their values renamed apart."""
    parts: list[str] = []
    values: dict[str, Any] = {}
    for n, (sql, given) in enumerate(writes):
        prefix = f"w{n}_"
        renamed = _PARAMETER.sub(f"%({prefix}\\1)s", sql)
        parts.append(f"w{n} AS ({renamed})")
        values.update({prefix + k: v for k, v in given.items()})
    head = "WITH RECURSIVE\n"
    return PG_APPEND_SQL.replace(head, head + ",\n".join(parts) + ",\n", 1), values


def append(
    driver: Any,
    links: list[tuple[bytes, str | None, str | None, str | None]],
    writes: list[tuple[str, dict[str, Any]]],
    dbapi_error: type[Exception],
) -> list[tuple[int, bytes]]:
    """Appends events given as (body prefix, object type, object id, subject id), on the
    driver's connection: :data:`PG_APPEND_SQL`, one round trip per ``PG_APPEND_BATCH``
    events, the head locked for the statement and the commit that follows only; ``writes``
    (see ``audit_append.write_with_events``) are made by the first statement. Returns each
    event's seq and hash. A failure is raised as SQLAlchemy raises it (an IntegrityError...)."""
    written: list[tuple[int, bytes]] = []
    cursor = driver.cursor()
    try:
        for start in range(0, len(links), PG_APPEND_BATCH):
            batch = links[start : start + PG_APPEND_BATCH]
            sql, values = _with_writes(writes) if writes and not start else (PG_APPEND_SQL, {})
            values |= {
                "genesis": chain.GENESIS_HASH,
                "prefixes": [link[0] for link in batch],
                "types": [link[1] for link in batch],
                "ids": [link[2] for link in batch],
                "subjects": [link[3] for link in batch],
            }
            try:
                cursor.execute(sql, values)
            except dbapi_error as exc:  # as SQLAlchemy would raise it (an IntegrityError...)
                raise DBAPIError.instance(sql, values, exc, dbapi_error) from exc
            rows = cursor.fetchall()
            written += [(int(seq), bytes(digest)) for seq, digest in rows]
    finally:
        cursor.close()
    return written
