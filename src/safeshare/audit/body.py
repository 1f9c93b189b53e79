"""Audit event bodies and their canonical encoding (version 1).

**What goes in an event.** Ids and codes only: who (an actor id), what (an action code), on
what (an object type and id), the reason codes, and scalar details (ids, counts, flags,
codes). **Never personal data in clear** — no names, dates of birth, case narratives or free
text about a person: the log is kept for years, copied to auditors and cannot be edited or
erased without breaking the chain. The encoder refuses non-scalar detail values; keeping
personal data out of strings is the caller's duty.

**Canonical encoding** (version 1): compact JSON (``,`` and ``:`` separators, no spaces),
keys sorted, ASCII only (``\\uXXXX`` escapes), UTF-8, with the keys ``action``, ``actor``,
``at``, ``codes``, ``details``, ``object_id``, ``object_type``, ``seq`` and ``v`` (= 1). As
the keys are sorted, a body always ends with ``,"seq":<seq>,"v":1}``, which lets the
verifier check the body's own seq without parsing JSON. Integers are limited to
±(2**53 - 1) so that any JSON implementation reads them exactly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = [
    "BODY_VERSION",
    "AuditBodyError",
    "AuditEventBody",
    "Scalar",
    "canonical_bytes",
    "canonical_prefix",
    "parse_body",
    "utc_timestamp",
]

BODY_VERSION = 1
_MAX_JSON_INT = 2**53 - 1
_BODY_KEYS = frozenset(
    ("action", "actor", "at", "codes", "details", "object_id", "object_type", "seq", "v")
)
_SEQ_TAIL = b',"seq":%d,"v":1}'

Scalar = str | int | bool | None


class AuditBodyError(ValueError):
    """An event body cannot be encoded (or decoded): a non-scalar detail, a bad timestamp..."""


@dataclass(frozen=True, slots=True)
class AuditEventBody:
    """What happened, in ids and codes only — never personal data in clear.

    ``at`` is an ISO 8601 timestamp in UTC (see :func:`utc_timestamp`); ``details`` maps
    names to scalars (``str``, ``int``, ``bool`` or ``None``)."""

    seq: int
    at: str
    actor: str
    action: str
    object_type: str
    object_id: str
    codes: tuple[str, ...] = ()
    details: Mapping[str, Scalar] = field(default_factory=dict)


def utc_timestamp(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC."""
    moment = datetime.now(UTC) if moment is None else moment
    if moment.tzinfo is None:
        raise AuditBodyError("the timestamp must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_utc(at: object, what: str) -> str:
    if not isinstance(at, str):
        raise AuditBodyError(f"{what} must be an ISO 8601 string, not {type(at).__name__}")
    try:
        parsed = datetime.fromisoformat(at)
    except ValueError:
        raise AuditBodyError(f"{what} is not an ISO 8601 timestamp: {at!r}") from None
    offset = parsed.utcoffset()
    if offset is None or offset.total_seconds() != 0:
        raise AuditBodyError(f"{what} must be in UTC (end in 'Z' or '+00:00'): {at!r}")
    return at


def _check_int(value: object, what: str, *, low: int, high: int) -> int:
    if type(value) is not int:  # bool is an int subclass: refused here on purpose
        raise AuditBodyError(f"{what} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise AuditBodyError(f"{what} must be between {low} and {high}")
    return value


def _check_str(value: object, what: str, *, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise AuditBodyError(f"{what} must be a str, not {type(value).__name__}")
    if not value and not empty:
        raise AuditBodyError(f"{what} must not be empty")
    return value


def _check_scalar(name: str, value: object) -> Scalar:
    if value is None or isinstance(value, bool | str):
        return value
    if type(value) is int:
        return _check_int(value, f"detail {name!r}", low=-_MAX_JSON_INT, high=_MAX_JSON_INT)
    raise AuditBodyError(
        f"detail {name!r} must be a str, int, bool or None, not {type(value).__name__} "
        "(audit details hold ids, codes, counts and flags only)"
    )


def _body_dict(body: AuditEventBody) -> dict[str, object]:
    if not isinstance(body, AuditEventBody):
        raise TypeError(f"expected an AuditEventBody, not {type(body).__name__}")
    codes = body.codes
    if isinstance(codes, str) or not isinstance(codes, tuple | list):
        raise AuditBodyError("codes must be a tuple of str")
    details = body.details
    if not isinstance(details, Mapping):
        raise AuditBodyError("details must be a mapping of str to scalars")
    checked: dict[str, Scalar] = {}
    for name, value in details.items():
        if not isinstance(name, str):
            raise AuditBodyError(f"detail names must be str, not {type(name).__name__}")
        checked[name] = _check_scalar(name, value)
    return {
        "v": BODY_VERSION,
        "seq": _check_int(body.seq, "seq", low=1, high=_MAX_JSON_INT),
        "at": _check_utc(body.at, "at"),
        "actor": _check_str(body.actor, "actor"),
        "action": _check_str(body.action, "action"),
        "object_type": _check_str(body.object_type, "object_type"),
        "object_id": _check_str(body.object_id, "object_id", empty=True),
        "codes": [_check_str(c, "each code") for c in codes],
        "details": checked,
    }


def canonical_bytes(body: AuditEventBody) -> bytes:
    """The canonical encoding of ``body`` (see the module doc): deterministic, ASCII JSON.

    Raises :class:`AuditBodyError` for a non-scalar detail value, a non-UTC timestamp, a
    seq below 1, and the like."""
    return json.dumps(
        _body_dict(body),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=False,
    ).encode("ascii")


def canonical_prefix(body: AuditEventBody) -> bytes:
    """The canonical encoding of ``body`` up to its seq, which is the same for every seq:
    ``canonical_bytes(body) == canonical_prefix(body) + b',"seq":%d,"v":1}' % body.seq``
    (the keys are sorted, and ``seq`` and ``v`` come last). A store that numbers the event
    itself (under the chain head's lock) completes the body and hashes it there."""
    encoded = canonical_bytes(body)
    suffix = b',"seq":%d,"v":%d}' % (body.seq, BODY_VERSION)
    if not encoded.endswith(suffix):  # cannot be while the keys are these (a test checks it)
        raise AuditBodyError("the body's encoding does not end with its seq and version")
    return encoded[: -len(suffix)]


def parse_body(body_bytes: bytes) -> AuditEventBody:
    """Decode ``body_bytes`` into an :class:`AuditEventBody`, refusing anything that is not
    exactly the canonical encoding of what it decodes to."""
    try:
        data = json.loads(body_bytes)
    except (ValueError, UnicodeDecodeError):
        raise AuditBodyError("the event body is not JSON") from None
    if not isinstance(data, dict) or set(data) != _BODY_KEYS:
        raise AuditBodyError("the event body does not have the expected fields")
    if data["v"] != BODY_VERSION or type(data["v"]) is not int:
        raise AuditBodyError(f"unsupported event body version {data['v']!r}")
    codes = data["codes"]
    details = data["details"]
    if not isinstance(codes, list) or not isinstance(details, dict):
        raise AuditBodyError("the event body's codes or details have the wrong type")
    body = AuditEventBody(
        seq=data["seq"],
        at=data["at"],
        actor=data["actor"],
        action=data["action"],
        object_type=data["object_type"],
        object_id=data["object_id"],
        codes=tuple(codes),
        details=details,
    )
    if canonical_bytes(body) != bytes(body_bytes):
        raise AuditBodyError("the event body is not in canonical form")
    return body
