"""concentration and round-trip in Cypher.

Both queries work on *flows*: the selected deals collapsed per ordered pair
(definitions in :mod:`dealgraph.queries.flows`). Here the server computes them:

* :func:`pair_flows` -- one ``MATCH (a)-[d:<deal types>]->(b)`` aggregated per
  (payer, payee): ``sum`` of known ``amount_usd`` (0 when none is known), the
  number of deals, of undisclosed and of tentative ones; self-deals excluded;
* :func:`unattributed_inflow` -- known amounts of payer-less rounds
  (``(:Entity)-[:RAISED]->(:Round)``) per payee;
* round-trip's *returning distance* -- for each flow P -> X, the length of the
  shortest chain of selected deals X -> ... -> P of at most ``max_length - 1``
  hops: ``shortestPath`` with the deal filter on every relationship, which Neo4j
  evaluates during the breadth-first search.

The tables are then shaped by the embedded backend's own code
(``queries.concentration``) or by the same steps (:func:`round_trip` below), so
the formulas -- shares, Herfindahl index, pro-rata indirect losses -- are written
once and both backends give the same table.
"""

from __future__ import annotations

import neo4j
import numpy as np
import pandas as pd

from dealgraph.graph.schema import TENTATIVE_STATUSES
from dealgraph.neo4j_backend import model as m
from dealgraph.neo4j_backend.cypher_common import DEAL_TYPES_PATTERN, deal_filter, filter_params, read

_FLOWS = f"""
MATCH (a:{m.ENTITY})-[d:{DEAL_TYPES_PATTERN}]->(b:{m.ENTITY})
WHERE a <> b AND {deal_filter('d')}
RETURN a.id AS payer, b.id AS payee, coalesce(sum(d.amount_usd), 0.0) AS amount_usd, count(d) AS deals,
       count(d) - count(d.amount_usd) AS undisclosed,
       sum(CASE WHEN d.status IN $tentative THEN 1 ELSE 0 END) AS tentative
ORDER BY payer, payee
"""

_UNATTRIBUTED = f"""
MATCH (e:{m.ENTITY})-[:{m.RAISED}]->(d:{m.ROUND})
WHERE {deal_filter('d')} AND d.amount_usd IS NOT NULL
RETURN e.id AS payee, sum(d.amount_usd) AS amount_usd ORDER BY payee
"""

_FLOW_COLUMNS = ["payer", "payee", "amount_usd", "deals", "undisclosed", "tentative"]


def pair_flows(driver: neo4j.Driver, *, database=None, as_of=None, status=None, timeout=None) -> pd.DataFrame:
    params = {**filter_params(as_of, status), "tentative": list(TENTATIVE_STATUSES)}
    rows = read(driver, _FLOWS, params, database=database, timeout=timeout)
    df = pd.DataFrame(rows, columns=_FLOW_COLUMNS)
    return df.astype({"payer": object, "payee": object, "amount_usd": float, "deals": np.int64,
                      "undisclosed": np.int64, "tentative": np.int64})


def unattributed_inflow(driver: neo4j.Driver, *, database=None, as_of=None, status=None,
                        timeout=None) -> pd.Series:
    rows = read(driver, _UNATTRIBUTED, filter_params(as_of, status), database=database, timeout=timeout)
    if not rows:
        return pd.Series(dtype=float)
    return pd.Series([r["amount_usd"] for r in rows], index=[r["payee"] for r in rows], dtype=float)


def concentration(driver: neo4j.Driver, *, database=None, without: str | None = None, entity: str | None = None,
                  as_of=None, status=None, timeout: float | None = None) -> pd.DataFrame:
    """Same table as :func:`dealgraph.queries.concentration.concentration`."""
    from dealgraph.queries.concentration import _concentration, _without

    flows = pair_flows(driver, database=database, as_of=as_of, status=status, timeout=timeout)
    unattr = unattributed_inflow(driver, database=database, as_of=as_of, status=status, timeout=timeout)
    out = _without(flows, unattr, without) if without is not None else _concentration(flows, unattr)
    if entity is not None:
        out = out[out["entity"] == entity]
    return out.reset_index(drop=True)


def _returning_query(max_length: int) -> str:
    limit = int(max_length) - 1
    return f"""
UNWIND $pairs AS pair
MATCH (x:{m.ENTITY} {{id: pair.payee}}), (p:{m.ENTITY} {{id: pair.payer}})
OPTIONAL MATCH path = shortestPath((x)-[rels:{DEAL_TYPES_PATTERN}*1..{limit}]->(p))
WHERE all(d IN rels WHERE {deal_filter('d')})
RETURN pair.i AS i, CASE WHEN path IS NULL THEN -1 ELSE length(path) END AS dist
"""


def returning_distance(driver: neo4j.Driver, flows: pd.DataFrame, max_length: int, *, database=None,
                       as_of=None, status=None, timeout=None) -> np.ndarray:
    """For each flow row P -> X: shortest X -> ... -> P within ``max_length - 1`` hops, else -1."""
    dist = np.full(len(flows), -1, np.int64)
    if len(flows) == 0:
        return dist
    pairs = [{"i": i, "payer": p, "payee": x} for i, (p, x) in enumerate(zip(flows["payer"], flows["payee"]))]
    rows = read(driver, _returning_query(max_length), {**filter_params(as_of, status), "pairs": pairs},
                database=database, timeout=timeout)
    for r in rows:
        dist[r["i"]] = r["dist"]
    return dist


def round_trip(driver: neo4j.Driver, *, database=None, max_length: int = 5, entity: str | None = None,
               as_of=None, status=None, timeout: float | None = None) -> pd.DataFrame:
    """Same table as :func:`dealgraph.queries.roundtrip.round_trip`: the flows and
    returning distances come from the server, the table from the shared code."""
    from dealgraph.queries.roundtrip import COLUMNS, round_trip_table

    if max_length < 2:
        raise ValueError("max_length must be at least 2 (a loop X -> P -> X)")
    flows = pair_flows(driver, database=database, as_of=as_of, status=status, timeout=timeout)
    if len(flows) == 0:
        return pd.DataFrame(columns=COLUMNS)
    dist = returning_distance(driver, flows, max_length, database=database, as_of=as_of, status=status,
                              timeout=timeout)
    return round_trip_table(flows, dist, entity=entity)
