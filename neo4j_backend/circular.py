"""circular-flows on a Neo4j server: the same table as :func:`dealgraph.queries.circular.circular_flows`.

Two engines (``--engine``):

* ``projection`` (default): one Cypher statement selects the money hops -- every deal
  relationship passing ``--status`` / ``--as-of``, filtered in the database -- and streams
  them as parallel columns (:mod:`~dealgraph.neo4j_backend.projection`); the embedded backend's compiled
  search runs on them. The same code as ``dealgraph query circular-flows``, so the same
  table, at the embedded speed plus one read of the hops.
* ``cypher``: the whole cycle search in Cypher, for users who want the query text. How:

Definitions (cycle, hop, bottleneck, ranking, time-ordered, witness) are those of
the embedded query -- see its module docstring. How the Cypher gets there:

* ``MATCH p=(a)-[*2..5]->(a)`` would be wrong three ways: it walks closed
  *walks* (nodes may repeat), returns each cycle once per rotation, and once per
  combination of parallel deals. Instead:

  1. **one rotation**: a cycle is matched only from its smallest entity id ``s``;
     every other node must have ``x.id > s.id``. One fixed-length pattern per
     length 2..k (``UNION ALL``), every node named, so the planner prunes as it
     expands and closes the cycle with an expand-into;
  2. **one deal per hop while expanding**: a relationship is followed only when it
     is the selected deal with the smallest ``deal_id`` on its ordered pair
     (``NOT EXISTS`` a smaller one) -- parallel deals cannot multiply paths;
  3. **simple**: the named nodes must be pairwise distinct;
  4. the deal filters (``--status``, ``--as-of``) are predicates on each
     relationship of the fixed-length pattern, which the planner applies at each
     expand (a filter on a variable-length ``[*2..5]`` in a trailing ``WHERE`` runs
     only after the whole expansion in Cypher 5).

* For each cycle a second part collects **all** selected deals of every hop and
  collapses them: hop amount = ``sum`` of known ``amount_usd`` (null when none is
  known), ``undisclosed`` when a deal has none; bottleneck and total follow.
* Ranking, ``--top`` and the time-ordered test run in Python on those rows: the
  witness search (one deal per hop, dates non-decreasing from some starting hop,
  partial dates at their common precision, optional ``--window``) is the embedded
  backend's own :func:`~dealgraph.queries.circular.witness`, so both backends
  report the same witness. (``--temporal`` therefore filters after the Cypher
  cycle search; the embedded backend prunes during its search.)

The search is exhaustive: on a server the statement is bounded by ``timeout``
seconds (transaction timeout); a timeout is an error, not a partial table.
"""

from __future__ import annotations

import math
import time

import neo4j
import numpy as np
import pandas as pd

from dealgraph.graph.arrays import date_intervals
from dealgraph.errors import QueryError
from dealgraph.graph.schema import TENTATIVE_STATUSES
from dealgraph.neo4j_backend import model as m
from dealgraph.neo4j_backend.cypher_common import DEAL_TYPES_PATTERN, Statement, deal_filter, filter_params, read
from dealgraph.neo4j_backend.projection import hop_statements, read_view
from dealgraph.queries import intervals
from dealgraph.queries.circular import RESULT_COLUMNS, check_options, witness


def _length_query(L: int) -> str:
    """Simple cycles of exactly ``L`` hops, each once: ``s`` is the cycle's smallest id."""
    T, E = DEAL_TYPES_PATTERN, m.ENTITY
    nodes = ["s"] + [f"x{i}" for i in range(1, L)]
    parts, conds = [], []
    for i in range(L):
        a, b, r, q = nodes[i], nodes[(i + 1) % L], f"h{i}", f"q{i}"
        parts.append(f"({a})-[{r}:{T}]->")
        conds.append(deal_filter(r))
        # One deal per ordered pair: the selected deal with the smallest deal_id. toString(..)
        # keeps the planner from answering "a smaller deal_id" with a range seek over the
        # deal_id index (half of all deals, at every step): it expands a -> b instead.
        conds.append(f"NOT EXISTS {{ MATCH ({a})-[{q}:{T}]->({b}) WHERE {deal_filter(q)} "
                     f"AND toString({q}.deal_id) < {r}.deal_id }}")
    conds += [f"{x}:{E} AND {x}.id > s.id" for x in nodes[1:]]
    conds += [f"{nodes[i]} <> {nodes[j]}" for i in range(1, L) for j in range(i + 1, L)]
    where = "\n    AND ".join(conds)
    return (f"  MATCH (s:{E})\n  MATCH {''.join(parts)}(s)\n  WHERE {where}\n"
            f"  RETURN [{', '.join(n + '.id' for n in nodes)}] AS ids")


