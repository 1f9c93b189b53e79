"""A long schemathesis pass over the API: the set-up of tests/api/test_api_schemathesis.py (the
demo operation, in process over ASGI, three principals: a UNHCR caseworker's and an ngo-a
supervisor's API tokens with every scope and the UNHCR administrator's session) with many more
generated requests, random rather than derandomised, and every failure *collected* (the test
stops at the first one per operation).

    .venv/bin/python benchmarks/schemathesis_long.py [--examples 500] [--seed 1]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB]

Prints one JSON object: requests per operation, status codes, server errors (5xx) and check
failures grouped by operation and first line (with one reproduction each).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "api"), str(ROOT / "tests")]

import schemathesis  # noqa: E402
import test_api_schemathesis as reference  # noqa: E402
from api_client import api_client  # noqa: E402
from api_support import START, Api, Clock, web_settings  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from schemathesis.core.result import Ok  # noqa: E402

from safeshare.api.app import create_app  # noqa: E402
from safeshare.bootstrap import bootstrap  # noqa: E402
from safeshare.demo import load_demo  # noqa: E402
from safeshare.settings import Settings  # noqa: E402

SERVER_ERROR = 500


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for line in text.splitlines():
        if line.strip() and not line.startswith(("-", "=", "[")):
            return line.strip()[:200]
    return type(exc).__name__


@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    failures: dict[str, dict[str, Any]] = field(default_factory=dict)
    server_errors: Counter[str] = field(default_factory=Counter)


def _run_operation(
    operation: Any,
    label: str,
    the_seed: int,
    examples: int,
    principals: list[dict[str, str]],
    tally: Tally,
) -> None:
    @seed(the_seed)
    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def one(case: Any) -> None:
        headers = principals[tally.counts[label] % len(principals)]
        tally.counts[label] += 1
        response = case.call(headers=headers)
        tally.statuses[str(response.status_code)] += 1
        if response.status_code >= SERVER_ERROR:
            tally.server_errors[label] += 1
        try:
            case.validate_response(response, checks=reference.CHECKS, headers=headers)
        except Exception as exc:  # every failure is collected, not raised
            key = f"{label}: {first_line(exc)}"
            entry = tally.failures.setdefault(key, {"count": 0, "reproduce": None})
            entry["count"] += 1
            if entry["reproduce"] is None:
                entry["reproduce"] = case.as_curl_command(headers={"Authorization": "..."})
                entry["status"] = response.status_code
                entry["body"] = response.text[:300]

    one()


def run(api: Api, examples: int, base_seed: int) -> dict[str, Any]:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", api.app)
    principals = [
        {
            "Authorization": "Bearer "
            + reference._token(api, "unhcr.caseworker", "unhcr.administrator")
        },
        {
            "Authorization": "Bearer "
            + reference._token(api, "ngo-a.supervisor", "ngo-a.administrator")
        },
        api.headers("unhcr.administrator"),
    ]
    tally = Tally()
    for n, result in enumerate(schema.get_all_operations()):
        assert isinstance(result, Ok), result
        operation = result.ok()
        label = operation.label
        tally.counts[label] = 0
        _run_operation(operation, label, base_seed + n, examples, principals, tally)
    return {
        "requests": sum(tally.counts.values()),
        "operations": len(tally.counts),
        "examples_per_operation": examples,
        "statuses": dict(sorted(tally.statuses.items())),
        "server_errors": dict(tally.server_errors),
        "failures": tally.failures,
        "per_operation": tally.counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=500, help="examples per operation")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="safeshare-schemathesis-") as tmp:
        folder = Path(tmp)
        store_settings = Settings(
            env="test",
            database_url=args.database_url or f"sqlite:///{folder / 'store.db'}",
            field_key_file=folder / "keys" / "field-keys.json",
            audit_key_file=folder / "keys" / "audit-key.pem",
        )
        store = bootstrap(store_settings, upgrade=True)
        try:
            clock = Clock()
            web = web_settings()
            demo = load_demo(store, policy=web.access_policy(), today=START.date())
            app = create_app(store_settings, store, web=web, clock=clock)
            t = time.perf_counter()
            with api_client(app) as client:
                report = run(Api(app, client, store, clock, demo, web), args.examples, args.seed)
            report["seconds"] = round(time.perf_counter() - t, 1)
        finally:
            store.dispose()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
