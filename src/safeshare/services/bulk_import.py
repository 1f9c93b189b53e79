"""Bulk import of subjects, cases and consent entries from CSV or XLSX: all or nothing.

The whole file is one transaction. Each row is checked (types, vocabulary, references to
organisations and subjects, duplicate ids) and the first bad row stops the import with an
:class:`ImportRowError` naming the file, the line and the column; nothing from the file is
kept. One audit event records the import (kind, rows, the file's SHA-256); imported consent
entries are covered by it.

Speed (a million rows is an ordinary import): rows are read as tuples (no dict per row),
checked by one function per kind with the answers for repeated cells (vocabulary, lists,
dates) cached (the cell checks are :mod:`safeshare.services.import_checks`), sealed with
per-column encryptors (the key, header and table/column part of the associated data
prepared once), and inserted with the driver's own ``executemany`` in batches of ``BATCH``
rows on the transaction's connection. On SQLite the page cache is enlarged for the import's
connection (and set back after it); ``synchronous=FULL`` stays, and the import is still one
commit.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
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
from safeshare.services.common import audit_now
from safeshare.services.import_checks import (
    CellError,
    age_years,
    boolean_check,
    cached,
    choice_check,
    day_check,
    json_list_check,
    split_list,
)
from safeshare.store import ledger
from safeshare.store.audit_log import now
from safeshare.store.models import Base, DataElementRow, OrganisationRow
from safeshare.store.tabular import COLUMNS, ImportRowError, read_values
from safeshare.store.unit import Store

BATCH = 5000
TABLES = {"subjects": "subjects", "cases": "cases", "consents": "consent_ledger"}
IMPORT_CACHE_KIB = 256 * 1024  # SQLite page cache of the import's connection
Progress = Callable[[int], None]


@dataclass(frozen=True)
class ImportReport:
    kind: str
    rows: int
    sha256: str
    audit_seq: int


# Insert column order of each kind's main table (and of subject categories).
INSERT_COLUMNS: dict[str, tuple[str, ...]] = {
    "subjects": (
        "id",
        "age",
        "born",
        "reachable",
        "can_consent",
        "unaccompanied",
        "caregiver_reachable",
        "caregiver_involve",
        "name_enc",
        "contact_enc",
    ),
    "cases": ("id", "subject_id", "owner", "status", "closed_on", "details_enc", "notes_enc"),
    "consents": (
        "id",
        "subject_id",
        "kind",
        "given_by",
        "decision",
        "purposes",
        "recipients",
        "data_elements",
        "method",
        "evidence_ref_enc",
        "explanation_language",
        "explanation_version",
        "stage",
        "date",
        "recorded_by",
        "recorded_at",
    ),
}
CATEGORY_COLUMNS = ("subject_id", "category")


class _Importer:
    """Checks rows into insert tuples, and inserts them in batches (all in one transaction)."""

    def __init__(self, store: Store, session: Session, kind: str, path: Path, actor: str) -> None:
        self.store, self.session, self.kind, self.file = store, session, kind, str(path)
        self.conn: Connection = session.connection()
        dialect = self.conn.dialect
        self.qmark = dialect.paramstyle == "qmark"
        self.orgs = set(session.scalars(select(OrganisationRow.id)))
        self.elements = set(STANDARD_ELEMENTS) | set(session.scalars(select(DataElementRow.id)))
        self.seen: set[str] = set()
        # Lines and values of the rows not yet inserted.
        self.lines: list[int] = []
        self.rows: list[tuple[Any, ...]] = []
        self.extra: list[tuple[str, str]] = []
        tables = Base.metadata.tables
        self.table = tables[TABLES[kind]]
        date_type = tables["consent_ledger"].c.date.type
        process_date = date_type.dialect_impl(dialect).bind_processor(dialect)
        self.db_date: Callable[[date], Any] = process_date or (lambda d: d)
        stamp_type = tables["consent_ledger"].c.recorded_at.type
        process_stamp = stamp_type.dialect_impl(dialect).bind_processor(dialect)
        stamp = now()
        self.recorded_at = process_stamp(stamp) if process_stamp else stamp
        self.actor = actor
        self.check: Callable[[tuple[str, ...]], tuple[Any, ...]] = getattr(self, f"_{kind}")()

    # -- one function per kind: cells (in COLUMNS order) -> insert tuple ------------------

    def _seal(self, table: str, column: str) -> Callable[[str, str], bytes | None]:
        encrypt = self.store.sealer.column(table=table, column=column)

        def seal(text: str, row_id: str) -> bytes | None:
            return encrypt(text, row_id) if text else None

        return seal

    def _unique(self, column: str, ident: str) -> str:
        if not ident:
            raise CellError(column, "a value is required")
        if ident in self.seen:
            raise CellError(column, f"{ident!r} appears twice in this file")
        self.seen.add(ident)
        return ident

    def _subjects(self) -> Callable[[tuple[str, ...]], tuple[Any, ...]]:
        born_of = day_check("born", self.db_date)
        flags = [
            boolean_check("reachable", True),
            boolean_check("can_consent", True),
            boolean_check("unaccompanied", False),
            boolean_check("caregiver_reachable", None),
            boolean_check("caregiver_involve", None),
        ]
        reachable, can_consent, unaccompanied, cg_reachable, cg_involve = flags
        seal_name = self._seal("subjects", "name_enc")
        seal_contact = self._seal("subjects", "contact_enc")
        categories = cached(lambda text: sorted(set(split_list(text))))
        extra = self.extra
        unique = self._unique

        def check(cells: tuple[str, ...]) -> tuple[Any, ...]:
            sid, age_text, born_text, cats, r, cc, un, cgr, cgi, name, contact = cells
            unique("subject_id", sid)
            age, born = age_years(age_text), born_of(born_text)
            if (age is None) == (born is None):
                raise CellError(
                    "age", "give exactly one of age and born (an unknown age may be a child)"
                )
            row = (
                sid,
                age,
                born,
                reachable(r),
                can_consent(cc),
                unaccompanied(un),
                cg_reachable(cgr),
                cg_involve(cgi),
                seal_name(name, sid),
                seal_contact(contact, sid),
            )
            if cats:
                extra.extend((sid, c) for c in categories(cats))
            return row

        return check

    def _cases(self) -> Callable[[tuple[str, ...]], tuple[Any, ...]]:
        status_of = cached(choice_check("status", CaseStatus, CaseStatus.OPEN))
        closed_of = day_check("closed_on", self.db_date)
        orgs = self.orgs
        seal_details = self._seal("cases", "details_enc")
        seal_notes = self._seal("cases", "notes_enc")
        unique = self._unique
        closed = CaseStatus.CLOSED.value

        def check(cells: tuple[str, ...]) -> tuple[Any, ...]:
            cid, sid, owner, status_text, closed_text, details, notes = cells
            unique("case_id", cid)
            if not sid:
                raise CellError("subject_id", "a value is required")
            if not owner:
                raise CellError("owner", "a value is required")
            if owner not in orgs:
                raise CellError("owner", f"{owner!r} is not an organisation in the store")
            status = status_of(status_text)
            closed_on = closed_of(closed_text)
            if closed_on is not None and status != closed:
                raise CellError("closed_on", "an open case has no closing date")
            return (
                cid,
                sid,
                owner,
                status,
                closed_on,
                seal_details(details, cid),
                seal_notes(notes, cid),
            )

        return check

    def _consents(self) -> Callable[[tuple[str, ...]], tuple[Any, ...]]:
        recipients_of = json_list_check("recipients", self.orgs, "an organisation in the store")
        elements_of = json_list_check("data_elements", self.elements, "a known data element")
        purposes_of = json_list_check("purposes")
        decision_of = cached(choice_check("decision", ConsentDecision, None))
        kind_of = cached(choice_check("kind", ConsentKind, ConsentKind.CONSENT))
        given_by_of = cached(choice_check("given_by", GivenBy, GivenBy.SELF))
        method_of = cached(choice_check("method", ConsentMethod, None))
        stage_of = cached(choice_check("stage", ConsentStage, None))
        date_of = day_check("date", self.db_date)
        today = date.today()  # as the consent service's default: none dated after it
        seal_evidence = self._seal(ledger.TABLE, "evidence_ref_enc")
        seen = self.seen
        actor, recorded_at = self.actor, self.recorded_at

        def check(cells: tuple[str, ...]) -> tuple[Any, ...]:
            (eid, sid, kind, given_by, decision, purposes, recipients, elements, method) = cells[:9]
            evidence, language, version, stage, day = cells[9:]
            eid = eid or uuid.uuid4().hex
            if eid in seen:
                raise CellError("consent_id", f"{eid!r} appears twice in this file")
            seen.add(eid)
            recipients_json = recipients_of(recipients)
            elements_json = elements_of(elements)
            purposes_json = purposes_of(purposes)
            if purposes_json is None or purposes_json == "[]":
                raise CellError("purposes", "at least one purpose id is required")
            if not sid:
                raise CellError("subject_id", "a value is required")
            if not decision:
                raise CellError("decision", "a value is required")
            decided = decision_of(decision)
            kind_value, given = kind_of(kind), given_by_of(given_by)
            method_value = method_of(method)
            if not day:
                raise CellError("date", "a value is required")
            on = date_of(day)
            if date.fromisoformat(day) > today:
                raise CellError(
                    "date", f"a consent entry cannot be dated after today ({today.isoformat()})"
                )
            return (
                eid,
                sid,
                kind_value,
                given,
                decided,
                purposes_json,
                recipients_json,
                elements_json,
                method_value,
                seal_evidence(evidence, eid),
                language or None,
                version or None,
                stage_of(stage),
                on,
                actor,
                recorded_at,
            )

        return check

    # -- batches ----------------------------------------------------------------------------

    def add(self, line: int, cells: tuple[str, ...]) -> None:
        try:
            self.rows.append(self.check(cells))
        except CellError as bad:
            raise ImportRowError(self.file, line, bad.column, bad.message) from None
        self.lines.append(line)

    def _fail(self, index: int, column: str, message: str) -> ImportRowError:
        return ImportRowError(self.file, self.lines[index], column, message)

    def _existing(self, table: str, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are already in ``table`` (one query, the primary key index)."""
        cursor = self.conn.connection.cursor()
        try:
            mark = "?" if self.qmark else "%s"
            marks = ",".join([mark] * len(ids))
            # Table names are this module's constants; the ids are bound parameters.
            cursor.execute(f"SELECT id FROM {table} WHERE id IN ({marks})", list(ids))  # noqa: S608
            return {r[0] for r in cursor.fetchall()}
        finally:
            cursor.close()

    def _insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        mark = "?" if self.qmark else "%s"
        marks = ", ".join([mark] * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        cursor = self.conn.connection.cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    def flush(self) -> None:
        if not self.rows:
            return
        rows = self.rows
        if self.kind in {"cases", "consents"}:
            wanted = sorted({r[1] for r in rows})
            known = self._existing("subjects", wanted)
            if len(known) < len(wanted):
                for i, r in enumerate(rows):
                    if r[1] not in known:
                        raise self._fail(i, "subject_id", f"{r[1]!r} is not a subject in the store")
        taken = self._existing(self.table.name, [r[0] for r in rows])
        if taken:
            column = {"subjects": "subject_id", "cases": "case_id", "consents": "consent_id"}
            for i, r in enumerate(rows):
                if r[0] in taken:
                    raise self._fail(i, column[self.kind], f"{r[0]!r} is already in the store")
        self._insert(self.table.name, INSERT_COLUMNS[self.kind], rows)
        if self.extra:
            self._insert("subject_categories", CATEGORY_COLUMNS, self.extra)
        self.rows, self.lines = [], []
        self.extra.clear()  # the subjects' check appends to this very list

    @contextmanager
    def tuned(self) -> Iterator[None]:
        """A larger SQLite page cache for this connection during the import (memory only:
        durability is unchanged), set back afterwards."""
        if self.conn.dialect.name != "sqlite":
            yield
            return
        raw = self.conn.connection.driver_connection
        assert raw is not None
        before = raw.execute("PRAGMA cache_size").fetchone()[0]
        raw.execute(f"PRAGMA cache_size=-{int(IMPORT_CACHE_KIB)}")
        try:
            yield
        finally:
            raw.execute(f"PRAGMA cache_size={int(before)}")


def import_file(
    store: Store, path: str | Path, kind: str, *, actor: str, progress: Progress | None = None
) -> ImportReport:
    """Imports one CSV or XLSX file of ``kind`` (subjects | cases | consents), all or nothing."""
    path = Path(path)
    if kind not in COLUMNS:
        raise ValueError(f"unknown import kind {kind!r}: one of {', '.join(COLUMNS)}")
    with path.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    rows = 0
    with store.transaction() as session:
        importer = _Importer(store, session, kind, path, actor)
        with importer.tuned():
            batch = BATCH
            for line, cells in read_values(path, kind):
                importer.add(line, cells)
                rows += 1
                if len(importer.rows) >= batch:
                    importer.flush()
                    if progress:
                        progress(rows)
            importer.flush()
        if progress:
            progress(rows)
        seq = audit_now(
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
