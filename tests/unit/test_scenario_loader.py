"""Scenario files: every shared scenario parses, and every class of bad input is refused
with a ScenarioFileError naming the file and the field."""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from safeshare.core.request import ShareRequest, StaffAccessRequest, SubjectAccessRequest
from safeshare.core.vocabulary import Category, ConsentKind, GivenBy
from safeshare.core.world import Period
from safeshare.scenario import (
    Scenario,
    ScenarioFileError,
    load_protocol_file,
    load_scenario,
    parse_period,
    parse_protocol,
    parse_request,
    parse_scenario,
    parse_world,
)

SHARED = Path(__file__).resolve().parents[1] / "scenarios" / "shared"
SCENARIO_FILES = sorted(SHARED.glob("*.yaml"))

BASE: dict[str, Any] = {
    "id": "base",
    "title": "A valid scenario every bad-input case mutates",
    "world": {
        "today": "2026-03-01",
        "organisations": [
            {"id": "unhcr", "kind": "unhcr"},
            {"id": "ngo-a", "kind": "partner", "dp_assessment": "passed"},
        ],
        "data_elements": [{"id": "cash_score_inputs", "category": "protection-summary"}],
        "protocol": {
            "id": "op-dsp",
            "endorsed": True,
            "consent_review": "P1Y",
            "purposes": [
                {
                    "id": "legal-aid-referral",
                    "general": "immediate-referral",
                    "benefit": "Free legal counselling",
                    "benefit_kind": "direct",
                    "services": ["legal counselling"],
                    "from": ["unhcr"],
                    "to": ["ngo-a"],
                    "data_elements": ["name", "phone", "cash_score_inputs"],
                    "retention": "P6M",
                    "access_roles": ["legal-caseworker"],
                    "contact_methods": ["phone"],
                }
            ],
        },
        "subjects": [
            {"id": "s1", "age": 30, "categories": ["gbv"]},
            {"id": "s2", "born": "2012-05-01", "caregiver": {"reachable": True}},
        ],
        "cases": [
            {"id": "c1", "subject": "s1", "owner": "ngo-a", "status": "open"},
            {"id": "c2", "subject": "s2", "owner": "unhcr", "status": "closed"},
        ],
        "consents": [
            {
                "subject": "s1",
                "kind": "consent",
                "given_by": "self",
                "decision": "granted",
                "purposes": ["legal-aid-referral"],
                "recipients": ["ngo-a"],
                "data_elements": ["name", "phone"],
                "stage": "intake",
                "method": "oral-recorded",
                "date": "2026-02-20",
            },
            {
                "subject": "s1",
                "kind": "consent",
                "given_by": "self",
                "decision": "withdrawn",
                "purposes": ["legal-aid-referral"],
                "date": "2026-02-20",
            },
        ],
        "assessments": [
            {
                "id": "bia-1",
                "kind": "best-interests",
                "subject": "s2",
                "outcome": "share-in-best-interests",
                "date": "2026-02-01",
            },
            {
                "id": "risk-1",
                "kind": "risk",
                "benefits_outweigh_risks": True,
                "recipient_safe": True,
                "date": "2026-02-28",
            },
        ],
        "staff": [
            {
                "id": "u1",
                "org": "unhcr",
                "role": "officer",
                "duty": "case-management",
                "cases": ["c1"],
            }
        ],
        "records": [
            {"id": "f1", "subject": "s1", "category": "registration"},
            {"id": "f2", "subject": "s2", "category": "gbv"},
        ],
    },
    "request": {
        "kind": "share",
        "from": "unhcr",
        "to": "ngo-a",
        "purpose": "legal-aid-referral",
        "basis": "consent",
        "subjects": ["s1", "s2"],
        "data_elements": ["name", "phone"],
        "label": "Referral",
        "contact_method": "phone",
        "routine": False,
        "circumstance": {"kind": "emergency", "immediate": True, "detail": "x"},
        "risk_assessment": "risk-1",
        "alternative_available": False,
    },
    "expect": {"decision": "allow"},
}

