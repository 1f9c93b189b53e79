"""The consent ledger: entries are only ever inserted (the database refuses UPDATE and DELETE,
see the migration's triggers). The latest entry covering a subject, purpose and recipient
decides: latest by date, then by ledger position; an entry dated after the day of reading
does not count (and none dated after the day it is recorded is accepted, see
:func:`safeshare.services.consent.record_consent_in`)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from safeshare.core.vocabulary import (
    ConsentDecision,
    ConsentKind,
    ConsentMethod,
    ConsentStage,
    GivenBy,
)
from safeshare.core.world import ConsentRecord
from safeshare.store import mapping
from safeshare.store.fields import Sealer
from safeshare.store.models import ConsentEntryRow

TABLE = "consent_ledger"


class LedgerIsAppendOnlyError(RuntimeError):
    """The consent ledger is append-only: an entry is never changed or removed; a withdrawal
    or a refusal is a new entry."""


@dataclass(frozen=True)
class NewConsent:
    """One ledger entry to record. ``recipients``/``data_elements`` None: the purpose's own."""

    subject: str
    decision: ConsentDecision
    purposes: Collection[str]
    date: date
    kind: ConsentKind = ConsentKind.CONSENT
    given_by: GivenBy = GivenBy.SELF
    recipients: Collection[str] | None = None
    data_elements: Collection[str] | None = None
    method: ConsentMethod | None = None
    evidence_ref: str | None = None
    explanation_language: str | None = None
    explanation_version: str | None = None
    stage: ConsentStage | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


def entry_values(
    entry: NewConsent, sealer: Sealer, *, recorded_by: str, recorded_at: datetime
) -> dict[str, Any]:
    return {
        "id": entry.id,
        "subject_id": entry.subject,
        "kind": entry.kind.value,
        "given_by": entry.given_by.value,
        "decision": entry.decision.value,
        "purposes": mapping.dump_list(entry.purposes),
        "recipients": mapping.dump_list(entry.recipients),
        "data_elements": mapping.dump_list(entry.data_elements),
        "method": entry.method.value if entry.method else None,
        "evidence_ref_enc": sealer.seal(
            entry.evidence_ref, table=TABLE, column="evidence_ref_enc", row_id=entry.id
        ),
        "explanation_language": entry.explanation_language,
        "explanation_version": entry.explanation_version,
        "stage": entry.stage.value if entry.stage else None,
        "date": entry.date,
        "recorded_by": recorded_by,
        "recorded_at": recorded_at,
    }


def append(session: Session, values: Sequence[dict[str, Any]]) -> None:
    """Inserts ledger entries in order (one executemany)."""
    if values:
        session.execute(insert(ConsentEntryRow), list(values))


def entries_for(session: Session, subject_ids: Iterable[str]) -> list[ConsentRecord]:
    """The ledger entries of these subjects, oldest first (indexed by subject)."""
    ids = sorted(set(subject_ids))
    if not ids:
        return []
    rows = session.scalars(
        select(ConsentEntryRow)
        .where(ConsentEntryRow.subject_id.in_(ids))
        .order_by(ConsentEntryRow.seq)
    ).all()
    return [mapping.consent(r) for r in rows]


def covers(record: ConsentRecord, purpose: str, recipient: str | None) -> bool:
    if purpose not in record.purposes:
        return False
    return recipient is None or record.recipients is None or recipient in record.recipients


def latest(
    records: Iterable[ConsentRecord],
    purpose: str,
    recipient: str | None = None,
    *,
    kind: ConsentKind | None = None,
    today: date | None = None,
) -> ConsentRecord | None:
    """The entry that decides: the latest (by date, then ledger position) covering the scope;
    as of ``today``, an entry dated after it does not count."""
    found = [
        r
        for r in records
        if covers(r, purpose, recipient)
        and (kind is None or r.kind is kind)
        and (today is None or r.date <= today)
    ]
    return max(found, key=lambda r: (r.date, r.seq), default=None)


def raw_statement_refused(error: DBAPIError) -> bool:
    """Whether a database error is the ledger's append-only trigger refusing a change."""
    return "append-only" in str(error.orig)
