"""Bulk import from CSV and XLSX (with an HXL hashtag row): all or nothing, errors with file,
line and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

import factories as f
from safeshare.services.bulk_import import ImportRowError, import_file
from safeshare.services.consent import current_consent
from safeshare.services.registry import save_organisation, subject_details
from safeshare.store.models import AuditEventRow, CaseRow, SubjectRow
from safeshare.store.unit import Store

SUBJECTS = """subject_id,age,categories,name,contact
s1,30,gbv;disability,Amina,+254700000001
s2,16,child-protection,Baraka,
"""


def _orgs(store: Store) -> None:
    for org in f.organisations():
        save_organisation(store, org, actor="tester")


def _count(store: Store, model: type) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_csv_subjects_cases_consents(store: Store, tmp_path: Path) -> None:
    _orgs(store)
    (tmp_path / "subjects.csv").write_text(SUBJECTS)
    (tmp_path / "cases.csv").write_text(
        "case_id,subject_id,owner,status,details\nc1,s1,ngo-a,open,Incident\nc2,s2,unhcr,open,\n"
    )
    (tmp_path / "consents.csv").write_text(
        "subject_id,decision,purposes,recipients,method,date,evidence_ref\n"
        "s1,granted,legal-aid-referral,ngo-a,written,2026-02-01,form 1\n"
        "s1,withdrawn,legal-aid-referral,ngo-a,oral-recorded,2026-02-10,\n"
    )
    seen: list[int] = []
    assert import_file(store, tmp_path / "subjects.csv", "subjects", actor="im").rows == 2
    assert import_file(store, tmp_path / "cases.csv", "cases", actor="im").rows == 2
    report = import_file(
        store, tmp_path / "consents.csv", "consents", actor="im", progress=seen.append
    )
    assert report.rows == 2
    assert seen[-1] == 2
    assert subject_details(store, "s1", actor="cw").name == "Amina"
    latest = current_consent(store, "s1", "legal-aid-referral", "ngo-a")
    assert latest is not None
    assert latest.decision.value == "withdrawn"


@pytest.mark.parametrize(
    ("body", "line", "column"),
    [
        ("subject_id,age\ns1,30\ns2,abc\n", 3, "age"),
        ("subject_id,age\ns1,30\ns1,31\n", 3, "subject_id"),
        ("subject_id,age,reachable\ns1,30,perhaps\n", 2, "reachable"),
        ("subject_id,age,colour\ns1,30,red\n", 1, "colour"),
        ("age\n30\n", 1, "subject_id"),
    ],
)
def test_a_bad_row_keeps_nothing(
    store: Store, tmp_path: Path, body: str, line: int, column: str
) -> None:
    path = tmp_path / "subjects.csv"
    path.write_text(body)
    events = _count(store, AuditEventRow)
    with pytest.raises(ImportRowError) as caught:
        import_file(store, path, "subjects", actor="im")
    assert (caught.value.file, caught.value.line, caught.value.column) == (str(path), line, column)
    assert str(path) in str(caught.value)
    assert _count(store, SubjectRow) == 0
    assert _count(store, AuditEventRow) == events


def test_a_bad_row_after_a_full_batch_keeps_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("safeshare.services.bulk_import.BATCH", 10)
    rows = "".join(f"s{i},30\n" for i in range(25))
    path = tmp_path / "subjects.csv"
    path.write_text("subject_id,age\n" + rows + "s99,\n")
    with pytest.raises(ImportRowError) as caught:
        import_file(store, path, "subjects", actor="im")
    assert caught.value.line == 27
    assert _count(store, SubjectRow) == 0


def test_case_for_an_unknown_subject_is_refused(store: Store, tmp_path: Path) -> None:
    _orgs(store)
    path = tmp_path / "cases.csv"
    path.write_text("case_id,subject_id,owner\nc1,ghost,unhcr\n")
    with pytest.raises(ImportRowError) as caught:
        import_file(store, path, "cases", actor="im")
    assert (caught.value.line, caught.value.column) == (2, "subject_id")
    assert _count(store, CaseRow) == 0


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_xlsx_with_an_hxl_row(store: Store, tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "subjects.xlsx",
        [
            ["Individual", "Age (years)", "Full name"],
            ["#beneficiary+id", "#beneficiary +age", "#beneficiary+name"],
            ["s1", 30, "Amina"],
            ["s2", 12, "Baraka"],
        ],
    )
    assert import_file(store, path, "subjects", actor="im").rows == 2
    assert subject_details(store, "s2", actor="cw").name == "Baraka"


def test_xlsx_bad_row_names_the_spreadsheet_line_and_column(store: Store, tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "subjects.xlsx",
        [
            ["Individual", "Age"],
            ["#beneficiary+id", "#beneficiary+age"],
            ["s1", 30],
            ["s2", "twelve"],
        ],
    )
    with pytest.raises(ImportRowError) as caught:
        import_file(store, path, "subjects", actor="im")
    assert (caught.value.line, caught.value.column) == (4, "age")
    assert _count(store, SubjectRow) == 0
