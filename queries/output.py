"""Print query results: ``table`` (for terminals), ``csv``, ``json``, ``markdown``.

Missing values: ``n/a`` in table and markdown, an empty cell in CSV, ``null``
in JSON — never 0. Table and markdown format numbers for reading by column
name: ``*_usd`` as compact dollars (``$20.0bn``), ``*_pct`` as percent, the
multiple columns with an ``x``; CSV and JSON keep full-precision raw numbers,
every column and every row.

**Terminal tables** (``table``, in the manner of ``kubectl get`` and
``sqlite-utils --table``) fit the width :func:`terminal_width` gives: one line per
row, never a wrapped cell. Which columns show is decided by each result's
:class:`Layout` (declared with the query in :mod:`dealgraph.queries.registry`):
columns are taken in priority order while their minimum widths fit, the rest are
hidden and named in the summary line; space left over widens the taken columns,
most important first, up to their full width; a text cell still too long ends in
``…``. Numbers, money and dates are never shortened (a column that cannot show
them whole is hidden instead). Headers are the column names with spaces for
underscores, wrapped between words. In a table, ``X_usd`` shows its qualifier
``X_qualifier`` in front (``~$650m``, ``up to $100.0bn``) and the qualifier column
is folded into it; entity-id columns named by the layout show display names (also
ids written as words of a text: ``capacity of openai``). A layout can also show a
column of figures in the unit another column names (``($bn)`` rows as money), head
runs of rows with a column's value (``sections``), blank a repeated value
(``group``), print long text one copies under its row, wrapped (``details``), and
show headers as written with missing values as ``NULL`` (SQL results). A
one-line summary follows: rows, a money total where the layout names one, rows
and columns not shown and how to see them (``--limit``, ``--wide``, ``--columns``).
"""

from __future__ import annotations

import io
import json
import math
import re
import shutil
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dealgraph.errors import QueryError
from dealgraph.queries.intervals import total
from dealgraph.queries.common import NAN, interval_text, money, money_interval, range_number

FORMATS: tuple[str, ...] = ("table", "csv", "json", "markdown")
MULTIPLE_COLUMNS = frozenset({"deal_to_revenue", "implied_ev_to_revenue", "multiple", "step_up", "round_step_up"})
NA_TEXT = "n/a"


def _is_missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, (float, np.floating)):
        return math.isnan(v)
    return False


def _plain_number(v: float) -> str:
    a = abs(v)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 1 or a == 0:
        return f"{v:.4g}"
    return f"{v:.3g}"


def format_cell(column: str, v: Any) -> str:
    """A value as readers see it in table/markdown output."""
    if _is_missing(v):
        return NA_TEXT
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}" if abs(int(v)) >= 10000 else str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if column.endswith("_usd"):
            return money(v)
        if column.endswith("_pct"):
            return _plain_number(v) + "%"
        if column in MULTIPLE_COLUMNS:
            return _plain_number(v) + "x"
        if v.is_integer() and abs(v) < 1e15 and column in ("months", "months_since_previous",
                                                          "months_from_last_raise"):
            return f"{v:.0f}"
        return _plain_number(v)
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    return str(v)


def _jsonable(v: Any) -> Any:
    if _is_missing(v):
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return None if math.isinf(v) else v
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v if isinstance(v, (int, str)) else str(v)


def to_records(df: pd.DataFrame) -> list[dict]:
    """Rows as JSON-safe dicts (NaN/NA/inf -> None, numpy -> Python)."""
    cols = list(df.columns)
    return [{c: _jsonable(v) for c, v in zip(cols, row)} for row in df.itertuples(index=False, name=None)]


def to_csv(df: pd.DataFrame) -> str:
    buf = io.StringIO()
    df.to_csv(buf, index=False, na_rep="", lineterminator="\n")
    return buf.getvalue()


def to_json(df: pd.DataFrame) -> str:
    return json.dumps(to_records(df), indent=2, ensure_ascii=False) + "\n"


