"""How fast is audit-chain verification compared with the SHA-256 it cannot avoid?

Builds a chain of realistic events in memory (canonical bodies of about 150-250 bytes, a
signed checkpoint every ``--checkpoint-every`` events and one at the end), then times, in the
same process and over the same bytes:

* ``verify_chain_rows`` (seq, links, hashes, body seq, checkpoint signatures), and
* a raw loop ``for seq, body, prev, h in rows: sha256(prev + body).digest()``.

Each is run ``--repeat`` times, alternating, and the best time of each is kept. Prints one
JSON object. Usage::

    .venv/bin/python benchmarks/audit_verify.py [--events 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import random
import statistics
import sys
import time

from safeshare.audit import (
    GENESIS_HASH,
    AuditEventBody,
    Checkpoint,
    SigningKey,
    canonical_bytes,
    verify_chain_rows,
)

ACTIONS = (
    "decision.recorded",
    "referral.sent",
    "referral.acknowledged",
    "consent.recorded",
    "request.created",
    "subject.erased",
)
OBJECT_TYPES = ("case", "referral", "request", "agreement")
CODES = ("TN-4.2", "TN-5.1", "TN-6.3", "DNH-RISK-HIGH", "CONSENT-CHILD", "PURPOSE-OK", "MIN-OK")


def make_rows(n: int, seed: int) -> list[tuple[int, bytes, bytes, bytes]]:
    rnd = random.Random(seed)
    rows: list[tuple[int, bytes, bytes, bytes]] = []
    prev = GENESIS_HASH
    sha256 = hashlib.sha256
    for seq in range(1, n + 1):
        details: dict[str, str | int | bool | None] = {}
        if rnd.random() < 0.6:
            details["partner"] = f"org:{rnd.randrange(400)}"
        if rnd.random() < 0.3:
            details["subjects"] = rnd.randrange(1, 12)
        if rnd.random() < 0.2:
            details["urgent"] = rnd.random() < 0.5
        object_id = (
            f"{rnd.getrandbits(128):032x}"
            if rnd.random() < 0.5
            else f"R-2025-{rnd.randrange(1_000_000):06d}"
        )
        body = AuditEventBody(
            seq=seq,
            at=f"2025-{1 + seq % 12:02d}-{1 + seq % 28:02d}T{seq % 24:02d}:{seq % 60:02d}:"
            f"{rnd.randrange(60):02d}.{rnd.randrange(1_000_000):06d}Z",
            actor=f"user:{rnd.randrange(5000)}",
            action=rnd.choice(ACTIONS),
            object_type=rnd.choice(OBJECT_TYPES),
            object_id=object_id,
            codes=tuple(rnd.sample(CODES, rnd.randrange(0, 3))),
            details=details,
        )
        body_bytes = canonical_bytes(body)
        h = sha256(prev + body_bytes).digest()
        rows.append((seq, body_bytes, prev, h))
        prev = h
    return rows


def make_checkpoints(
    rows: list[tuple[int, bytes, bytes, bytes]], every: int, key: SigningKey
) -> list[Checkpoint]:
    n = len(rows)
    seqs = sorted({*range(every, n + 1, every), n} - {0})
    return [key.sign_checkpoint(s, rows[s - 1][3], "2025-12-31T00:00:00Z") for s in seqs]


def raw_sha256(rows: list[tuple[int, bytes, bytes, bytes]]) -> None:
    sha256 = hashlib.sha256
    for _seq, body, prev, _h in rows:
        sha256(prev + body).digest()


def machine() -> str:
    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {model}, {os.cpu_count()} CPUs".strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--checkpoint-every", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()

    key = SigningKey.generate("bench")
    keys = {key.key_id: key.public_key()}
    t0 = time.perf_counter()
    rows = make_rows(args.events, args.seed)
    checkpoints = make_checkpoints(rows, args.checkpoint_every, key)
    build_s = time.perf_counter() - t0
    sizes = [len(r[1]) for r in rows]

    verify_times: list[float] = []
    raw_times: list[float] = []
    for _ in range(args.repeat):
        gc.collect()
        t = time.perf_counter()
        raw_sha256(rows)
        raw_times.append(time.perf_counter() - t)
        gc.collect()
        t = time.perf_counter()
        result = verify_chain_rows(rows, checkpoints, keys)
        verify_times.append(time.perf_counter() - t)
        if not result.ok or result.events_checked != args.events:
            raise SystemExit(f"benchmark chain did not verify: {result.problem}")

    n = args.events
    verify_s = min(verify_times)
    raw_s = min(raw_times)
    print(
        json.dumps(
            {
                "events": n,
                "verify_events_per_s": round(n / verify_s),
                "raw_sha256_per_s": round(n / raw_s),
                "ratio": round(raw_s / verify_s, 3),
                "python": sys.version.split()[0] + f" ({platform.python_implementation()})",
                "machine": machine(),
                "body_bytes": {
                    "min": min(sizes),
                    "mean": round(statistics.fmean(sizes), 1),
                    "max": max(sizes),
                },
                "checkpoints": len(checkpoints),
                "verify_s": [round(x, 4) for x in verify_times],
                "raw_sha256_s": [round(x, 4) for x in raw_times],
                "build_s": round(build_s, 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
