"""The synthetic operation the store and API benchmarks load: one subject, one case and one
consent entry per row, as the CSV files ``safeshare import`` reads. A third of the cases are
ngo-a's, the rest UNHCR's; 30 % of the people are children; 80 % of the consents are granted.
Deterministic for a seed."""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from pathlib import Path

SUBJECT_HEADER = ["subject_id", "age", "categories", "name", "contact"]
CASE_HEADER = ["case_id", "subject_id", "owner", "status", "details"]
CONSENT_HEADER = [
    "consent_id",
    "subject_id",
    "decision",
    "purposes",
    "recipients",
    "method",
    "stage",
    "date",
    "evidence_ref",
]


def case_owner(i: int) -> str:
    return "unhcr" if i % 3 else "ngo-a"


def write_csv(
    folder: Path,
    n: int,
    seed: int,
    *,
    purpose: str,
    recipient: str,
    dates: Sequence[str],
    stage: str | None = None,
) -> dict[str, Path]:
    """Writes subjects.csv, cases.csv and consents.csv; row ``i``'s consent is dated
    ``dates[i % len(dates)]``; the ``stage`` column is written only when ``stage`` is given."""
    rnd = random.Random(seed)
    paths = {kind: folder / f"{kind}.csv" for kind in ("subjects", "cases", "consents")}
    consent_header = [h for h in CONSENT_HEADER if h != "stage" or stage is not None]
    with (
        paths["subjects"].open("w", newline="") as fs,
        paths["cases"].open("w", newline="") as fc,
        paths["consents"].open("w", newline="") as fk,
    ):
        ws, wc, wk = csv.writer(fs), csv.writer(fc), csv.writer(fk)
        ws.writerow(SUBJECT_HEADER)
        wc.writerow(CASE_HEADER)
        wk.writerow(consent_header)
        for i in range(n):
            sid = f"S{i:08d}"
            child = rnd.random() < 0.3
            ws.writerow(
                [
                    sid,
                    rnd.randrange(8, 17) if child else rnd.randrange(18, 80),
                    "gbv;child-protection" if child else "gbv",
                    f"Person {rnd.getrandbits(32):08x}",
                    f"+2547{rnd.randrange(10**8):08d}",
                ]
            )
            wc.writerow(
                [
                    f"C{i:08d}",
                    sid,
                    case_owner(i),
                    "open",
                    f"incident report {rnd.getrandbits(48):012x}",
                ]
            )
            decision = "granted" if rnd.random() < 0.8 else "refused"
            row = [f"K{i:08d}", sid, decision, purpose, recipient, "written"]
            row += [stage] if stage is not None else []
            wk.writerow([*row, dates[i % len(dates)], f"form {i}"])
    return paths
