"""The demo operation (``operation.yaml``, fictional): UNHCR and three partners, an endorsed
protocol, a few dozen subjects and cases with their data elements (encrypted), consents
(refusals and a withdrawal included), assessments, the organisations' packet keys and staff
accounts of every role. Loaded by ``safeshare serve`` into an empty store in development and
demo environments only, through the services (every step audited).

Passwords are generated at load time and returned (to print once); they are never written
to a file.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import date, timedelta
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select

from safeshare.core.world import Case, Subject, World
from safeshare.crypto.org_keys import OrgKeyDirectory
from safeshare.scenario import parse_world
from safeshare.services import accounts, registry
from safeshare.services.accounts import AccessPolicy, Role
from safeshare.services.case_elements import put_case_elements
from safeshare.services.common import audit
from safeshare.services.consent import record_consent
from safeshare.services.org_keys import ensure_org_keys
from safeshare.services.scenarios import import_world
from safeshare.store.ledger import NewConsent
from safeshare.store.models import OrganisationRow, SubjectRow
from safeshare.store.unit import Store

DEMO_ACTOR = "demo-loader"
_RELATIVE = re.compile(r"^today(?:-(\d+)d)?$")


class DemoError(RuntimeError):
    """The demo cannot be loaded (the store is not empty)."""


@dataclass(frozen=True)
class DemoAccount:
    username: str
    org: str
    role: Role
    password: str
    user_id: str
    staff_id: str


@dataclass(frozen=True)
class DemoLoad:
    subjects: int
    cases: int
    consents: int
    accounts: tuple[DemoAccount, ...]
    keys_registered: tuple[str, ...] = ()


LANGUAGES = ("Swahili", "Kirundi", "Somali", "Arabic", "French", "Lingala", "Kinyarwanda")
SERVICES = {
    "child-protection": "child protection case management",
    "gbv": "psychosocial support",
    "legal": "legal counselling",
    "lgbti": "safe space services",
    "torture": "rehabilitation for survivors of torture",
    "mental-health": "mental health support",
    "disability": "disability support",
}
# UNHCR specific needs codes (proGres), by the subject's categories.
NEEDS_CODES = {
    "gbv": "SV",
    "child-protection": "CR",
    "legal": "LP",
    "lgbti": "LP",
    "torture": "TR",
    "mental-health": "SM",
    "disability": "DS",
}


def demo_case_elements(
    subject: Subject, case: Case, *, name: str | None, contact: str | None, sex: str | None
) -> dict[str, str]:
    """The fictional values of a demo case's data elements (every element a demo purpose
    names), derived from the subject and the case."""
    n = int("".join(ch for ch in subject.id if ch.isdigit()) or "0")
    cats = sorted(subject.categories)
    service = next(
        (SERVICES[c] for c in SERVICES if c in subject.categories), "protection follow-up"
    )
    codes = sorted({NEEDS_CODES[c] for c in cats if c in NEEDS_CODES})
    child = subject.age is not None and subject.age < 18
    values = {
        "name": name or f"Test Person {n} (fictional)",
        "phone": contact or f"+44 7700 900{n:03d}",
        "sex": sex or "not recorded",
        "age": str(subject.age) if subject.age is not None else "not recorded",
        "language": LANGUAGES[n % len(LANGUAGES)],
        "service_needed": service,
        "specific_needs_codes": ", ".join(codes) or "none",
        "individual_number": f"DEMO-{n:06d}",
        "vulnerability_summary": f"Fictional summary: {', '.join(cats) or 'no category'}.",
        "case_summary": f"Fictional summary of demo case {case.id} ({case.status.value}).",
        "case_file": f"Fictional case file of demo case {case.id}.",
    }
    if child:
        values["care_arrangement"] = "Lives with a caregiver (fictional)"
    if "legal" in subject.categories:
        values["legal_case_details"] = (
            "Fictional: civil documentation case pending at the district court."
        )
    return values


def raw_operation() -> dict[str, Any]:
    text = resources.files(__name__).joinpath("operation.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def _dates(value: Any, today: date) -> Any:
    if isinstance(value, str):
        m = _RELATIVE.match(value)
        if m:
            return (today - timedelta(days=int(m.group(1) or 0))).isoformat()
        return value
    if isinstance(value, list):
        return [_dates(v, today) for v in value]
    if isinstance(value, dict):
        return {k: _dates(v, today) for k, v in value.items()}
    return value


def store_is_empty(store: Store) -> bool:
    with store.reading() as session:
        return (
            session.scalar(select(OrganisationRow.id).limit(1)) is None
            and session.scalar(select(SubjectRow.id).limit(1)) is None
        )


def load_demo(
    store: Store,
    *,
    policy: AccessPolicy,
    today: date | None = None,
    keys: OrgKeyDirectory | None = None,
) -> DemoLoad:
    """Loads the demo operation into an EMPTY store; returns the generated passwords. With
    ``keys`` (the organisations' key files; missing ones generated when the directory
    allows it), every demo organisation's public keys are registered."""
    if not store_is_empty(store):
        raise DemoError("the store is not empty: the demo is loaded only into an empty store")
    day = today or date.today()
    data = _dates(raw_operation(), day)
    world_doc = dict(data["world"])
    sealed_subjects = {
        s["id"]: (s.pop("name", None), s.pop("contact", None), s.pop("sex", None))
        for s in world_doc["subjects"]
    }
    sealed_cases = {c["id"]: c.pop("details", None) for c in world_doc["cases"]}
    world = parse_world(world_doc, "safeshare/demo/operation.yaml")

    # 1. Organisations and the endorsed protocol (the import records the endorsements).
    import_world(
        store,
        World.build(
            today=world.today, protocol=world.protocol, organisations=world.organisations.values()
        ),
        actor=DEMO_ACTOR,
        source="demo/operation.yaml",
    )
    # 2. People and cases, with their sealed details.
    for subject in world.subjects.values():
        name, contact, _sex = sealed_subjects[subject.id]
        registry.register_subject(store, subject, actor=DEMO_ACTOR, name=name, contact=contact)
    for case in world.cases.values():
        registry.open_case(store, case, actor=DEMO_ACTOR, details=sealed_cases[case.id])
    # ... and every case's data elements, encrypted under the subject's own data key.
    with store.transaction() as session:
        for case in world.cases.values():
            subject = world.subjects[case.subject]
            name, contact, sex = sealed_subjects[subject.id]
            values = demo_case_elements(subject, case, name=name, contact=contact, sex=sex)
            put_case_elements(store, session, case.id, values)
            audit(
                store,
                session,
                actor=DEMO_ACTOR,
                action="case.elements",
                object_type="case",
                object_id=case.id,
                details={"elements": ",".join(sorted(values))},
            )
    # 3. The consent ledger, oldest first.
    n_consents = 0
    for entries in world.consents_by_subject.values():
        for r in entries:
            record_consent(
                store,
                NewConsent(
                    subject=r.subject,
                    decision=r.decision,
                    purposes=r.purposes,
                    date=r.date,
                    kind=r.kind,
                    given_by=r.given_by,
                    recipients=r.recipients,
                    data_elements=r.data_elements,
                    method=r.method,
                    stage=r.stage,
                ),
                actor=DEMO_ACTOR,
                today=day,
            )
            n_consents += 1
    for assessment in world.assessments.values():
        registry.record_assessment(store, replace(assessment), actor=DEMO_ACTOR)
    # 4. The organisations' packet keys: private keys in key files outside the database,
    # public keys registered (so that a referral can be sealed to any demo organisation).
    registered: list[str] = []
    if keys is not None:
        with store.transaction() as session:
            for org_id in sorted(world.organisations):
                ensure_org_keys(store, session, keys, org_id, actor=DEMO_ACTOR)
                registered.append(org_id)
    # 5. Staff accounts with generated passwords.
    created = []
    for entry in data.get("accounts", []):
        password = secrets.token_urlsafe(12)
        info = accounts.create_account(
            store,
            username=entry["username"],
            password=password,
            org=entry["org"],
            role=Role(entry["role"]),
            actor=DEMO_ACTOR,
            policy=policy,
            cases=entry.get("cases", ()),
        )
        created.append(
            DemoAccount(
                info.username, info.org_id, info.role, password, info.user_id, info.staff_id
            )
        )
    return DemoLoad(
        len(world.subjects), len(world.cases), n_consents, tuple(created), tuple(registered)
    )
