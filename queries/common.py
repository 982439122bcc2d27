"""Store access shared by the canned queries: the selected deals, entity names,
deal labels and date arithmetic at common precision."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from dealgraph.graph.dates import format_key
from dealgraph.graph.schema import EXIT_TYPES, ROUND_TYPES  # the queries read them from here too
from dealgraph.queries.filters import select_deals

NAN = float("nan")


#: Deal columns no figure of a query reads (free text, provenance): left out by
#: ``deals_of(..., slim=True)`` so selecting rows of a big store copies less.
TEXT_ONLY_COLUMNS: tuple[str, ...] = ("source", "notes", "extra", "fx_date")


def deals_of(store, *, as_of=None, status=None, slim: bool = False) -> pd.DataFrame:
    """The deals a query sees (``--as-of`` / ``--status``), in store order
    (``slim``: without :data:`TEXT_ONLY_COLUMNS`)."""
    deals = store if isinstance(store, pd.DataFrame) else store.deals
    if slim:
        deals = deals.drop(columns=[c for c in TEXT_ONLY_COLUMNS if c in deals.columns])
    return select_deals(deals, as_of=as_of, status=status)


def entities_of(store) -> pd.DataFrame:
    ents = getattr(store, "entities", None)
    if ents is None:
        return pd.DataFrame(columns=["id", "name", "kind"])
    return ents


def entity_names(store) -> dict[str, str]:
    """Entity id -> display name (the id itself when the entity is unknown)."""
    ents = entities_of(store)
    if len(ents) == 0:
        return {}
    return dict(zip(ents["id"].astype(str), ents["name"].astype(str)))


def text(x) -> str:
    """A cell as text, ``""`` for missing (NA/NaN/None)."""
    if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)):
        return ""
    return str(x)


def num(x) -> float:
    """A cell as float, NaN for missing."""
    if x is None or x is pd.NA:
        return NAN
    try:
        return float(x)
    except (TypeError, ValueError):
        return NAN


def date_of(rec) -> str:
    """The deal's date as stored, or formatted from its key."""
    d = text(rec.get("date"))
    return d or format_key(int(rec["date_key"]), int(rec["date_precision"]))


_DIV = (0, 10000, 100, 1)  # precision -> divisor of the yyyymmdd key


def cmp_dates(a_key: int, a_prec: int, b_key: int, b_prec: int) -> int:
    """-1/0/1 as date a is earlier/equal/later than date b at their common precision."""
    div = _DIV[min(int(a_prec), int(b_prec))]
    ta, tb = int(a_key) // div, int(b_key) // div
    return (ta > tb) - (ta < tb)


def records(df: pd.DataFrame, columns: Iterable[str] | None = None) -> list[dict]:
    """Rows as dicts, like ``df.to_dict("records")`` but fast for Arrow-backed
    string columns (converted once per column, not once per cell). Missing
    strings come back as ``pd.NA``/``None``, missing numbers as NaN."""
    cols = [c for c in (columns if columns is not None else df.columns) if c in df.columns]
    arrays = []
    for c in cols:
        s = df[c]
        if pd.api.types.is_float_dtype(s.dtype):
            arrays.append(s.to_numpy(dtype=float, na_value=np.nan))
        elif isinstance(s.dtype, np.dtype) and s.dtype.kind in "iu":
            arrays.append(s.to_numpy())
        else:
            arrays.append(s.to_numpy(dtype=object))
    return [dict(zip(cols, row)) for row in zip(*arrays)]


def column_texts(df: pd.DataFrame, column: str) -> np.ndarray:
    """A column as an object array of :func:`text` values (``""`` for missing or absent)."""
    if column not in df.columns:
        a = np.empty(len(df), dtype=object)
        a[:] = ""
        return a
    s = df[column]
    if pd.api.types.is_string_dtype(s.dtype) and not s.dtype == object:
        return s.to_numpy(dtype=object, na_value="")
    return np.array([text(x) for x in s.to_numpy(dtype=object)], dtype=object).reshape(len(s))


