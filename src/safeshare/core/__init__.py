"""The decision core: the Technical Note as code. Pure: no I/O, no database, no web."""

from safeshare.core.decision import Condition, Decision, Outcome, Reason, SubjectDecision
from safeshare.core.engine import decide
from safeshare.core.protocol_check import Finding, check_protocol
from safeshare.core.request import (
    Circumstance,
    Request,
    Selection,
    ShareRequest,
    StaffAccessRequest,
    SubjectAccessRequest,
)
from safeshare.core.world import World

__all__ = [
    "Circumstance",
    "Condition",
    "Decision",
    "Finding",
    "Outcome",
    "Reason",
    "Request",
    "Selection",
    "ShareRequest",
    "StaffAccessRequest",
    "SubjectAccessRequest",
    "SubjectDecision",
    "World",
    "check_protocol",
    "decide",
]
