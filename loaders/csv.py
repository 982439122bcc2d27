"""Reading CSV files safely: encoding, header, kind, rows, and where each row is.

:func:`read_csv_file` checks a file before its rows are parsed (empty file, a
header that is not UTF-8 or is no known kind, missing required columns) and then
reads its rows with pyarrow in 4 MiB blocks on every core, every cell as text;
pyarrow checks the rows are UTF-8 as it goes. Problems are reported as
:class:`Problem` (``file:line:column: reason``); a bad byte's line and field are
found afterwards by :func:`_check_utf8`, which streams the file.

What would be misread is refused instead: a header name that is a known column but
for case, spacing or a letter (:func:`_near_columns`: ``did you mean 'amount'?``), a
file separated by ``;``, tabs or ``|`` (:func:`_other_delimiter` names it), a quoted
field never closed that swallows the rows after it (:func:`_swallowed_rows`), a path
that is a directory (``path: is a directory``).

Bounded memory: the header is read with a 1 MiB limit, the reader stops after
:data:`MAX_PROBLEMS` bad rows and the UTF-8 search streams in 16 MiB chunks, so a
gigabyte of garbage fails fast without being held in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import sys
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import numpy as np

from dealgraph.errors import LoadError
from dealgraph.graph.schema import FILE_KINDS
from dealgraph.loaders.arrow import mask_of

MAX_PROBLEMS = 50
_CHUNK = 16 << 20
_BLOCK = 4 << 20
_MAX_HEADER = 1 << 20


@dataclass(frozen=True, order=True)
class Problem:
    """One reason a file was refused, at a place in it (1-based line and column)."""

    file: str
    line: int
    column: int
    reason: str

    def __str__(self) -> str:
        if self.line == 0:  # about the path itself (a directory, ...), not a place in a file
            return f"{self.file or repr(self.file)}: {self.reason}"  # '': an empty path named visibly
        return f"{self.file}:{self.line}:{self.column}: {self.reason}"


class Problems(list):
    """A list of :class:`Problem` and ``more``: how many further problems were found but
    not listed (each check lists the first few dozen of its failing rows)."""

    def __init__(self, items=(), more: int = 0):
        super().__init__(items)
        self.more = more

    def extend(self, items) -> None:
        super().extend(items)
        self.more += getattr(items, "more", 0)

    @property
    def total(self) -> int:
        return len(self) + self.more


@dataclass
class CsvTable:
    """A CSV file's rows as text, with what is needed to point back into the file."""

    path: str
    kind: str
    header: list[str]
    cells: pa.Table  # every column pa.string(), cells "" when empty
    problems: Problems = field(default_factory=Problems)
    _data: bytes | None = None  # set when the file was re-encoded in memory
    _lines: list[int] | None = None

    def line_of(self, row: int) -> int:
        """The line on which data row ``row`` (0-based) starts."""
        if self._lines is None:
            self._lines = _record_lines(self._open(), len(self.header))
        return self._lines[row] if row < len(self._lines) else row + 2

    def column_of(self, name: str) -> int:
        return self.header.index(name) + 1 if name in self.header else 1

    def problem(self, row: int, column: str | None, reason: str) -> Problem:
        col = self.column_of(column) if column else 1
        prefix = f"{column}: " if column else ""
        return Problem(self.path, self.line_of(row), col, prefix + reason)

    def _open(self):
        return io.BytesIO(self._data) if self._data is not None else open(self.path, "rb")


