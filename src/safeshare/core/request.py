"""Requests the engine decides: a share, a subject's access to her records, a staff member's
access to a case. A request states what is asked; the world says whether it may be done."""

from __future__ import annotations

from dataclasses import dataclass

from safeshare.core.vocabulary import Basis, CircumstanceKind


@dataclass(frozen=True, slots=True)
class Circumstance:
    """An exceptional circumstance claimed where consent is not the basis
    (Cross-cutting issues > Exceptional Circumstances)."""

    kind: CircumstanceKind
    immediate: bool = False
    detail: str = ""
    individuals_named: bool = False


@dataclass(frozen=True, slots=True)
class Selection:
    """A blanket selection of subjects instead of named individuals."""

    categories: frozenset[str] = frozenset()
    owner: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class ShareRequest:
    sender: str
    recipient: str
    purpose: str
    basis: Basis
    data_elements: tuple[str, ...]
    subjects: tuple[str, ...] = ()
    select: Selection | None = None
    label: str = ""
    contact_method: str = ""
    routine: bool = False
    circumstance: Circumstance | None = None
    risk_assessment: str | None = None
    alternative_available: bool = False


@dataclass(frozen=True, slots=True)
class SubjectAccessRequest:
    requester: str
    records: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StaffAccessRequest:
    actor: str
    case: str
    data_elements: tuple[str, ...]
    need: str | None = None


Request = ShareRequest | SubjectAccessRequest | StaffAccessRequest
