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
* ``counterparties`` lists each returning payer with its amount and the
  length ``d + 1`` of the shortest cycle through it.

Dates are not considered (a later payment by X can "return" an earlier
inflow); ``circular-flows --temporal`` is the time-ordered view. Sorted by
``share_pct`` descending.

Search: a payer P can be returning only if X and P are in the same strongly
connected component of the payment graph, so hop-bounded breadth-first search
runs from X only inside its component.
"""

from __future__ import annotations

from collections import deque

import networkx as nx
import pandas as pd

from dealgraph.queries.common import NAN, deals_of, money
from dealgraph.queries.flows import pair_flows

COLUMNS = ["entity", "inflow_usd", "returning_inflow_usd", "share_pct", "returning_payers", "counterparties",
           "undisclosed_deals", "reason"]


def _bounded_dist(adj: dict, src: str, limit: int, allowed: set, targets: set) -> dict[str, int]:
    """Hop distance from ``src`` to each reachable target within ``limit`` hops."""
    found: dict[str, int] = {}
    seen = {src}
    q = deque([(src, 0)])
    while q and len(found) < len(targets):
        u, d = q.popleft()
        if d == limit:
            continue
        for v in adj.get(u, ()):
            if v in seen or v not in allowed:
                continue
            seen.add(v)
            if v in targets:
                found[v] = d + 1
            q.append((v, d + 1))
    return found


def round_trip(store, *, max_length: int = 5, entity: str | None = None, as_of: str | None = None,
               status=None) -> pd.DataFrame:
    """Share of each entity's known inflow paid by entities it has paid (module doc)."""
    if max_length < 2:
        raise ValueError("max_length must be at least 2 (a loop X -> P -> X)")
    deals = deals_of(store, as_of=as_of, status=status)
    flows = pair_flows(deals)
    g = nx.DiGraph()
    g.add_edges_from(zip(flows["payer"], flows["payee"]))
    comp: dict[str, int] = {}
    members: list[set] = []
    for i, c in enumerate(nx.strongly_connected_components(g)):
        members.append(c)
        for n in c:
            comp[n] = i
    adj = {n: list(g.successors(n)) for n in g}
    rows = []
    for x, inc in flows.groupby("payee", sort=True):
        if entity is not None and x != entity:
            continue
        inflow = float(inc["amount_usd"].sum())
        c = members[comp[x]]
        payers = set(inc["payer"]) & c
        dist = _bounded_dist(adj, x, max_length - 1, c, payers) if len(c) > 1 else {}
        ret = inc[inc["payer"].isin(dist.keys())].sort_values(["amount_usd", "payer"], ascending=[False, True])
        returning = float(ret["amount_usd"].sum())
        und = int(ret["undisclosed"].sum())
        reasons = []
        if inflow > 0:
            share = 100.0 * returning / inflow
        else:
            share = NAN
            reasons.append("no known inflow from named payers")
        if und:
            reasons.append(f"{und} returning deal(s) with undisclosed amount not counted")
        rows.append(dict(
            entity=x, inflow_usd=inflow, returning_inflow_usd=returning, share_pct=share,
            returning_payers=len(ret),
            counterparties="; ".join(f"{p} {money(a)} (cycle of {dist[p] + 1})"
                                     for p, a in zip(ret["payer"], ret["amount_usd"])),
            undisclosed_deals=und, reason="; ".join(reasons)))
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.sort_values(["share_pct", "inflow_usd", "entity"], ascending=[False, False, True],
                           kind="stable", na_position="last").reset_index(drop=True)
