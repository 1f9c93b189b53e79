"""Checks of the fast bulk import path (raw executemany) on every backend: rows read back as
written, ids already in the store and empty required cells are refused with line and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

import factories as f
from safeshare.services.bulk_import import ImportRowError, import_file
from safeshare.services.consent import consent_history
from safeshare.services.registry import case_details, save_organisation, subject_details
from safeshare.store.models import ConsentEntryRow, SubjectCategoryRow
from safeshare.store.unit import Store


@pytest.fixture
def loaded(store: Store, tmp_path: Path) -> Store:
    for org in f.organisations():
        save_organisation(store, org, actor="tester")
    (tmp_path / "subjects.csv").write_text(
        "subject_id,age,born,categories,unaccompanied,name\n"
        "s1,30,,gbv;disability;gbv,,Amina\n"
        "s2,,2012-05-01,child-protection,yes,\n"
    )
    (tmp_path / "cases.csv").write_text(
        "case_id,subject_id,owner,status,closed_on,notes\n"
        "c1,s1,ngo-a,open,,\nc2,s2,unhcr,closed,2026-01-02,note\n"
    )
    (tmp_path / "consents.csv").write_text(
        "consent_id,subject_id,decision,purposes,recipients,data_elements,date,evidence_ref\n"
        "k1,s1,granted,legal-aid-referral;b,ngo-a,name;phone,2026-02-01,form 1\n"
        "k2,s2,refused,legal-aid-referral,,,2026-02-03,\n"
    )
    for kind in ("subjects", "cases", "consents"):
        import_file(store, tmp_path / f"{kind}.csv", kind, actor="im")
    return store


def test_imported_rows_read_back(loaded: Store) -> None:
    assert subject_details(loaded, "s1", actor="cw").name == "Amina"
    assert case_details(loaded, "c2", actor="cw").notes == "note"
    first = consent_history(loaded, "s1")[0]
    assert first.purposes == frozenset({"legal-aid-referral", "b"})
    assert first.recipients == frozenset({"ngo-a"})
    assert first.date.isoformat() == "2026-02-01"
    with loaded.reading() as session:
        cats = session.execute(select(SubjectCategoryRow.subject_id, SubjectCategoryRow.category))
        assert sorted(tuple(r) for r in cats) == [
            ("s1", "disability"),
            ("s1", "gbv"),
            ("s2", "child-protection"),
        ]


@pytest.mark.parametrize(
    ("kind", "body", "line", "column"),
    [
        ("subjects", "subject_id,age\nx1,3\ns1,30\n", 3, "subject_id"),
        ("cases", "case_id,subject_id,owner\nc9,s1,unhcr\nc1,s1,unhcr\n", 3, "case_id"),
        ("cases", "case_id,subject_id,owner\nc9,s1,\n", 2, "owner"),
        (
            "consents",
            "consent_id,subject_id,decision,purposes,date\nk1,s1,granted,p,2026-01-01\n",
            2,
            "consent_id",
        ),
        # An empty decision is an error, never a default "granted".
        ("consents", "subject_id,decision,purposes,date\ns1,,p,2026-01-01\n", 2, "decision"),
        ("consents", "subject_id,decision,purposes,date\ns1,granted,;,2026-01-01\n", 2, "purposes"),
    ],
)
def test_refused_rows_keep_nothing(
    loaded: Store, tmp_path: Path, kind: str, body: str, line: int, column: str
) -> None:
    path = tmp_path / f"more-{kind}.csv"
    path.write_text(body)
    with loaded.reading() as session:
        before = session.scalar(select(func.count()).select_from(ConsentEntryRow))
    with pytest.raises(ImportRowError) as caught:
        import_file(loaded, path, kind, actor="im")
    assert (caught.value.line, caught.value.column) == (line, column), str(caught.value)
    with loaded.reading() as session:
        assert session.scalar(select(func.count()).select_from(ConsentEntryRow)) == before
    assert subject_details(loaded, "s1", actor="cw").name == "Amina"
