"""Reading CSV and XLSX files for bulk import: the columns of each kind, HXL hashtag rows,
and errors that name the file, the line and the column.

A file has a header row. It may have a second row of HXL hashtags (``#beneficiary+id``):
then the columns are identified by their hashtags (attributes in any order) and the header
row is only a human label. Lines are counted as the spreadsheet shows them (the header is
line 1). Column names and hashtags of each kind are in ``COLUMNS`` and docs/bulk-import.md.
"""

from __future__ import annotations

import csv
import itertools
import operator
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook


class ImportRowError(ValueError):
    """A row (or the header) breaks the file format: nothing from the file is kept."""

    def __init__(self, file: str, line: int, column: str | None, message: str) -> None:
        self.file, self.line, self.column, self.message = file, line, column, message
        where = f"{file}, line {line}" + (f", column {column!r}" if column else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Column:
    name: str
    hxl: str
    required: bool = False
    sealed: bool = False


def _cols(*specs: tuple[str, str, bool, bool]) -> tuple[Column, ...]:
    return tuple(Column(n, h, r, s) for n, h, r, s in specs)


COLUMNS: Mapping[str, tuple[Column, ...]] = {
    "subjects": _cols(
        ("subject_id", "#beneficiary+id", True, False),
        ("age", "#beneficiary+age", False, False),
        ("born", "#date+birth", False, False),
        ("categories", "#beneficiary+category", False, False),
        ("reachable", "#indicator+reachable", False, False),
        ("can_consent", "#indicator+can_consent", False, False),
        ("unaccompanied", "#indicator+unaccompanied", False, False),
        ("caregiver_reachable", "#indicator+caregiver+reachable", False, False),
        ("caregiver_involve", "#indicator+caregiver+involve", False, False),
        ("name", "#beneficiary+name", False, True),
        ("contact", "#contact+phone", False, True),
    ),
    "cases": _cols(
        ("case_id", "#case+id", True, False),
        ("subject_id", "#beneficiary+id", True, False),
        ("owner", "#org+id", True, False),
        ("status", "#status", False, False),
        ("closed_on", "#date+closed", False, False),
        ("details", "#description+incident", False, True),
        ("notes", "#description+notes", False, True),
    ),
    "consents": _cols(
        ("consent_id", "#consent+id", False, False),
        ("subject_id", "#beneficiary+id", True, False),
        ("kind", "#consent+kind", False, False),
        ("given_by", "#consent+given_by", False, False),
        ("decision", "#consent+decision", True, False),
        ("purposes", "#purpose+id", True, False),
        ("recipients", "#org+recipient", False, False),
        ("data_elements", "#data+element", False, False),
        ("method", "#consent+method", False, False),
        ("evidence_ref", "#consent+evidence", False, True),
        ("explanation_language", "#language+explanation", False, False),
        ("explanation_version", "#meta+explanation+version", False, False),
        ("stage", "#consent+stage", False, False),
        ("date", "#date+consent", True, False),
    ),
}


def normalise_hxl(tag: str) -> str:
    """``#Beneficiary +name +x`` and ``#beneficiary+x+name`` are the same hashtag."""
    parts = [p.strip().lower() for p in tag.replace(" ", "").split("+")]
    return "+".join([parts[0], *sorted(p for p in parts[1:] if p)])


def _is_hxl_row(cells: list[str]) -> bool:
    filled = [c.strip() for c in cells if c and c.strip()]
    return bool(filled) and all(c.startswith("#") for c in filled)


@dataclass(frozen=True)
class Layout:
    """Which cell holds which column; ``first_line`` is the line of the first data row."""

    positions: dict[str, int]
    labels: dict[str, str]
    first_line: int


def layout(file: str, kind: str, header: list[str], second: list[str] | None) -> Layout:
    columns = COLUMNS[kind]
    positions: dict[str, int] = {}
    labels: dict[str, str] = {}
    hxl = second is not None and _is_hxl_row(second)
    by_name = {c.name: c for c in columns}
    by_tag = {normalise_hxl(c.hxl): c for c in columns}
    for i, raw_label in enumerate(header):
        label = (raw_label or "").strip()
        tag = (second[i] if hxl and second is not None and i < len(second) else "") or ""
        col = by_tag.get(normalise_hxl(tag)) if tag.strip() else by_name.get(label)
        if col is None:
            if not label and not tag.strip():
                continue
            shown = tag.strip() or label
            raise ImportRowError(file, 2 if tag.strip() else 1, shown, f"unknown column {shown!r}")
        if col.name in positions:
            raise ImportRowError(file, 1, label or col.name, f"column {col.name!r} appears twice")
        positions[col.name] = i
        labels[col.name] = label or col.name
    for col in columns:
        if col.required and col.name not in positions:
            raise ImportRowError(file, 1, col.name, f"required column {col.name!r} is missing")
    return Layout(positions, labels, 3 if hxl else 2)


Row = tuple[int, dict[str, str]]
Cells = tuple[int, list[str]]
Values = tuple[int, tuple[str, ...]]


def _data_lines(
    file: str, kind: str, lines: Iterator[tuple[int, list[str]]]
) -> tuple[Layout, Iterator[Cells]]:
    """The layout (from the header and the optional HXL row) and the data lines after it,
    empty lines skipped."""
    try:
        _, header = next(lines)
    except StopIteration:
        raise ImportRowError(file, 1, None, "the file is empty (no header row)") from None
    second = next(lines, None)
    lay = layout(file, kind, header, second[1] if second else None)
    pending = [second] if second is not None and lay.first_line == 2 else []

    def chained() -> Iterator[Cells]:
        for line, cells in itertools.chain(pending, lines):
            if "".join(c or "" for c in cells).strip():
                yield line, cells

    return lay, chained()


def _rows(file: str, kind: str, lines: Iterator[tuple[int, list[str]]]) -> Iterator[Row]:
    lay, data = _data_lines(file, kind, lines)
    for line, cells in data:
        yield (
            line,
            {
                name: (cells[i].strip() if i < len(cells) and cells[i] is not None else "")
                for name, i in lay.positions.items()
            },
        )


def _values(file: str, kind: str, lines: Iterator[tuple[int, list[str]]]) -> Iterator[Values]:
    """Each data line as a tuple of stripped texts in ``COLUMNS[kind]`` order ("" for an
    empty cell or a column the file does not have): no dict per row (bulk import)."""
    lay, data = _data_lines(file, kind, lines)
    # A missing column reads the "" appended to every row (index -1).
    picks = [lay.positions.get(c.name, -1) for c in COLUMNS[kind]]
    width = max(picks) + 1
    pick = operator.itemgetter(*picks)
    strip = str.strip
    for line, cells in data:
        padded = cells + [""] * max(width - len(cells) + 1, 1)
        yield line, tuple(map(strip, pick(padded)))


def _csv_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        for cells in reader:
            yield reader.line_num, cells


def read_csv(path: Path, kind: str) -> Iterator[Row]:
    """Rows of a UTF-8 CSV (a BOM is accepted) as (line, {column: text})."""
    yield from _rows(str(path), kind, _csv_lines(path))


def _xlsx_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    def text(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [text(v) for v in values]
    finally:
        workbook.close()


def read_xlsx(path: Path, kind: str) -> Iterator[Row]:
    """Rows of the first sheet of an XLSX workbook, as text."""
    yield from _rows(str(path), kind, _xlsx_lines(path))


def _lines(path: Path, kind: str) -> Iterator[tuple[int, list[str]]]:
    if kind not in COLUMNS:
        raise ValueError(f"unknown import kind {kind!r}: one of {', '.join(COLUMNS)}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_lines(path)
    if suffix in {".xlsx", ".xlsm"}:
        return _xlsx_lines(path)
    raise ImportRowError(str(path), 0, None, "the file must be .csv or .xlsx")


def read_table(path: Path, kind: str) -> Iterator[Row]:
    """Rows as (line, {column: text}) for the columns the file has."""
    return _rows(str(path), kind, _lines(path, kind))


def read_values(path: Path, kind: str) -> Iterator[Values]:
    """Rows as (line, texts in ``COLUMNS[kind]`` order); see :func:`_values`."""
    return _values(str(path), kind, _lines(path, kind))
