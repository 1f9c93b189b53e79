"""Decisions per second, in process, on a large operation.

    .venv/bin/python benchmarks/decide.py [--subjects N] [--consents N] [--requests N]

Builds one world (100,000 subjects and cases, 500,000 consent ledger entries; indexes built
once), then decides a mix of the scenario kinds: referrals with consent granted, refused,
withdrawn or missing, children with assent and caregiver consent, feedback, eligibility with
extra elements, statistics, vital interests, blanket selections, staff access and subject
access. Prints JSON: decisions/s overall and per kind, the time against a baseline loop that
only reads the same index entries (same process), and where the time goes (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import platform
import pstats
import random
import sys
import time
from datetime import date, timedelta

from safeshare.core import decide
from safeshare.core.request import (
    Circumstance,
    Selection,
    ShareRequest,
    StaffAccessRequest,
    SubjectAccessRequest,
)
from safeshare.core.vocabulary import (
    AssessmentKind,
    Basis,
    BenefitKind,
    CaseStatus,
    CircumstanceKind,
    ConsentDecision,
    ConsentKind,
    ConsentStage,
    DPAssessment,
    Duty,
    GeneralPurpose,
    GivenBy,
    OrgKind,
)
from safeshare.core.world import (
    Assessment,
    Caregiver,
    Case,
    ConsentRecord,
    Organisation,
    Period,
    Protocol,
    Purpose,
    Record,
    Staff,
    Subject,
    World,
)

TODAY = date(2026, 3, 1)
ORGS = ["unhcr", "ngo-a", "ngo-b", "ngo-c"]


def _purpose(
    pid: str,
    general: GeneralPurpose,
    sender: str,
    recipient: str,
    elements: list[str],
    kind: BenefitKind = BenefitKind.DIRECT,
) -> Purpose:
    return Purpose(
        id=pid,
        general=general,
        benefit=f"Specific service for {pid}",
        benefit_kind=kind,
        services=(pid.replace("-", " "),),
        senders=frozenset({sender}),
        recipients=frozenset({recipient}),
        data_elements=tuple(elements),
        retention=Period("P6M", months=6),
        access_roles=("caseworker",),
        contact_methods=("phone", "office"),
    )


PURPOSES = [
    _purpose(
        "legal-aid-referral",
        GeneralPurpose.IMMEDIATE_REFERRAL,
        "ngo-a",
        "ngo-b",
        ["name", "phone", "service_needed", "referral_id"],
    ),
    _purpose(
        "cash-eligibility",
        GeneralPurpose.ELIGIBILITY,
        "ngo-a",
        "unhcr",
        ["individual_number", "specific_needs_codes"],
    ),
    _purpose(
        "legal-aid-feedback",
        GeneralPurpose.REFERRAL_FEEDBACK,
        "ngo-b",
        "ngo-a",
        ["referral_id", "referral_status", "status_dates", "services_provided"],
    ),
    _purpose(
        "closed-summary",
        GeneralPurpose.CLOSED_CASE_TRANSFER,
        "ngo-a",
        "unhcr",
        ["individual_number", "case_summary"],
    ),
    _purpose(
        "survey-analysis",
        GeneralPurpose.STATISTICS,
        "ngo-a",
        "unhcr",
        ["sex", "age", "service_outcome"],
        BenefitKind.INDIRECT,
    ),
    _purpose(
        "emergency-care",
        GeneralPurpose.IMMEDIATE_REFERRAL,
        "ngo-a",
        "ngo-c",
        ["name", "phone", "location", "mental_health_status"],
    ),
]


def build_world(n_subjects: int, n_consents: int, rng: random.Random) -> World:
    orgs = [Organisation("unhcr", OrgKind.UNHCR)] + [
        Organisation(o, OrgKind.PARTNER, DPAssessment.PASSED) for o in ORGS[1:]
    ]
    protocol = Protocol(
        "op-dsp", endorsed=True, consent_review=Period("P1Y", years=1), purposes=tuple(PURPOSES)
    )
    subjects, cases, records = [], [], []
    for i in range(n_subjects):
        child = i % 10 == 0
        subjects.append(
            Subject(
                id=f"s{i}",
                age=15 if child else 20 + i % 50,
                categories=frozenset({"gbv"} if i % 3 == 0 else {"legal"}),
                caregiver=Caregiver() if child else None,
            )
        )
        cases.append(
            Case(
                id=f"c{i}",
                subject=f"s{i}",
                owner="ngo-a",
                status=CaseStatus.CLOSED if i % 7 == 0 else CaseStatus.OPEN,
                closed_on=TODAY - timedelta(days=30) if i % 7 == 0 else None,
            )
        )
        records.append(Record(id=f"f{i}", subject=f"s{i}", category="registration"))
    consents = []
    pids = [p.id for p in PURPOSES]
    for j in range(n_consents):
        i = j % n_subjects
        child = i % 10 == 0
        purpose = pids[(j // n_subjects + i) % len(pids)]
        roll = rng.random()
        decision = (
            ConsentDecision.GRANTED
            if roll < 0.8
            else ConsentDecision.REFUSED
            if roll < 0.9
            else ConsentDecision.WITHDRAWN
        )
        consents.append(
            ConsentRecord(
                subject=f"s{i}",
                kind=ConsentKind.ASSENT if child and j % 2 == 0 else ConsentKind.CONSENT,
                given_by=GivenBy.PARENT if child and j % 2 == 1 else GivenBy.SELF,
                decision=decision,
                purposes=frozenset({purpose}),
                date=TODAY - timedelta(days=rng.randrange(1, 500)),
                stage=ConsentStage.REFERRAL,
            )
        )
    assessments = [
        Assessment(
            "risk-1", AssessmentKind.RISK, TODAY, benefits_outweigh_risks=True, recipient_safe=True
        )
    ]
    staff = [
        Staff(
            "u1",
            "ngo-a",
            "caseworker",
            Duty.CASE_MANAGEMENT,
            frozenset(f"c{i}" for i in range(0, n_subjects, 2)),
        ),
        Staff("u2", "ngo-a", "senior-protection-officer", Duty.OVERSIGHT),
    ]
    return World.build(
        today=TODAY,
        protocol=protocol,
        organisations=orgs,
        subjects=subjects,
        cases=cases,
        consents=consents,
        assessments=assessments,
        staff=staff,
        records=records,
    )


def make_requests(n: int, n_subjects: int, rng: random.Random) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for _ in range(n):
        s = f"s{rng.randrange(n_subjects)}"
        k = rng.randrange(100)
        if k < 35:
            out.append(
                (
                    "referral",
                    ShareRequest(
                        "ngo-a",
                        "ngo-b",
                        "legal-aid-referral",
                        Basis.CONSENT,
                        ("name", "phone", "service_needed"),
                        subjects=(s,),
                        label="High priority referral",
                        contact_method="phone",
                    ),
                )
            )
        elif k < 45:
            out.append(
                (
                    "eligibility-extra-elements",
                    ShareRequest(
                        "ngo-a",
                        "unhcr",
                        "cash-eligibility",
                        Basis.CONSENT,
                        ("individual_number", "specific_needs_codes", "incident_description"),
                        subjects=(
                            s,
                            f"s{rng.randrange(n_subjects)}",
                            f"s{rng.randrange(n_subjects)}",
                        ),
                    ),
                )
            )
        elif k < 55:
            out.append(
                (
                    "feedback",
                    ShareRequest(
                        "ngo-b",
                        "ngo-a",
                        "legal-aid-feedback",
                        Basis.CONSENT,
                        ("referral_id", "referral_status", "services_provided"),
                        subjects=(s,),
                    ),
                )
            )
        elif k < 60:
            out.append(
                (
                    "closed-case",
                    ShareRequest(
                        "ngo-a",
                        "unhcr",
                        "closed-summary",
                        Basis.CONSENT,
                        ("individual_number", "case_summary"),
                        subjects=(s,),
                    ),
                )
            )
        elif k < 65:
            out.append(
                (
                    "statistics",
                    ShareRequest(
                        "ngo-a",
                        "unhcr",
                        "survey-analysis",
                        Basis.CONSENT,
                        ("name", "sex", "service_outcome"),
                        subjects=(s,),
                    ),
                )
            )
        elif k < 70:
            out.append(
                (
                    "vital-interests",
                    ShareRequest(
                        "ngo-a",
                        "ngo-c",
                        "emergency-care",
                        Basis.VITAL_INTERESTS,
                        ("name", "phone", "location"),
                        subjects=(s,),
                        risk_assessment="risk-1",
                        circumstance=Circumstance(CircumstanceKind.EMERGENCY, immediate=True),
                    ),
                )
            )
        elif k < 72:
            out.append(
                (
                    "blanket-selection",
                    ShareRequest(
                        "ngo-a",
                        "ngo-b",
                        "legal-aid-referral",
                        Basis.CONSENT,
                        ("name", "phone"),
                        select=Selection(owner="ngo-c"),
                    ),
                )
            )
        elif k < 76:
            out.append(
                (
                    "label-home-visit",
                    ShareRequest(
                        "ngo-a",
                        "ngo-b",
                        "legal-aid-referral",
                        Basis.CONSENT,
                        ("name", "phone"),
                        subjects=(s,),
                        label="GBV referral",
                        contact_method="home-visit",
                    ),
                )
            )
        elif k < 92:
            out.append(
                (
                    "staff-access",
                    StaffAccessRequest(
                        rng.choice(["u1", "u2"]),
                        f"c{rng.randrange(n_subjects)}",
                        ("name", "incident_description", "specific_needs_codes"),
                    ),
                )
            )
        else:
            i = rng.randrange(n_subjects)
            out.append(
                (
                    "subject-access",
                    SubjectAccessRequest(f"s{i}", (f"f{i}", f"f{(i + 1) % n_subjects}")),
                )
            )
    return out


def baseline(world: World, requests: list[tuple[str, object]]) -> float:
    """Reads the index entries a decision needs and nothing more: the floor of any engine."""
    start = time.perf_counter()
    sink = 0
    for _, r in requests:
        if isinstance(r, ShareRequest):
            for sid in r.subjects:
                sink += len(world.consents(sid)) + len(world.subjects[sid].categories)
            sink += len(world.purposes.get(r.purpose, PURPOSES[0]).data_elements)
        elif isinstance(r, StaffAccessRequest):
            sink += len(world.cases[r.case].id) + len(world.staff[r.actor].cases)
        elif isinstance(r, SubjectAccessRequest):
            sink += sum(len(world.records[x].subject) for x in r.records)
    return time.perf_counter() - start + sink * 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=100_000)
    ap.add_argument("--consents", type=int, default=500_000)
    ap.add_argument("--requests", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    world = build_world(args.subjects, args.consents, rng)
    build_s = time.perf_counter() - t0
    requests = make_requests(args.requests, args.subjects, rng)
    for _, r in requests[:2000]:  # warm-up
        decide(world, r)  # type: ignore[arg-type]
    base_s = baseline(world, requests)
    per_kind: dict[str, list[float]] = {}
    outcomes: dict[str, int] = {}
    start = time.perf_counter()
    for kind, r in requests:
        t = time.perf_counter()
        d = decide(world, r)  # type: ignore[arg-type]
        per_kind.setdefault(kind, []).append(time.perf_counter() - t)
        outcomes[d.outcome.value] = outcomes.get(d.outcome.value, 0) + 1
    total_s = time.perf_counter() - start
    prof = cProfile.Profile()
    prof.enable()
    for _, r in requests[:20000]:
        decide(world, r)  # type: ignore[arg-type]
    prof.disable()
    stream = io.StringIO()
    stats = pstats.Stats(prof, stream=stream)
    total_tt = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    top = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:12]  # type: ignore[attr-defined]
    print(
        json.dumps(
            {
                "benchmark": "decide",
                "python": sys.version.split()[0],
                "machine": f"{platform.machine()} {platform.processor() or platform.platform()}",
                "subjects": args.subjects,
                "consent_records": args.consents,
                "requests": args.requests,
                "world_build_s": round(build_s, 2),
                "decisions_per_s": round(args.requests / total_s),
                "baseline_index_reads_s": round(base_s, 4),
                "decide_vs_baseline_ratio": round(total_s / base_s, 1),
                "per_kind_decisions_per_s": {
                    k: round(len(v) / sum(v)) for k, v in sorted(per_kind.items())
                },
                "outcomes": outcomes,
                "where_time_goes_self_share": [
                    {
                        "function": f"{fn[0].split('/')[-1]}:{fn[2]}",
                        "share": round(v[2] / total_tt, 3),
                    }
                    for fn, v in top
                ],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