def column_nums(df: pd.DataFrame, column: str, dtype=float) -> np.ndarray:
    """A column as a float array (NaN for missing or absent), or ``dtype`` (e.g. int64 keys)."""
    if column not in df.columns:
        return np.full(len(df), np.nan)
    if dtype is not float:
        return df[column].to_numpy(dtype=dtype)
    return pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def dates_of(df: pd.DataFrame) -> np.ndarray:
    """:func:`date_of` for every row."""
    d = column_texts(df, "date")
    empty = d == ""
    if empty.any():
        k = df["date_key"].to_numpy()[empty]
        p = df["date_precision"].to_numpy()[empty]
        d[empty] = [format_key(int(a), int(b)) for a, b in zip(k, p)]
    return d


def months_common_many(a_key, a_prec, b_key, b_prec) -> np.ndarray:
    """:func:`months_common` on arrays (same integer arithmetic, same float result)."""
    a_key, b_key = np.asarray(a_key, np.int64), np.asarray(b_key, np.int64)
    div = _DIV_ARR[np.minimum(np.asarray(a_prec, np.int64), np.asarray(b_prec, np.int64))]
    ya, ra = np.divmod(a_key // div * div, 10000)
    yb, rb = np.divmod(b_key // div * div, 10000)
    ma, da = np.divmod(ra, 100)
    mb, db = np.divmod(rb, 100)
    months = (yb - ya) * 12 + (np.maximum(mb, 1) - np.maximum(ma, 1))
    return months + (np.maximum(db, 1) - np.maximum(da, 1)) / 30.4375


def earlier_many(a_key, a_prec, b_key, b_prec) -> np.ndarray:
    """:func:`cmp_dates` (a, b) < 0 on arrays: a strictly earlier than b at common precision."""
    div = _DIV_ARR[np.minimum(np.asarray(a_prec, np.int64), np.asarray(b_prec, np.int64))]
    return np.asarray(a_key, np.int64) // div < np.asarray(b_key, np.int64) // div


_DIV_ARR = np.array(_DIV, dtype=np.int64)


def join_many(*columns: np.ndarray, sep: str = "; ") -> np.ndarray:
    """:func:`join` row by row over object arrays of text."""
    out = np.empty(len(columns[0]) if columns else 0, dtype=object)
    out[:] = [sep.join(i for i in row if i) for row in zip(*columns)]
    return out


def months_common(a_key: int, a_prec: int, b_key: int, b_prec: int) -> float:
    """Calendar months from a to b, both cut to their common precision first.

    Why: a round reported as ``2025-09`` and an exit on ``2025-12-24`` are
    3 months apart — the round's day is unknown, so the exit's day must not add
    23/30 of a month. At year precision the result is a multiple of 12.
    Same arithmetic as :func:`dealgraph.graph.dates.months_between` (each date at
    its first day; whole calendar months plus leftover days / 30.4375), on the
    integer keys directly.
    """
    div = _DIV[min(int(a_prec), int(b_prec))]
    ya, ra = divmod(int(a_key) // div * div, 10000)
    yb, rb = divmod(int(b_key) // div * div, 10000)
    ma, da = divmod(ra, 100)
    mb, db = divmod(rb, 100)
    months = (yb - ya) * 12 + (max(mb, 1) - max(ma, 1))
    return months + (max(db, 1) - max(da, 1)) / 30.4375


def join(items: Iterable[str], sep: str = "; ") -> str:
    return sep.join(i for i in items if i)


def empty_frame(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


def as_float_array(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def money(x: float, qualifier: str | None = None) -> str:
    """Compact US-dollar text: ``$20.0bn``, ``$1.2tn``, ``$650m``, ``$12.5m``, ``$750``;
    ``n/a`` for NaN. Billions and trillions keep one decimal; millions and thousands
    at most one decimal below 100 (``$6.5m``, ``$6m``), none above (``$650m``). ``qualifier`` (one of
    :data:`~dealgraph.graph.schema.QUALIFIERS`) is written in front as in the input
    syntax: ``~$650m``, ``up to $100.0bn``, ``at least $1.0bn``."""
    if x is None or x is pd.NA or (isinstance(x, (float, np.floating)) and math.isnan(x)):
        return "n/a"
    from dealgraph.loaders.amounts import QUALIFIER_PREFIX

    x = float(x)
    a = abs(x)
    text = f"${x:,.0f}"
    if math.isinf(x):
        text = "$inf" if x > 0 else "-$inf"
    else:
        for div, unit, always in ((1e12, "tn", True), (1e9, "bn", True), (1e6, "m", False), (1e3, "k", False)):
            if round(a / div, 1) >= 1:
                v = x / div
                text = f"${v:,.1f}{unit}" if always or abs(v) < 99.95 else f"${v:,.0f}{unit}"
                if not always:
                    text = text.replace(f".0{unit}", unit)
                break
        if text.startswith("$-"):
            text = "-$" + text[2:]
    return QUALIFIER_PREFIX.get(qualifier if isinstance(qualifier, str) else "exact", "") + text


#: Between the two ends of an interval shown as text.
RANGE_DASH = "–"


def interval_text(low: float, high: float, show, point_text: str | None = None) -> str:
    """An interval as text: ``show(low)–show(high)`` with the unit written once when
    both ends end in the same one (``$1.0–2.0bn``, ``4.0–8.0x``), ``up to show(high)`` /
    ``at least show(low)`` when one end is unknown, ``point_text`` (else ``show(low)``)
    when both ends are one figure, ``n/a`` when neither is known."""
    lo_known, hi_known = not _nan(low), not _nan(high)
    if lo_known and hi_known and float(low) == float(high):
        return point_text if point_text is not None else show(low)
    if not lo_known and not hi_known:
        return point_text if point_text is not None else "n/a"
    if not lo_known:
        return "up to " + show(high)
    if not hi_known:
        return "at least " + show(low)
    a, b = show(low), show(high)
    unit = re.search(r"[^\d.,]*$", a).group()
    if unit and b.endswith(unit) and re.fullmatch(r"\$?[\d.,]+" + re.escape(unit), a):
        a = a[:-len(unit)]
        if a.startswith("$") and b.startswith("$"):
            b = b[1:]
    return a + RANGE_DASH + b


def range_number(v: float) -> str:
    """A figure at an interval's end: one decimal below 100 (``4.0``), none above; two
    significant digits below 0.1."""
    v = float(v)
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 0.1 or v == 0:
        return f"{v:.1f}"
    return f"{v:.2g}"


def money_interval(low: float, high: float, point: float | None = None, qualifier: str | None = None) -> str:
    """:func:`money` of an interval: ``$1.0–2.0bn``, ``$500m–$2.0bn``, ``up to $100.0bn``;
    a point as :func:`money` writes it (with ``qualifier``)."""
    return interval_text(low, high, money, money(low if point is None else point, qualifier)
                         if not (_nan(low) and (point is None or _nan(point))) else None)


def _nan(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, (float, np.floating)) and math.isnan(x))


#: Lists of counterparties in a cell show at most this many, then "+N more".
BREAKDOWN_LIMIT = 5


def top_text(df: pd.DataFrame, group: str, label: str, value_text, limit: int = BREAKDOWN_LIMIT) -> pd.Series:
    """Per ``group``: the first ``limit`` rows (already sorted) as "label value; ...",
    plus "+N more" when a group has more rows."""
    if len(df) == 0:
        return pd.Series(dtype=object)
    head = df.groupby(group, sort=False).head(limit)
    parts = (head[label].astype(str) + " " + value_text(head)).to_numpy(dtype=object)
    # join each group's parts in row order (groups in order of first appearance),
    # with plain list joins: a Python function per group through groupby.agg is slow
    codes, keys = pd.factorize(head[group], sort=False)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(keys) + 1))
    ordered = parts[order].tolist()
    joined = ["; ".join(ordered[a:b]) for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]
    n = df.groupby(group, sort=False).size().reindex(keys).to_numpy()
    more = np.maximum(n - limit, 0)
    suffix = np.where(more > 0, np.char.add(np.char.add("; +", more.astype(str)), " more"), "")
    return pd.Series([j + x for j, x in zip(joined, suffix.tolist())], index=keys)
