"""Rendering a result DataFrame for people and for other tools.

``table`` is a rich table for a terminal (numbers in USD shown with thousands
separators); ``csv``, ``json`` (records) and ``markdown`` are exact, for pipes,
notebooks and documents. Missing values print as empty (csv), ``null`` (json)
or ``n/a`` (table, markdown).
"""

from __future__ import annotations

import io
import json
import math

import pandas as pd


def _cell(v) -> str:
    if v is None or (not isinstance(v, (list, tuple, dict, str)) and pd.isna(v)):
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if math.isfinite(v) and v.is_integer() and abs(v) >= 1000:
            return f"{int(v):,}"
        return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    return str(v)


def render(df: pd.DataFrame, fmt: str = "table", *, title: str | None = None) -> str:
    """The text of ``df`` in ``fmt`` (table, csv, json, markdown), ending in a newline."""
    if fmt == "csv":
        return df.to_csv(index=False, lineterminator="\n")
    if fmt == "json":
        recs = [{k: _jsonable(v) for k, v in r.items()} for r in df.astype(object).to_dict("records")]
        return json.dumps(recs, indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        cols = [str(c) for c in df.columns]
        esc = lambda s: s.replace("|", "\\|").replace("\n", " ")  # noqa: E731
        lines = ([f"**{esc(title)}**", ""] if title else []) + [
            "| " + " | ".join(esc(c) for c in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
        for row in df.itertuples(index=False, name=None):
            lines.append("| " + " | ".join(esc(_cell(v)) for v in row) + " |")
        return "\n".join(lines) + "\n\n"
    if fmt == "table":
        from rich.console import Console
        from rich.table import Table

        t = Table(title=title, show_lines=False, header_style="bold")
        for c in df.columns:
            numeric = pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
            t.add_column(str(c), justify="right" if numeric else "left", overflow="fold")
        for row in df.itertuples(index=False, name=None):
            t.add_row(*[_cell(v) for v in row], )
        buf = io.StringIO()
        Console(file=buf, width=200 if not _is_tty() else None, markup=False, emoji=False,
                highlight=False).print(t)
        return buf.getvalue()
    raise ValueError(f"unknown format {fmt!r}")


def _jsonable(v):
    if v is None or (not isinstance(v, (list, tuple, dict, str)) and pd.isna(v)):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def _is_tty() -> bool:
    import sys

    return sys.stdout.isatty()
