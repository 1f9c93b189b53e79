"""What a recipient organisation holds: the referrals it accepted and may still see, within
their retention period (Technical Note, data retention). Need-to-know for a recipient's staff
starts here: they see only what was shared to their organisation, and only for as long as the
protocol's retention allows. A person who withdraws her consent for a share's purpose after
it was accepted is no longer seen through that share (the recipient has the notice of it).

Each question has a form that runs in the caller's transaction (``*_in``) and one that opens
its own reading session.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, exists, or_, select
from sqlalchemy.orm import Session

from safeshare.services.referral_store import ACCESS_AFTER_ACCEPTANCE
from safeshare.store.models import CaseRow
from safeshare.store.models_sharing import ReferralRow, ReferralSubjectRow, ShareNoticeRow
from safeshare.store.unit import Store


@dataclass(frozen=True)
class SharedWith:
    """What ``org`` holds about a case: the element names its referrals carry (for all their
    persons: what one person's packet holds is known when it is opened,
    :mod:`safeshare.services.shared_view`), until when (None: open), and the referrals."""

    data_elements: tuple[str, ...]
    until: date | None
    # The referrals that hold them, newest first (their packets give the values).
    held: tuple[ReferralRow, ...] = field(default=(), compare=False, repr=False)


def held(org_id: str, today: date) -> Select[ReferralRow]:
    """Referrals ``org_id`` received, accepted, still holds and may see today."""
    return select(ReferralRow).where(
        ReferralRow.recipient == org_id,
        ReferralRow.status.in_(sorted(ACCESS_AFTER_ACCEPTANCE)),
        ReferralRow.ciphertext.is_not(None),
        or_(ReferralRow.open_ended, ReferralRow.access_until >= today),
    )


WITHDRAWN = "consent-withdrawn"  # the notice a withdrawal gives an accepted share's recipient


def still_consenting(subject: SQLColumnExpression[str] | str) -> ColumnElement[bool]:
    """The referral (in the query) still holds ``subject``: she has not withdrawn her consent
    for it since it was accepted (no :data:`WITHDRAWN` notice of it about her)."""
    return ~exists().where(
        ShareNoticeRow.referral_id == ReferralRow.id,
        ShareNoticeRow.subject_id == subject,
        ShareNoticeRow.kind == WITHDRAWN,
    )


def shared_to(store: Store, org_id: str, case_or_subject_id: str, *, today: date) -> bool:
    """Whether ``org_id`` currently holds a share about this case or subject: an accepted
    (or closed) packet within its retention period. For need-to-know checks."""
    with store.reading() as session:
        subject = (
            session.scalar(select(CaseRow.subject_id).where(CaseRow.id == case_or_subject_id))
            or case_or_subject_id
        )
        query = held(org_id, today).where(
            exists().where(
                ReferralSubjectRow.referral_id == ReferralRow.id,
                ReferralSubjectRow.subject_id == subject,
            ),
            still_consenting(subject),
        )
        return session.scalar(select(exists(query.with_only_columns(ReferralRow.id)))) is True


def held_about_in(session: Session, *, org: str, case: CaseRow, today: date) -> list[ReferralRow]:
    """The referrals by which ``org`` holds something of ``case``'s person from the case's
    owner today, newest first (the last sent before the earlier ones)."""
    return list(
        session.scalars(
            held(org, today)
            .where(
                ReferralRow.sender == case.owner,
                exists().where(
                    ReferralSubjectRow.referral_id == ReferralRow.id,
                    ReferralSubjectRow.subject_id == case.subject_id,
                ),
                still_consenting(case.subject_id),
            )
            .order_by(ReferralRow.sent_on.desc(), ReferralRow.created_at.desc(), ReferralRow.id)
        ).all()
    )


def shared_with_in(session: Session, *, org: str, case: CaseRow, today: date) -> SharedWith | None:
    """The elements of ``case`` shared to ``org`` by the case's owner that it may still see
    today (None: nothing held)."""
    rows = held_about_in(session, org=org, case=case, today=today)
    if not rows:
        return None
    elements = sorted({e for r in rows for e in json.loads(r.elements)})
    until = (
        None
        if any(r.open_ended for r in rows)
        else max(r.access_until for r in rows if r.access_until is not None)
    )
    if until is not None and until < today:
        return None
    return SharedWith(tuple(elements), until, tuple(rows))


def shared_with(store: Store, *, org: str, case: str, today: date) -> SharedWith | None:
    """:func:`shared_with_in` in its own reading session, by case id."""
    with store.reading() as session:
        row = session.get(CaseRow, case)
        return None if row is None else shared_with_in(session, org=org, case=row, today=today)


def cases_shared_with_in(session: Session, *, org: str, today: date) -> list[str]:
    """The cases (held by the senders) about which ``org`` holds a share today."""
    pairs = session.execute(
        select(CaseRow.id)
        .join(ReferralSubjectRow, ReferralSubjectRow.subject_id == CaseRow.subject_id)
        .join(ReferralRow, ReferralRow.id == ReferralSubjectRow.referral_id)
        .where(
            ReferralRow.id.in_(held(org, today).with_only_columns(ReferralRow.id)),
            CaseRow.owner == ReferralRow.sender,
            still_consenting(CaseRow.subject_id),
        )
    ).scalars()
    return sorted(set(pairs))


def cases_shared_with(store: Store, *, org: str, today: date) -> list[str]:
    """:func:`cases_shared_with_in` in its own reading session."""
    with store.reading() as session:
        return cases_shared_with_in(session, org=org, today=today)
