"""hubs: who sits at the centre of the circular web.

Definitions (per entity X, on the collapsed money graph of circular-flows)
-----------------------------------------------------------------------
* **lenL** = directed simple cycles of length L (2..k, ``max_length``) through X;
  **cycles** = their sum (the per-entity counts of circular-flows' cycles).
* **capacity_usd**, the **circular capacity** = the most money that can leave X and come back to X through
  the money graph: split X into a source copy X_out holding X's out-hops and a sink copy
  X_in holding X's in-hops; every other entity is one node; every hop is an arc whose
  capacity is its known amount (an undisclosed hop has capacity 0, so the figure is a
  lower bound when ``undisclosed`` > 0); circular capacity = the maximum flow from
  X_out to X_in. Paths of any length count (the flow decomposes into cycles through X,
  each as long as it needs to be). Only hops inside X's strongly connected component
  can carry such flow, so capacity <= min(outflow on cycles, inflow on cycles).
* **out_usd** / **in_usd** = known amounts of X's hops to / from other entities;
  **out_on_cycles_pct** / **in_on_cycles_pct** = the share of those amounts on
  hops that lie on some directed cycle (of any length: both ends in one strongly
  connected component); n/a when the flow is 0 or unknown.
* **undisclosed** = X's hops on cycles (in or out) that include an undisclosed deal.
* **rank** = position by circular capacity descending, then cycles descending, then id.
  Listed: entities on at least one directed cycle (of any length, so an entity on
  longer cycles only is listed with ``cycles`` = 0); ``top`` keeps the best N (their capacities are
  exact: entities are taken in order of the bound min(outflow, inflow on cycles) and the
  search stops once no bound can beat the N-th capacity).

Max-flow: Dinic's algorithm (Dinic 1970; Even & Tarjan 1975) as a compiled ``@kernel``
on the residual graph of the strongly connected component, in whole cents (int64, so
sums are exact). Tests compare it with networkx's ``maximum_flow`` and with a brute-force
minimum cut (max-flow = min-cut, Ford & Fulkerson 1956) on random graphs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dealgraph.errors import QueryError
from dealgraph.graph.arrays import MoneyArrays, build_arrays, strong_components
from dealgraph.graph.kernels import kernel
from dealgraph.queries.circular import prepare, run_search
from dealgraph.queries.common import deals_of


@dataclass
class FlowGraph:
    """Residual graph of the hops inside strongly connected components: arc ``a`` goes
    ``tail -> head[a]`` for ``indptr[tail] <= a < indptr[tail+1]``; ``twin[a]`` is its
    reverse arc; ``rev[a]`` marks reverse arcs (capacity 0 at the start); ``cap`` in cents.
    Node ``n`` (the last) is the sink copy of whichever entity is the source."""

    n: int
    indptr: np.ndarray
    head: np.ndarray
    cap: np.ndarray
    twin: np.ndarray
    rev: np.ndarray
    on_cycle: np.ndarray  # (m,) per hop of the MoneyArrays: lies on some directed cycle


def flow_graph(arrays: MoneyArrays) -> FlowGraph:
    """The residual graph of ``arrays`` (see :class:`FlowGraph`)."""
    n, m = arrays.n, arrays.m
    src = arrays.hop_src.astype(np.int64)
    dst = arrays.hop_dst.astype(np.int64)
    comp = strong_components(n, arrays.indptr, dst) if n else np.zeros(0, np.int64)
    on = (src != dst) & (comp[src] == comp[dst]) if m else np.zeros(0, bool)
    h = np.flatnonzero(on)
    c = np.nan_to_num(arrays.hop_amount[h], nan=0.0)
    cents = np.round(c * 100.0).astype(np.int64)
    k = len(h)
    tail = np.r_[src[h], dst[h]]
    head = np.r_[dst[h], src[h]]
    cap = np.r_[cents, np.zeros(k, np.int64)]
    rev = np.r_[np.zeros(k, bool), np.ones(k, bool)]
    order = np.argsort(tail, kind="stable")
    pos = np.empty(2 * k, np.int64)
    pos[order] = np.arange(2 * k)
    twin_unsorted = np.r_[np.arange(k, 2 * k), np.arange(k)]
    twin = pos[twin_unsorted[order]]
    indptr = np.r_[0, np.cumsum(np.bincount(tail, minlength=n + 1))].astype(np.int64)
    return FlowGraph(n=n, indptr=indptr, head=np.ascontiguousarray(head[order]), cap=np.ascontiguousarray(cap[order]),
                     twin=np.ascontiguousarray(twin), rev=np.ascontiguousarray(rev[order]), on_cycle=on)


@kernel
def _max_flow(indptr, head, cap, twin, rev, res, s, level, it, queue, pstack, touched, dirty):  # pragma: no cover
    """Max flow from s (its out-arcs) back to s (its in-arcs, redirected to the sink node
    n = len(indptr) - 2) by Dinic's algorithm. ``res`` holds the residual capacities
    (equal to ``cap`` on entry, restored on exit); the other arrays are scratch space."""
    t = len(indptr) - 2
    # redirect the in-hops of s to the sink; the reverse arcs at s belong to the sink copy
    for a in range(indptr[s], indptr[s + 1]):
        if rev[a]:
            head[twin[a]] = t
    nt = 0
    total = 0
    while True:
        # BFS levels from s, stopping at the sink's level
        for i in range(len(level)):
            level[i] = -1
        level[s] = 0
        queue[0] = s
        qh, qt = 0, 1
        while qh < qt and level[t] < 0:
            v = queue[qh]
            qh += 1
            for a in range(indptr[v], indptr[v + 1]):
                if res[a] <= 0 or (v == s and rev[a]):
                    continue
                w = head[a]
                if level[w] < 0:
                    level[w] = level[v] + 1
                    if w != t:
                        queue[qt] = w
                        qt += 1
        if level[t] < 0:
            break
        for i in range(len(indptr) - 1):
            it[i] = indptr[i]
        # blocking flow: depth-first along the level graph with current-arc pointers
        while True:
            depth = 0
            v = s
            found = False
            while True:
                if v == t:
                    found = True
                    break
                advanced = False
                while it[v] < indptr[v + 1]:
                    a = it[v]
                    w = head[a]
                    if res[a] > 0 and level[w] == level[v] + 1 and not (v == s and rev[a]):
                        pstack[depth] = a
                        depth += 1
                        v = w
                        advanced = True
                        break
                    it[v] += 1
                if advanced:
                    continue
                if depth == 0:
                    break
                # dead end: retreat and skip the arc that led here
                level[v] = -2
                depth -= 1
                a = pstack[depth]
                v = head[twin[a]] if head[twin[a]] != t else s
                it[v] += 1
            if not found:
                break
            f = res[pstack[0]]
            for i in range(1, depth):
                if res[pstack[i]] < f:
                    f = res[pstack[i]]
            for i in range(depth):
                a = pstack[i]
                if not dirty[a]:
                    dirty[a] = True
                    touched[nt] = a
                    nt += 1
                res[a] -= f
                res[twin[a]] += f
            total += f
    for i in range(nt):
        a = touched[i]
        res[a] = cap[a]
        res[twin[a]] = cap[twin[a]]
        dirty[a] = False
    for a in range(indptr[s], indptr[s + 1]):
        if rev[a]:
            head[twin[a]] = s
    return total


class Capacities:
    """Circular capacity (USD) of entities of one graph, computed on demand."""

    def __init__(self, arrays: MoneyArrays):
        self.fg = flow_graph(arrays)
        fg = self.fg
        self.res = fg.cap.copy()
        n = fg.n + 1
        self.level = np.zeros(n, np.int64)
        self.it = np.zeros(n, np.int64)
        self.queue = np.zeros(n, np.int64)
        self.pstack = np.zeros(n, np.int64)
        self.touched = np.zeros(max(len(fg.cap), 1), np.int64)
        self.dirty = np.zeros(max(len(fg.cap), 1), np.bool_)

    def __call__(self, x: int) -> float:
        fg = self.fg
        if fg.indptr[x] == fg.indptr[x + 1]:
            return 0.0
        f = _max_flow(fg.indptr, fg.head, fg.cap, fg.twin, fg.rev, self.res, int(x), self.level, self.it,
                      self.queue, self.pstack, self.touched, self.dirty)
        return int(f) / 100.0


def hop_flows(arrays: MoneyArrays, on_cycle: np.ndarray) -> dict[str, np.ndarray]:
    """Per entity index: known out/in amounts (other entities only), the parts on cycles,
    and hops on cycles with an undisclosed deal."""
    n = arrays.n
    src, dst = arrays.hop_src, arrays.hop_dst
    amt = np.nan_to_num(arrays.hop_amount, nan=0.0)
    known = ~np.isnan(arrays.hop_amount)
    other = src != dst
    w = np.where(other, amt, 0.0)
    oc = np.where(on_cycle, amt, 0.0)
    und = (on_cycle & arrays.hop_undisclosed).astype(np.int64)
    return {
        "out": np.bincount(src, w, minlength=n), "in": np.bincount(dst, w, minlength=n),
        "out_known": np.bincount(src, (known & other).astype(float), minlength=n) > 0,
        "in_known": np.bincount(dst, (known & other).astype(float), minlength=n) > 0,
        "out_on": np.bincount(src, oc, minlength=n), "in_on": np.bincount(dst, oc, minlength=n),
        "undisclosed": np.bincount(src, und, minlength=n) + np.bincount(dst, und, minlength=n),
    }


def top_capacities(caps: Capacities, flows: dict, candidates: np.ndarray, top: int | None,
                   cycles: np.ndarray | None = None) -> dict[int, float]:
    """Exact capacities of the best ``top`` candidates by (capacity, cycles) (all when None):
    candidates are taken by the bound min(outflow on cycles, inflow on cycles) descending and
    the search stops when the next bound is below the ``top``-th capacity found."""
    bound = np.minimum(flows["out_on"], flows["in_on"])[candidates]
    order = candidates[np.argsort(-bound, kind="stable")]
    got: dict[int, float] = {}
    best: list[float] = []
    for x in order.tolist():
        if top is not None and len(best) >= top:
            nth = sorted(best, reverse=True)[top - 1]
            if min(flows["out_on"][x], flows["in_on"][x]) < nth:
                break
        c = caps(x)
        got[x] = c
        best.append(c)
    return got


COLUMNS_HEAD = ["rank", "entity", "capacity_usd", "cycles"]
COLUMNS_TAIL = ["out_usd", "out_on_cycles_pct", "in_usd", "in_on_cycles_pct", "undisclosed"]


def hubs(store_or_deals, *, max_length: int = 4, top: int | None = 50, entity: str | None = None,
         as_of=None, status=None) -> pd.DataFrame:
    """One row per entity on a cycle, ranked by circular capacity (see the module docstring)."""
    k = int(max_length)
    if k < 2:
        raise QueryError("max_length must be at least 2")
    if top is not None and int(top) < 1:
        raise QueryError("top must be a positive number")
    deals = deals_of(store_or_deals, as_of=as_of, status=status, slim=True)
    arrays = build_arrays(deals)
    res = run_search(prepare(arrays), k, per_node=True)
    by_len = res.node_cycles[:, 2:k + 1]
    cycles = by_len.sum(axis=1)
    caps = Capacities(arrays)
    flows = hop_flows(arrays, caps.fg.on_cycle)
    ids = arrays.ids
    on = np.flatnonzero(np.bincount(arrays.hop_src[caps.fg.on_cycle], minlength=arrays.n) > 0)
    if entity is not None:
        hit = np.flatnonzero(ids == entity)
        if not len(hit):
            raise QueryError(f"entity {entity!r} has no deals with a named payer in this selection")
        on = hit
        top = None
    got = top_capacities(caps, flows, on, None if top is None else int(top))
    rows = []
    for x in got:
        out, inn = flows["out"][x], flows["in"][x]
        row = {"entity": str(ids[x]), "capacity_usd": got[x], "cycles": int(cycles[x])}
        for i, L in enumerate(range(2, k + 1)):
            row[f"len{L}"] = int(by_len[x, i])
        row.update({
            "out_usd": out if flows["out_known"][x] else np.nan,
            "out_on_cycles_pct": 100.0 * flows["out_on"][x] / out if out > 0 else np.nan,
            "in_usd": inn if flows["in_known"][x] else np.nan,
            "in_on_cycles_pct": 100.0 * flows["in_on"][x] / inn if inn > 0 else np.nan,
            "undisclosed": int(flows["undisclosed"][x]),
        })
        rows.append(row)
    cols = COLUMNS_HEAD + [f"len{L}" for L in range(2, k + 1)] + COLUMNS_TAIL
    df = pd.DataFrame(rows, columns=cols[1:])
    if len(df):
        df = df.sort_values(["capacity_usd", "cycles", "entity"], ascending=[False, False, True],
                            kind="stable")
        if top is not None:
            df = df.head(int(top))
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    df = df.reset_index(drop=True)
    df.attrs.update(max_length=k, entities_on_cycles=int(len(on)),
                    message=(f"{len(on)} entities on money cycles; circular capacity = max flow from each "
                             f"entity back to itself (any path length); cycles counted up to length {k}"))
    return df
