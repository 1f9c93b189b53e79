"""Consent: recording, withdrawing (one call, as easy as consenting) and reading the ledger."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeshare.core.vocabulary import (
    ConsentDecision,
    ConsentKind,
    ConsentMethod,
    ConsentStage,
    GivenBy,
)
from safeshare.core.world import ConsentRecord
from safeshare.services.common import NotFoundError, audit
from safeshare.store import ledger
from safeshare.store.audit_log import now
from safeshare.store.ledger import NewConsent
from safeshare.store.models import ConsentEntryRow, SubjectRow
from safeshare.store.unit import Store


class FutureConsentDateError(ValueError):
    """A ledger entry dated after the day it is recorded: consent is what the person said,
    on the day she said it; an entry dated ahead would count as consent before she gave it,
    or outrank a withdrawal recorded in between. ``field`` names the offending input."""

    field = "date"

    def __init__(self, on: date, today: date) -> None:
        super().__init__(
            f"a consent entry cannot be dated after today ({today.isoformat()}): "
            f"{on.isoformat()} was given"
        )


def check_not_future(entry: NewConsent, today: date | None = None) -> None:
    """Refuses an entry dated after ``today`` (default: the machine's today, as the CLI's
    default date is)."""
    day = today or date.today()
    if entry.date > day:
        raise FutureConsentDateError(entry.date, day)


def record_consent(
    store: Store, entry: NewConsent, *, actor: str, today: date | None = None
) -> str:
    """Appends one entry to the ledger with its audit event; returns the entry id. A
    refusal or withdrawal recorded this way does not stop shares: use
    :func:`safeshare.services.consent_effects.record_consent_and_apply`. An entry dated
    after ``today`` (default: the machine's today) is refused (:class:`FutureConsentDateError`)."""
    with store.transaction() as session:
        return record_consent_in(store, session, entry, actor=actor, today=today)


def record_consent_in(
    store: Store, session: Session, entry: NewConsent, *, actor: str, today: date | None = None
) -> str:
    """:func:`record_consent` in the caller's transaction."""
    if session.get(SubjectRow, entry.subject) is None:
        raise NotFoundError(f"subject {entry.subject!r} is not in the store")
    check_not_future(entry, today)
    values = ledger.entry_values(entry, store.sealer, recorded_by=actor, recorded_at=now())
    ledger.append(session, [values])
    audit(
        store,
        session,
        actor=actor,
        action=f"consent.{entry.decision.value}",
        object_type="consent_entry",
        object_id=entry.id,
        codes=[entry.kind.value, entry.given_by.value],
        details={
            "subject": entry.subject,
            "purposes": ",".join(sorted(entry.purposes)),
            "stage": entry.stage.value if entry.stage else None,
        },
    )
    return entry.id


def withdraw_consent(
    store: Store,
    *,
    subject: str,
    purposes: Collection[str],
    actor: str,
    on: date | None = None,
    recipients: Collection[str] | None = None,
    kind: ConsentKind = ConsentKind.CONSENT,
    given_by: GivenBy = GivenBy.SELF,
    method: ConsentMethod | None = None,
    evidence_ref: str | None = None,
    stage: ConsentStage | None = None,
) -> str:
    """Records a withdrawal: a new ledger entry that, being the latest, decides from now on."""
    return record_consent(
        store,
        NewConsent(
            subject=subject,
            decision=ConsentDecision.WITHDRAWN,
            purposes=tuple(purposes),
            date=on or date.today(),
            kind=kind,
            given_by=given_by,
            recipients=None if recipients is None else tuple(recipients),
            method=method,
            evidence_ref=evidence_ref,
            stage=stage,
        ),
        actor=actor,
    )


def consent_history(store: Store, subject: str) -> list[ConsentRecord]:
    """The subject's ledger, oldest first."""
    with store.reading() as session:
        return ledger.entries_for(session, [subject])


def current_consent(
    store: Store,
    subject: str,
    purpose: str,
    recipient: str | None = None,
    *,
    today: date | None = None,
) -> ConsentRecord | None:
    """The entry that decides for this subject, purpose and recipient (latest wins; as of
    ``today``, an entry dated after it does not count)."""
    return ledger.latest(consent_history(store, subject), purpose, recipient, today=today)


def evidence_reference(store: Store, entry_id: str, *, actor: str) -> str | None:
    """Opens an entry's evidence reference (an access, audited)."""
    with store.transaction() as session:
        row = session.scalars(
            select(ConsentEntryRow).where(ConsentEntryRow.id == entry_id)
        ).one_or_none()
        if row is None:
            raise NotFoundError(f"consent entry {entry_id!r} is not in the store")
        audit(
            store,
            session,
            actor=actor,
            action="access.evidence_ref",
            object_type="consent_entry",
            object_id=entry_id,
        )
        return store.sealer.open(
            row.evidence_ref_enc, table=ledger.TABLE, column="evidence_ref_enc", row_id=entry_id
        )