def read_csv_file(path: str | os.PathLike, *, encoding: str | None = None, kind: str | None = None) -> CsvTable:
    """Read one CSV file of any known kind (see ``graph.schema.FILE_KINDS``).

    Raises :class:`LoadError` for problems that stop reading (empty file, bad
    encoding, unknown header, missing columns, no rows). Row-level problems that
    pyarrow finds (wrong number of fields) are returned in ``table.problems``.
    """
    name = os.fspath(path)
    if os.path.isdir(name):
        raise LoadError([Problem(name, 0, 0, "is a directory; give the CSV files in it (e.g. DIR/*.csv)")])
    try:
        size = os.path.getsize(name)
    except OSError as e:
        raise LoadError([Problem(name, 0, 0, f"cannot read file: {e.strerror or e}")]) from None
    if size == 0:
        raise LoadError([Problem(name, 1, 1, "file is empty; expected a header line and rows")])
    data = None
    if encoding and codecs.lookup(encoding).name not in ("utf-8", "utf-8-sig"):
        try:
            with open(name, "rb") as f:
                data = f.read().decode(encoding).encode("utf-8")
        except UnicodeDecodeError as e:
            raise LoadError([Problem(name, 1, 1, f"cannot decode as {encoding}: {e.reason}")]) from None
    # UTF-8 is otherwise checked by pyarrow as it reads (see _read_rows): a second
    # pass over a gigabyte here would cost as much as the read itself.

    src = io.BytesIO(data) if data is not None else open(name, "rb")
    with src:
        first = src.readline(_MAX_HEADER)
    if not first.endswith(b"\n") and len(first) >= _MAX_HEADER:
        raise LoadError([Problem(name, 1, 1, "the first line is over 1 MiB long: this is not a CSV file with a header")])
    try:
        header_text = first.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError:
        _check_utf8(name)  # raises the problem with its line and field
        raise

    try:
        raw_header = next(csv.reader([header_text.rstrip("\r\n")]))
    except (csv.Error, StopIteration):
        raise LoadError([Problem(name, 1, 1, "cannot read the header line as CSV")]) from None
    header = [h.strip() for h in raw_header]
    if kind is None and (other := _other_delimiter(header_text, header)):
        raise LoadError([Problem(name, 1, 1, f"the fields of this file are separated by {other}, not commas: "
                                             "save it as comma-separated CSV")])
    if kind is None and {"subject", "stated"} <= set(header):
        raise LoadError([Problem(name, 1, 1, "this is a claims file (subject,metric,stated,source): "
                                             "check it with `dealgraph check FILE`; it is not added to the store")])
    kind = kind or detect_kind(header) or detect_kind([column_key(h) for h in header], keyed=True)
    if kind is None:
        wanted = "; ".join(f"{k}: {', '.join(FILE_KINDS[k][1])}" for k in FILE_KINDS)
        raise LoadError([Problem(name, 1, 1, f"header {header_text.strip()[:200]!r} is not a known kind of file "
                                             f"(required columns by kind — {wanted})")])
    problems = []
    seen = set()
    for i, h in enumerate(header):
        if h == "":
            problems.append(Problem(name, 1, i + 1, "empty column name in header"))
        elif h in seen:
            problems.append(Problem(name, 1, i + 1, f"column {h!r} appears twice in the header"))
        seen.add(h)
    near = _near_columns(raw_header, FILE_KINDS[kind][0])
    for i, (h, known) in near.items():
        how = "only by case or spacing" if column_key(h) == column_key(known) else "by a letter or two"
        problems.append(Problem(name, 1, i + 1, f"column {h!r} differs from the {kind} column {known!r} {how}: "
                                                f"did you mean {known!r}? Rename it in the header"))
    meant = {known for _, known in near.values()}
    for req in FILE_KINDS[kind][1]:
        if req not in header and req not in meant:
            problems.append(Problem(name, 1, 1, f"missing required column {req!r} for a {kind} file"))
    if problems:
        raise LoadError(problems)

    table = CsvTable(name, kind, header, pa.table({}), _data=data)
    table.cells = _read_rows(table, header)
    if table.cells.num_rows == 0 and not table.problems:
        raise LoadError([Problem(name, 2, 1, "file has a header but no rows")])
    return table


def read_tables(path: str | os.PathLike, *, encoding: str | None = None) -> tuple[list[CsvTable], list[Problem]]:
    """The tables of one input file and the problems reading it: an ``.xlsx`` workbook
    gives one table per sheet (:mod:`dealgraph.loaders.xlsx`), any other file is CSV."""
    if os.fspath(path).lower().endswith(".xlsx"):
        from dealgraph.loaders.xlsx import read_xlsx_file

        return read_xlsx_file(path)
    try:
        return [read_csv_file(path, encoding=encoding)], []
    except LoadError as e:
        return [], list(e.problems)


_DELIMITERS = {";": "';' (semicolons)", "\t": "tabs", "|": "'|' (vertical bars)"}


def _other_delimiter(header_text: str, header: list[str]) -> str | None:
    """How the fields of a header read as one column are separated, when it is another
    delimiter that would give a known kind of file (``"';' (semicolons)"``, ``"tabs"``)."""
    if len(header) > 1:
        return None
    for delim, words in _DELIMITERS.items():
        if delim in header_text:
            fields = [h.strip() for h in next(csv.reader([header_text.rstrip("\r\n")], delimiter=delim))]
            if detect_kind([column_key(f) for f in fields], keyed=True):
                return words
    return None