def _md_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def to_markdown(df: pd.DataFrame) -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(_md_escape(c) for c in cols) + " |",
             "|" + "|".join(" --- " for _ in cols) + "|"]
    for row in df.itertuples(index=False, name=None):
        lines.append("| " + " | ".join(_md_escape(format_cell(c, v)) for c, v in zip(cols, row)) + " |")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Layout:
    """How a terminal table shows one kind of result (declared once per query).

    ``priority``: column names, most important first; columns not listed come after
    them in the frame's order (so a column a query adds later is shown when there is
    room, and with ``--wide``). ``names``: columns holding entity ids, or paths of
    them joined by ``" -> "``, shown as the entities' display names (ids stay where
    an id is what one types next: deal ids). ``noun``: what a row is (``"cycles"``).
    ``total``: a ``*_usd`` column whose sum over all rows (disclosed amounts) the
    summary line states.
    """

    priority: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    noun: str = "rows"
    total: str | None = None
    #: a column whose text ends in a unit, `` ($bn)`` or `` (%)``, that the row's ``in_units`` numbers
    #: are in (one value column holding several figures: sensitivity, circularity); the table shows
    #: those numbers as money (``$40.0bn``) or percent and the unit column without the unit
    units: str | None = None
    in_units: tuple[str, ...] = ()
    #: a column shown only where its (shown) text differs from the row above (rows grouped by it)
    group: str | None = None
    #: a column shown as a heading line (``baseline:``) above each run of rows with the same value,
    #: not in the grid
    sections: str | None = None
    #: columns shown each on its own line under its row (``fix: ...``), wrapped to the width, not in
    #: the grid (long text one copies whole: lint's fix command)
    details: tuple[str, ...] = ()
    #: headers exactly as the column names are written (no underscores to spaces) and every column
    #: shown, none folded into a money column (SQL results: what the query selected)
    raw_headers: bool = False
    #: the text of a missing value (``NULL`` for SQL results)
    missing: str = NA_TEXT


DEFAULT_LAYOUT = Layout()

#: Without a terminal (a pipe, a file) and without ``COLUMNS``, tables are this wide.
DEFAULT_WIDTH = 80
#: A text column is not squeezed below this many characters (or its header's longest word).
MIN_TEXT_WIDTH = 12
#: Characters between two columns.
GAP = 2
ELLIPSIS = "…"


def terminal_width() -> int:
    """The width tables fit: ``$COLUMNS`` when set, else the terminal's width when
    stdout is a terminal, else :data:`DEFAULT_WIDTH` (``shutil.get_terminal_size``
    with that fallback). At least 20."""
    return max(20, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def _key(name: str) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


def column_named(df: pd.DataFrame, name: str, *, option: str = "--columns") -> str:
    """The column of ``df`` that ``name`` names (as shown in a table header, with
    spaces, hyphens or underscores, any case); :class:`QueryError` listing the
    columns when none does."""
    by_key = {_key(c): c for c in df.columns}
    c = by_key.get(_key(name))
    if c is None:
        raise QueryError(f"{option}: no column {name!r}; the columns are {', '.join(map(str, df.columns))}")
    return c


def select(df: pd.DataFrame, *, columns: Sequence[str] | str | None = None, sort: str | None = None,
           limit: int | None = None) -> pd.DataFrame:
    """``df`` sorted by ``sort`` (a column; ``-col`` for descending; missing values
    last; ties keep their order), its first ``limit`` rows, and only ``columns``
    (comma-separated text or a list, in that order). Unknown columns and a negative
    limit are a :class:`QueryError`. The frame's ``attrs`` are kept."""
    attrs = dict(df.attrs)
    if sort:
        desc = sort.startswith("-")
        col = column_named(df, sort.lstrip("-+"), option="--sort")
        df = df.sort_values(col, ascending=not desc, na_position="last", kind="stable",
                            key=lambda s: s.map(lambda v: ", ".join(map(str, v)) if isinstance(v, (list, tuple))
                                                else v) if s.dtype == object else s)
    if limit is not None:
        if limit < 0:
            raise QueryError(f"--limit must be 0 or more, not {limit}")
        df = df.head(limit)
    if columns:
        names = [c for c in (columns.split(",") if isinstance(columns, str) else columns) if str(c).strip()]
        df = df[[column_named(df, c) for c in names]]
    df = df.reset_index(drop=True)
    df.attrs.update(attrs)
    return df


def _numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


_ID_TOKEN = re.compile(r"[A-Za-z0-9_.\-]+")


def _name_cell(v: Any, names: Mapping[str, str]) -> Any:
    """``v`` with entity ids shown as names: a cell that is an id, a path of ids joined by
    ``" -> "`` (shown with ``→``), or text in which ids appear as whole words
    (``capacity of openai``, ``a -> b -> a (deal-id); +2 more``)."""
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_name_cell(x, names) for x in v]
    if not isinstance(v, str) or not v:
        return v
    if v in names:
        return names[v]
    return _ID_TOKEN.sub(lambda m: names.get(m.group(0), m.group(0)), v).replace(" -> ", " → ")


