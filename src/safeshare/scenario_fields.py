"""Typed readers for scenario and protocol files: each reads one field and raises
:class:`ScenarioFileError` naming the file, the field, what was expected and what was found.

Nothing here knows the Note; :mod:`safeshare.scenario` says which fields a world and a
request have. A file that does not parse must never be decided on: it is refused whole.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import yaml

from safeshare.core.world import OPEN_ENDED_PERIODS, Period

E = TypeVar("E", bound=StrEnum)

_MISSING: Any = object()
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DURATION = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?")


class ScenarioFileError(ValueError):
    """A scenario or protocol file that cannot be read: which file, which field (a path such
    as ``world.subjects[2].age``), what was expected there and what was found."""

    def __init__(self, file: str, field: str, expected: str, got: str) -> None:
        self.file = file
        self.field = field
        self.expected = expected
        self.got = got
        where = f"{file}: {field}" if field else file
        super().__init__(f"{where}: expected {expected}, got {got}")


def describe(value: object) -> str:
    """How a found value reads in an error message."""
    if value is _MISSING:
        return "nothing (the field is missing)"
    if value is None:
        return "an empty value"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, date):
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _sample(known: Iterable[str], limit: int = 8) -> str:
    names = sorted(known)
    if not names:
        return "none are declared"
    shown = ", ".join(names[:limit])
    return shown + (", ..." if len(names) > limit else "")


# --- YAML -------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Safe YAML that keeps dates as text (so a bad date is reported against its field, not as
    a crash inside the YAML parser) and refuses a key given twice in one mapping (the second
    would silently replace the first: a whole consent ledger could vanish)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue  # merge keys (<<) may be overridden; other keys fail in super()
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found the key {key!r} twice",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    assert isinstance(node, yaml.ScalarNode)
    return str(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def load_yaml(path: str | Path) -> object:
    """Reads one YAML document; a missing, unreadable or malformed file is a ScenarioFileError."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioFileError(source, "", "an existing file", "no such file") from None
    except IsADirectoryError:
        raise ScenarioFileError(source, "", "a file", "a directory") from None
    except UnicodeDecodeError:
        raise ScenarioFileError(source, "", "a UTF-8 text file", "undecodable bytes") from None
    except OSError as e:
        raise ScenarioFileError(source, "", "a readable file", e.strerror or str(e)) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = (e.problem or e.context or "malformed YAML").strip()
        raise ScenarioFileError(source, where, "well-formed YAML", problem) from None
    except yaml.YAMLError as e:
        raise ScenarioFileError(source, "", "well-formed YAML", str(e).strip()) from None


# --- values -----------------------------------------------------------------------------


def parse_date(value: object, field: str, source: str) -> date:
    """A YAML date or a quoted ``YYYY-MM-DD`` string (both mean the same)."""
    if isinstance(value, datetime):
        raise ScenarioFileError(source, field, "a date YYYY-MM-DD (no time)", describe(value))
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ScenarioFileError(source, field, "a date YYYY-MM-DD", describe(value))


def parse_period(text: object, field: str, source: str) -> Period:
    """An ISO 8601 duration (P6M, P1Y, P2W, P30D, P1Y6M; weeks count as 7 days) or one of the
    words duration-of-partnership, duration-of-status, permanent."""
    expected = "an ISO 8601 duration such as P6M, P1Y, P2W, P30D or P1Y6M, or one of " + ", ".join(
        sorted(OPEN_ENDED_PERIODS)
    )
    if not isinstance(text, str):
        raise ScenarioFileError(source, field, expected, describe(text))
    value = text.strip()
    if value in OPEN_ENDED_PERIODS:
        return Period(value)
    match = _DURATION.fullmatch(value)
    if match is None or not any(match.groups()):
        raise ScenarioFileError(source, field, expected, describe(text))
    years, months, weeks, days = (int(g) if g else 0 for g in match.groups())
    if years + months + weeks + days == 0:
        raise ScenarioFileError(source, field, "a duration longer than zero", describe(text))
    return Period(value, years=years, months=months, days=days + 7 * weeks)


# --- fields -----------------------------------------------------------------------------


@dataclass
class Context:
    """One parse: the file's name and the notices gathered on the way (keys that were
    ignored because the format does not know them)."""

    source: str
    notices: list[str] = field(default_factory=list)

    def fail(self, path: str, expected: str, got: object) -> NoReturn:
        raise ScenarioFileError(self.source, path, expected, describe(got))

    def node(self, value: object, path: str, *, known: Collection[str] | None = None) -> Node:
        if not isinstance(value, Mapping):
            self.fail(path, "a mapping of fields", value)
        for key in value:
            if not isinstance(key, str):
                self.fail(path, "field names that are text", key)
        node = Node(value, path, self)
        if known is not None:
            node.check_keys(known)
        return node

    def items(self, value: object, path: str, known: Collection[str]) -> list[Node]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(path, "a list of entries", value)
        return [self.node(v, f"{path}[{i}]", known=known) for i, v in enumerate(value)]