SUBJECT_ACCESS = {"kind": "subject-access", "requester": "s1", "records": ["f1", "f2"]}
STAFF_ACCESS = {"kind": "staff-access", "actor": "u1", "case": "c1", "data_elements": ["name"]}

DELETE = object()
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def mutate(base: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """A deep copy of ``base`` with ``path`` (``world.subjects[0].age``) set or deleted."""
    data = copy.deepcopy(base)
    steps: list[str | int] = [name if name else int(index) for name, index in _STEP.findall(path)]
    target: Any = data
    for step in steps[:-1]:
        target = target[step]
    if value is DELETE:
        del target[steps[-1]]
    else:
        target[steps[-1]] = value
    return data


def with_request(request: dict[str, Any]) -> dict[str, Any]:
    return mutate(BASE, "request", request)


def refused(data: object, source: str = "case.yaml") -> ScenarioFileError:
    with pytest.raises(ScenarioFileError) as info:
        parse_scenario(data, source)
    return info.value


# --- valid files ------------------------------------------------------------------------


def test_all_24_shared_scenarios_are_present() -> None:
    assert len(SCENARIO_FILES) == 24
    assert (SHARED / "FORMAT.md").is_file()


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_shared_scenario_parses(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.id == path.stem
    assert scenario.expect is not None
    assert scenario.source == str(path)
    assert scenario.notices == ()
    assert scenario.world.protocol.id


def test_base_parses_into_core_values() -> None:
    scenario = parse_scenario(BASE, "base.yaml")
    world = scenario.world
    assert isinstance(scenario, Scenario)
    assert world.today == date(2026, 3, 1)
    assert world.category("cash_score_inputs") is Category.PROTECTION_SUMMARY
    assert world.protocol.consent_review == Period("P1Y", years=1)
    purpose = world.purposes["legal-aid-referral"]
    assert purpose.senders == frozenset({"unhcr"})
    assert purpose.retention == Period("P6M", months=6)
    assert world.subjects["s2"].born == date(2012, 5, 1)
    assert world.subjects["s2"].is_child(world.today)
    ledger = world.consents("s1")
    assert [c.seq for c in ledger] == [1, 2]
    assert ledger[0].recipients == frozenset({"ngo-a"})
    assert ledger[1].recipients is None
    assert ledger[1].data_elements is None
    assert ledger[0].kind is ConsentKind.CONSENT
    assert ledger[0].given_by is GivenBy.SELF
    assert world.best_interests_by_subject["s2"][0].id == "bia-1"
    request = scenario.request
    assert isinstance(request, ShareRequest)
    assert request.sender == "unhcr"
    assert request.subjects == ("s1", "s2")
    assert request.risk_assessment == "risk-1"
    assert request.circumstance is not None
    assert request.circumstance.immediate is True


def test_other_request_kinds_parse() -> None:
    access = parse_scenario(with_request(SUBJECT_ACCESS), "a.yaml").request
    assert access == SubjectAccessRequest(requester="s1", records=("f1", "f2"))
    staff = parse_scenario(with_request({**STAFF_ACCESS, "need": "technical-assistance"}), "b")
    assert staff.request == StaffAccessRequest(
        actor="u1", case="c1", data_elements=("name",), need="technical-assistance"
    )


def test_blanket_selection_parses() -> None:
    data = mutate(BASE, "request.subjects", DELETE)
    data = mutate(data, "request.select", {"categories": ["gbv"], "owner": "ngo-a"})
    request = parse_scenario(data, "x").request
    assert isinstance(request, ShareRequest)
    assert request.subjects == ()
    assert request.select is not None
    assert request.select.owner == "ngo-a"
    assert request.select.categories == frozenset({"gbv"})


def test_free_text_purpose_is_for_the_engine_not_an_input_error() -> None:
    data = mutate(BASE, "request.purpose", "international protection")
    request = parse_scenario(data, "x").request
    assert isinstance(request, ShareRequest)
    assert request.purpose == "international protection"


def test_unknown_top_level_keys_are_fine() -> None:
    data = mutate(BASE, "notes", "anything")
    assert parse_scenario(data, "x").notices == ()


def test_an_unknown_field_inside_the_world_is_ignored_with_a_notice() -> None:
    scenario = parse_scenario(mutate(BASE, "world.subjects[0].nickname", "A"), "x.yaml")
    assert len(scenario.notices) == 1
    assert "world.subjects[0].nickname" in scenario.notices[0]


def test_yaml_dates_and_quoted_dates_give_equal_worlds(tmp_path: Path) -> None:
    quoted = yaml.safe_dump(BASE, sort_keys=False)  # dates stay quoted strings
    plain = re.sub(r"'(\d{4}-\d{2}-\d{2})'", r"\1", quoted)
    assert plain != quoted
    (tmp_path / "q.yaml").write_text(quoted)
    (tmp_path / "p.yaml").write_text(plain)
    from_quoted = load_scenario(tmp_path / "q.yaml")
    from_plain = load_scenario(tmp_path / "p.yaml")
    assert from_quoted.world == from_plain.world
    # and from YAML parsed elsewhere, where dates arrive as date objects
    native = yaml.safe_load(plain)
    assert isinstance(native["world"]["today"], date)
    assert parse_scenario(native, "n.yaml").world == from_quoted.world


def test_parse_world_and_request_alone() -> None:
    world = parse_world(BASE["world"], "w.yaml")
    request = parse_request(BASE["request"], world, "w.yaml")
    assert request == parse_scenario(BASE, "w.yaml").request


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("P6M", Period("P6M", months=6)),
        ("P1Y", Period("P1Y", years=1)),
        ("P2W", Period("P2W", days=14)),
        ("P30D", Period("P30D", days=30)),
        ("P1Y6M", Period("P1Y6M", years=1, months=6)),
        ("duration-of-partnership", Period("duration-of-partnership")),
        ("duration-of-status", Period("duration-of-status")),
        ("permanent", Period("permanent")),
    ],
)
def test_parse_period(text: str, period: Period) -> None:
    assert parse_period(text, "f", "x.yaml") == period


