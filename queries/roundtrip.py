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
connected component of the payment graph (Tarjan's algorithm on CSR arrays), so
only pairs inside a component are kept; then a compiled hop-bounded search per
X meets in the middle: forward from X for half the hops (stopping once all of
X's payers are found), backwards from each payer still missing for the rest
(see :func:`_return_distances`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from dealgraph.errors import QueryError
from dealgraph.graph.arrays import strong_components
from dealgraph.graph.kernels import kernel
from dealgraph.queries.common import deals_of, money, top_text
from dealgraph.queries.flows import pair_flows

COLUMNS = ["entity", "inflow_usd", "returning_inflow_usd", "share_pct", "returning_payers", "counterparties",
           "undisclosed_deals", "tentative_deals", "reason"]


#: Below this many edges the search runs as plain Python: importing and loading
#: the compiled kernels costs more than it saves.
COMPILE_ABOVE = 20_000


@kernel
def _return_distances(n, indptr, indices, rindptr, rindices, limit, switch):
    """For each node x and each in-neighbour p of x (reverse CSR, slot j): the hop
    distance from x to p if it is at most ``limit``, else -1.

    Per node x with incoming edges, meet in the middle: a breadth-first search
    forward from x for ``a = ceil(limit / 2)`` levels (``switch`` levels when it
    is >= 1, for tests), stopped early once every in-neighbour is found; then,
    for each in-neighbour p still missing, a search backwards from p up to
    ``limit - a`` hops: dist(x, p) = the smallest dist(x, w) + dist(w, p) over
    the nodes w reached both ways. Exact: on a shortest path of length d in
    (a, limit] the node at hop a is in the forward ball (every node within a
    hops of x is marked with its distance) and within d - a hops of p. Why: the
    graph has hubs, so the third and fourth levels forward hold most of the
    graph; the half-depth balls on both sides stay small (measured on a 1M-deal
    synthetic store: 4 s instead of 97 s for the forward-only search).
    Stamps instead of clearing arrays keep each search proportional to what it
    visits.
    """
    out = np.full(len(rindices), -1, np.int64)
    seen = np.zeros(n, np.int64)
    target = np.zeros(n, np.int64)
    dist = np.zeros(n, np.int64)
    queue = np.empty(n, np.int64)
    rseen = np.zeros(n, np.int64)
    rdist = np.zeros(n, np.int64)
    rqueue = np.empty(n, np.int64)
    best = np.full(n, -1, np.int64)
    done = np.zeros(n, np.int64)
    rstamp = 0
    turn = switch if switch >= 1 else (limit + 1) // 2
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
        queue[0] = x
        head, tail = 0, 1
        depth = 0
        while found < want and depth < limit:
            if depth == turn:
                break
            level_end = tail
            while head < level_end:
                u = queue[head]
                head += 1
                for e in range(indptr[u], indptr[u + 1]):
                    v = indices[e]
                    if seen[v] != stamp:
                        seen[v] = stamp
                        dist[v] = depth + 1
                        if target[v] == stamp:
                            found += 1
                        queue[tail] = v
                        tail += 1
            depth += 1
        a = depth   # every node within a hops of x is marked with its distance
        if found < want and a < limit:
            for j in range(lo, hi):
                p = rindices[j]
                if seen[p] == stamp:
                    continue
                if done[p] == stamp:      # a repeated in-neighbour
                    out[j] = best[p]
                    continue
                rstamp += 1
                b = -1
                rseen[p] = rstamp
                rdist[p] = 0
                rqueue[0] = p
                rh, rt = 0, 1
                while rh < rt and b != a + 1:
                    u = rqueue[rh]
                    rh += 1
                    du = rdist[u]
                    if du >= limit - a:
                        break
                    for e in range(rindptr[u], rindptr[u + 1]):
                        w = rindices[e]
                        if rseen[w] != rstamp:
                            rseen[w] = rstamp
                            rdist[w] = du + 1
                            if seen[w] == stamp:
                                c = dist[w] + du + 1
                                if c <= limit and (b < 0 or c < b):
                                    b = c
                            rqueue[rt] = w
                            rt += 1
                best[p] = b
                done[p] = stamp
                out[j] = b
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


def returning_distance(flows: pd.DataFrame, max_length: int, *, compiled: bool | None = None,
                       switch: int = -1) -> np.ndarray:
    """For each flow row P -> X: the hop distance of the shortest chain X -> ... -> P
    when it is at most ``max_length - 1``, else -1.

    ``compiled``: run the numba-compiled search (default: when there are more
    than :data:`COMPILE_ABOVE` edges). ``switch``: the level at which every
    search turns backwards (default: chosen per search; for tests)."""
    dist = np.full(len(flows), -1, np.int64)
    if len(flows) == 0:
        return dist
    codes, names = pd.factorize(pd.concat([flows["payer"], flows["payee"]], ignore_index=True))
    n = len(names)
    src, dst = codes[:len(flows)].astype(np.int64), codes[len(flows):].astype(np.int64)
    if compiled is None:
        compiled = len(flows) > COMPILE_ABOVE
    scc = strong_components if compiled else strong_components.py_func
    search = _return_distances if compiled else _return_distances.py_func
    # only pairs inside one strongly connected component can lie on a cycle
    fptr, find, _ = _csr(src, dst, n)
    comp = scc(n, fptr, find)
    inner = np.flatnonzero(comp[src] == comp[dst])
    if len(inner) == 0:
        return dist
    s, d = src[inner], dst[inner]
    indptr, indices, _ = _csr(s, d, n)
    rindptr, rindices, rorder = _csr(d, s, n)
    out = search(n, indptr, indices, rindptr, rindices, int(max_length) - 1, int(switch))
    dist[inner[rorder]] = out
    return dist


def round_trip(store, *, max_length: int = 5, entity: str | None = None, as_of: str | None = None,
               status=None) -> pd.DataFrame:
    """Share of each entity's known inflow paid by entities it has paid (module doc)."""
    if max_length < 2:
        raise QueryError("max_length must be at least 2 (a loop X -> P -> X)")
    deals = deals_of(store, as_of=as_of, status=status, slim=True)
    flows = pair_flows(deals)
    if len(flows) == 0:
        return pd.DataFrame(columns=COLUMNS)
    return round_trip_table(flows, returning_distance(flows, max_length), entity=entity)


def round_trip_table(flows: pd.DataFrame, dist: np.ndarray, *, entity: str | None = None) -> pd.DataFrame:
    """The round-trip table from pair flows (:func:`queries.flows.pair_flows`) and, for
    each flow P -> X, the returning distance (hops of the shortest chain X -> ... -> P
    within the bound, 0 when none). Shared by the embedded and the Neo4j backends."""
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
