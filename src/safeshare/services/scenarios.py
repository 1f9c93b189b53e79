"""The scenario format as an import: a scenario's world becomes the store's records.

Organisations and extra data elements are merged; subjects, cases, consent entries,
assessments, staff and records are inserted (an id already in the store is refused). The
protocol becomes a version; if the file says it is endorsed, the import records endorsements
(by each ``endorsed_by`` party, or by "scenario-import"): the file's claim is kept only as an
act recorded, with who, by the import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from safeshare.core.vocabulary import STANDARD_ELEMENTS
from safeshare.core.world import World
from safeshare.scenario import load_scenario
from safeshare.services.common import audit_now
from safeshare.services.protocols import put_endorsement, put_protocol
from safeshare.services.registry import insert_case, insert_staff, insert_subject
from safeshare.store import ledger, mapping
from safeshare.store.audit_log import now
from safeshare.store.ledger import NewConsent
from safeshare.store.models import AssessmentRow, CaseRow, DataElementRow, RecordRow
from safeshare.store.unit import Store

SCENARIO_ENDORSER = "scenario-import"


@dataclass(frozen=True)
class WorldImport:
    protocol_version_id: str
    subjects: int
    cases: int
    consents: int
    assessments: int
    staff: int
    records: int
    audit_seq: int


def _merge_elements(session: Session, world: World) -> None:
    for element, category in world.elements.items():
        if element in STANDARD_ELEMENTS:
            continue
        row = session.get(DataElementRow, element)
        if row is None:
            session.add(DataElementRow(id=element, category=category.value))
        else:
            row.category = category.value
    session.flush()


def import_world(store: Store, world: World, *, actor: str, source: str = "") -> WorldImport:
    """Loads a core world into the store in one transaction (all or nothing)."""
    with store.transaction() as session:
        _merge_elements(session, world)
        version = put_protocol(
            store,
            session,
            world.protocol,
            actor=actor,
            organisations=world.organisations.values(),
        )
        if world.protocol.endorsed and not version.endorsed_by:
            for by in world.protocol.endorsed_by or (SCENARIO_ENDORSER,):
                put_endorsement(store, session, version.id, by=by, actor=actor)
        for subject in world.subjects.values():
            insert_subject(store, session, subject, name=None, contact=None)
        for case in world.cases.values():
            insert_case(store, session, case, details=None, notes=None)
        entries = sorted(
            (r for rs in world.consents_by_subject.values() for r in rs), key=lambda r: r.seq
        )
        stamp = now()
        values = [
            ledger.entry_values(
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
                    **({"id": r.id} if r.id else {}),
                ),
                store.sealer,
                recorded_by=actor,
                recorded_at=stamp,
            )
            for r in entries
        ]
        ledger.append(session, values)
        if world.assessments:
            session.execute(
                insert(AssessmentRow),
                [mapping.assessment_values(a) for a in world.assessments.values()],
            )
        for staff in world.staff.values():
            insert_staff(session, staff)
        if world.records:
            session.execute(
                insert(RecordRow),
                [
                    {**mapping.record_values(r), "holder": _holder(session, r.subject)}
                    for r in world.records.values()
                ],
            )
        result = dict(
            subjects=len(world.subjects),
            cases=len(world.cases),
            consents=len(values),
            assessments=len(world.assessments),
            staff=len(world.staff),
            records=len(world.records),
        )
        seq = audit_now(
            store,
            session,
            actor=actor,
            action="import.world",
            object_type="protocol_version",
            object_id=version.id,
            details={**result, "source": Path(source).name or None},
        )
    return WorldImport(protocol_version_id=version.id, audit_seq=seq, **result)


def import_scenario_file(store: Store, path: str | Path, *, actor: str) -> WorldImport:
    """Reads a scenario file (its ``request`` and ``expect`` are not stored) and imports it."""
    scenario = load_scenario(path)
    return import_world(store, scenario.world, actor=actor, source=str(path))


def _holder(session: Session, subject: str) -> str | None:
    """A scenario's records name no holder: the organisation holding the person's cases in
    the store (the scenario's, and any before it), when only one does; else none, and no
    organisation's subject access releases them."""
    owners = set(session.scalars(select(CaseRow.owner).where(CaseRow.subject_id == subject)))
    return next(iter(owners)) if len(owners) == 1 else None