def cycle_query(max_length: int) -> str:
    """The Cypher text for cycles of length 2..``max_length`` (an int, not user text).

    One fixed-length pattern per length (``UNION ALL``) rather than a variable-length
    one: with every node of the cycle named, the planner closes the cycle with an
    expand-into and checks distinctness as it goes (about 3x faster than a quantified
    path pattern on the benchmark graph).
    """
    k = int(max_length)
    if k < 2:
        raise ValueError("max_length must be at least 2")
    T, E = DEAL_TYPES_PATTERN, m.ENTITY
    union = "\n  UNION ALL\n".join(_length_query(L) for L in range(2, k + 1))
    return f"""
CALL {{
{union}
}}
UNWIND range(0, size(ids) - 1) AS i
MATCH (a:{E} {{id: ids[i]}})-[d:{T}]->(b:{E} {{id: ids[(i + 1) % size(ids)]}})
WHERE {deal_filter('d')}
WITH ids, i, collect({{deal_id: d.deal_id, amount_usd: d.amount_usd, status: d.status,
                      date_key: d.date_key, date_precision: d.date_precision,
                      amount_usd_low: d.amount_usd_low, amount_usd_high: d.amount_usd_high}}) AS deals,
     sum(d.amount_usd) AS amount, count(d.amount_usd) AS known, count(d) AS n
ORDER BY ids, i
WITH ids, collect({{amount: CASE WHEN known = 0 THEN null ELSE amount END,
                   undisclosed: known < n, deals: deals}}) AS hops
RETURN ids, size(ids) AS length, hops,
       CASE WHEN any(h IN hops WHERE h.amount IS NULL) THEN null
            ELSE reduce(b = null, h IN hops | CASE WHEN b IS NULL OR h.amount < b THEN h.amount ELSE b END)
       END AS bottleneck,
       reduce(t = 0.0, h IN hops | t + coalesce(h.amount, 0.0)) AS total,
       size([h IN hops WHERE h.undisclosed]) AS undisclosed_hops
"""


#: ``--engine``: ``projection`` streams the selected money hops and searches them with the
#: embedded compiled kernels; ``cypher`` finds the cycles in Cypher on the server.
ENGINES = ("projection", "cypher")

def _check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise QueryError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    return engine


def statements(*, max_length: int = 5, as_of=None, status=None, engine: str = "projection",
               **_options) -> list[Statement]:
    """The Cypher :func:`circular_flows` runs (ranking, ``--top``, ``--temporal`` are applied
    to its rows afterwards, so they do not change it)."""
    k = int(max_length)
    if k < 2:
        raise QueryError("max_length must be at least 2")
    if _check_engine(engine) == "projection":
        return hop_statements(as_of, status)
    return [Statement(f"simple cycles of length 2..{k}, each once, with every hop's selected deals",
                      cycle_query(k), filter_params(as_of, status))]


class _HopDeals:
    """The few attributes :func:`queries.circular.witness` reads, for one cycle's deals."""

    def __init__(self, hops: list[list[dict]]):
        flat = [d for h in hops for d in h]
        key = np.array([d["date_key"] for d in flat], dtype=np.int64)
        prec = np.array([d["date_precision"] for d in flat], dtype=np.int64)
        self.deal_lo, self.deal_hi = date_intervals(key, prec) if flat else (np.zeros(0, np.int64),) * 2
        self.deal_id = [d["deal_id"] for d in flat]
        self._hops = []
        pos = 0
        for h in hops:
            idx = list(range(pos, pos + len(h)))
            pos += len(h)
            # date order (lo, hi), ties by deal id: the embedded backend's hop deal order
            idx.sort(key=lambda j: (self.deal_lo[j], self.deal_hi[j], self.deal_id[j]))
            self._hops.append(np.array(idx, dtype=np.int64))

    def hop_deals(self, h: int) -> np.ndarray:
        return self._hops[h]