@pytest.mark.parametrize("text", ["6 months", "P", "PT6H", "P0M", "p6m", "P6X", 6, None])
def test_parse_period_refuses(text: object) -> None:
    with pytest.raises(ScenarioFileError) as info:
        parse_period(text, "world.protocol.purposes[0].retention", "x.yaml")
    assert info.value.field == "world.protocol.purposes[0].retention"
    assert "ISO 8601" in info.value.expected or "zero" in info.value.expected


# --- bad input --------------------------------------------------------------------------

W = "world"
P0 = "world.protocol.purposes[0]"
MISSING = [
    "world",
    "world.today",
    "world.organisations",
    "world.protocol",
    "request",
    "request.kind",
    "request.from",
    "request.to",
    "request.purpose",
    "request.basis",
    "request.data_elements",
    "world.protocol.id",
    f"{P0}.general",
    "world.consents[0].subject",
    "world.consents[0].decision",
    "world.consents[0].date",
    "world.cases[0].owner",
    "world.organisations[0].kind",
]


@pytest.mark.parametrize("path", MISSING)
def test_missing_required_field(path: str) -> None:
    error = refused(mutate(BASE, path, DELETE))
    assert error.field == path
    assert "missing" in error.got


def test_share_needs_subjects_or_select() -> None:
    error = refused(mutate(BASE, "request.subjects", DELETE))
    assert error.field == "request.subjects"
    assert "select" in error.expected


def test_share_with_both_subjects_and_select_is_ambiguous() -> None:
    error = refused(mutate(BASE, "request.select", {"owner": "ngo-a"}))
    assert error.field == "request.subjects"