#: a unit at the end of a ``Layout.units`` cell -> how the row's ``in_units`` numbers show
_UNITS = {" ($bn)": lambda v: money(v * 1e9), " (%)": lambda v: _plain_number(v) + "%"}


def _unit(text: Any) -> tuple[str, Any]:
    if isinstance(text, str):
        for suffix, show in _UNITS.items():
            if text.endswith(suffix):
                return text[:-len(suffix)], show
    return text, None


def display_frame(df: pd.DataFrame, layout: Layout = DEFAULT_LAYOUT,
                  names: Mapping[str, str] | None = None) -> tuple[list[str], list[list[str]], list[bool]]:
    """What a terminal table shows of ``df``: column names, rows of cell text (one
    line each) and which columns are numeric (right-aligned, never shortened).
    Money columns carry their qualifier and the qualifier columns folded into them
    are left out; ``layout.names`` columns show ``names[id]``; ``layout.units`` /
    ``in_units`` / ``group`` apply (:class:`Layout`); ``layout.details`` columns are
    left out (:func:`table_text` prints them under the rows)."""
    cols = [str(c) for c in df.columns]
    folded = set() if layout.raw_headers else {c[:-4] + "_qualifier" for c in cols if c.endswith("_usd")} & set(cols)
    ranged = set() if layout.raw_headers else {c for c in cols if f"{c}_low" in cols and f"{c}_high" in cols}
    folded |= {f"{c}_{end}" for c in ranged for end in ("low", "high")}
    shown = [c for c in cols if c not in folded and c not in layout.details and c != layout.sections]
    units = [_unit(v) for v in df[layout.units].tolist()] if layout.units in cols else None
    rows: list[list[str]] = [[] for _ in range(len(df))]
    for c in shown:
        values = df[c].tolist()
        if c in ranged:  # the interval in the cell (4.0–8.0x, $1.0–2.0bn), the point when it is one
            quals = df[c[:-4] + "_qualifier"].tolist() if c[:-4] + "_qualifier" in folded else [None] * len(df)
            texts = [_interval_cell(c, v, lo, hi, q, layout.missing) for v, lo, hi, q in
                     zip(values, df[f"{c}_low"].tolist(), df[f"{c}_high"].tolist(), quals)]
        elif c.endswith("_usd") and c[:-4] + "_qualifier" in folded:
            quals = df[c[:-4] + "_qualifier"].tolist()
            texts = [layout.missing if _is_missing(v) else money(v, q) for v, q in zip(values, quals)]
        else:
            if units and c == layout.units:
                values = [u[0] for u in units]
            if names and c in layout.names:
                values = [_name_cell(v, names) for v in values]
            texts = [layout.missing if _is_missing(v) else format_cell(c, v) for v in values]
            if units and c in layout.in_units:
                texts = [u[1](float(v)) if u[1] and not _is_missing(v) else t
                         for u, v, t in zip(units, values, texts)]
        if c == layout.group:
            texts = ["" if i and t == texts[i - 1] else t for i, t in enumerate(texts)]
        for r, t in zip(rows, texts):
            r.append(_one_line(t))
    numeric = [_numeric(df[c]) for c in shown]
    return shown, rows, numeric


def _interval_cell(column: str, v: Any, low: Any, high: Any, qualifier: Any, missing: str) -> str:
    """A figure with an interval as a table shows it: the point as :func:`format_cell`
    (money with its qualifier) when the interval is that point, else the interval."""
    if _is_missing(v):
        return missing
    lo, hi = (NAN if _is_missing(x) else float(x) for x in (low, high))
    if column.endswith("_usd"):
        return money_interval(lo, hi, float(v), qualifier if isinstance(qualifier, str) else None)
    point = format_cell(column, v)
    unit = "x" if column in MULTIPLE_COLUMNS else "%" if column.endswith("_pct") else ""
    return interval_text(lo, hi, lambda x: range_number(x) + unit, point if lo == hi or
                         (math.isnan(lo) and math.isnan(hi)) else None)


def _one_line(t: str) -> str:
    return t.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")


def _header(c: str, raw: bool = False) -> str:
    return c if raw else c.replace("_", " ")


