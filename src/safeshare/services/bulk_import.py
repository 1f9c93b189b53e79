"""Bulk import of subjects, cases and consent entries from CSV or XLSX: all or nothing.

The whole file is one transaction. Each row is checked (types, vocabulary, references to
organisations and subjects, duplicate ids) and the first bad row stops the import with an
:class:`ImportRowError` naming the file, the line and the column; nothing from the file is
kept. Rows are inserted in batches with Core ``executemany`` (no ORM object per row);
sensitive columns are sealed with the row's id bound. One audit event records the import
(kind, rows, the file's SHA-256); imported consent entries are covered by it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeshare.core.vocabulary import (
    STANDARD_ELEMENTS,
    CaseStatus,
    ConsentDecision,
    ConsentKind,
    ConsentMethod,
    ConsentStage,
    GivenBy,
)
from safeshare.services.common import audit
from safeshare.store import ledger
from safeshare.store.audit_log import now
from safeshare.store.models import (
    Base,
    CaseRow,
    DataElementRow,
    OrganisationRow,
    SubjectRow,
)
from safeshare.store.tabular import ImportRowError, read_table
from safeshare.store.unit import Store

BATCH = 5000
TABLES = {"subjects": "subjects", "cases": "cases", "consents": "consent_ledger"}
Progress = Callable[[int], None]
E = TypeVar("E", bound=StrEnum)
TRUE, FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}


@dataclass(frozen=True)
class ImportReport:
    kind: str
    rows: int
    sha256: str
    audit_seq: int


class _Row:
    """One row being checked: typed getters that raise ImportRowError at this cell."""

    def __init__(self, file: str, line: int, cells: dict[str, str]) -> None:
        self.file, self.line, self.cells = file, line, cells

    def fail(self, column: str, message: str) -> ImportRowError:
        return ImportRowError(self.file, self.line, column, message)

    def text(self, column: str) -> str | None:
        value = self.cells.get(column, "")
        return value or None

    def required(self, column: str) -> str:
        value = self.text(column)
        if value is None:
            raise self.fail(column, "a value is required")
        return value

    def list(self, column: str) -> list[str] | None:
        value = self.text(column)
        return None if value is None else [v.strip() for v in value.split(";") if v.strip()]

    def boolean(self, column: str, default: bool | None) -> bool | None:
        value = self.text(column)
        if value is None:
            return default
        if value.lower() in TRUE:
            return True
        if value.lower() in FALSE:
            return False
        raise self.fail(column, f"expected true or false, found {value!r}")

    def integer(self, column: str) -> int | None:
        value = self.text(column)
        if value is None:
            return None
        if not value.isdigit() or int(value) > 130:
            raise self.fail(column, f"expected an age in years (0-130), found {value!r}")
        return int(value)

    def day(self, column: str, *, required: bool = False) -> date | None:
        value = self.required(column) if required else self.text(column)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.fail(column, f"expected a date YYYY-MM-DD, found {value!r}") from None

    def choice(self, column: str, enum: type[E], default: E | None = None) -> E | None:
        value = self.text(column)
        if value is None:
            return default
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(e.value for e in enum)
            raise self.fail(column, f"expected one of {allowed}, found {value!r}") from None

    def ref(self, column: str, known: Iterable[str] | set[str], what: str) -> None:
        for value in self.list(column) or []:
            if value not in known:
                raise self.fail(column, f"{value!r} is not {what}")


class _Importer:
    def __init__(self, store: Store, session: Session, kind: str, path: Path) -> None:
        self.store, self.session, self.kind, self.file = store, session, kind, str(path)
        self.orgs = set(session.scalars(select(OrganisationRow.id)))
        self.elements = set(STANDARD_ELEMENTS) | set(session.scalars(select(DataElementRow.id)))
        self.seen: set[str] = set()
        self.batch: list[tuple[_Row, dict[str, Any], list[dict[str, Any]]]] = []
        self.recorded_at = now()

    def seal(self, row: _Row, column: str, table: str, target: str, row_id: str) -> bytes | None:
        return self.store.sealer.seal(row.text(column), table=table, column=target, row_id=row_id)

    def unique(self, row: _Row, column: str) -> str:
        ident = row.required(column)
        if ident in self.seen:
            raise row.fail(column, f"{ident!r} appears twice in this file")
        self.seen.add(ident)
        return ident

    def subject(self, row: _Row) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        sid = self.unique(row, "subject_id")
        age, born = row.integer("age"), row.day("born")
        if (age is None) == (born is None):
            raise row.fail(
                "age", "give exactly one of age and born (an unknown age may be a child)"
            )
        values = {
            "id": sid,
            "age": age,
            "born": born,
            "reachable": row.boolean("reachable", True),
            "can_consent": row.boolean("can_consent", True),
            "unaccompanied": row.boolean("unaccompanied", False),
            "caregiver_reachable": row.boolean("caregiver_reachable", None),
            "caregiver_involve": row.boolean("caregiver_involve", None),
            "name_enc": self.seal(row, "name", "subjects", "name_enc", sid),
            "contact_enc": self.seal(row, "contact", "subjects", "contact_enc", sid),
        }
        cats = sorted(set(row.list("categories") or []))
        return values, [{"subject_id": sid, "category": c} for c in cats]

    def case(self, row: _Row) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        cid = self.unique(row, "case_id")
        row.required("subject_id")
        row.ref("owner", self.orgs, "an organisation in the store")
        status = row.choice("status", CaseStatus, CaseStatus.OPEN)
        closed_on = row.day("closed_on")
        if closed_on is not None and status is not CaseStatus.CLOSED:
            raise row.fail("closed_on", "an open case has no closing date")
        return {
            "id": cid,
            "subject_id": row.required("subject_id"),
            "owner": row.required("owner"),
            "status": (status or CaseStatus.OPEN).value,
            "closed_on": closed_on,
            "details_enc": self.seal(row, "details", "cases", "details_enc", cid),
            "notes_enc": self.seal(row, "notes", "cases", "notes_enc", cid),
        }, []

    def consent(self, row: _Row) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        entry_id = row.text("consent_id") or uuid.uuid4().hex
        if entry_id in self.seen:
            raise row.fail("consent_id", f"{entry_id!r} appears twice in this file")
        self.seen.add(entry_id)
        row.ref("recipients", self.orgs, "an organisation in the store")
        row.ref("data_elements", self.elements, "a known data element")
        purposes = row.list("purposes")
        if not purposes:
            raise row.fail("purposes", "at least one purpose id is required")
        entry = ledger.NewConsent(
            id=entry_id,
            subject=row.required("subject_id"),
            decision=row.choice("decision", ConsentDecision) or ConsentDecision.GRANTED,
            purposes=purposes,
            date=row.day("date", required=True) or date.min,
            kind=row.choice("kind", ConsentKind, ConsentKind.CONSENT) or ConsentKind.CONSENT,
            given_by=row.choice("given_by", GivenBy, GivenBy.SELF) or GivenBy.SELF,
            recipients=row.list("recipients"),
            data_elements=row.list("data_elements"),
            method=row.choice("method", ConsentMethod),
            evidence_ref=row.text("evidence_ref"),
            explanation_language=row.text("explanation_language"),
            explanation_version=row.text("explanation_version"),
            stage=row.choice("stage", ConsentStage),
        )
        values = ledger.entry_values(
            entry, self.store.sealer, recorded_by=self.actor, recorded_at=self.recorded_at
        )
        return values, []

    actor = ""

    def flush(self) -> None:
        if not self.batch:
            return
        if self.kind in {"cases", "consents"}:
            wanted = sorted({v["subject_id"] for _, v, _ in self.batch})
            known = set(
                self.session.scalars(select(SubjectRow.id).where(SubjectRow.id.in_(wanted)))
            )
            for row, values, _ in self.batch:
                if values["subject_id"] not in known:
                    raise row.fail(
                        "subject_id", f"{values['subject_id']!r} is not a subject in the store"
                    )
        if self.kind in {"subjects", "cases"}:
            table = SubjectRow if self.kind == "subjects" else CaseRow
            ids = [v["id"] for _, v, _ in self.batch]
            taken = set(self.session.scalars(select(table.id).where(table.id.in_(ids))))
            for row, values, _ in self.batch:
                if values["id"] in taken:
                    column = "subject_id" if self.kind == "subjects" else "case_id"
                    raise row.fail(column, f"{values['id']!r} is already in the store")
        main = [v for _, v, _ in self.batch]
        extra = [e for _, _, es in self.batch for e in es]
        # Core executemany on the session's connection: no ORM object or ORM bulk path per row.
        conn = self.session.connection()
        tables = Base.metadata.tables
        conn.execute(tables[TABLES[self.kind]].insert(), main)
        if extra:
            conn.execute(tables["subject_categories"].insert(), extra)
        self.batch.clear()


def import_file(
    store: Store, path: str | Path, kind: str, *, actor: str, progress: Progress | None = None
) -> ImportReport:
    """Imports one CSV or XLSX file of ``kind`` (subjects | cases | consents), all or nothing."""
    path = Path(path)
    with path.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    rows = 0
    with store.transaction() as session:
        importer = _Importer(store, session, kind, path)
        importer.actor = actor
        make = {"subjects": importer.subject, "cases": importer.case, "consents": importer.consent}[
            kind
        ]
        for line, cells in read_table(path, kind):
            row = _Row(str(path), line, cells)
            values, extra = make(row)
            importer.batch.append((row, values, extra))
            rows += 1
            if len(importer.batch) >= BATCH:
                importer.flush()
                if progress:
                    progress(rows)
        importer.flush()
        if progress:
            progress(rows)
        seq = audit(
            store,
            session,
            actor=actor,
            action=f"import.{kind}",
            object_type="import",
            object_id=uuid.uuid4().hex,
            details={"rows": rows, "sha256": digest},
        )
    return ImportReport(kind, rows, digest, seq)


__all__ = ["ImportReport", "ImportRowError", "import_file"]
