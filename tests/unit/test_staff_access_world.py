"""Need-to-know decides a staff member's access from the staff member, the case and the
operation's data elements alone: the store loads only those for it
(``services.world_loader.staff_access_world``). Checked here over generated worlds: the
decision from that narrow world equals the decision from the whole one."""

from __future__ import annotations

from dataclasses import replace

from engine_builders import TODAY, adult, case, default_organisations, protocol, staff
from hypothesis import given, settings
from hypothesis import strategies as st

from safeshare.core import decide
from safeshare.core.request import StaffAccessRequest
from safeshare.core.vocabulary import STANDARD_ELEMENTS, Category, Duty
from safeshare.core.world import World
from safeshare.services.world_loader import NO_PROTOCOL

ORGS = ("unhcr", "ngo-a", "ngo-b")
EXTRA = {"ration_card": Category.IDENTIFIER, "shelter_block": Category.PROTECTION_SUMMARY}
ELEMENTS = sorted(STANDARD_ELEMENTS) + sorted(EXTRA)


@st.composite
def staff_access(draw: st.DrawFn) -> tuple[World, StaffAccessRequest]:
    owner = draw(st.sampled_from(ORGS))
    org = draw(st.sampled_from(ORGS))
    duty = draw(st.sampled_from(list(Duty)))
    assigned = draw(st.booleans())
    member = staff("u1", org, duty=duty, cases=["c1"] if assigned else ["c9"])
    other = staff("u2", owner, cases=["c1"])
    whole = World.build(
        today=TODAY,
        protocol=protocol(),
        organisations=default_organisations(),
        subjects=[adult("s1"), adult("s9")],
        cases=[case("c1", "s1", owner), case("c9", "s9", org)],
        staff=[member, other],
        extra_elements=EXTRA,
    )
    elements = draw(st.lists(st.sampled_from(ELEMENTS), min_size=1, max_size=6, unique=True))
    request = StaffAccessRequest(
        actor="u1", case="c1", data_elements=tuple(elements), need=draw(st.booleans())
    )
    return whole, request


def narrow(whole: World, request: StaffAccessRequest) -> World:
    """What the store loads for a staff access: this member (her assignment to this case
    only), this case, the operation's own elements; no protocol, organisations or people."""
    member = whole.staff[request.actor]
    return World.build(
        today=whole.today,
        protocol=NO_PROTOCOL,
        organisations=(),
        cases=[whole.cases[request.case]],
        staff=[replace(member, cases=member.cases & {request.case})],
        extra_elements=EXTRA,
    )


@settings(max_examples=300, deadline=None)
@given(staff_access())
def test_need_to_know_decides_alike_from_the_narrow_world(
    drawn: tuple[World, StaffAccessRequest],
) -> None:
    whole, request = drawn
    assert decide(narrow(whole, request), request) == decide(whole, request)