@dataclass(frozen=True)
class Node:
    """A mapping read from the file, with its path; each reader names ``path.key`` on error."""

    data: Mapping[str, object]
    path: str
    ctx: Context

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, expected: str, got: object) -> NoReturn:
        self.ctx.fail(self.at(key), expected, got)

    def has(self, key: str) -> bool:
        return key in self.data

    def check_keys(self, known: Collection[str]) -> None:
        """A key close to a known one is a typo and fails (a misspelt ``refoulement_risk``
        must not silently read as false); any other unknown key is ignored with a notice."""
        for key in self.data:
            if key in known:
                continue
            close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.8)
            if close:
                self.ctx.fail(self.at(key), f"a known field (did you mean '{close[0]}'?)", key)
            self.ctx.notices.append(
                f"{self.ctx.source}: {self.at(key)}: unknown field ignored "
                f"(known: {_sample(known, 20)})"
            )

    def raw(self, key: str) -> object:
        value = self.data.get(key, _MISSING)
        if value is _MISSING or value is None:
            self.fail(key, "a value (the field is required)", value)
        return value

    def string(self, key: str, default: str | None = None) -> str:
        if default is not None and self.data.get(key) is None:
            return default
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.fail(key, "text", value)
        text = str(value).strip()
        if not text and default is None:
            self.fail(key, "non-empty text", value)
        return text

    def optional_string(self, key: str) -> str | None:
        return None if self.data.get(key) is None else self.string(key)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(key, "true or false", value)
        return value

    def optional_boolean(self, key: str) -> bool | None:
        return None if self.data.get(key) is None else self.boolean(key, False)

    def whole_number(self, key: str, expected: str, low: int, high: int) -> int:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(key, expected, value)
        return value

    def day(self, key: str) -> date:
        return parse_date(self.raw(key), self.at(key), self.ctx.source)

    def optional_date(self, key: str) -> date | None:
        return None if self.data.get(key) is None else self.day(key)

    def past_date(self, key: str, today: date) -> date:
        """A date that is not after ``today`` (a consent or assessment from the future
        would otherwise outrank every real entry)."""
        value = self.day(key)
        if value > today:
            self.fail(key, f"a date on or before world.today ({today.isoformat()})", value)
        return value

    def optional_past_date(self, key: str, today: date) -> date | None:
        return None if self.data.get(key) is None else self.past_date(key, today)

    def period(self, key: str) -> Period | None:
        value = self.data.get(key)
        return None if value is None else parse_period(value, self.at(key), self.ctx.source)

    def choice(self, key: str, enum: type[E], default: E | None = None) -> E:
        value = self.data.get(key)
        if value is None and default is not None:
            return default
        value = self.raw(key)
        try:
            return enum(str(value))
        except ValueError:
            self.fail(key, "one of " + ", ".join(m.value for m in enum), value)

    def optional_choice(self, key: str, enum: type[E]) -> E | None:
        return None if self.data.get(key) is None else self.choice(key, enum)

    def strings(self, key: str, *, required: bool = False, nonempty: bool = False) -> list[str]:
        value = self.data.get(key)
        if value is None and not required:
            return []
        value = self.raw(key)
        if not isinstance(value, list):
            self.fail(key, "a list (write [a, b] even for one entry)", value)
        out: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, str | int) or not str(item).strip():
                self.ctx.fail(f"{self.at(key)}[{i}]", "non-empty text", item)
            out.append(str(item).strip())
        if nonempty and not out:
            self.fail(key, "at least one entry", value)
        return out

    def ref(self, key: str, known: Collection[str], what: str) -> str:
        """An id that must be declared elsewhere in the file (``what`` says where)."""
        value = self.string(key)
        if value not in known:
            self.fail(key, f"{what} ({_sample(known)})", value)
        return value

    def refs(
        self, key: str, known: Collection[str], what: str, *, required: bool = False
    ) -> list[str]:
        values = self.strings(key, required=required, nonempty=required)
        for i, value in enumerate(values):
            if value not in known:
                self.ctx.fail(f"{self.at(key)}[{i}]", f"{what} ({_sample(known)})", value)
        return values


def unique_ids(ctx: Context, nodes: list[Node], what: str) -> list[str]:
    """The ``id`` of each entry; an id given twice is an error (which entry would count?)."""
    ids: list[str] = []
    for node in nodes:
        ident = node.string("id")
        if ident in ids:
            node.fail("id", f"a {what} id not used before in this list", ident)
        ids.append(ident)
    return ids
