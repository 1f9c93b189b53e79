"""Thin helpers over the services for the web pages (no SQL here): a preview of the engine's
decision that records nothing (the live check while a referral form changes), the values a
case holds for the elements its viewer may see, the audit trail of who opened a case."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from safeshare import core
from safeshare.core.decision import Decision
from safeshare.core.request import ShareRequest
from safeshare.services.audit import TrailEntry, case_access_trail
from safeshare.services.case_elements import element_values
from safeshare.services.world_loader import build_world
from safeshare.store.unit import Store


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


def case_trail(
    store: Store, *, case_id: str, org: str | None = None, limit: int = 50
) -> list[TrailEntry]:
    """Who opened, changed or shared this case or its person, newest first (``org``: only
    that organisation's staff, for a recipient of a share)."""
    return case_access_trail(store, case_id, limit=limit, org=org)
