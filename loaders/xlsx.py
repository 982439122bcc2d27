"""Reading Excel workbooks (``.xlsx``) as the same tables CSV files give.

:func:`read_xlsx_file` turns each sheet into a :class:`SheetTable`, a
:class:`~dealgraph.loaders.csv.CsvTable` (every cell as text) of the kind its header
row says -- recognised as a CSV header is (:func:`~dealgraph.loaders.csv.detect_kind`)
-- so validation, resolution and the all-or-nothing add are the CSV ones. Where a
problem is: ``book.xlsx:deals!7:F: amount: ...`` -- the file, the sheet, the row
number and the column letter Excel shows (the reason starts with the column's
header name; the cell is ``deals!F7`` in Excel's Name Box).

How a cell becomes text (what the cell shows, never a guess):

* text as it is; an empty cell is an empty field; a row with no value is skipped
  (as CSV skips blank lines), and a sheet holding nothing -- or only a header --
  holds no rows (a workbook exported from a store without metrics has such a sheet);
* a number in its shortest exact form (``20000000000``, ``0.5``), behind what its
  number format shows around it: the qualifier text ``dealgraph export --format
  xlsx`` writes (``"~"#,##0`` -> ``~650000000``; ``"up to "``, ``"at least "``), a
  currency symbol (``$ € £ ¥``, then checked against the row's currency as ``$20bn``
  is), and a percent format as a percent (``49%`` stored as 0.49 reads ``49%``);
* a date as ``YYYY-MM-DD`` (with ``HH:MM:SS`` when it has a time of day); a boolean
  as ``TRUE`` / ``FALSE``;
* a formula or an error value (``#N/A``) is refused: dealgraph reads values, and a
  formula's value is whatever Excel last computed (paste such cells as values);
* a value right of the header's last column is refused, as is an empty or repeated
  header name, a header of no known kind and a claims header (as for CSV).

The header is row 1 of each sheet. ``--encoding`` does not apply: xlsx is XML,
always Unicode.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa
from openpyxl.utils import get_column_letter

from dealgraph.errors import LoadError
from dealgraph.graph.schema import FILE_KINDS
from dealgraph.loaders.amounts import SYMBOL_CURRENCY, format_number
from dealgraph.loaders.csv import MAX_PROBLEMS, CsvTable, Problem, detect_kind

_QUOTED = re.compile(r'"([^"]*)"')
_SYMBOL_IN_FORMAT = re.compile(r"\[\$([^\]-]*)[^\]]*\]|([$€£¥])")


@dataclass(frozen=True, eq=False)
class CellProblem(Problem):
    """A problem at a cell of a sheet: ``file:sheet!row:COLUMN: reason``. Sorts with
    :class:`Problem` s (one add may hold CSV files and workbooks)."""

    sheet: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.sheet}!{self.line}:{get_column_letter(self.column)}: {self.reason}"

    def _key(self):
        return (self.file, self.sheet, self.line, self.column, self.reason)

    @staticmethod
    def _of(other):
        return other._key() if isinstance(other, CellProblem) else \
            (other.file, "", other.line, other.column, other.reason)

    def __eq__(self, other):
        return isinstance(other, Problem) and self._key() == self._of(other)

    def __hash__(self):
        return hash(self._key())

    def __lt__(self, other):
        return self._key() < self._of(other)

    def __gt__(self, other):
        return self._key() > self._of(other)

    def __le__(self, other):
        return self._key() <= self._of(other)

    def __ge__(self, other):
        return self._key() >= self._of(other)


class SheetTable(CsvTable):
    """One sheet's rows as text (a :class:`CsvTable`); ``path`` is ``file:sheet``, and a
    row's line is its row number in the sheet."""

    def __init__(self, file: str, sheet: str, kind: str, header: list[str], cells: pa.Table,
                 rows: list[int], problems: list[Problem]):
        super().__init__(f"{file}:{sheet}", kind, header, cells, problems, _lines=rows)
        self.file, self.sheet = file, sheet

    def problem(self, row: int, column: str | None, reason: str) -> Problem:
        p = super().problem(row, column, reason)
        return CellProblem(self.file, p.line, p.column, p.reason, sheet=self.sheet)