@pytest.mark.parametrize(
    ("request_data", "key", "field"),
    [
        (SUBJECT_ACCESS, "requester", "request.requester"),
        (SUBJECT_ACCESS, "records", "request.records"),
        (STAFF_ACCESS, "actor", "request.actor"),
        (STAFF_ACCESS, "case", "request.case"),
        (STAFF_ACCESS, "data_elements", "request.data_elements"),
    ],
)
def test_missing_field_per_request_kind(request_data: dict[str, Any], key: str, field: str) -> None:
    request = {k: v for k, v in request_data.items() if k != key}
    assert refused(with_request(request)).field == field


ENUMS = [
    "world.organisations[1].kind",
    "world.organisations[1].dp_assessment",
    f"{P0}.general",
    f"{P0}.benefit_kind",
    "request.basis",
    "request.kind",
    "world.consents[0].kind",
    "world.consents[0].given_by",
    "world.consents[0].decision",
    "world.consents[0].stage",
    "world.consents[0].method",
    "world.assessments[0].kind",
    "world.assessments[0].outcome",
    "world.staff[0].duty",
    "request.circumstance.kind",
    "world.cases[0].status",
    "world.data_elements[0].category",
]


@pytest.mark.parametrize("path", ENUMS)
def test_unknown_enum_value(path: str) -> None:
    error = refused(mutate(BASE, path, "no-such-value"))
    assert error.field == path
    assert error.expected.startswith("one of ")
    assert error.got == "'no-such-value'"


REFERENCES = [
    (f"{P0}.from", ["unhcr", "ngo-z"], f"{P0}.from[1]"),
    (f"{P0}.to", ["ngo-z"], f"{P0}.to[0]"),
    ("world.cases[0].owner", "ngo-z", "world.cases[0].owner"),
    ("request.from", "ngo-z", "request.from"),
    ("request.to", "ngo-z", "request.to"),
    ("world.consents[0].recipients", ["ngo-z"], "world.consents[0].recipients[0]"),
    ("world.staff[0].org", "ngo-z", "world.staff[0].org"),
    ("world.cases[0].subject", "s9", "world.cases[0].subject"),
    ("world.consents[1].subject", "s9", "world.consents[1].subject"),
    ("world.assessments[0].subject", "s9", "world.assessments[0].subject"),
    ("world.records[1].subject", "s9", "world.records[1].subject"),
    ("request.subjects", ["s1", "s9"], "request.subjects[1]"),
    (f"{P0}.data_elements", ["name", "shoe_size"], f"{P0}.data_elements[1]"),
    (f"{P0}.feedback", ["shoe_size"], f"{P0}.feedback[0]"),
    ("world.consents[0].data_elements", ["shoe_size"], "world.consents[0].data_elements[0]"),
    ("request.data_elements", ["name", "shoe_size"], "request.data_elements[1]"),
    ("world.consents[0].purposes", ["cash"], "world.consents[0].purposes[0]"),
    ("request.risk_assessment", "risk-9", "request.risk_assessment"),
    ("request.risk_assessment", "bia-1", "request.risk_assessment"),
    ("world.staff[0].cases", ["c9"], "world.staff[0].cases[0]"),
]


@pytest.mark.parametrize(("path", "value", "field"), REFERENCES)
def test_unknown_reference(path: str, value: object, field: str) -> None:
    error = refused(mutate(BASE, path, value))
    assert error.field == field
    assert "declared" in error.expected or "id" in error.expected


@pytest.mark.parametrize(
    ("request_data", "key", "value", "field"),
    [
        (SUBJECT_ACCESS, "requester", "s9", "request.requester"),
        (SUBJECT_ACCESS, "records", ["f1", "f9"], "request.records[1]"),
        (STAFF_ACCESS, "actor", "u9", "request.actor"),
        (STAFF_ACCESS, "case", "c9", "request.case"),
        (STAFF_ACCESS, "data_elements", ["shoe_size"], "request.data_elements[0]"),
    ],
)
def test_unknown_reference_per_request_kind(
    request_data: dict[str, Any], key: str, value: object, field: str
) -> None:
    assert refused(with_request({**request_data, key: value})).field == field


