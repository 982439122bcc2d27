"""The store in the formats analysts already use: an Excel workbook, and network files
for Gephi and Cytoscape. (CSV export is :meth:`Store.export_csv`; reading a workbook
back is :mod:`dealgraph.loaders.xlsx`.)

Excel (:func:`write_xlsx`)
--------------------------
One sheet per table (``entities``, ``fx``, ``deals``, ``metrics``), each holding
exactly what :meth:`Store.export_frames` gives, the CSV schema: the same columns in
the same order, header row in bold and frozen.

* **Numbers.** Money figures (the schema's ``amount`` columns) and the other real
  columns of the CSV schema (``stake_pct``, ``usd_per_unit``) are written as numbers
  when the number is exactly what the CSV text says: its shortest form has at most
  15 significant digits (what Excel keeps) and the text openpyxl writes reads back
  as the same float. Otherwise the cell holds the CSV text, so no value is ever
  rounded. Money uses the number format ``#,##0`` (``General`` for a figure with
  decimals) behind its qualifier as literal text: ``"~"#,##0`` shows
  ``~650,000,000`` for an approximate figure, ``"up to "#,##0`` and
  ``"at least "#,##0`` likewise. The cell's value is the figure, so sums work; the
  qualifier lives in the number format, and reading the workbook back
  (:mod:`dealgraph.loaders.xlsx`) takes it from there.
* **Text** is written as text cells, never as formulas. A cell a spreadsheet would
  run or reinterpret when it is edited (leading ``= + - @``, tab or CR: the cells
  ``export --spreadsheet-safe`` neutralises in CSV, decided by the same
  :func:`~dealgraph.graph.store.neutralise`) is written with Excel's *quote prefix*
  style -- what Excel itself does when one types ``'=x`` -- so Excel shows and keeps
  the text as it is and never evaluates it, and the value stays exact (no ``'`` is
  added to the data). Dates stay text, with their precision (``2025``, ``2025-03``).
* Excel cannot hold everything: more than 1,048,575 rows in a sheet, a cell over
  32,767 characters or a control character other than tab/newline/CR is refused
  (:class:`~dealgraph.errors.DealgraphError`, naming the cell), never cut.

Network (:func:`network`, :func:`write_network`)
------------------------------------------------
A directed multigraph: every entity is a node (id = entity id; ``label`` and ``name``
= its name; ``kind``), every deal with a payer is an edge from payer to payee
(id = ``deal_id``; ``deal_type``, ``status``, ``date``, ``amount``,
``amount_qualifier``, ``currency``, ``amount_usd``, the interval ``amount_low`` /
``amount_high`` / ``amount_usd_low`` / ``amount_usd_high``; ``weight`` = ``amount_usd`` so
Gephi draws money as thickness). An undisclosed figure (or unknown end) is left out of
that edge rather than written as 0. The deal type is ``deal_type``, not ``type``: ``type`` is
a reserved GEXF edge attribute (directed/undirected). Rounds with no payer are
valuation events, not money edges, and are not edges (as in ``store.graph()``).
Every deal status is exported (filter on ``status`` in Gephi). Every edge says what
flows on it, from the schema's deal type: ``flows`` (``money``, or ``nothing`` for a
partnership or warrant) and ``directed`` (false for a partnership: its two parties
in id order, no direction); GEXF also marks such an edge ``type="undirected"``, which
Gephi draws without an arrow in a mixed graph.

Cycles are marked from ``query circular-flows``: the top ``cycles_top`` cycles of
length 2..``max_length`` (default 4) by bottleneck, with that query's default status
selection (terminated deals are not money that went round), ranked 1, 2, ... as the
query lists them. ``cycles`` on a node or edge is the ``;``-separated ranks of the
listed cycles through it (empty when none); ``on_cycle`` is whether there is any.
An edge is on a cycle when its payer -> payee pair is a hop of the cycle and its
deal counts under that selection (all deals on a pair form one hop). The graph's
own attributes (GraphML only: GEXF has none) say how many cycles there are in all
(``cycles_total``), how many are marked (``cycles_marked``), up to what length
(``cycles_max_length``) and whether the search finished within its ``timeout``
(``cycles_complete``; when not, the marks are the best cycles found so far).
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from dealgraph.errors import DealgraphError
from dealgraph.graph.schema import DEAL_TYPES, QUALIFIERS, TABLES
from dealgraph.graph.store import neutralise
from dealgraph.loaders.amounts import QUALIFIER_PREFIX as AMOUNT_PREFIX, format_number

if TYPE_CHECKING:
    import networkx as nx

    from dealgraph.graph.store import Store

#: Excel's limits: rows in a sheet (the header is one of them), characters in a cell.
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_CELL = 32_767
#: The most significant digits Excel keeps of a number.
EXCEL_DIGITS = 15
#: Qualifier -> the text shown before its figure (``~``, ``up to ``...), as written in CSV.
QUALIFIER_PREFIX: dict[str, str] = {q: AMOUNT_PREFIX[q] for q in QUALIFIERS}  # a range has none: a text cell
NETWORK_FORMATS: tuple[str, ...] = ("gexf", "graphml")
#: Characters an xlsx cell cannot hold (XML 1.0 forbids them; openpyxl refuses them).
_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")


# ----------------------------------------------------------------------------- Excel

def money_format(qualifier: str, integral: bool) -> str:
    """The number format of a money cell: the figure behind its qualifier's text."""
    body = "#,##0" if integral else "General"
    prefix = QUALIFIER_PREFIX[qualifier]
    return f'"{prefix}"{body}' if prefix else body


