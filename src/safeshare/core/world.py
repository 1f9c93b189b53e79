"""The world a decision is made in: the operation's records, as immutable values.

A :class:`World` holds organisations, the data sharing protocol, data subjects, cases, the
consent ledger, assessments, staff and archive records, with the indexes a decision needs
built once at construction. The engine reads it; nothing in the core writes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TypeVar

from safeshare.core.vocabulary import (
    ADULT_AGE,
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


@dataclass(frozen=True, slots=True)
class Organisation:
    id: str
    kind: OrgKind
    dp_assessment: DPAssessment = DPAssessment.NONE
    anonymity_only: bool = False
    refoulement_risk: bool = False
    name: str = ""


OPEN_ENDED_PERIODS = frozenset({"duration-of-partnership", "duration-of-status", "permanent"})


@dataclass(frozen=True, slots=True)
class Period:
    """A storage or review period: an ISO 8601 duration (``P6M``, ``P1Y``, ``P2W``, ``P30D``)
    or one of the Note's open-ended words (duration-of-partnership, duration-of-status,
    permanent)."""

    text: str
    years: int = 0
    months: int = 0
    days: int = 0

    @property
    def open_ended(self) -> bool:
        return self.text in OPEN_ENDED_PERIODS

    def end(self, start: date) -> date | None:
        """The day the period ends when it starts on ``start``; None when open-ended."""
        if self.open_ended:
            return None
        month_index = start.month - 1 + self.months + 12 * self.years
        year, month = start.year + month_index // 12, month_index % 12 + 1
        day = min(start.day, _days_in_month(year, month))
        return date(year, month, day) + timedelta(days=self.days)


def _days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - date(year, month, 1)).days


@dataclass(frozen=True, slots=True)
class Purpose:
    """A specific purpose agreed in the protocol, following the Note's three steps
    (Cross-cutting issues > Purpose Specification): the benefit, the services, the modalities."""

    id: str
    general: GeneralPurpose
    benefit: str = ""
    benefit_kind: BenefitKind = BenefitKind.DIRECT
    services: tuple[str, ...] = ()
    senders: frozenset[str] = frozenset()
    recipients: frozenset[str] = frozenset()
    data_elements: tuple[str, ...] = ()
    retention: Period | None = None
    access_roles: tuple[str, ...] = ()
    contact_methods: tuple[str, ...] = ()
    feedback: tuple[str, ...] = ()
    explanation: str = ""
    label: str = ""
    element_set: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "element_set", frozenset(self.data_elements))


@dataclass(frozen=True, slots=True)
class Protocol:
    """The operation's data sharing protocol (SOP / PPA Annex F)."""

    id: str
    endorsed: bool = False
    consent_review: Period | None = None
    purposes: tuple[Purpose, ...] = ()
    endorsed_by: tuple[str, ...] = ()

    def purpose(self, purpose_id: str) -> Purpose | None:
        for p in self.purposes:
            if p.id == purpose_id:
                return p
        return None


@dataclass(frozen=True, slots=True)
class Caregiver:
    reachable: bool = True
    involve_in_best_interests: bool = True