def column_key(name: str) -> str:
    """A column name with case, spacing, ``_`` and ``-`` set aside: ``" Deal ID"`` -> ``"dealid"``."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _near_columns(raw_header: list[str], known: tuple[str, ...]) -> dict[int, tuple[str, str]]:
    """Header names that are not a known column but nearly are: position -> (name as
    written, the known column). Nearly: the same but for case or spacing (``Amount``,
    ``' amount '``, ``Deal ID``) or, for a known column the header lacks, within one
    edit in five letters (``ammount``; :data:`dealgraph.loaders.names.CUTOFF`)."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    from dealgraph.loaders.names import CUTOFF

    by_key = {column_key(k): k for k in known}
    present = set(raw_header)
    out = {}
    for i, h in enumerate(raw_header):
        if h in known or not h.strip():
            continue
        k = column_key(h)
        if k in by_key:
            out[i] = (h, by_key[k])
            continue
        absent = [c for c in known if c not in present]
        hit = process.extractOne(k, [column_key(c) for c in absent], scorer=OSA.normalized_similarity,
                                 score_cutoff=CUTOFF / 100 - 0.001) if absent else None
        if hit and 100 * hit[1] >= CUTOFF - 1e-6:
            out[i] = (h, absent[hit[2]])
    return out


def detect_kind(header: list[str], *, keyed: bool = False) -> str | None:
    """The kind of file a header belongs to: the kind sharing the most columns with it
    (required columns count one and a half). ``None`` when fewer than two columns match
    or two kinds tie, so a file missing one required column is still recognised and
    told what it lacks."""
    cols = set(header)
    if keyed:  # the header's names are column keys (see column_key): compare keys
        scores = {k: len(cols & {column_key(c) for c in all_}) + 0.5 * len(cols & {column_key(c) for c in req})
                  for k, (all_, req) in FILE_KINDS.items()}
    else:
        scores = {k: len(cols & set(all_)) + 0.5 * len(cols & set(req)) for k, (all_, req) in FILE_KINDS.items()}
    best = sorted(scores.items(), key=lambda kv: -kv[1])
    if best[0][1] < 2.5 or best[0][1] == best[1][1]:
        return None
    return best[0][0]


def _check_utf8(name: str) -> None:
    """Stream the file through a UTF-8 decoder; fail at the first bad byte."""
    dec = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    line, line_start = 1, 0  # line number and byte offset where the current line starts
    with open(name, "rb") as f:
        while chunk := f.read(_CHUNK):
            try:
                dec.decode(chunk, final=len(chunk) < _CHUNK)
            except UnicodeDecodeError as e:
                before = chunk[: e.start]
                line += before.count(b"\n")
                nl = before.rfind(b"\n")
                if nl < 0:  # the line began in an earlier chunk
                    with open(name, "rb") as g:
                        g.seek(line_start)
                        prefix = g.read(offset + e.start - line_start)
                else:
                    prefix = before[nl + 1:]
                text = prefix.decode("utf-8", "replace")
                field = len(next(csv.reader([text]), [""])) or 1
                raise LoadError([Problem(name, line, field,
                                         f"not valid UTF-8 (byte 0x{chunk[e.start]:02x} at character {len(text) + 1} "
                                         f"of the line); save the file as UTF-8 or name its encoding, "
                                         f"e.g. --encoding cp1252")]) from None
            line += chunk.count(b"\n")
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                line_start = offset + nl + 1
            offset += len(chunk)
    try:
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        raise LoadError([Problem(name, line, 1, "not valid UTF-8: the file ends inside a character")]) from None


def _read_rows(table: CsvTable, header: list[str]) -> pa.Table:
    """All data rows as text, parsed in 4 MiB blocks on every core; stops after
    MAX_PROBLEMS bad rows.

    pyarrow checks that every cell is UTF-8; when one is not, :func:`_check_utf8`
    finds the first bad byte's line and field for the message."""
    n_bad = 0

    class _TooMany(Exception):
        pass

    def on_invalid(row) -> str:
        nonlocal n_bad
        n_bad += 1
        if n_bad >= MAX_PROBLEMS:
            raise _TooMany()
        return "skip"

    read = pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=_BLOCK, use_threads=True)
    parse = pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid)
    convert = pacsv.ConvertOptions(column_types={h: pa.string() for h in header}, strings_can_be_null=False,
                                   quoted_strings_can_be_null=False)
    src = io.BytesIO(table._data) if table._data is not None else table.path
    # pyarrow decodes a bad row's text for the handler before calling it: with bytes that
    # are not UTF-8 that fails inside pyarrow, which prints "Exception ignored in ..." and
    # goes on. Those failures are caught here instead; the UTF-8 check below reports them.
    undecodable: list[BaseException] = []
    hook = sys.unraisablehook

    def quiet(u) -> None:
        if isinstance(u.exc_value, UnicodeDecodeError):
            undecodable.append(u.exc_value)
        else:
            hook(u)
    sys.unraisablehook = quiet
    try:
        tab = pacsv.read_csv(src, read_options=read, parse_options=parse, convert_options=convert)
    except _TooMany:
        _locate_bad_utf8(table)
        raise LoadError(_field_count_problems(table, len(header))) from None
    except (pa.ArrowInvalid, pa.ArrowException) as e:
        _locate_bad_utf8(table)
        if isinstance(e.__context__, _TooMany) or "_TooMany" in str(e):
            raise LoadError(_field_count_problems(table, len(header))) from None
        line = _first_bad_record(table)
        raise LoadError([Problem(table.path, line, 1, f"cannot parse CSV: {str(e).splitlines()[0][:300]}")]) from None
    finally:
        sys.unraisablehook = hook
    if n_bad or undecodable:
        _locate_bad_utf8(table)
        table.problems.extend(_field_count_problems(table, len(header)))
    table.problems.extend(_swallowed_rows(table, tab))
    return tab