def exact_number(text: str) -> float | None:
    """The number ``text`` (CSV-schema text of a number) stands for, when a spreadsheet
    cell holds it exactly (see the module docstring); else None."""
    try:
        v = float(text)
    except ValueError:
        return None
    if not math.isfinite(v) or format_number(v) != text:
        return None
    digits = re.sub(r"e.*$", "", text.lstrip("-")).replace(".", "").strip("0")
    if len(digits) > EXCEL_DIGITS or float("%.16g" % v) != v:  # openpyxl writes "%.16g"
        return None
    return v


def split_amount(text: str) -> tuple[str, float] | None:
    """``(qualifier, figure)`` of an amount's CSV text (``~650000000`` -> approx,
    6.5e8) when the figure is an :func:`exact_number`; else None."""
    for q in sorted(QUALIFIERS, key=lambda q: -len(QUALIFIER_PREFIX[q])):
        prefix = QUALIFIER_PREFIX[q]
        if text.startswith(prefix):
            v = exact_number(text[len(prefix):])
            return None if v is None else (q, v)
    return None


def _refuse_what_excel_cannot_hold(frames: dict[str, pd.DataFrame], path: Path) -> None:
    """Raise for the first sheet too long or cell Excel cannot hold (before writing any)."""
    from openpyxl.utils import get_column_letter

    for kind, df in frames.items():
        if len(df) + 1 > XLSX_MAX_ROWS:
            raise DealgraphError(f"the {kind} table has {len(df):,} rows; an Excel sheet holds at most "
                                 f"{XLSX_MAX_ROWS - 1:,} below its header: export it as CSV instead")
        for i, name in enumerate(df.columns, start=1):
            text = df[name].astype("string").fillna("")
            too_long = text.str.len() > XLSX_MAX_CELL
            illegal = text.str.contains(_ILLEGAL, regex=True)
            for r in (too_long | illegal).to_numpy().nonzero()[0][:1]:
                v = text.iloc[r]
                why = (f"holds {len(v):,} characters; an Excel cell holds at most {XLSX_MAX_CELL:,}" if too_long.iloc[r]
                       else f"holds the control character U+{ord(_ILLEGAL.search(v).group()):04X}, which an xlsx "
                            f"file cannot hold")
                raise DealgraphError(f"cannot write {path.name}:{kind}!{get_column_letter(i)}{r + 2}: the text "
                                     f"{why}; export it as CSV instead")


