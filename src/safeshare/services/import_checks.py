"""Checks of one cell of an imported row (bulk import): each column's text to the value stored.

A check is a function from the cell's text to the value inserted, made once per column:
vocabulary choices, true/false flags, ISO dates, ages, and ``;`` lists (as the consent
ledger's sorted JSON text, each value checked against what the store knows if asked). A
wrong cell raises :class:`CellError` (column, message); the import's row loop adds the file and
line. Cells repeat (vocabulary, lists, dates), so answers are remembered per column
(:func:`cached`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from datetime import date
from enum import StrEnum
from typing import Any

TRUE, FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}
_CACHE_LIMIT = 100_000  # distinct cell values remembered per column


class CellError(Exception):
    """A cell is wrong: (column, message); the row loop adds the file and line."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(column, message)
        self.column, self.message = column, message


def cached(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """``convert`` with its answers remembered (cells repeat: vocabulary, lists, dates).
    Failures are not remembered: they stop the import anyway."""
    memo: dict[str, Any] = {}

    def get(text: str) -> Any:
        try:
            return memo[text]
        except KeyError:
            value = convert(text)
            if len(memo) < _CACHE_LIMIT:
                memo[text] = value
            return value

    return get


def choice_check(column: str, enum: type[StrEnum], default: StrEnum | None) -> Callable[[str], Any]:
    allowed = {e.value: e.value for e in enum}
    fallback = None if default is None else default.value
    names = ", ".join(allowed)

    def convert(text: str) -> str | None:
        if not text:
            return fallback
        try:
            return allowed[text]
        except KeyError:
            raise CellError(column, f"expected one of {names}, found {text!r}") from None

    return convert


def boolean_check(column: str, default: bool | None) -> Callable[[str], bool | None]:
    def convert(text: str) -> bool | None:
        if not text:
            return default
        low = text.lower()
        if low in TRUE:
            return True
        if low in FALSE:
            return False
        raise CellError(column, f"expected true or false, found {text!r}")

    return cached(convert)


def day_check(column: str, db_date: Callable[[date], Any]) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        if not text:
            return None
        try:
            return db_date(date.fromisoformat(text))
        except ValueError:
            raise CellError(column, f"expected a date YYYY-MM-DD, found {text!r}") from None

    return cached(convert)


def age_years(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or int(text) > 130:
        raise CellError("age", f"expected an age in years (0-130), found {text!r}")
    return int(text)


def split_list(text: str) -> list[str]:
    return [v.strip() for v in text.split(";") if v.strip()]


def json_list_check(
    column: str, known: Collection[str] | None = None, what: str = ""
) -> Callable[[str], str | None]:
    """A ``;`` list cell as the ledger's JSON text (sorted), each value checked if asked."""

    def convert(text: str) -> str | None:
        if not text:
            return None
        values = split_list(text)
        if known is not None:
            for value in values:
                if value not in known:
                    raise CellError(column, f"{value!r} is not {what}")
        return json.dumps(sorted(values))

    return cached(convert)
