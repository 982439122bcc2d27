"""Round-trip: how much of an entity's inflow is its own money coming back.

For each entity X with incoming deals from named payers:

* ``inflow_usd`` = Σ known amounts of deals P -> X from named payers P ≠ X
  (payer-less rounds and self-deals are excluded — see
  :mod:`dealgraph.queries.flows`);
* P is a *returning* payer when X has paid P, directly or through at most
  ``max_length - 1`` hops: there is a chain of deals X -> A1 -> ... -> P of
  length ``d <= max_length - 1`` (any amounts, undisclosed included — a payment
  is a payment). So X -> ... -> P -> X is a money cycle of length ``d + 1 <=
  max_length``, the same bound as ``circular-flows --max-length``;
* ``returning_inflow_usd`` = Σ known amounts from returning payers;
* ``share_pct = 100 · returning / inflow`` (n/a when inflow is unknown);
* ``undisclosed_deals`` / ``tentative_deals`` count returning deals without
  an amount / in_talks or rumoured;
* ``counterparties`` lists the returning payers (largest first, at most five,
  then ``+N more``) with their amounts and the length ``d + 1`` of the
  shortest cycle through them.

Dates are not considered (a later payment by X can "return" an earlier
inflow); ``circular-flows --temporal`` is the time-ordered view. Sorted by
``share_pct`` descending.

Search: a payer P can be returning only if X and P are in the same strongly
connected component of the payment graph, so only pairs inside a component are
kept, and a compiled hop-bounded breadth-first search from each X stops once
all of X's payers are found.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
from dealgraph.queries.common import deals_of, money, top_text
from dealgraph.queries.flows import pair_flows

COLUMNS = ["entity", "inflow_usd", "returning_inflow_usd", "share_pct", "returning_payers", "counterparties",
           "undisclosed_deals", "tentative_deals", "reason"]


#: Below this many edges inside components the search runs as plain Python:
#: importing and loading the compiled kernel costs more than it saves.
COMPILE_ABOVE = 20_000
_compiled = None


def _kernel():
    global _compiled
    if _compiled is None:
        from numba import njit  # imported on first large search only
        _compiled = njit(cache=True)(_return_distances)
    return _compiled


def _return_distances(n, indptr, indices, rindptr, rindices, limit):
    """For each node x and each in-neighbour p of x (reverse CSR, slot j): the hop
    distance from x to p if it is at most ``limit``, else -1.

    One breadth-first search per node with incoming edges, stopped as soon as
    every in-neighbour is found or the depth bound is reached. Stamps instead of
    clearing arrays keep each search proportional to what it visits.
    """
    out = np.full(len(rindices), -1, np.int64)
    seen = np.zeros(n, np.int64)
    target = np.zeros(n, np.int64)
    dist = np.zeros(n, np.int64)
    queue = np.empty(n, np.int64)
    for x in range(n):
        lo, hi = rindptr[x], rindptr[x + 1]
        if lo == hi:
            continue
        stamp = x + 1
        want = 0
        for j in range(lo, hi):
            p = rindices[j]
            if target[p] != stamp:
                target[p] = stamp
                want += 1
        found = 0
        seen[x] = stamp
        dist[x] = 0
        head, tail = 0, 1
        queue[0] = x
        while head < tail and found < want:
            u = queue[head]
            head += 1
            du = dist[u]
            if du >= limit:
                break  # breadth-first: every later node is at least as far
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if seen[v] != stamp:
                    seen[v] = stamp
                    dist[v] = du + 1
                    if target[v] == stamp:
                        found += 1
                    queue[tail] = v
                    tail += 1
        for j in range(lo, hi):
            p = rindices[j]
            if seen[p] == stamp:
                out[j] = dist[p]
    return out


def _csr(src: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(src, kind="stable")
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return indptr, dst[order].astype(np.int64), order


def returning_distance(flows: pd.DataFrame, max_length: int, *, compiled: bool | None = None) -> np.ndarray:
    """For each flow row P -> X: the hop distance of the shortest chain X -> ... -> P
    when it is at most ``max_length - 1``, else -1.

    ``compiled``: run the numba-compiled search (default: when there are more
    than :data:`COMPILE_ABOVE` edges inside strongly connected components)."""
    dist = np.full(len(flows), -1, np.int64)
    if len(flows) == 0:
        return dist
    codes, names = pd.factorize(pd.concat([flows["payer"], flows["payee"]], ignore_index=True))
    n = len(names)
    src, dst = codes[:len(flows)].astype(np.int64), codes[len(flows):].astype(np.int64)
    # only pairs inside one strongly connected component can lie on a cycle
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(src.tolist(), dst.tolist()))
    comp = np.empty(n, np.int64)
    for i, c in enumerate(nx.strongly_connected_components(g)):
        comp[list(c)] = i
    inner = np.flatnonzero(comp[src] == comp[dst])
    if len(inner) == 0:
        return dist
    s, d = src[inner], dst[inner]
    indptr, indices, _ = _csr(s, d, n)
    rindptr, rindices, rorder = _csr(d, s, n)
    if compiled is None:
        compiled = len(inner) > COMPILE_ABOVE
    search = _kernel() if compiled else _return_distances
    out = search(n, indptr, indices, rindptr, rindices, int(max_length) - 1)
    dist[inner[rorder]] = out
    return dist


def round_trip(store, *, max_length: int = 5, entity: str | None = None, as_of: str | None = None,
               status=None) -> pd.DataFrame:
    """Share of each entity's known inflow paid by entities it has paid (module doc)."""
    if max_length < 2:
        raise ValueError("max_length must be at least 2 (a loop X -> P -> X)")
    deals = deals_of(store, as_of=as_of, status=status)
    flows = pair_flows(deals)
    if len(flows) == 0:
        return pd.DataFrame(columns=COLUMNS)
    dist = returning_distance(flows, max_length)
    f = flows.assign(dist=dist, ret=dist > 0)
    g = f.groupby("payee", sort=True)
    rf = f[f["ret"]]
    rg = rf.groupby("payee")
    out = pd.DataFrame({"inflow_usd": g["amount_usd"].sum()})
    out["returning_inflow_usd"] = rg["amount_usd"].sum().reindex(out.index).fillna(0.0)
    out["returning_payers"] = rg.size().reindex(out.index).fillna(0).astype(np.int64)
    out["undisclosed_deals"] = rg["undisclosed"].sum().reindex(out.index).fillna(0).astype(np.int64)
    out["tentative_deals"] = rg["tentative"].sum().reindex(out.index).fillna(0).astype(np.int64)
    tot = out["inflow_usd"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_pct"] = np.where(tot > 0, 100.0 * out["returning_inflow_usd"].to_numpy() / tot, np.nan)
    srt = rf.sort_values(["payee", "amount_usd", "payer"], ascending=[True, False, True], kind="stable")
    out["counterparties"] = top_text(
        srt, "payee", "payer",
        lambda h: h["amount_usd"].map(money) + " (cycle of " + (h["dist"] + 1).astype(str) + ")",
    ).reindex(out.index).fillna("")
    und = out["undisclosed_deals"]
    r1 = np.where(tot > 0, "", "no known inflow from named payers")
    r2 = np.where(und > 0, und.astype(str) + " returning deal(s) with undisclosed amount not counted", "")
    out["reason"] = ["; ".join(p for p in pair if p) for pair in zip(r1, r2)]
    out = out.rename_axis("entity").reset_index()[COLUMNS]
    if entity is not None:
        out = out[out["entity"] == entity]
    return out.sort_values(["share_pct", "inflow_usd", "entity"], ascending=[False, False, True],
                           kind="stable", na_position="last").reset_index(drop=True)