def _swallowed_rows(table: CsvTable, cells: pa.Table) -> list[Problem]:
    """A quoted field whose closing quote is missing runs on over the lines after it, which
    then read as one cell: a cell holding a line break followed by a line with as many
    commas as a row has is refused (at the row and column where the field opens)."""
    width = len(cells.column_names)
    out = []
    for c, name in enumerate(cells.column_names):
        col = cells[name]
        if not _has_newline(col):
            continue
        multi = np.flatnonzero(mask_of(pc.match_substring(col, "\n")))
        for i in multi:
            lines = col[int(i)].as_py().rstrip("\r\n").split("\n")[1:]
            rows = sum(1 for ln in lines if ln.count(",") >= width - 1)
            if rows:
                out.append(Problem(table.path, table.line_of(int(i)), c + 1,
                                   f"{name}: a quoted field opens here and runs on over the next "
                                   f"{len(lines)} line{'s' if len(lines) != 1 else ''}, {rows} of which look like rows "
                                   f"of their own: close its quote (\") where the field ends"))
    return out


def _has_newline(col: pa.ChunkedArray) -> bool:
    """Does any cell of a text column hold a line break? Looked for in the bytes of all its
    cells at once (each chunk's data buffer), a fifth of the time of a search cell by cell."""
    for ch in col.chunks:
        data = ch.buffers()[2]
        if data is None or not len(ch):
            continue
        offsets = np.frombuffer(ch.buffers()[1], dtype=np.int32, count=len(ch) + 1, offset=ch.offset * 4)
        if (np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]] == 10).any():
            return True
    return False


def _locate_bad_utf8(table: CsvTable) -> None:
    """Raise the UTF-8 problem of a file pyarrow could not read, if that is why."""
    if table._data is None:
        _check_utf8(table.path)


def _scan(fileobj):
    """Yield ``(start_line, record)`` for every record after the header."""
    text = io.TextIOWrapper(fileobj, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        next(reader)
        start = reader.line_num + 1
        for rec in reader:
            if rec:  # pyarrow skips blank lines too
                yield start, rec
            start = reader.line_num + 1
    except csv.Error:
        return


def _record_lines(fileobj, width: int | None = None) -> list[int]:
    """Starting line of every data record pyarrow kept (right number of fields)."""
    return [line for line, rec in _scan(fileobj) if width is None or len(rec) == width]


def _field_count_problems(table: CsvTable, width: int) -> Problems:
    """The first :data:`MAX_PROBLEMS` rows with the wrong number of fields, and how many
    more there are (the whole file is counted)."""
    out = Problems()
    for line, rec in _scan(table._open()):
        if len(rec) != width:
            if len(out) < MAX_PROBLEMS:
                column, reason = min(len(rec), width) + (len(rec) < width), \
                    f"expected {width} fields as in the header, found {len(rec)}"
                runs_on = next((i for i, cell in enumerate(rec) if "\n" in cell), None)
                if runs_on is not None:  # the likely cause: a quote never closed swallowed the lines after it
                    n = rec[runs_on].rstrip("\r\n").count("\n") or 1  # a quote open to the end holds the last newline
                    column, reason = runs_on + 1, (f"{reason}: the quoted field here runs on over the next {n} "
                                                   f"line{'s' if n != 1 else ''}; close its quote (\") where the "
                                                   f"field ends")
                out.append(Problem(table.path, line, column, reason))
            else:
                out.more += 1
    return out


def _first_bad_record(table: CsvTable) -> int:
    """Line of the first record the stdlib csv module cannot read (for pyarrow errors)."""
    text = io.TextIOWrapper(table._open(), encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        for _ in reader:
            pass
    except csv.Error:
        return reader.line_num
    return reader.line_num or 1