def write_xlsx(store: "Store", path: str | os.PathLike) -> Path:
    """Write the store as one workbook at ``path`` (atomically); see the module docstring."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    path = Path(path)
    _folder_of(path)
    if path.suffix.lower() != ".xlsx":
        raise DealgraphError(f"cannot write {path}: name the workbook .xlsx (`dealgraph add` knows a workbook by it)")
    frames = store.export_frames()
    _refuse_what_excel_cannot_hold(frames, path)
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for kind, df in frames.items():
        ws = wb.create_sheet(kind)
        table = TABLES[kind]
        amounts = set(table.amounts) & set(df.columns)
        reals = {c for c in table.csv_columns if table.types[c] == "REAL"} - amounts
        header = [str(c) for c in df.columns]
        for i, name in enumerate(header, start=1):
            sample = df[name].head(200).str.len().max() if len(df) else 0
            width = max(len(name), int(sample if pd.notna(sample) else 0)) + 2
            ws.column_dimensions[get_column_letter(i)].width = min(max(width, 8), 60)
        ws.freeze_panes = "A2"

        def text_cell(value: str, font=None):
            if neutralise(value) == value and font is None:
                return value
            cell = WriteOnlyCell(ws, value=value)
            cell.data_type = "s"  # openpyxl reads a leading '=' as a formula: it is text
            cell.quotePrefix = neutralise(value) != value
            if font is not None:
                cell.font = font
            return cell

        heads = [text_cell(name, bold) for name in header]
        ws.append(heads)
        columns = [(name, df[name].tolist()) for name in header]
        for r in range(len(df)):
            row = []
            for i, (name, values) in enumerate(columns, start=1):
                v = values[r]
                if v is None or v is pd.NA or v == "":
                    row.append(None)
                    continue
                if name in amounts and (split := split_amount(v)):
                    q, x = split
                    cell = WriteOnlyCell(ws, value=_as_cell_number(x))
                    cell.number_format = money_format(q, x.is_integer())
                    row.append(cell)
                elif name in reals and (x := exact_number(v)) is not None:
                    row.append(_as_cell_number(x))
                else:
                    row.append(text_cell(v))
            ws.append(row)
    _atomic(path, wb.save)
    return path


def _as_cell_number(x: float) -> int | float:
    """A whole number as an int (written without a decimal point), else the float."""
    return int(x) if x.is_integer() and abs(x) < 10 ** EXCEL_DIGITS else x


# ----------------------------------------------------------------------------- network

def network(store: "Store", *, max_length: int = 4, cycles_top: int = 100, timeout: float | None = 30.0
            ) -> "nx.MultiDiGraph":
    """The store as a graph ready for GEXF/GraphML (see the module docstring): only
    attributes those formats hold (text, numbers, booleans; no missing values)."""
    import networkx as nx

    from dealgraph.queries.circular import circular_flows
    from dealgraph.queries.filters import select_deals

    cycles = circular_flows(store, max_length=max_length, top=cycles_top, timeout=timeout)
    node_cycles: dict[str, list[int]] = {}
    hop_cycles: dict[tuple[str, str], list[int]] = {}
    for rank, text in enumerate(cycles["cycle"], start=1):
        ids = text.split(" -> ")  # entity ids are slugs: " -> " is no part of one
        for a, b in zip(ids, ids[1:]):
            node_cycles.setdefault(a, []).append(rank)
            hop_cycles.setdefault((a, b), []).append(rank)
    counted = set(select_deals(store.deals)["deal_id"])

    g = nx.MultiDiGraph(cycles_total=int(cycles.attrs["total_cycles"]), cycles_marked=len(cycles),
                        cycles_max_length=int(max_length), cycles_complete=bool(cycles.attrs["complete"]))
    ents = store.entities
    for ident, name, kind in zip(ents["id"], ents["name"], ents["kind"]):
        ranks = node_cycles.get(ident, [])
        g.add_node(ident, label=name, name=name, kind=kind, on_cycle=bool(ranks), cycles=_ranks(ranks))
    d = store.deals
    d = d[d["payer"].notna()]
    for row in d.itertuples(index=False):
        ranks = hop_cycles.get((row.payer, row.payee), []) if row.deal_id in counted else []
        kind = DEAL_TYPES[row.type]
        attrs = {"deal_id": row.deal_id, "deal_type": row.type, "flows": kind.flows, "directed": kind.directed,
                 "status": row.status, "date": row.date,
                 "currency": row.currency, "on_cycle": bool(ranks), "cycles": _ranks(ranks)}
        if pd.notna(row.amount):
            attrs.update(amount=float(row.amount), amount_qualifier=row.amount_qualifier)
        if pd.notna(row.amount_usd):
            attrs.update(amount_usd=float(row.amount_usd), weight=float(row.amount_usd))
        for end in ("amount_low", "amount_high", "amount_usd_low", "amount_usd_high"):  # an unknown end: absent
            if pd.notna(getattr(row, end)):
                attrs[end] = float(getattr(row, end))
        g.add_edge(row.payer, row.payee, key=row.deal_id, **attrs)
    return g


def _ranks(ranks: list[int]) -> str:
    return ";".join(str(r) for r in sorted(set(ranks)))


def write_network(store: "Store", path: str | os.PathLike, fmt: str, **options) -> Path:
    """Write :func:`network` as ``fmt`` (gexf or graphml) to ``path``, atomically."""
    import networkx as nx

    if fmt not in NETWORK_FORMATS:
        raise DealgraphError(f"unknown network format {fmt!r}; expected one of {', '.join(NETWORK_FORMATS)}")
    _folder_of(Path(path))
    g = network(store, **options)
    if fmt == "gexf":  # GEXF edge ids come from an "id" attribute (GraphML's from the edge key)
        for _u, _v, key, data in g.edges(keys=True, data=True):
            data["id"] = key
            if not data["directed"]:
                data["type"] = "undirected"
    writer = nx.write_gexf if fmt == "gexf" else nx.write_graphml
    return _atomic(Path(path), lambda tmp: writer(g, tmp))


def _folder_of(path: Path) -> Path:
    """The folder ``path`` is written in; it must exist (no folder is made unasked)."""
    if path.is_dir():
        raise DealgraphError(f"cannot write {path}: it is a folder; give a file name (e.g. {path / 'deals'}"
                             f"{path.suffix or '.xlsx'})")
    if not path.parent.is_dir():
        raise DealgraphError(f"cannot write {path}: folder {path.parent} does not exist")
    return path.parent


def _atomic(path: Path, write) -> Path:
    """``write(temporary file name)`` beside ``path``, then rename it to ``path``: a
    reader never sees half a file. The folder must exist (no folder is made unasked)."""
    folder = _folder_of(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=folder)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # as an ordinary new file (mkstemp makes it private)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
