"""Need-to-know for referrals: which staff member may see a referral, and open its packet.

The sending side names the referral's persons (ids, beside the purpose and the recipient),
so a staff member sees it only with need-to-know for every one of them — the staff-access
decision of case reads (assigned, a recorded case-specific need, or shared to her
organisation), each one audited. The receiving side names no one: the recipient
organisation's staff see it within its window, and only case management opens its packet.
Every referral shown is an ``access.referral`` audit event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeshare.core.vocabulary import Duty
from safeshare.services import access
from safeshare.services.access import Actor
from safeshare.services.common import audit
from safeshare.services.referral_store import ReferralInfo, info, recipient_can_see
from safeshare.store.models import CaseRow
from safeshare.store.models_sharing import ReferralRow, ReferralSubjectRow
from safeshare.store.unit import Store, record

# What a referral shows of each of its persons, as the staff-access decision sees it: who she
# is (her id, beside the purpose and the recipient). Identifying: oversight and monitoring
# see it only with a recorded case-specific need.
REFERRAL_ELEMENTS = ("individual_number",)
READ = "access.referral"


def opens_packets(duty: Duty) -> bool:
    """Whether staff of this duty may open a packet received by their organisation (or give
    feedback on it): case management only. Oversight and monitoring get no person's data
    without a case-specific need, and a need is recorded only in the organisation holding
    the case, never for what another organisation sent."""
    return duty is Duty.CASE_MANAGEMENT


def _sees_persons_in(
    store: Store,
    session: Session,
    actor: Actor,
    subjects: Sequence[str],
    *,
    at: datetime,
    known: dict[str, bool],
) -> bool:
    """Whether ``actor`` has need-to-know for EVERY person of a referral (the referral names
    them together): the staff-access decision of case reads, each one audited
    (``access.case``, ``access.shared`` or ``access.denied``) and made once per person
    (``known`` keeps the answers of one read)."""
    for subject in subjects:
        if subject not in known:
            grant = access.subject_access_in(
                store, session, actor, subject, REFERRAL_ELEMENTS, at=at
            )
            known[subject] = grant is not None
        if not known[subject]:
            return False
    return True


def _audit_read(
    store: Store, session: Session, actor: Actor, found: ReferralInfo, *, side: str
) -> None:
    """The read of a referral: who, which referral, from which side, about how many persons
    (their ids are in the access events of the persons, just before)."""
    referral_id, persons = found.id, len(found.subjects)
    record(
        session,
        lambda writer: audit(
            store,
            writer,
            actor=actor.user_id,
            action=READ,
            object_type="referral",
            object_id=referral_id,
            details={
                "org": actor.org_id,
                "staff": actor.staff_id,
                "side": side,
                "subjects": persons,
            },
        ),
        one_statement=True,
    )


def visible_in(
    store: Store,
    session: Session,
    actor: Actor,
    row: ReferralRow,
    *,
    at: datetime,
    known: dict[str, bool],
    subjects: Sequence[str] | None = None,
) -> ReferralInfo | None:
    """The referral as ``actor`` may see it, or None (``subjects``: its persons, when the
    caller has read them). The sending side: its persons are named, so she needs to know
    every one of them (assigned, a recorded need, or shared to her organisation:
    :func:`access.subject_access_in`). The receiving side (no person named): the recipient
    organisation's staff, within its window."""
    if row.sender == actor.org_id:
        found = info(session, row, subjects=subjects)
        if not _sees_persons_in(store, session, actor, found.subjects, at=at, known=known):
            return None
        _audit_read(store, session, actor, found, side="sender")
        return found
    if row.recipient == actor.org_id and recipient_can_see(row, at.date()):
        found = info(session, row)
        _audit_read(store, session, actor, found, side="recipient")
        return found
    return None


def referral_for(
    store: Store, actor: Actor, referral_id: str, *, at: datetime
) -> ReferralInfo | None:
    """A referral as seen by this staff member (see :func:`visible_in`), its read audited;
    None when missing or not hers to see (the refusals of its persons audited; the caller
    audits the referral's)."""
    with store.recorded_read() as session:
        row = session.get(ReferralRow, referral_id)
        if row is None:
            return None
        return visible_in(store, session, actor, row, at=at, known={})


def _persons_known_to(session: Session, actor: Actor, *, at: datetime) -> set[str]:
    """The persons of "my cases" (assigned, a recorded need, shared to my organisation):
    the only ones whose referrals a list may show (each is still decided)."""
    cases = access.my_case_ids_in(session, actor, at=at)
    if not cases:
        return set()
    return set(session.scalars(select(CaseRow.subject_id).where(CaseRow.id.in_(cases))))


def outgoing_for(store: Store, actor: Actor, *, at: datetime) -> list[ReferralInfo]:
    """The referrals the actor's organisation sent that she may see, newest first: those
    whose every person is one of hers by need-to-know (:func:`visible_in`; as a case list,
    one decision and audit event per person and one ``access.referral`` event per referral
    shown). A referral naming anyone else is left out."""
    with store.recorded_read() as session:
        mine = _persons_known_to(session, actor, at=at)
        rows = session.scalars(
            select(ReferralRow)
            .where(ReferralRow.sender == actor.org_id)
            .order_by(ReferralRow.created_at.desc(), ReferralRow.id)
        ).all()
        persons_of: dict[str, list[str]] = {}
        for referral_id, subject_id in session.execute(  # every list's persons in one read
            select(ReferralSubjectRow.referral_id, ReferralSubjectRow.subject_id)
            .join(ReferralRow, ReferralRow.id == ReferralSubjectRow.referral_id)
            .where(ReferralRow.sender == actor.org_id)
            .order_by(ReferralSubjectRow.referral_id, ReferralSubjectRow.subject_id)
        ):
            persons_of.setdefault(referral_id, []).append(subject_id)
        known: dict[str, bool] = {}
        shown = []
        for row in rows:
            persons = tuple(persons_of.get(row.id, ()))
            if not set(persons) <= mine:
                continue
            found = visible_in(store, session, actor, row, at=at, known=known, subjects=persons)
            if found is not None:
                shown.append(found)
    return shown
