"""Review: a bulk consent import refuses an entry dated after today, naming the file, the
line and the ``date`` column, and keeps nothing of the file (all or nothing)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from safeshare.core.vocabulary import OrgKind
from safeshare.core.world import Organisation
from safeshare.services.bulk_import import ImportRowError, import_file
from safeshare.services.registry import save_organisation
from safeshare.store.models import ConsentEntryRow
from safeshare.store.unit import Store


def _count(store: Store) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(ConsentEntryRow)) or 0


def test_a_consent_row_dated_ahead_is_refused_naming_its_line(store: Store, tmp_path: Path) -> None:
    save_organisation(store, Organisation("ngo-a", OrgKind.PARTNER), actor="tester")
    subjects = tmp_path / "subjects.csv"
    subjects.write_text("subject_id,age\ns1,30\n")
    import_file(store, subjects, "subjects", actor="im")
    today, ahead = date.today(), date.today() + timedelta(days=7)
    path = tmp_path / "consents.csv"
    path.write_text(
        "subject_id,decision,purposes,recipients,method,date\n"
        f"s1,granted,legal-aid-referral,ngo-a,written,{today.isoformat()}\n"
        f"s1,granted,legal-aid-referral,ngo-a,written,{ahead.isoformat()}\n"
    )
    with pytest.raises(ImportRowError) as caught:
        import_file(store, path, "consents", actor="im")
    assert (caught.value.file, caught.value.line, caught.value.column) == (str(path), 3, "date")
    assert "after today" in str(caught.value)
    assert _count(store) == 0