def circular_flows(driver: neo4j.Driver, *, database: str | None = None, max_length: int = 5,
                   temporal: bool = False, window=None, top: int | None = 100, count_only: bool = False,
                   timeout: float | None = 30.0, as_of=None, status=None,
                   engine: str = "projection", include=None) -> pd.DataFrame:
    """Circular flows of the graph on the server; the embedded function's columns and attrs.

    ``engine="projection"`` (default): the server selects the money hops
    (:func:`~dealgraph.neo4j_backend.projection.hop_statements`) and the embedded search
    (:func:`dealgraph.queries.circular.circular_flows`) runs on them -- the same code, so the
    same table; ``timeout`` then bounds the read on the server and, separately, the search
    (partial results marked as in the embedded backend). ``engine="cypher"``: the cycles are
    found in Cypher (module docstring); ``timeout`` is the transaction timeout.
    ``include`` (links that move no money, e.g. partnerships): run embedded on the graph
    pulled from the server into a temporary store (:func:`_on_pulled_graph`), whatever the engine.
    """
    k, window, temporal = check_options(max_length, window, temporal, top)
    if include:
        return _on_pulled_graph(driver, database=database, max_length=k, temporal=temporal, window=window,
                                top=top, count_only=count_only, timeout=timeout, as_of=as_of, status=status,
                                include=include)
    t0 = time.perf_counter()
    if _check_engine(engine) == "projection":
        from dealgraph.queries.circular import circular_flows as embedded

        view = read_view(driver, hop_statements(as_of, status), database=database, timeout=timeout)
        read_s = time.perf_counter() - t0
        deals = view.deals
        df = embedded(view, max_length=k, temporal=temporal, window=window, top=top, count_only=count_only,
                      timeout=timeout, as_of=as_of, status=status)
        elapsed = time.perf_counter() - t0
        df.attrs.update(elapsed_s=elapsed, read_s=read_s,
                        message=f"{df.attrs['message']} (projection: {len(deals)} hops read in {read_s:.2f} s, "
                                f"{elapsed:.2f} s in all)")
        return df
    (stmt,) = statements(max_length=k, as_of=as_of, status=status, engine="cypher")
    rows = read(driver, stmt.text, stmt.params, database=database, timeout=timeout)

    out = []
    for r in rows:
        ids = r["ids"]
        L = len(ids)
        hop_deals = [h["deals"] for h in r["hops"]]
        hd = _HopDeals(hop_deals)
        w = witness(hd, list(range(L)), window)
        if temporal and w is None:
            continue
        hop_texts, all_deals = [], []
        for i in range(L):
            names = [hd.deal_id[j] for j in hd.hop_deals(i)]
            all_deals.extend(names)
            hop_texts.append(f"{ids[i]}->{ids[(i + 1) % L]}: {', '.join(names)}")
        bottleneck = r["bottleneck"]
        ends = np.array([[(np.nan if d.get(c) is None else float(d[c])) for c in ("amount_usd_low", "amount_usd_high")]
                         for h in hop_deals for d in h] or np.zeros((0, 2)), dtype=float).reshape(-1, 2)
        hop_of = np.repeat(np.arange(L), [len(h) for h in hop_deals])
        given = np.array([d.get("amount_usd") is not None for h in hop_deals for d in h], dtype=bool)
        hop_ends = np.array([intervals.total(*ends[(hop_of == i) & given].T) if ((hop_of == i) & given).any()
                             else (np.nan, np.nan) for i in range(L)], dtype=float).reshape(-1, 2)
        b_lo, b_hi = intervals.minimum(*hop_ends.T) if bottleneck is not None else (np.nan, np.nan)
        known = ~np.isnan(np.array([np.nan if h["amount"] is None else h["amount"] for h in r["hops"]], dtype=float))
        t_lo, t_hi = intervals.total(*hop_ends[known].T)
        out.append({
            "bottleneck_usd_low": b_lo, "bottleneck_usd_high": b_hi, "total_usd_low": t_lo, "total_usd_high": t_hi,
            "cycle": " -> ".join(ids + [ids[0]]),
            "length": L,
            "bottleneck_usd": float("nan") if bottleneck is None else float(bottleneck),
            "total_usd": float(r["total"]),
            "undisclosed_hops": int(r["undisclosed_hops"]),
            "tentative": any(d["status"] in TENTATIVE_STATUSES for h in hop_deals for d in h),
            "time_ordered": w is not None,
            "witness": ", ".join(hd.deal_id[j] for j in w) if w else "",
            "hops": "; ".join(hop_texts),
            "deal_ids": ", ".join(all_deals),
            "_ids": ids,
        })
    # Ranking as the embedded backend: bottleneck desc (unknown last), total desc, then the
    # cycle's ids (from the smallest id) -- ids compare as the embedded integer codes do.
    out.sort(key=lambda c: (-(c["bottleneck_usd"] if not math.isnan(c["bottleneck_usd"]) else -math.inf),
                            -c["total_usd"], c["_ids"]))
    counts = {L: 0 for L in range(2, k + 1)}
    for c in out:
        counts[c["length"]] += 1
    total = len(out)
    elapsed = time.perf_counter() - t0
    if count_only:
        df = pd.DataFrame({"length": list(counts), "cycles": list(counts.values())})
    else:
        kept = out if top is None else out[:int(top)]
        df = pd.DataFrame([{c: row[c] for c in RESULT_COLUMNS} for row in kept], columns=RESULT_COLUMNS)
    message = f"{total} cycles of length 2..{k} ({'time-ordered' if temporal else 'all'}) in {elapsed:.2f} s (Cypher)"
    df.attrs.update(total_cycles=total, counts_by_length=counts, complete=True, searched="all start entities",
                    message=message, elapsed_s=elapsed, max_length=k, temporal=bool(temporal), window=window)
    return df


def _on_pulled_graph(driver: neo4j.Driver, *, database=None, **options) -> pd.DataFrame:
    """circular-flows with ``include`` links: the hop projection reads money types only, so
    the server's whole graph is pulled into a temporary store and searched there."""
    import tempfile
    from pathlib import Path

    from dealgraph.graph.store import open_store
    from dealgraph.neo4j_backend.pull import pull
    from dealgraph.queries.registry import run_query

    with tempfile.TemporaryDirectory(prefix="dealgraph-pulled-") as tmp:
        store = open_store(Path(tmp) / "pulled.db", seed=False)
        pull(store, driver, database=database, replace=True)
        df = run_query("circular-flows", store, **options)
    message = df.attrs.get("message")
    df.attrs["message"] = "computed on the graph pulled from the server" + (f". {message}" if message else "")
    return df
