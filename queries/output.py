"""Print query results: ``table`` (rich, for terminals), ``csv``, ``json``, ``markdown``.

Missing values: ``n/a`` in table and markdown, an empty cell in CSV, ``null``
in JSON — never 0. Table and markdown format numbers for reading by column
name: ``*_usd`` as compact dollars (``$20bn``), ``*_pct`` as percent, the
multiple columns with an ``x``; CSV and JSON keep full-precision raw numbers.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

import numpy as np
import pandas as pd

from dealgraph.errors import QueryError
from dealgraph.queries.common import money

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


def render(df: pd.DataFrame, fmt: str = "table", *, title: str | None = None) -> str:
    """The text of ``df`` in ``fmt`` (table, csv, json, markdown), ending in a newline.

    ``title`` heads a table (and a markdown table, as a bold line; a markdown
    table ends with a blank line so several can follow each other). A table
    takes the terminal's width on a terminal and its natural width otherwise
    (pipes and files get whole rows, not squeezed columns).
    """
    if fmt == "csv":
        return to_csv(df)
    if fmt == "json":
        return to_json(df)
    if fmt == "markdown":
        head = f"**{_md_escape(title)}**\n\n" if title else ""
        return head + to_markdown(df) + "\n"
    if fmt == "table":
        import shutil
        import sys

        from rich.console import Console
        buf = io.StringIO()
        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else _natural_width(df)
        console = Console(file=buf, width=width, color_system=None, markup=False, emoji=False, highlight=False)
        print_table(df, console, title)
        return buf.getvalue()
    raise QueryError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _natural_width(df: pd.DataFrame) -> int:
    cols = [str(c) for c in df.columns]
    widths = [len(c) for c in cols]
    for row in df.itertuples(index=False, name=None):
        for i, (c, v) in enumerate(zip(cols, row)):
            widths[i] = max(widths[i], len(format_cell(c, v)))
    return min(max(sum(w + 3 for w in widths) + 4, 40), 2000)


def build_table(df: pd.DataFrame, title: str | None = None):
    """A :class:`rich.table.Table` of ``df`` (values as :func:`format_cell`).

    Cells are rich ``Text`` objects, so user text such as ``[bold]`` is shown
    as typed, never interpreted as markup.
    """
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_lines=False, header_style="bold")
    for c in df.columns:
        numeric = pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
        table.add_column(Text(str(c)), justify="right" if numeric else "left", overflow="fold")
    for row in df.itertuples(index=False, name=None):
        table.add_row(*[Text(format_cell(str(c), v)) for c, v in zip(df.columns, row)])
    return table


def print_table(df: pd.DataFrame, console, title: str | None = None) -> None:
    """Print ``df`` as a rich table on ``console`` (``(no rows)`` when empty)."""
    from rich.text import Text

    if len(df) == 0:
        console.print(Text(f"{title}: (no rows)" if title else "(no rows)"))
        return
    console.print(build_table(df, title))