def test_world_elements_extend_the_catalogue_but_cannot_recategorise_it() -> None:
    data = mutate(BASE, "world.data_elements", [{"id": "incident_description", "category": "x"}])
    error = refused(data)
    assert error.field == "world.data_elements[0].id"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("world.today", "2026-13-01"),
        ("world.today", "yesterday"),
        ("world.today", "01/03/2026"),
        ("world.consents[0].date", "2026-02-30"),
        ("world.consents[0].date", "2026-03-02"),  # after world.today
        ("world.assessments[1].date", 20260228),
        ("world.subjects[1].born", "2012-5-1"),
        ("world.cases[1].closed_on", "soon"),
    ],
)
def test_bad_date(path: str, value: object) -> None:
    error = refused(mutate(BASE, path, value))
    assert error.field == path
    assert "date" in error.expected


def test_bad_date_in_yaml_text_names_the_field(tmp_path: Path) -> None:
    text = yaml.safe_dump(BASE, sort_keys=False).replace("'2026-02-20'", "2026-02-30", 1)
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ScenarioFileError) as info:
        load_scenario(tmp_path / "bad.yaml")
    assert info.value.field == "world.consents[0].date"


@pytest.mark.parametrize(
    ("path", "value"),
    [(f"{P0}.retention", "six months"), ("world.protocol.consent_review", "P1H")],
)
def test_bad_duration(path: str, value: object) -> None:
    assert refused(mutate(BASE, path, value)).field == path


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("request.subjects", "s1", "a list"),
        ("request.data_elements", "name", "a list"),
        (f"{P0}.services", "legal counselling", "a list"),
        ("request.routine", "yes", "true or false"),
        ("world.organisations[1].anonymity_only", 1, "true or false"),
        ("world.protocol.endorsed", "true", "true or false"),
        ("world.subjects[0].reachable", "no", "true or false"),
        ("world.subjects[0].age", -1, "whole number of years"),
        ("world.subjects[0].age", "abc", "whole number of years"),
        ("world.subjects[0].age", 30.5, "whole number of years"),
        ("world.subjects[0].age", True, "whole number of years"),
        ("world.organisations", {"id": "unhcr"}, "a list"),
        ("world.subjects[0]", "s1", "a mapping"),
        ("request", ["share"], "a mapping"),
        ("world.protocol", "op-dsp", "a mapping"),
    ],
)
def test_wrong_type(path: str, value: object, expected: str) -> None:
    error = refused(mutate(BASE, path, value))
    assert error.field == path
    assert expected in error.expected


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("world.organisations", "world.organisations[1].id"),
        ("world.subjects", "world.subjects[1].id"),
        ("world.cases", "world.cases[1].id"),
        ("world.protocol.purposes", f"{P0.replace('[0]', '[1]')}.id"),
        ("world.assessments", "world.assessments[1].id"),
        ("world.records", "world.records[1].id"),
    ],
)
def test_duplicate_ids(path: str, field: str) -> None:
    entries = copy.deepcopy(BASE)
    target: Any = entries
    for step in path.split("."):
        target = target[step]
    target[1:] = [copy.deepcopy(target[0])]
    assert refused(entries).field == field


@pytest.mark.parametrize(
    ("subject", "got"),
    [({"id": "s1"}, "'neither'"), ({"id": "s1", "age": 3, "born": "2023-01-01"}, "'both'")],
)
def test_a_subject_has_age_or_born_exactly_one(subject: dict[str, Any], got: str) -> None:
    error = refused(mutate(BASE, "world.subjects[0]", subject))
    assert error.field == "world.subjects[0].age"
    assert error.got == got


def test_a_misspelt_field_is_refused_not_ignored() -> None:
    data = mutate(BASE, "world.organisations[1].refoulment_risk", True)
    error = refused(data)
    assert error.field == "world.organisations[1].refoulment_risk"
    assert "refoulement_risk" in error.expected


