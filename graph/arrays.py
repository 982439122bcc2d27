"""The money graph as compressed numpy arrays, built straight from the deals table.

Building a networkx graph of a million deals costs seconds and half a gigabyte;
the array form below costs a fraction of a second and is what the scale-sensitive
queries (circular flows) run on.

Definitions
-----------
* **Entity index**: every entity id that appears as a payer or payee of a kept
  deal, numbered in sorted id order (so index order == string order of ids).
* **Hop**: all deals on one ordered pair ``(payer, payee)`` collapsed into one
  directed edge. ``hop_amount`` = sum of the *known* ``amount_usd`` of its deals;
  ``NaN`` when every deal on the hop is undisclosed. ``hop_undisclosed`` is True
  when at least one deal on the hop has no amount (so the amount is a lower
  bound). ``hop_tentative`` is True when any deal is in_talks / rumoured.
* Deals without a payer (payer-less funding rounds) are not edges, nor are deals
  of a type that moves no money (partnership, warrant: :func:`money_edges`), unless
  a query passes ``include`` (see :func:`with_included`). Self-deals
  (payer == payee) are kept as hops but can never be part of a simple cycle of
  length >= 2.
* **Deal date interval**: a partial date is the calendar period it names;
  ``deal_lo`` is its first day and ``deal_hi`` its last day, as day numbers
  (days since 0001-01-01, day 1 = 0001-01-01). Two partial dates compared at their
  common precision (graph/dates.py) satisfy ``a earlier than b  <=>  hi(a) < lo(b)``
  because calendar periods are nested and aligned; the temporal search relies on
  this equivalence (tested against ``dates.compare``).

Layout (CSR): ``indptr`` (n+1), hops ``hop_src``/``hop_dst`` sorted by
``(src, dst)``; deals of hop ``h`` are ``deal_order[hop_deal_ptr[h]:hop_deal_ptr[h+1]]``
(row positions in the deals frame), sorted by ``(lo, hi)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dealgraph.graph.dates import parse_date
from dealgraph.graph.kernels import kernel
from dealgraph.graph.schema import DEAL_TYPES, NON_MONEY_TYPES, TENTATIVE_STATUSES


@dataclass
class MoneyArrays:
    """The collapsed money graph; see the module docstring for definitions."""

    ids: np.ndarray  # (n,) object array of entity ids, sorted
    indptr: np.ndarray  # (n+1,) int64
    hop_src: np.ndarray  # (m,) int32
    hop_dst: np.ndarray  # (m,) int32
    hop_amount: np.ndarray  # (m,) float64, NaN = fully undisclosed
    hop_undisclosed: np.ndarray  # (m,) bool
    hop_tentative: np.ndarray  # (m,) bool
    hop_deal_ptr: np.ndarray  # (m+1,) int64
    deal_order: np.ndarray  # (d,) int64 positions into `deals`
    deal_lo: np.ndarray  # (d,) int64 first day of each deal (by position in `deals`)
    deal_hi: np.ndarray  # (d,) int64 last day
    source: pd.DataFrame  # the deals frame given to build_arrays (not copied)
    rows: np.ndarray  # (d,) positions in `source` of the deals that are edges (deal numbering)

    @property
    def deals(self) -> pd.DataFrame:
        """The edge deals as a frame, in deal numbering (built on demand: a copy)."""
        return self.source.iloc[self.rows].reset_index(drop=True)

    def column(self, name: str, deals) -> np.ndarray:
        """Values of column ``name`` for the given deal numbers (cheap for a few deals)."""
        return self.source[name].iloc[self.rows[np.asarray(deals, dtype=np.int64)]].to_numpy()

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def m(self) -> int:
        return len(self.hop_src)

    def hop_deals(self, h: int) -> np.ndarray:
        """Row positions (into ``self.deals``) of the deals on hop ``h``."""
        return self.deal_order[self.hop_deal_ptr[h]:self.hop_deal_ptr[h + 1]]

    def hop_index(self, src: int, dst: int) -> int:
        """Index of hop ``src -> dst`` (-1 when absent)."""
        lo, hi = self.indptr[src], self.indptr[src + 1]
        j = lo + int(np.searchsorted(self.hop_dst[lo:hi], dst))
        return j if j < hi and self.hop_dst[j] == dst else -1


_EPOCH = np.datetime64("0001-01-01", "D")


def date_intervals(date_key: np.ndarray, precision: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last day numbers (day 1 = 0001-01-01) of partial dates.

    ``date_key`` is ``yyyymmdd`` with zeros for missing parts, ``precision`` 1/2/3.
    """
    key = np.asarray(date_key, dtype=np.int64)
    prec = np.asarray(precision, dtype=np.int64)
    y = key // 10000
    mo = np.maximum((key // 100) % 100, 1)
    d = np.maximum(key % 100, 1)
    # datetime64 arithmetic: months since 1970 -> first day of month
    months = ((y - 1970) * 12 + (mo - 1)).astype("timedelta64[M]") + np.datetime64("1970-01", "M")
    first_of_month = months.astype("datetime64[D]")
    lo_date = first_of_month + (d - 1).astype("timedelta64[D]")
    year_start = (y - 1970).astype("timedelta64[Y]") + np.datetime64("1970", "Y")
    next_year = (year_start + np.timedelta64(1, "Y")).astype("datetime64[D]")
    next_month = (months + np.timedelta64(1, "M")).astype("datetime64[D]")
    hi_date = np.where(prec == 1, next_year - np.timedelta64(1, "D"),
                       np.where(prec == 2, next_month - np.timedelta64(1, "D"), lo_date))
    lo = (lo_date - _EPOCH).astype(np.int64) + 1
    hi = (hi_date.astype("datetime64[D]") - _EPOCH).astype(np.int64) + 1
    return lo, hi


class _Columns:
    """Column access to the kept rows of a frame without copying the whole frame."""

    def __init__(self, frame: pd.DataFrame, rows: np.ndarray, all_rows: bool):
        self.frame, self.rows, self.all_rows = frame, rows, all_rows
        self.columns = frame.columns

    def __contains__(self, name) -> bool:
        return name in self.frame.columns

    def __getitem__(self, name) -> pd.Series:
        col = self.frame[name]
        return col if self.all_rows else col.iloc[self.rows]

    def __len__(self) -> int:
        return len(self.rows)


def _factorize_ids(payer: pd.Series, payee: pd.Series, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the kept payers then payees in sorted-id numbering, and the sorted ids.

    Dictionary-encodes with pyarrow (fast on the store's Arrow-backed strings),
    then renumbers the small dictionary in sorted order.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    def arrow(s: pd.Series) -> pa.Array:
        a = pa.array(s.astype("string[pyarrow]") if s.dtype == object else s, from_pandas=True)
        return a.cast(pa.string()) if a.type != pa.string() else a

    pay = arrow(payer)
    if not keep.all():
        pay = pay.filter(pa.array(keep))
    both = pa.chunked_array([pay, arrow(payee).filter(pa.array(keep)) if not keep.all() else arrow(payee)])
    enc = pc.dictionary_encode(both).combine_chunks()
    dictionary = np.asarray(enc.dictionary.to_pylist(), dtype=object)
    order = np.argsort(dictionary.astype(str), kind="stable")
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    codes = rank[enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)] if len(both) else np.zeros(0, np.int64)
    return codes, dictionary[order]


def _date_columns(deals) -> tuple[np.ndarray, np.ndarray]:
    if "date_key" in deals.columns and "date_precision" in deals.columns:
        return (deals["date_key"].to_numpy(dtype=np.int64, na_value=0),
                deals["date_precision"].to_numpy(dtype=np.int64, na_value=3))
    parsed = [parse_date(str(t)) for t in deals["date"]]
    return (np.array([p[0] for p in parsed], dtype=np.int64),
            np.array([p[1] for p in parsed], dtype=np.int64))


def money_edges(deals: pd.DataFrame, include: tuple[str, ...] = ()) -> np.ndarray:
    """Which deals are money edges: a payer, and a type in which money flows payer ->
    payee (``DEAL_TYPES[t].money``). Payer-less rounds, partnerships and warrants are
    not, unless their type is in ``include`` (see :func:`with_included`)."""
    keep = deals["payer"].notna().to_numpy(dtype=bool)
    left_out = [t for t in NON_MONEY_TYPES if t not in include]
    if "type" in deals.columns and left_out:
        keep = keep & ~deals["type"].isin(left_out).to_numpy(dtype=bool)
    return keep


#: The column :func:`with_included` adds: True on a link (a deal of an included type that
#: moves no money), False on a money edge.
LINK = "_link"


def with_included(deals: pd.DataFrame, include: tuple[str, ...]) -> pd.DataFrame:
    """The money edges of ``deals`` plus, for each deal of an ``include``-d type that moves
    no money, a **link**: payer -> payee, and for an undirected type (partnership) also
    payee -> payer, so a cycle may pass it either way. A link on an ordered pair that
    has a money edge is left out: that hop is money (the money hop stands; a partnership
    beside a payment A -> B adds only B -> A). Column :data:`LINK` says which rows are
    links; :func:`build_arrays` with the same ``include`` collapses them into hops of
    their own (a hop is all money or all links)."""
    money = deals[money_edges(deals)]
    links = deals[deals["type"].isin(include).to_numpy(dtype=bool) & deals["payer"].notna().to_numpy(dtype=bool)]
    undirected = links[links["type"].isin([t for t in include if not DEAL_TYPES[t].directed])]
    links = pd.concat([links, undirected.assign(payer=undirected["payee"], payee=undirected["payer"])])
    paid = set(zip(money["payer"], money["payee"]))
    links = links[[(a, b) not in paid for a, b in zip(links["payer"], links["payee"])]]
    return pd.concat([money.assign(**{LINK: False}), links.assign(**{LINK: True})], ignore_index=True)


def build_arrays(deals: pd.DataFrame, include: tuple[str, ...] = ()) -> MoneyArrays:
    """Collapse ``deals`` (store.deals layout, already filtered) into :class:`MoneyArrays`.

    Needs columns ``deal_id, payer, payee, amount_usd, status`` and either
    ``date_key``/``date_precision`` or ``date``. ``include``: non-money types kept as
    edges too (pass :func:`with_included`'s frame, which has their links both ways).
    """
    keep = money_edges(deals, include)
    rows = np.flatnonzero(keep)
    nd = len(rows)
    codes, ids = _factorize_ids(deals["payer"], deals["payee"], keep)
    src = codes[:nd]
    dst = codes[nd:]
    n = len(ids)
    d = _Columns(deals, rows, keep.all())
    key, prec = _date_columns(d)
    lo, hi = date_intervals(key, prec) if nd else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    amount = pd.to_numeric(d["amount_usd"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    tentative = (d["status"].isin(TENTATIVE_STATUSES).to_numpy(dtype=bool) if "status" in deals.columns
                 else np.zeros(nd, bool))

    pair = src * max(n, 1) + dst
    order = np.lexsort((hi, lo, pair))  # by pair, then date: hop deal lists in date order
    spair = pair[order]
    starts = np.flatnonzero(np.r_[True, spair[1:] != spair[:-1]]) if nd else np.zeros(0, np.int64)
    m = len(starts)
    hop_deal_ptr = np.r_[starts, nd].astype(np.int64)
    hop_src = (spair[starts] // max(n, 1)).astype(np.int32)
    hop_dst = (spair[starts] % max(n, 1)).astype(np.int32)

    samt = amount[order]
    known = ~np.isnan(samt)
    if m:
        hop_sum = np.add.reduceat(np.where(known, samt, 0.0), starts)
        hop_known = np.add.reduceat(known.astype(np.int64), starts)
        hop_cnt = np.diff(hop_deal_ptr)
        hop_amount = np.where(hop_known > 0, hop_sum, np.nan)
        hop_undisclosed = hop_known < hop_cnt
        hop_tentative = np.add.reduceat(tentative[order].astype(np.int64), starts) > 0
    else:
        hop_amount = np.zeros(0)
        hop_undisclosed = hop_tentative = np.zeros(0, bool)
    indptr = np.r_[0, np.cumsum(np.bincount(hop_src, minlength=n))].astype(np.int64)
    return MoneyArrays(ids=ids, indptr=indptr, hop_src=hop_src, hop_dst=hop_dst, hop_amount=hop_amount,
                       hop_undisclosed=hop_undisclosed, hop_tentative=hop_tentative,
                       hop_deal_ptr=hop_deal_ptr, deal_order=order.astype(np.int64),
                       deal_lo=lo, deal_hi=hi, source=deals, rows=rows)


def to_networkx(arrays: MoneyArrays):
    """The collapsed graph as a networkx DiGraph (for tests and small baselines)."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(arrays.ids.tolist())
    ids = arrays.ids
    g.add_edges_from(zip(ids[arrays.hop_src].tolist(), ids[arrays.hop_dst].tolist()))
    return g


@kernel
def strong_components(n, indptr, indices):
    """Strongly connected component number of every node of a CSR graph
    (iterative Tarjan, O(nodes + edges)). A compiled kernel (graph/kernels.py);
    ``strong_components.py_func`` runs it as plain Python (small graphs, tests)."""
    index = np.full(n, -1, np.int64)
    low = np.zeros(n, np.int64)
    onstack = np.zeros(n, np.bool_)
    comp = np.full(n, -1, np.int64)
    stack = np.empty(n, np.int64)
    cnode = np.empty(n, np.int64)
    cedge = np.empty(n, np.int64)
    sp = 0
    counter = 0
    ncomp = 0
    for s in range(n):
        if index[s] != -1:
            continue
        index[s] = counter
        low[s] = counter
        counter += 1
        stack[sp] = s
        sp += 1
        onstack[s] = True
        cnode[0] = s
        cedge[0] = indptr[s]
        cs = 1
        while cs > 0:
            v = cnode[cs - 1]
            e = cedge[cs - 1]
            if e < indptr[v + 1]:
                cedge[cs - 1] = e + 1
                w = indices[e]
                if index[w] == -1:
                    index[w] = counter
                    low[w] = counter
                    counter += 1
                    stack[sp] = w
                    sp += 1
                    onstack[w] = True
                    cnode[cs] = w
                    cedge[cs] = indptr[w]
                    cs += 1
                elif onstack[w] and index[w] < low[v]:
                    low[v] = index[w]
            else:
                cs -= 1
                if low[v] == index[v]:
                    while True:
                        sp -= 1
                        w = stack[sp]
                        onstack[w] = False
                        comp[w] = ncomp
                        if w == v:
                            break
                    ncomp += 1
                if cs > 0:
                    u = cnode[cs - 1]
                    if low[v] < low[u]:
                        low[u] = low[v]
    return comp