@dataclass(frozen=True, slots=True)
class Subject:
    """A data subject: a person of concern whose data may be shared."""

    id: str
    age: int | None = None
    born: date | None = None
    categories: frozenset[str] = frozenset()
    reachable: bool = True
    can_consent: bool = True
    caregiver: Caregiver | None = None
    unaccompanied: bool = False

    def age_on(self, today: date) -> int | None:
        if self.born is not None:
            years = today.year - self.born.year
            if (today.month, today.day) < (self.born.month, self.born.day):
                years -= 1
            return years
        return self.age

    def is_child(self, today: date) -> bool:
        age = self.age_on(today)
        return age is not None and age < ADULT_AGE


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    subject: str
    owner: str
    status: CaseStatus = CaseStatus.OPEN
    closed_on: date | None = None


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One entry of the append-only consent ledger. Refusals and withdrawals are entries too.

    ``recipients`` and ``data_elements`` are ``None`` when the entry takes the purpose's own.
    ``seq`` is the ledger position: among entries of one date, the later one wins.
    """

    subject: str
    kind: ConsentKind
    given_by: GivenBy
    decision: ConsentDecision
    purposes: frozenset[str]
    date: date
    recipients: frozenset[str] | None = None
    data_elements: frozenset[str] | None = None
    stage: ConsentStage | None = None
    method: ConsentMethod | None = None
    seq: int = 0
    id: str = ""


@dataclass(frozen=True, slots=True)
class Assessment:
    id: str
    kind: AssessmentKind
    date: date | None = None
    subject: str | None = None
    outcome: BestInterestsOutcome | None = None
    benefits_outweigh_risks: bool | None = None
    recipient_safe: bool | None = None


@dataclass(frozen=True, slots=True)
class Staff:
    id: str
    org: str
    role: str = ""
    duty: Duty = Duty.CASE_MANAGEMENT
    cases: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Record:
    """An archive or case file record (subject access requests)."""

    id: str
    subject: str
    category: str = ""


_Identified = TypeVar("_Identified", Organisation, Subject, Case, Assessment, Staff, Record)


def _index_by_id(items: Iterable[_Identified]) -> dict[str, _Identified]:
    return {item.id: item for item in items}


@dataclass(frozen=True, slots=True)
class World:
    """Everything a decision may read. Build it once; indexes are computed at construction."""

    today: date
    protocol: Protocol
    organisations: Mapping[str, Organisation]
    subjects: Mapping[str, Subject] = field(default_factory=dict)
    cases: Mapping[str, Case] = field(default_factory=dict)
    consents_by_subject: Mapping[str, tuple[ConsentRecord, ...]] = field(default_factory=dict)
    assessments: Mapping[str, Assessment] = field(default_factory=dict)
    staff: Mapping[str, Staff] = field(default_factory=dict)
    records: Mapping[str, Record] = field(default_factory=dict)
    elements: Mapping[str, Category] = field(default_factory=lambda: dict(STANDARD_ELEMENTS))
    cases_by_subject: Mapping[str, tuple[Case, ...]] = field(default_factory=dict)
    best_interests_by_subject: Mapping[str, tuple[Assessment, ...]] = field(default_factory=dict)
    purposes: Mapping[str, Purpose] = field(default_factory=dict)
    cases_by_owner: Mapping[str, tuple[Case, ...]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        today: date,
        protocol: Protocol,
        organisations: Iterable[Organisation],
        subjects: Iterable[Subject] = (),
        cases: Iterable[Case] = (),
        consents: Iterable[ConsentRecord] = (),
        assessments: Iterable[Assessment] = (),
        staff: Iterable[Staff] = (),
        records: Iterable[Record] = (),
        extra_elements: Mapping[str, Category] | None = None,
    ) -> World:
        """Builds a world and its indexes. Consents keep ledger order (oldest first)."""
        case_map = _index_by_id(cases)
        by_subject: dict[str, list[Case]] = {}
        by_owner: dict[str, list[Case]] = {}
        for case in case_map.values():
            by_subject.setdefault(case.subject, []).append(case)
            by_owner.setdefault(case.owner, []).append(case)
        ledger: dict[str, list[ConsentRecord]] = {}
        for seq, record in enumerate(consents):
            ledger.setdefault(record.subject, []).append(
                record if record.seq else replace(record, seq=seq + 1)
            )
        assessment_map = _index_by_id(assessments)
        bia: dict[str, list[Assessment]] = {}
        for a in assessment_map.values():
            if a.kind is AssessmentKind.BEST_INTERESTS and a.subject is not None:
                bia.setdefault(a.subject, []).append(a)
        elements = dict(STANDARD_ELEMENTS)
        if extra_elements:
            elements.update(extra_elements)
        return cls(
            today=today,
            protocol=protocol,
            organisations=_index_by_id(organisations),
            subjects=_index_by_id(subjects),
            cases=case_map,
            consents_by_subject={k: tuple(sorted(v, key=_ledger_order)) for k, v in ledger.items()},
            assessments=assessment_map,
            staff=_index_by_id(staff),
            records=_index_by_id(records),
            elements=elements,
            cases_by_subject={k: tuple(v) for k, v in by_subject.items()},
            best_interests_by_subject={k: tuple(v) for k, v in bia.items()},
            purposes={p.id: p for p in protocol.purposes},
            cases_by_owner={k: tuple(v) for k, v in by_owner.items()},
        )

    def consents(self, subject_id: str) -> tuple[ConsentRecord, ...]:
        """The subject's ledger entries, oldest first: by date, then by ledger position."""
        return self.consents_by_subject.get(subject_id, ())

    def category(self, element: str) -> Category | None:
        return self.elements.get(element)


def _ledger_order(record: ConsentRecord) -> tuple[date, int]:
    return (record.date, record.seq)
