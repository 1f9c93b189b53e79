"""The world block of a scenario file (organisations, protocol, subjects, cases, consents,
assessments, staff, records) read into a core :class:`~safeshare.core.world.World`.

Every reference is checked against what the file declares; see :mod:`safeshare.scenario`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date

from safeshare.core.vocabulary import (
    STANDARD_ELEMENTS,
    AssessmentKind,
    BenefitKind,
    BestInterestsOutcome,
    CaseStatus,
    Category,
    ConsentDecision,
    ConsentKind,
    ConsentMethod,
    ConsentStage,
    DPAssessment,
    Duty,
    GeneralPurpose,
    GivenBy,
    OrgKind,
)
from safeshare.core.world import (
    Assessment,
    Caregiver,
    Case,
    ConsentRecord,
    Organisation,
    Protocol,
    Purpose,
    Record,
    Staff,
    Subject,
    World,
)
from safeshare.scenario_fields import Context, Node, unique_ids

ORGS = "an organisation id declared in world.organisations"
SUBJECTS = "a subject id declared in world.subjects"
ELEMENTS = "a standard data element or one declared in world.data_elements"

_WORLD_KEYS = [
    "today",
    "organisations",
    "data_elements",
    "protocol",
    "subjects",
    "cases",
    "consents",
    "assessments",
    "staff",
    "records",
]
_ORG_KEYS = ("id", "kind", "dp_assessment", "anonymity_only", "refoulement_risk", "name")
_PROTOCOL_KEYS = ("id", "endorsed", "consent_review", "purposes", "endorsed_by")
_PURPOSE_KEYS = [
    "id",
    "general",
    "benefit",
    "benefit_kind",
    "services",
    "from",
    "to",
    "data_elements",
    "retention",
    "access_roles",
    "contact_methods",
    "feedback",
    "explanation",
    "label",
]
_SUBJECT_KEYS = [
    "id",
    "age",
    "born",
    "categories",
    "reachable",
    "can_consent",
    "caregiver",
    "unaccompanied",
]
_CONSENT_KEYS = [
    "id",
    "subject",
    "kind",
    "given_by",
    "decision",
    "purposes",
    "recipients",
    "data_elements",
    "stage",
    "method",
    "date",
]
_ASSESSMENT_KEYS = [
    "id",
    "kind",
    "subject",
    "outcome",
    "benefits_outweigh_risks",
    "recipient_safe",
    "date",
]


def read_organisations(ctx: Context, top: Node) -> list[Organisation]:
    nodes = ctx.items(top.raw("organisations"), top.at("organisations"), _ORG_KEYS)
    unique_ids(ctx, nodes, "organisation")
    return [
        Organisation(
            id=n.string("id"),
            kind=n.choice("kind", OrgKind),
            dp_assessment=n.choice("dp_assessment", DPAssessment, DPAssessment.NONE),
            anonymity_only=n.boolean("anonymity_only", False),
            refoulement_risk=n.boolean("refoulement_risk", False),
            name=n.string("name", ""),
        )
        for n in nodes
    ]


def read_elements(ctx: Context, top: Node) -> dict[str, Category]:
    """The standard catalogue plus the file's own elements. A file may not re-categorise a
    standard element (that would let ``incident_description`` pass as non-identifying)."""
    nodes = ctx.items(top.data.get("data_elements"), top.at("data_elements"), ("id", "category"))
    unique_ids(ctx, nodes, "data element")
    elements = dict(STANDARD_ELEMENTS)
    for n in nodes:
        ident = n.string("id")
        if ident in STANDARD_ELEMENTS:
            n.fail("id", "an element not in the standard catalogue (it has its category)", ident)
        elements[ident] = n.choice("category", Category)
    return elements


def read_protocol(
    ctx: Context,
    data: object,
    path: str,
    organisations: Collection[str] | None,
    elements: Mapping[str, Category],
) -> Protocol:
    node = ctx.node(data, path, known=_PROTOCOL_KEYS)
    # Where the parties and extra elements are declared: beside the protocol block.
    beside = path.rpartition(".")[0]
    in_file = f"{beside}." if beside else ""
    orgs_what = f"an organisation id declared in {in_file}organisations"
    elements_what = f"a standard data element or one declared in {in_file}data_elements"
    nodes = ctx.items(node.data.get("purposes"), node.at("purposes"), _PURPOSE_KEYS)
    unique_ids(ctx, nodes, "purpose")

    def parties(n: Node, key: str) -> frozenset[str]:
        if organisations is None:
            return frozenset(n.strings(key))
        return frozenset(n.refs(key, organisations, orgs_what))

    purposes = tuple(
        Purpose(
            id=n.string("id"),
            general=n.choice("general", GeneralPurpose),
            benefit=n.string("benefit", ""),
            benefit_kind=n.choice("benefit_kind", BenefitKind, BenefitKind.DIRECT),
            services=tuple(n.strings("services")),
            senders=parties(n, "from"),
            recipients=parties(n, "to"),
            data_elements=tuple(n.refs("data_elements", elements, elements_what)),
            retention=n.period("retention"),
            access_roles=tuple(n.strings("access_roles")),
            contact_methods=tuple(n.strings("contact_methods")),
            feedback=tuple(n.refs("feedback", elements, elements_what)),
            explanation=n.string("explanation", ""),
            label=n.string("label", ""),
        )
        for n in nodes
    )
    endorsed_by = (
        node.strings("endorsed_by")
        if organisations is None
        else node.refs("endorsed_by", organisations, orgs_what)
    )
    return Protocol(
        id=node.string("id"),
        endorsed=node.boolean("endorsed", False),
        consent_review=node.period("consent_review"),
        purposes=purposes,
        endorsed_by=tuple(endorsed_by),
    )


def read_world(ctx: Context, data: object) -> World:
    top = ctx.node(data, "world", known=_WORLD_KEYS)
    today = top.day("today")
    orgs = read_organisations(ctx, top)
    org_ids = {o.id for o in orgs}
    elements = read_elements(ctx, top)
    protocol = read_protocol(ctx, top.raw("protocol"), "world.protocol", org_ids, elements)
    purpose_ids = {p.id for p in protocol.purposes}

    subject_nodes = ctx.items(top.data.get("subjects"), "world.subjects", _SUBJECT_KEYS)
    subject_ids = set(unique_ids(ctx, subject_nodes, "subject"))
    subjects = [_subject(n, today) for n in subject_nodes]

    case_keys = ("id", "subject", "owner", "status", "closed_on")
    case_nodes = ctx.items(top.data.get("cases"), "world.cases", case_keys)
    case_ids = set(unique_ids(ctx, case_nodes, "case"))
    cases = []
    for n in case_nodes:
        status = n.choice("status", CaseStatus, CaseStatus.OPEN)
        if n.data.get("closed_on") is not None and status is not CaseStatus.CLOSED:
            n.fail(
                "closed_on", "no closing date for a case whose status is open", n.raw("closed_on")
            )
        cases.append(
            Case(
                id=n.string("id"),
                subject=n.ref("subject", subject_ids, SUBJECTS),
                owner=n.ref("owner", org_ids, ORGS),
                status=status,
                closed_on=n.optional_past_date("closed_on", today),
            )
        )

    consent_nodes = ctx.items(top.data.get("consents"), "world.consents", _CONSENT_KEYS)
    consents = []
    for n in consent_nodes:
        recipients = n.refs("recipients", org_ids, ORGS) if n.has("recipients") else None
        consent_elements = (
            n.refs("data_elements", elements, ELEMENTS) if n.has("data_elements") else None
        )
        consents.append(
            ConsentRecord(
                subject=n.ref("subject", subject_ids, SUBJECTS),
                kind=n.choice("kind", ConsentKind),
                given_by=n.choice("given_by", GivenBy),
                decision=n.choice("decision", ConsentDecision),
                purposes=frozenset(
                    n.refs("purposes", purpose_ids, "a purpose id of world.protocol", required=True)
                ),
                date=n.past_date("date", today),
                recipients=None if recipients is None else frozenset(recipients),
                data_elements=None if consent_elements is None else frozenset(consent_elements),
                stage=n.optional_choice("stage", ConsentStage),
                method=n.optional_choice("method", ConsentMethod),
                id=n.string("id", ""),
            )
        )

    assessment_nodes = ctx.items(top.data.get("assessments"), "world.assessments", _ASSESSMENT_KEYS)
    unique_ids(ctx, assessment_nodes, "assessment")
    assessments = [_assessment(n, subject_ids, today) for n in assessment_nodes]

    staff_keys = ("id", "org", "role", "duty", "cases")
    staff_nodes = ctx.items(top.data.get("staff"), "world.staff", staff_keys)
    unique_ids(ctx, staff_nodes, "staff")
    staff = [
        Staff(
            id=n.string("id"),
            org=n.ref("org", org_ids, ORGS),
            role=n.string("role", ""),
            duty=n.choice("duty", Duty, Duty.CASE_MANAGEMENT),
            cases=frozenset(n.refs("cases", case_ids, "a case id declared in world.cases")),
        )
        for n in staff_nodes
    ]

    record_nodes = ctx.items(
        top.data.get("records"), "world.records", ("id", "subject", "category")
    )
    unique_ids(ctx, record_nodes, "record")
    records = [
        Record(
            id=n.string("id"),
            subject=n.ref("subject", subject_ids, SUBJECTS),
            category=n.string("category", ""),
        )
        for n in record_nodes
    ]
    return World.build(
        today=today,
        protocol=protocol,
        organisations=orgs,
        subjects=subjects,
        cases=cases,
        consents=consents,
        assessments=assessments,
        staff=staff,
        records=records,
        extra_elements={k: v for k, v in elements.items() if k not in STANDARD_ELEMENTS},
    )


def _subject(n: Node, today: date) -> Subject:
    """A person has an age or a birth date, exactly one: a person of unknown age could be a
    child, and must not be decided on as an adult."""
    if n.has("age") == n.has("born"):
        got = "both" if n.has("age") else "neither"
        n.fail("age", "either age (in years) or born (a date), exactly one", got)
    caregiver = None
    if n.data.get("caregiver") is not None:
        c = n.ctx.node(n.data["caregiver"], n.at("caregiver"))
        c.check_keys(("reachable", "involve_in_best_interests"))
        caregiver = Caregiver(
            reachable=c.boolean("reachable", True),
            involve_in_best_interests=c.boolean("involve_in_best_interests", True),
        )
    return Subject(
        id=n.string("id"),
        age=n.whole_number("age", "a whole number of years (0 to 130)", 0, 130)
        if n.has("age")
        else None,
        born=n.past_date("born", today) if n.has("born") else None,
        categories=frozenset(n.strings("categories")),
        reachable=n.boolean("reachable", True),
        can_consent=n.boolean("can_consent", True),
        caregiver=caregiver,
        unaccompanied=n.boolean("unaccompanied", False),
    )


def _assessment(n: Node, subject_ids: Collection[str], today: date) -> Assessment:
    kind = n.choice("kind", AssessmentKind)
    if kind is AssessmentKind.BEST_INTERESTS:
        for key in ("benefits_outweigh_risks", "recipient_safe"):
            if n.has(key):
                n.fail(key, "no risk-assessment field on a best-interests assessment", key)
        return Assessment(
            id=n.string("id"),
            kind=kind,
            date=n.optional_past_date("date", today),
            subject=n.ref("subject", subject_ids, SUBJECTS),
            outcome=n.choice("outcome", BestInterestsOutcome),
        )
    for key in ("subject", "outcome"):
        if n.has(key):
            n.fail(key, "no best-interests field on a risk assessment", key)
    return Assessment(
        id=n.string("id"),
        kind=kind,
        date=n.optional_past_date("date", today),
        benefits_outweigh_risks=n.optional_boolean("benefits_outweigh_risks"),
        recipient_safe=n.optional_boolean("recipient_safe"),
    )