def fit(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool],
        priority: Sequence[str], width: int, *, raw_headers: bool = False) -> tuple[list[int], list[int]]:
    """Which columns (indices, in display order) fit in ``width`` and how wide each is.

    A column's *full* width is its widest cell or header word; its *least* width is
    the full width for numbers and short text, else ``max(longest header word,
    MIN_TEXT_WIDTH)``; its *wanted* width is the full width up to a fifth of
    ``width`` (half for the most important column), at least the least. Columns are
    taken in ``priority`` order (then the rest in frame order) until one does not fit
    at its wanted width; the space left widens them, most important first, up to
    their full widths; then, in the same order, columns left out that still fit at
    their least width are taken and widened the same way. The most important column
    is always taken."""
    from rich.cells import cell_len

    n = len(headers)
    word = [max((cell_len(w) for w in _header(h, raw_headers).split()), default=1) for h in headers]
    full = [max([word[i]] + [cell_len(r[i]) for r in rows]) for i in range(n)]
    least = [full[i] if numeric[i] else min(full[i], max(word[i], MIN_TEXT_WIDTH)) for i in range(n)]
    rank = {h: k for k, h in enumerate(priority)}
    order = sorted(range(n), key=lambda i: (rank.get(headers[i], len(rank)), i))
    want = [max(least[i], min(full[i], width // (2 if i == order[0] else 5))) for i in range(n)]
    widths: dict[int, int] = {}
    used = 0

    def take(size, *, stop: bool) -> None:
        nonlocal used
        for i in order:
            need = size[i] + (GAP if widths else 0)
            if i not in widths and (not widths or used + need <= width):
                widths[i] = size[i]
                used += need
            elif i not in widths and stop:
                return

    def widen() -> None:
        nonlocal used
        for i in order:
            if i in widths:
                more = min(max(width - used, 0), full[i] - widths[i])
                widths[i] += more
                used += more

    take(want, stop=True)
    widen()
    take(least, stop=False)
    widen()
    keep = sorted(widths)
    return keep, [widths[i] for i in keep]


def clip(text: str, width: int) -> str:
    """``text`` when it is at most ``width`` cells wide, else cut to ``width`` ending in ``…``."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) <= width:
        return text
    return set_cell_size(text, max(width - 1, 0)).rstrip() + ELLIPSIS


#: how far a detail line (Layout.details) is indented under its row
DETAIL_INDENT = 2


def _detail_lines(column: str, value: Any, width: int, wide: bool, names: Mapping[str, str] | None = None,
                  layout: Layout = DEFAULT_LAYOUT) -> list[str]:
    """``  column: value`` under a row, wrapped between words to ``width`` (continuation
    lines indented under the value); none when the value is missing or empty."""
    if _is_missing(value) or not str(value).strip():
        return []
    lead = " " * DETAIL_INDENT + f"{_header(column)}: "
    if names and column in layout.names:
        value = _name_cell(value, names)
    text = _one_line(format_cell(column, value))
    if wide:
        return [lead + text]
    return textwrap.wrap(text, width=width, initial_indent=lead, subsequent_indent=" " * len(lead),
                         break_on_hyphens=False) or [lead.rstrip()]


def _plural(n: int, noun: str) -> str:
    """``8 entities``, ``1 entity``, ``1 cycle``: ``noun`` is the plural."""
    if n == 1 and noun.endswith("ies"):
        noun = noun[:-3] + "y"
    elif n == 1 and noun.endswith("s"):
        noun = noun[:-1]
    return f"{n:,} {noun}"


def table_text(df: pd.DataFrame, *, title: str | None = None, layout: Layout = DEFAULT_LAYOUT,
               names: Mapping[str, str] | None = None, width: int | None = None, wide: bool = False,
               total_rows: int | None = None, total_usd: float | None = None, summary: str | None = None) -> str:
    """``df`` as a terminal table at most ``width`` wide (:func:`terminal_width` by
    default; ``wide``: every column at full width, however wide), the title above and
    a one-line summary below, then a blank line. ``total_rows`` / ``total_usd``: the row count and money
    total before ``--limit`` (default: ``df``'s); ``summary`` replaces the leading
    count ("15 claims: 12 supported, ...")."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    width = terminal_width() if width is None else width
    headers, rows, numeric = display_frame(df, layout, names)
    n_all = len(df) if total_rows is None else total_rows
    if wide:
        keep = list(range(len(headers)))
        from rich.cells import cell_len
        widths = [max([len(w) for w in _header(headers[i], layout.raw_headers).split()] +
                      [cell_len(r[i]) for r in rows]) for i in keep]
    else:
        keep, widths = fit(headers, rows, numeric, layout.priority, width, raw_headers=layout.raw_headers)
    out: list[str] = []
    if title:
        out.append(title if wide else clip(title, width))
    if len(df):
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0),
                      header_style="bold")  # a space of padding and the box's blank separator: GAP
        for i, w in zip(keep, widths):
            table.add_column(Text(_header(headers[i], layout.raw_headers)), width=w, justify="right" if numeric[i] else "left",
                             no_wrap=False, overflow="fold")
        for r in rows:
            table.add_row(*[Text(clip(r[i], w), no_wrap=True, overflow="ellipsis") for i, w in zip(keep, widths)])
        buf = io.StringIO()
        total = sum(widths) + GAP * (len(widths) - 1)
        Console(file=buf, width=max(total, 1), color_system=None, markup=False, emoji=False, highlight=False,
                legacy_windows=False).print(table)
        lines = [line.rstrip() for line in buf.getvalue().splitlines()]
        details = [c for c in layout.details if c in df.columns]
        section = df[layout.sections].tolist() if layout.sections in df.columns else None
        if details or section:  # the rows are the table's last lines, one each
            head, body = lines[:-len(rows)], lines[-len(rows):]
            lines = head
            for r, line in enumerate(body):
                if section and (r == 0 or section[r] != section[r - 1]):
                    text = _one_line(format_cell(layout.sections, section[r])) + ":"
                    lines.append(text if wide else clip(text, width))
                lines.append(line)
                for c in details:
                    lines += _detail_lines(c, df[c].iloc[r], width, wide, names, layout)
        out += lines
    line = summary or _plural(n_all, layout.noun)
    if total_usd is not None and not summary:
        line += f", {money_interval(*total_usd) if isinstance(total_usd, tuple) else money(total_usd)}"
    if len(df) < n_all:
        line += f"; showing {len(df):,} (--limit)"
    hidden = [headers[i] for i in range(len(headers)) if i not in keep]
    if hidden:
        more = f"; {len(hidden)} more column{'s' if len(hidden) != 1 else ''}"
        named = f"{more} (--wide, --columns): {', '.join(hidden)}"
        line += named if len(line) + len(named) <= width else more + ": --wide"
    out.append(line if wide else clip(line, width))
    return "\n".join(out) + "\n\n"   # a blank line after the summary, as psql does: tables in a row stay apart


def render(df: pd.DataFrame, fmt: str = "table", *, title: str | None = None, layout: Layout | None = None,
           names: Mapping[str, str] | None = None, width: int | None = None, wide: bool = False,
           columns: Sequence[str] | str | None = None, sort: str | None = None, limit: int | None = None,
           summary: str | None = None) -> str:
    """The text of ``df`` in ``fmt`` (table, csv, json, markdown), ending in a newline.

    ``columns`` / ``sort`` / ``limit`` (:func:`select`) apply to every format; the
    rest only to ``table`` (:func:`table_text`). CSV and JSON are otherwise complete
    and exact: every column, raw numbers, ids. ``title`` heads a table (and a
    markdown table, as a bold line; a markdown table ends with a blank line so
    several can follow each other).
    """
    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    layout = layout or DEFAULT_LAYOUT
    n_all = len(df)
    total_usd = None
    if fmt == "table" and layout.total and layout.total in df.columns and not summary:
        given = pd.to_numeric(df[layout.total], errors="coerce")
        total_usd = float(given.sum())
        if f"{layout.total}_low" in df.columns and f"{layout.total}_high" in df.columns:
            # undisclosed figures left out; an unknown end of a disclosed one makes that end unknown
            ends = [pd.to_numeric(df[f"{layout.total}_{e}"], errors="coerce")[given.notna()] for e in ("low", "high")]
            total_usd = total(*ends)
            total_usd = (total_usd[0], total_usd[1]) if total_usd[0] != total_usd[1] else total_usd[0]
    df = select(df, columns=columns, sort=sort, limit=limit)
    if fmt == "csv":
        return to_csv(df)
    if fmt == "json":
        return to_json(df)
    if fmt == "markdown":
        head = f"**{_md_escape(title)}**\n\n" if title else ""
        return head + to_markdown(df) + "\n"
    return table_text(df, title=title, layout=layout, names=names, width=width, wide=wide, total_rows=n_all,
                      total_usd=total_usd, summary=summary)
