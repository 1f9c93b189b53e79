"""Thin helpers over the services for the web pages (no SQL here): a preview of the engine's
decision that records nothing (the live check while a referral form changes), the values a
case holds for the elements its viewer may see, the audit trail of who opened a case."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from safeshare import core
from safeshare.audit.chain import AuditEventBody
from safeshare.core.decision import Decision
from safeshare.core.request import ShareRequest
from safeshare.services import accounts
from safeshare.services.case_elements import element_values
from safeshare.services.decisions import build_world
from safeshare.store.audit_log import read_events
from safeshare.store.unit import Store

PAGE = 500
TRAIL_ACTIONS = ("access.", "referral.", "consent.", "case.")


def preview(store: Store, request: ShareRequest, *, today: date) -> Decision:
    """The engine's decision on ``request`` from the store as it is, recorded nowhere: the
    decision that counts is taken again, and recorded, when the referral is sent."""
    with store.reading() as session:
        world = build_world(session, request, today=today)
    return core.decide(world, request)


def case_values(
    store: Store, subject_id: str, elements: Sequence[str], *, owner: str
) -> dict[str, str | None]:
    """The values the owner's cases hold for ``elements`` (only those the viewer may see
    are asked for)."""
    if not elements:
        return {}
    with store.reading() as session:
        found = element_values(store, session, [subject_id], elements, owner=owner)
    return found.get(subject_id, {})


@dataclass(frozen=True)
class TrailEntry:
    seq: int
    at: str
    actor: str
    action: str
    codes: tuple[str, ...]


def case_trail(store: Store, *, case_id: str, subject_id: str, limit: int = 50) -> list[TrailEntry]:
    """Who opened, changed or shared this case or its person, newest first (ids, actions
    and codes: the audit log holds no personal data)."""
    wanted = {("case", case_id), ("subject", subject_id)}
    found: list[AuditEventBody] = []
    after = 0
    with store.reading() as session:
        while True:
            batch = read_events(session, after=after, limit=PAGE)
            if not batch:
                break
            after = batch[-1].seq
            for event in batch:
                subject = event.details.get("subject") if event.details else None
                if (event.object_type, event.object_id) in wanted or subject == subject_id:
                    found.append(event)
    found = [e for e in found if e.action.startswith(TRAIL_ACTIONS)]
    users: dict[str, str] = {}
    out = []
    for event in reversed(found[-limit:]):
        if event.actor not in users:
            account = accounts.get_account(store, event.actor)
            users[event.actor] = account.username if account else event.actor
        out.append(
            TrailEntry(event.seq, event.at, users[event.actor], event.action, tuple(event.codes))
        )
    return out
