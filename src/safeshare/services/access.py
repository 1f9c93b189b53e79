"""Need-to-know for every read of personal data: each access to a case is a staff-access
request decided by the engine (``safeshare.core``) from the store's records, and written to
the audit log as one event holding the decision's codes (``access.case``, or
``access.denied`` for a refusal); data shared to another organisation is seen by it through
the packets it holds (:mod:`safeshare.services.holdings` says which,
:mod:`safeshare.services.shared_view` opens them: the values as shared, never the owner's
current record), within the retention period (``access.shared``).

Each check runs in the caller's transaction (``*_in``), so that a read, its decision and its
audit event are one transaction; the plain forms open their own.

Nothing here raises for "not found" versus "not allowed": both return ``None``, so the web
layer answers the two alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeshare.core.decision import Outcome
from safeshare.core.request import StaffAccessRequest
from safeshare.core.vocabulary import Duty
from safeshare.crypto.org_keys import OrgKeyDirectory
from safeshare.services import holdings
from safeshare.services.common import audit
from safeshare.services.decisions import decide_unrecorded_in
from safeshare.services.needs import active_need, cases_with_need
from safeshare.services.shared_view import SharedView, open_shared_in
from safeshare.services.world_loader import Q_ASSIGNED, Q_CASES, Q_CASES_OF
from safeshare.store.models import StaffCaseRow, SubjectRow
from safeshare.store.reads import remember, rows
from safeshare.store.unit import Store, record

# The elements each kind of read touches (the engine decides on these).
CASE_LIST_ELEMENTS = ("case_number",)
CASE_ELEMENTS = (
    "case_number",
    "name",
    "phone",
    "age",
    "specific_needs_codes",
    "incident_description",
    "caseworker_notes",
)
SUBJECT_ELEMENTS = ("individual_number", "name", "phone", "age", "specific_needs_codes")
CONSENT_ELEMENTS = ("individual_number",)
HELD_THROUGH_SHARE = "held-only-through-a-share"  # refused: not the actor's record to act on


class Actor(Protocol):
    @property
    def user_id(self) -> str: ...
    @property
    def staff_id(self) -> str: ...
    @property
    def org_id(self) -> str: ...
    @property
    def duty(self) -> Duty: ...


class Via(StrEnum):
    ASSIGNED = "assigned"
    NEED = "need"
    SHARED = "shared"


@dataclass(frozen=True)
class CaseAccess:
    case_id: str
    subject_id: str
    owner: str
    via: Via
    elements: tuple[str, ...]
    audit_seq: int | None = None  # the access event
    shared_until: date | None = None
    shared: SharedView | None = None  # through a share, opened: the values as shared


def denied(
    store: Store,
    actor: Actor,
    *,
    object_type: str,
    object_id: str,
    codes: Iterable[str] = ("need-to-know",),
) -> None:
    """Writes a refusal to the audit log (ids and codes only)."""
    with store.transaction() as session:
        denied_in(store, session, actor, object_type=object_type, object_id=object_id, codes=codes)


def denied_in(
    store: Store,
    session: Session,
    actor: Actor,
    *,
    object_type: str,
    object_id: str,
    codes: Iterable[str] = ("need-to-know",),
) -> None:
    """The refusal's audit event, in the caller's transaction (or recorded read)."""
    kept = list(codes)
    record(
        session,
        lambda writer: audit(
            store,
            writer,
            actor=actor.user_id,
            action="access.denied",
            object_type=object_type,
            object_id=object_id,
            codes=kept,
            details={"org": actor.org_id, "staff": actor.staff_id},
        ),
        one_statement=True,
    )


# --- cases ----------------------------------------------------------------------------------


def case_access_in(
    store: Store,
    session: Session,
    actor: Actor,
    case_id: str,
    elements: Sequence[str],
    *,
    at: datetime,
    keys: OrgKeyDirectory | None = None,
    whole_share: bool = False,
    through_share: bool = True,
) -> CaseAccess | None:
    """Decides, in the caller's (writing) transaction, whether ``actor`` may see ``elements``
    of the case: the engine's staff-access rules (assigned caseworker, or a recorded
    case-specific need in the owner organisation), or, for another organisation, what was
    shared to it and is still within its retention period. The access is one audit event
    (``access.case`` with the decision's codes, ``access.shared``, or ``access.denied``).
    None when refused or missing.

    Through a share, with ``keys``, the packets held are opened and their values are the
    access's :attr:`CaseAccess.shared` (``whole_share``: every element they hold, not only
    ``elements``); without, the access holds no element: the case is the recipient's to list,
    and no value may be read for it. ``through_share=False``: what was shared does not count
    (acting on the person's record); such a case is refused, audited
    (:data:`HELD_THROUGH_SHARE`)."""
    today = at.date()
    case = case_row(session, case_id)
    if case is None:
        denied_in(store, session, actor, object_type="case", object_id=case_id, codes=["not-found"])
        return None
    if case.owner != actor.org_id and actor.duty is Duty.CASE_MANAGEMENT:
        # Only the recipient's case management staff see what was shared to it.
        grant = holdings.shared_with_in(session, org=actor.org_id, case=case, today=today)
        if grant is not None and not through_share:
            codes = [HELD_THROUGH_SHARE]
            denied_in(store, session, actor, object_type="case", object_id=case_id, codes=codes)
            return None
        if grant is not None:
            return _shared_access(
                store, session, actor, case, grant, elements=elements, keys=keys, whole=whole_share
            )
    need = active_need(session, actor.staff_id, case_id, at)
    assigned = bool(rows(session, Q_ASSIGNED, [actor.staff_id], cases=[case_id]))
    request = StaffAccessRequest(
        actor=actor.staff_id, case=case_id, data_elements=tuple(elements), need=need
    )
    decision = decide_unrecorded_in(session, request, today=today)
    if decision.outcome is not Outcome.ALLOW:
        codes = sorted(decision.codes) or ["need-to-know"]
        denied_in(store, session, actor, object_type="case", object_id=case_id, codes=codes)
        return None
    allowed = tuple(decision.share_elements)
    seq = _audit_access(
        store,
        session,
        actor,
        case=case,
        action="access.case",
        elements=allowed,
        codes=decision.codes,
    )
    via = Via.ASSIGNED if assigned else Via.NEED
    return CaseAccess(case_id, case.subject_id, case.owner, via, allowed, seq)


def _shared_access(
    store: Store,
    session: Session,
    actor: Actor,
    case: Any,  # the case's row
    grant: holdings.SharedWith,
    *,
    elements: Sequence[str],
    keys: OrgKeyDirectory | None,
    whole: bool,
) -> CaseAccess:
    """The access through what was shared to the actor's organisation: the elements its
    packets hold (opened, with ``keys``), never the owner's current record. Without keys
    nothing is opened, and the access holds no element (no value may be read for it)."""
    view = None
    held: tuple[str, ...] = ()
    if keys is not None:
        view = open_shared_in(
            store,
            session,
            keys,
            actor=actor.user_id,
            org=actor.org_id,
            subject=case.subject_id,
            held=grant.held,
        )
        held = view.elements
    allowed = tuple(held) if whole else tuple(e for e in elements if e in held)
    if view is not None:
        view = view.only(allowed)
    seq = _audit_access(
        store,
        session,
        actor,
        case=case,
        action="access.shared",
        elements=allowed,
        codes=["shared-to-recipient"],
        referrals=view.referral_ids if view is not None else (),
    )
    return CaseAccess(
        case.id, case.subject_id, case.owner, Via.SHARED, allowed, seq, grant.until, view
    )


def _audit_access(
    store: Store,
    session: Session,
    actor: Actor,
    *,
    case: Any,  # the case's row
    action: str,
    elements: Sequence[str],
    codes: Iterable[str],
    referrals: Sequence[str] = (),
) -> int | None:
    """The access event: who, which case (and person), which elements, under which codes
    (and, through a share, the referrals whose packets were opened)."""
    kept, case_id, subject_id, shown = list(codes), case.id, case.subject_id, ",".join(elements)
    details = {"org": actor.org_id, "staff": actor.staff_id, "subject": subject_id}
    details["elements"] = shown
    if referrals:
        details["referrals"] = ",".join(referrals)
    return record(
        session,
        lambda writer: audit(
            store,
            writer,
            actor=actor.user_id,
            action=action,
            object_type="case",
            object_id=case_id,
            codes=kept,
            details=details,
        ),
        one_statement=True,
    )


def case_access(
    store: Store,
    actor: Actor,
    case_id: str,
    elements: Sequence[str],
    *,
    at: datetime,
) -> CaseAccess | None:
    """:func:`case_access_in` in its own recorded read (the audit event is written before
    this returns)."""
    with store.recorded_read() as session:
        return case_access_in(store, session, actor, case_id, elements, at=at)


def my_case_ids_in(session: Session, actor: Actor, *, at: datetime) -> list[str]:
    """Candidates for "my cases": assigned, with a recorded need, or shared to my
    organisation. Each is still checked by :func:`case_access_in` before it is shown."""
    assigned = set(
        session.scalars(select(StaffCaseRow.case_id).where(StaffCaseRow.staff_id == actor.staff_id))
    )
    needed = cases_with_need(session, actor.staff_id, at)
    shared = holdings.cases_shared_with_in(session, org=actor.org_id, today=at.date())
    return sorted(assigned | needed | set(shared))


def my_case_ids(store: Store, actor: Actor, *, at: datetime) -> list[str]:
    with store.reading() as session:
        return my_case_ids_in(session, actor, at=at)


_SUBJECTS: Any = SubjectRow.__table__


def case_row(session: Session, case_id: str) -> Any:
    """The case's row (every column, by name, read-only; no ORM object), or None."""
    found = rows(session, Q_CASES, [case_id])
    return found[0] if found else None


def subject_access_in(
    store: Store,
    session: Session,
    actor: Actor,
    subject_id: str,
    elements: Sequence[str],
    *,
    at: datetime,
    keys: OrgKeyDirectory | None = None,
    through_share: bool = True,
) -> CaseAccess | None:
    """A subject is seen through one of her cases the actor may see (her own organisation's
    first, assigned before needed), in the caller's transaction. None when refused or
    missing (audited). Through a share, ``keys`` opens what was shared
    (:func:`case_access_in`)."""
    # A case names an existing person (a foreign key): no case, or no such person, is one
    # answer, read in one statement. Her cases are read whole, as the share's world reads
    # them, and kept as each case's row (the check then decides on one of them): a session
    # that keeps its reads reads them once.
    found = rows(session, Q_CASES_OF, [subject_id])
    if not found:
        denied_in(
            store, session, actor, object_type="subject", object_id=subject_id, codes=["not-found"]
        )
        return None
    cases = [(r.id, r.owner) for r in found]
    ids = [c[0] for c in cases]
    links = rows(session, Q_ASSIGNED, [actor.staff_id], cases=ids)
    assigned = {r.case_id for r in links}
    for row in found:
        remember(session, Q_CASES, [row.id], [row])
        mine = [r for r in links if r.case_id == row.id]
        remember(session, Q_ASSIGNED, [actor.staff_id], mine, cases=[row.id])
    needed = cases_with_need(session, actor.staff_id, at)

    def rank(item: tuple[str, str]) -> tuple[int, int, str]:
        cid, owner = item
        return (owner != actor.org_id, cid not in assigned and cid not in needed, cid)

    ranked = sorted(cases, key=rank)
    own = [c for c in ranked if c[0] in assigned or c[0] in needed]
    candidates = own or [ranked[0]]
    if not own and candidates[0][1] != actor.org_id:
        # Another organisation's person: only through what was shared to mine.
        for cid, _owner in ranked:
            row = case_row(session, cid)
            today = at.date()
            if row is not None and holdings.shared_with_in(
                session, org=actor.org_id, case=row, today=today
            ):
                return case_access_in(
                    store,
                    session,
                    actor,
                    cid,
                    elements,
                    at=at,
                    keys=keys,
                    through_share=through_share,
                )
    return case_access_in(
        store,
        session,
        actor,
        candidates[0][0],
        elements,
        at=at,
        keys=keys,
        through_share=through_share,
    )


def own_subject_access_in(
    store: Store,
    session: Session,
    actor: Actor,
    subject_id: str,
    elements: Sequence[str],
    *,
    at: datetime,
) -> CaseAccess | None:
    """:func:`subject_access_in` for acting on the person's record (deciding a share about
    her, making one): what was shared to the actor's organisation does not count. It is not
    its record to decide from: the decision would be made from the sender's current record
    and its reasons would tell it (her age, her consent). Such a person is refused, the one
    event audited (:data:`HELD_THROUGH_SHARE`)."""
    return subject_access_in(
        store, session, actor, subject_id, elements, at=at, through_share=False
    )


def subject_access(
    store: Store,
    actor: Actor,
    subject_id: str,
    elements: Sequence[str],
    *,
    at: datetime,
    keys: OrgKeyDirectory | None = None,
) -> CaseAccess | None:
    """:func:`subject_access_in` in its own recorded read."""
    with store.recorded_read() as session:
        return subject_access_in(store, session, actor, subject_id, elements, at=at, keys=keys)
