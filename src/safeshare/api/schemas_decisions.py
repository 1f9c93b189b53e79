"""Request and response models of a decision on sharing (Pydantic 2): the share to evaluate
(recipient, purpose, legal basis, subjects or a selection, data elements, the circumstance of
an exceptional share) and the engine's decision with its reasons and conditions, overall and
per subject. The shared types (ids, elements, :class:`Strict`) are :mod:`safeshare.api.schemas`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from safeshare.api.schemas import NO_CONTROL, Element, Id, Strict
from safeshare.core.vocabulary import Basis, CaseStatus, CircumstanceKind


class SelectionIn(Strict):
    categories: list[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,63}$")]] = Field(
        default_factory=list, max_length=20
    )
    owner: Id | None = None
    status: CaseStatus | None = None


class CircumstanceIn(Strict):
    kind: CircumstanceKind
    immediate: bool = False
    individuals_named: bool = False


class ShareRequestIn(Strict):
    """A share to evaluate: nothing is shared, the engine only decides (and the decision is
    recorded)."""

    to: Id = Field(examples=["ngo-a"])
    purpose: Id = Field(examples=["gbv-legal-referral"])
    basis: Basis = Basis.CONSENT
    subjects: list[Id] = Field(default_factory=list, max_length=200, examples=[["s-001"]])
    select: SelectionIn | None = None
    data_elements: list[Element] = Field(
        min_length=1, max_length=100, examples=[["name", "phone", "service_needed"]]
    )
    contact_method: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z-]{0,31}$")] | None = (
        Field(default=None, examples=["phone"])
    )
    routine: bool = False
    circumstance: CircumstanceIn | None = None
    risk_assessment: Id | None = None
    alternative_available: bool = False
    label: Annotated[str, StringConstraints(max_length=200, pattern=NO_CONTROL)] | None = Field(
        default=None,
        description="The title the recipient would see (checked for stigmatising words; "
        "never stored).",
        examples=["Referral for legal counselling"],
    )


class ReasonOut(BaseModel):
    code: str = Field(examples=["consent-missing"])
    message: str
    section: str
    effect: Literal["allow", "allow-with-conditions", "escalate", "deny"]


class ConditionOut(BaseModel):
    code: str = Field(examples=["drop-elements"])
    message: str
    section: str
    elements: list[str] = Field(default_factory=list)
    subjects: list[str] = Field(default_factory=list)
    records: list[str] = Field(default_factory=list)


class ShareOut(BaseModel):
    subjects: list[str]
    data_elements: list[str]


class SubjectDecisionOut(BaseModel):
    id: str
    decision: Literal["allow", "allow-with-conditions", "escalate", "deny"]
    reasons: list[ReasonOut]
    conditions: list[ConditionOut]
    data_elements: list[str]


class DecisionOut(BaseModel):
    decision_id: str
    protocol_version_id: str | None
    kind: str
    decision: Literal["allow", "allow-with-conditions", "escalate", "deny"]
    reasons: list[ReasonOut]
    conditions: list[ConditionOut]
    share: ShareOut
    subjects: list[SubjectDecisionOut]