def test_error_names_file_field_expected_and_got() -> None:
    error = refused(mutate(BASE, "world.subjects[0].age", "abc"), "p01.yaml")
    assert (error.file, error.field, error.got) == ("p01.yaml", "world.subjects[0].age", "'abc'")
    assert str(error).startswith(
        "p01.yaml: world.subjects[0].age: expected a whole number of years"
    )
    assert str(error).endswith(", got 'abc'")
    assert isinstance(error, ValueError)


@pytest.mark.parametrize("data", [None, "text", [1, 2], 42])
def test_not_a_mapping(data: object) -> None:
    error = refused(data)
    assert "mapping" in error.expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("world: [unclosed\n", "well-formed YAML"),
        ("world: {today: 2026-03-01}\nworld: {}\n", "well-formed YAML"),  # key given twice
        ("\tworld: 1\n", "well-formed YAML"),
        ("", "a mapping"),
    ],
)
def test_not_yaml(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioFileError) as info:
        load_scenario(path)
    assert info.value.file == str(path)
    assert expected in info.value.expected


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioFileError) as info:
        load_scenario(tmp_path / "nope.yaml")
    assert "no such file" in str(info.value)


# --- protocol files ---------------------------------------------------------------------


def test_protocol_file_with_organisations(tmp_path: Path) -> None:
    data = {"organisations": BASE["world"]["organisations"], "protocol": BASE["world"]["protocol"]}
    data = mutate(data, "protocol.purposes[0].data_elements", ["name", "phone"])
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(data))
    protocol, organisations = load_protocol_file(tmp_path / "p.yaml")
    assert protocol.id == "op-dsp"
    assert organisations is not None
    assert set(organisations) == {"unhcr", "ngo-a"}


def test_protocol_file_checks_parties_only_when_organisations_are_given(tmp_path: Path) -> None:
    block = mutate(BASE["world"]["protocol"], "purposes[0].to", ["ngo-z"])
    block = mutate(block, "purposes[0].data_elements", ["name"])
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({"protocol": block}))
    protocol, organisations = load_protocol_file(tmp_path / "p.yaml")
    assert organisations is None
    assert protocol.purposes[0].recipients == frozenset({"ngo-z"})
    both = {"protocol": block, "organisations": BASE["world"]["organisations"]}
    (tmp_path / "q.yaml").write_text(yaml.safe_dump(both))
    with pytest.raises(ScenarioFileError) as info:
        load_protocol_file(tmp_path / "q.yaml")
    assert info.value.field == "protocol.purposes[0].to[0]"


def test_a_scenario_file_is_read_as_a_protocol_through_its_world() -> None:
    protocol, organisations = load_protocol_file(SCENARIO_FILES[0])
    assert protocol == load_scenario(SCENARIO_FILES[0]).world.protocol
    assert organisations is not None


def test_not_a_protocol(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("title: nothing here\n")
    with pytest.raises(ScenarioFileError) as info:
        load_protocol_file(tmp_path / "x.yaml")
    assert info.value.field == "protocol"


def test_parse_protocol_alone() -> None:
    protocol = parse_protocol(
        mutate(BASE["world"]["protocol"], "purposes[0].data_elements", ["name"]), "p.yaml"
    )
    assert protocol.purposes[0].data_elements == ("name",)
    with pytest.raises(ScenarioFileError) as info:
        parse_protocol(BASE["world"]["protocol"], "p.yaml", field="protocol")
    assert info.value.field == "protocol.purposes[0].data_elements[2]"  # cash_score_inputs


def test_yaml_anchors_and_merge_keys_are_read(tmp_path: Path) -> None:
    text = yaml.safe_dump(BASE, sort_keys=False)
    plain = "- id: ngo-a\n    kind: partner\n    dp_assessment: passed\n"
    anchored = (
        "- &partner\n    id: ngo-a\n    kind: partner\n    dp_assessment: passed\n"
        "  - <<: *partner\n    id: ngo-b\n"
    )
    assert plain in text
    path = tmp_path / "anchors.yaml"
    path.write_text(text.replace(plain, anchored, 1))
    world = load_scenario(path).world
    assert world.organisations["ngo-b"].dp_assessment == world.organisations["ngo-a"].dp_assessment
