"""Scenario and protocol files (``shared/scenarios/FORMAT.md``) read into core values.

A file is refused whole, with a :class:`ScenarioFileError` naming the file, the field, what
was expected and what was found, whenever anything in it is malformed or refers to
something it does not declare: a decision is never made on a world that was half read.
The request's purpose may be free text outside the protocol: that is for the engine to
judge (purpose-not-in-protocol), not an input error.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safeshare.core.request import (
    Circumstance,
    Request,
    Selection,
    ShareRequest,
    StaffAccessRequest,
    SubjectAccessRequest,
)
from safeshare.core.vocabulary import (
    STANDARD_ELEMENTS,
    AssessmentKind,
    Basis,
    CaseStatus,
    Category,
    CircumstanceKind,
)
from safeshare.core.world import Organisation, Protocol, World
from safeshare.scenario_fields import (
    Context,
    ScenarioFileError,
    load_yaml,
    parse_date,
    parse_period,
)
from safeshare.scenario_world import (
    ELEMENTS,
    ORGS,
    SUBJECTS,
    read_elements,
    read_organisations,
    read_protocol,
    read_world,
)

__all__ = [
    "Scenario",
    "ScenarioFileError",
    "load_protocol_file",
    "load_scenario",
    "parse_date",
    "parse_period",
    "parse_protocol",
    "parse_request",
    "parse_scenario",
    "parse_world",
]

_SHARE_KEYS = [
    "kind",
    "from",
    "to",
    "purpose",
    "basis",
    "subjects",
    "select",
    "data_elements",
    "label",
    "contact_method",
    "routine",
    "circumstance",
    "risk_assessment",
    "alternative_available",
]


@dataclass(frozen=True)
class Scenario:
    """One scenario file: its world, its request and (for tests) what the Note expects."""

    id: str
    title: str
    world: World
    request: Request
    expect: dict[str, Any] | None
    source: str
    notices: tuple[str, ...] = field(default=(), compare=False)


def load_scenario(path: str | Path) -> Scenario:
    """Reads and checks one scenario file."""
    return parse_scenario(load_yaml(path), str(path))


def parse_scenario(data: object, source: str) -> Scenario:
    """A scenario from already-parsed YAML. Top-level keys other than ``world`` and
    ``request`` (``id``, ``title``, ``source``, ``expect``, ...) are carried or ignored."""
    ctx = Context(source)
    top = ctx.node(data, "")
    world = read_world(ctx, top.raw("world"))
    request = _request(ctx, top.raw("request"), world)
    expect = top.data.get("expect")
    if expect is not None and not isinstance(expect, dict):
        top.fail("expect", "a mapping", expect)
    ident = top.data.get("id")
    title = top.data.get("title")
    return Scenario(
        id=str(ident) if ident is not None else Path(source).stem,
        title=str(title) if title is not None else "",
        world=world,
        request=request,
        expect=expect,
        source=source,
        notices=tuple(ctx.notices),
    )


def parse_world(data: object, source: str) -> World:
    return read_world(Context(source), data)


def parse_request(data: object, world: World, source: str) -> Request:
    return _request(Context(source), data, world)


def parse_protocol(
    data: object,
    source: str,
    field: str = "world.protocol",
    *,
    organisations: Collection[str] | None = None,
    elements: Mapping[str, Category] | None = None,
) -> Protocol:
    """A protocol block. Parties are checked against ``organisations`` when given; data
    elements against ``elements`` (default: the standard catalogue)."""
    return read_protocol(Context(source), data, field, organisations, elements or STANDARD_ELEMENTS)


def load_protocol_file(path: str | Path) -> tuple[Protocol, dict[str, Organisation] | None]:
    """A YAML file with a ``protocol:`` block and, optionally, ``organisations:`` (and
    ``data_elements:``) beside it. A whole scenario file is read through its ``world``."""
    source = str(path)
    ctx = Context(source)
    top = ctx.node(load_yaml(path), "")
    prefix = ""
    if not top.has("protocol") and isinstance(top.data.get("world"), Mapping):
        top, prefix = ctx.node(top.data["world"], "world"), "world."
    if not top.has("protocol"):
        top.fail("protocol", "a protocol block (this file is not a protocol)", None)
    organisations: dict[str, Organisation] | None = None
    if top.data.get("organisations") is not None:
        organisations = {o.id: o for o in read_organisations(ctx, top)}
    elements = read_elements(ctx, top)
    protocol = read_protocol(
        ctx,
        top.data["protocol"],
        prefix + "protocol",
        None if organisations is None else organisations.keys(),
        elements,
    )
    return protocol, organisations


# --- the request ------------------------------------------------------------------------


def _request(ctx: Context, data: object, world: World) -> Request:
    node = ctx.node(data, "request")
    kind = node.string("kind")
    elements = world.elements
    if kind == "subject-access":
        node.check_keys(("kind", "requester", "records"))
        return SubjectAccessRequest(
            requester=node.ref("requester", world.subjects.keys(), SUBJECTS),
            records=tuple(
                node.refs(
                    "records", world.records.keys(), "a record id in world.records", required=True
                )
            ),
        )
    if kind == "staff-access":
        node.check_keys(("kind", "actor", "case", "data_elements", "need"))
        return StaffAccessRequest(
            actor=node.ref("actor", world.staff.keys(), "a staff id declared in world.staff"),
            case=node.ref("case", world.cases.keys(), "a case id declared in world.cases"),
            data_elements=tuple(node.refs("data_elements", elements, ELEMENTS, required=True)),
            need=node.optional_string("need"),
        )
    if kind != "share":
        node.fail("kind", "one of share, subject-access, staff-access", kind)
    node.check_keys(_SHARE_KEYS)
    orgs = world.organisations.keys()
    has_subjects, has_select = node.has("subjects"), node.has("select")
    if has_subjects == has_select:
        got = "both" if has_subjects else "neither"
        node.fail("subjects", "either subjects (named ids) or select (a blanket selection)", got)
    select = None
    if has_select:
        s = ctx.node(
            node.data["select"], node.at("select"), known=("categories", "owner", "status")
        )
        select = Selection(
            categories=frozenset(s.strings("categories")),
            owner=s.ref("owner", orgs, ORGS) if s.data.get("owner") is not None else None,
            status=s.optional_choice("status", CaseStatus),
        )
    circumstance = None
    if node.data.get("circumstance") is not None:
        c = ctx.node(
            node.data["circumstance"],
            node.at("circumstance"),
            known=("kind", "immediate", "detail", "individuals_named"),
        )
        circumstance = Circumstance(
            kind=c.choice("kind", CircumstanceKind),
            immediate=c.boolean("immediate", False),
            detail=c.string("detail", ""),
            individuals_named=c.boolean("individuals_named", False),
        )
    risk = None
    if node.data.get("risk_assessment") is not None:
        risks = [a.id for a in world.assessments.values() if a.kind is AssessmentKind.RISK]
        risk = node.ref(
            "risk_assessment", risks, "the id of a risk assessment in world.assessments"
        )
    return ShareRequest(
        sender=node.ref("from", orgs, ORGS),
        recipient=node.ref("to", orgs, ORGS),
        purpose=node.string("purpose"),
        basis=node.choice("basis", Basis),
        data_elements=tuple(node.refs("data_elements", elements, ELEMENTS, required=True)),
        subjects=tuple(node.refs("subjects", world.subjects.keys(), SUBJECTS, required=True))
        if has_subjects
        else (),
        select=select,
        label=node.string("label", ""),
        contact_method=node.string("contact_method", ""),
        routine=node.boolean("routine", False),
        circumstance=circumstance,
        risk_assessment=risk,
        alternative_available=node.boolean("alternative_available", False),
    )
