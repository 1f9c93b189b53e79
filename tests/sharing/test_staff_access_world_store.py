"""The store's narrow world for a staff access (``staff_access_world``) decides as the whole
world of the same request would, for assigned, unassigned, other-organisation and
oversight staff, with and without a recorded need."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeshare.core import decide
from safeshare.core.decision import Outcome
from safeshare.core.request import StaffAccessRequest
from safeshare.core.vocabulary import Duty
from safeshare.core.world import Staff
from safeshare.services.accounts import assign_case
from safeshare.services.decisions import decide_unrecorded_in
from safeshare.services.registry import add_staff
from safeshare.services.world_loader import build_world
from safeshare.store.unit import Store
from sharing_world import ACTOR, TODAY, Operation, build

STAFF = [
    Staff("cw-assigned", "unhcr", role="caseworker", duty=Duty.CASE_MANAGEMENT),
    Staff("cw-other", "unhcr", role="caseworker", duty=Duty.CASE_MANAGEMENT),
    Staff("cw-ngo", "ngo-a", role="caseworker", duty=Duty.CASE_MANAGEMENT),
    Staff("me-officer", "unhcr", role="me-officer", duty=Duty.MONITORING),
]
ELEMENTS = [("name", "phone", "service_needed"), ("service_needed",), ("case_summary", "name")]


@pytest.fixture
def op(store: Store, tmp_path: Path) -> Operation:
    built = build(store, tmp_path / "org-keys")
    for member in STAFF:
        add_staff(store, member, actor=ACTOR)
    assign_case(store, staff_id="cw-assigned", case_id="c1", actor=ACTOR, assign=True)
    return built


@pytest.mark.parametrize("member", [m.id for m in STAFF])
@pytest.mark.parametrize("case_id", ["c1", "c2", "c5"])
@pytest.mark.parametrize("need", [False, True])
def test_the_narrow_world_decides_as_the_whole_one(
    op: Operation, member: str, case_id: str, need: bool
) -> None:
    outcomes = set()
    for elements in ELEMENTS:
        request = StaffAccessRequest(actor=member, case=case_id, data_elements=elements, need=need)
        with op.store.reading() as session:
            narrow = decide_unrecorded_in(session, request, today=TODAY)
        with op.store.reading() as session:
            whole = decide(build_world(session, request, today=TODAY), request)
        assert narrow == whole
        outcomes.add(narrow.outcome)
    if member == "cw-assigned" and case_id == "c1":
        assert outcomes == {Outcome.ALLOW}
    if member == "cw-ngo" and case_id != "c5":
        assert outcomes == {Outcome.DENY}