def read_xlsx_file(path: str | os.PathLike) -> tuple[list[CsvTable], list[Problem]]:
    """The sheets of the workbook at ``path`` that hold rows, and the problems found
    reading it (header problems and cells that cannot be read; validation comes after)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    name = os.fspath(path)
    try:
        wb = load_workbook(name, read_only=True, data_only=False)
    except OSError as e:
        return [], [Problem(name, 1, 1, f"cannot read file: {e.strerror or e}")]
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as e:
        return [], [Problem(name, 1, 1, f"cannot read as an Excel workbook (.xlsx): {str(e)[:200] or type(e).__name__}")]
    tables: list[CsvTable] = []
    problems: list[Problem] = []
    try:
        for ws in wb.worksheets:
            try:
                table = _read_sheet(name, ws)
            except LoadError as e:
                problems.extend(e.problems)
                continue
            if table is not None:
                tables.append(table)
    finally:
        wb.close()
    if not tables and not problems:
        problems.append(Problem(name, 1, 1, "no sheet of the workbook has a header and rows"))
    return tables, problems


def _read_sheet(file: str, ws) -> SheetTable | None:
    """One sheet as a table; None when it holds no rows. Raises :class:`LoadError` for a
    header that cannot be read."""
    sheet = ws.title

    def at(row: int, col: int, reason: str) -> CellProblem:
        return CellProblem(file, row, col, reason, sheet=sheet)

    rows = ws.iter_rows()
    first = next(rows, None)
    if first is None:
        return None
    cell_problems: list[Problem] = []
    header_cells = [_text(c, cell_problems, at, 1, i + 1) for i, c in enumerate(first)]
    while header_cells and header_cells[-1] == "":
        header_cells.pop()
    header = [h.strip() for h in header_cells]
    records: list[list[str]] = []
    lines: list[int] = []
    n = 1
    for n, row in enumerate(rows, start=2):
        values = [_text(c, cell_problems, at, n, i + 1) for i, c in enumerate(row)]
        if not any(values):
            continue
        extra = [i for i in range(len(header), len(values)) if values[i] != ""]
        if extra:
            cell_problems.append(at(n, extra[0] + 1, "a value right of the header's last column "
                                                     f"({get_column_letter(len(header))}); give the column a header "
                                                     "or clear the cell"))
        values = (values + [""] * len(header))[:len(header)]
        records.append(values)
        lines.append(n)
        if len(cell_problems) >= MAX_PROBLEMS:
            break
    if not header and not records:
        return None
    _check_header(header, at)
    kind = detect_kind(header)
    if not records:
        return None
    cells = pa.table({h: pa.array([r[i] for r in records], pa.string()) for i, h in enumerate(header)})
    return SheetTable(file, sheet, kind, header, cells, lines, cell_problems)


def _check_header(header: list[str], at) -> None:
    """Raise the header's problems, as the CSV reader reports them, at its cells."""
    if {"subject", "stated"} <= set(header):
        raise LoadError([at(1, 1, "this is a claims sheet (subject,metric,stated,source): check it with "
                                  "`dealgraph check FILE` as CSV; it is not added to the store")])
    kind = detect_kind(header)
    if kind is None:
        wanted = "; ".join(f"{k}: {', '.join(FILE_KINDS[k][1])}" for k in FILE_KINDS)
        raise LoadError([at(1, 1, f"header {','.join(header)[:200]!r} in row 1 is not a known kind of table "
                                  f"(required columns by kind — {wanted}); remove the sheet or fix its header")])
    problems = []
    for i, h in enumerate(header):
        if h == "":
            problems.append(at(1, i + 1, "empty column name in header"))
        elif h in header[:i]:
            problems.append(at(1, i + 1, f"column {h!r} appears twice in the header"))
    problems += [at(1, 1, f"missing required column {req!r} for a {kind} sheet")
                 for req in FILE_KINDS[kind][1] if req not in header]
    if problems:
        raise LoadError(problems)


def _text(cell, problems: list[Problem], at, row: int, col: int) -> str:
    """What a cell says, as CSV text (see the module docstring)."""
    v = cell.value
    if v is None:
        return ""
    kind = getattr(cell, "data_type", None)
    if kind == "f":
        problems.append(at(row, col, f"a formula ({str(v)[:60]}); dealgraph reads values only: paste the cell "
                                     "as a value"))
        return ""
    if kind == "e":
        problems.append(at(row, col, f"the cell holds the error value {v}"))
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return str(v)
    if isinstance(v, (int, float)):
        return _number_text(v, getattr(cell, "number_format", "General") or "General")
    return str(v)


def _number_text(v: float, number_format: str) -> str:
    """A number as its cell shows it: qualifier text, currency symbol, percent."""
    section = number_format.split(";")[0]
    literals = _QUOTED.findall(section)
    bare = _QUOTED.sub("", section)
    percent = "%" in bare
    if percent:
        text = format(Decimal(repr(float(v))) * 100, "f")
        text = (text.rstrip("0").rstrip(".") if "." in text else text) + "%"
    else:
        text = format_number(v)
    symbol = ""
    for bracket, plain in _SYMBOL_IN_FORMAT.findall(bare):
        s = bracket or plain
        if s in SYMBOL_CURRENCY:
            symbol = s
            break
    prefix = literals[0] if literals and section.lstrip().startswith('"') else ""
    return f"{prefix}{symbol}{text}"
