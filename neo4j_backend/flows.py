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

from dealgraph.errors import QueryError
from dealgraph.graph.schema import TENTATIVE_STATUSES
from dealgraph.neo4j_backend import model as m
from dealgraph.neo4j_backend.cypher_common import DEAL_TYPES_PATTERN, Statement, deal_filter, filter_params, read

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

#: ``--engine`` of concentration and round-trip. ``projection``: concentration reads the money
#: hops (neo4j_backend/projection.py), round-trip the pair flows, and the embedded code computes;
#: ``cypher``: flows aggregated in Cypher, round-trip's returning chains by ``shortestPath``.
ENGINES = ("projection", "cypher")


def _flow_statements(as_of, status) -> list[Statement]:
    flows = Statement("pair flows: the selected deals collapsed per payer -> payee", _FLOWS,
                      {**filter_params(as_of, status), "tentative": list(TENTATIVE_STATUSES)})
    unattr = Statement("known amounts of payer-less rounds per payee", _UNATTRIBUTED, filter_params(as_of, status))
    return [flows, unattr]


def concentration_statements(*, as_of=None, status=None, engine: str = "projection", **_options) -> list[Statement]:
    """The Cypher :func:`concentration_query` runs (``--without`` / ``--entity`` shape its rows
    afterwards): the money hops (``projection``) or the flows aggregated on the server (``cypher``)."""
    if engine not in ENGINES:
        raise QueryError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if engine == "projection":
        from dealgraph.neo4j_backend.projection import hop_statements

        return hop_statements(as_of, status)
    return _flow_statements(as_of, status)




def round_trip_statements(*, max_length: int = 5, as_of=None, status=None, engine: str = "projection",
                          **_options) -> list[Statement]:
    """The Cypher :func:`round_trip` runs: pair flows, then (``cypher``) each flow's returning
    distance."""
    if int(max_length) < 2:
        raise QueryError("max_length must be at least 2 (a loop X -> P -> X)")
    if engine not in ENGINES:
        raise QueryError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if engine == "projection":
        return [_flow_statements(as_of, status)[0]]
    back = Statement(f"for each flow P -> X the shortest chain X -> ... -> P of at most {int(max_length) - 1} "
                     f"selected deals", _returning_query(max_length), filter_params(as_of, status))
    return [_flow_statements(as_of, status)[0], back]


def pair_flows(driver: neo4j.Driver, stmt: Statement, *, database=None, timeout=None) -> pd.DataFrame:
    rows = read(driver, stmt.text, stmt.params, database=database, timeout=timeout)
    df = pd.DataFrame(rows, columns=_FLOW_COLUMNS)
    return df.astype({"payer": object, "payee": object, "amount_usd": float, "deals": np.int64,
                      "undisclosed": np.int64, "tentative": np.int64})


def unattributed_inflow(driver: neo4j.Driver, stmt: Statement, *, database=None, timeout=None) -> pd.Series:
    rows = read(driver, stmt.text, stmt.params, database=database, timeout=timeout)
    if not rows:
        return pd.Series(dtype=float)
    return pd.Series([r["amount_usd"] for r in rows], index=[r["payee"] for r in rows], dtype=float)


def concentration_query(driver: neo4j.Driver, *, engine: str = "projection", **options) -> pd.DataFrame:
    """Same table as :func:`dealgraph.queries.concentration.concentration`: from the money hops
    by the embedded code (``projection``, default) or from flows aggregated in Cypher."""
    concentration_statements(engine=engine)  # checks the name
    if engine == "projection":
        from dealgraph.neo4j_backend.projection import concentration as projected

        return projected(driver, **options)
    return concentration(driver, **options)


def concentration(driver: neo4j.Driver, *, database=None, without: str | None = None, entity: str | None = None,
                  as_of=None, status=None, timeout: float | None = None) -> pd.DataFrame:
    """Same table as :func:`dealgraph.queries.concentration.concentration`, the flows aggregated in Cypher."""
    from dealgraph.queries.concentration import _concentration, _without

    fl, un = _flow_statements(as_of, status)
    flows = pair_flows(driver, fl, database=database, timeout=timeout)
    unattr = unattributed_inflow(driver, un, database=database, timeout=timeout)
    out = _without(flows, unattr, without) if without is not None else _concentration(flows, unattr)
    if entity is not None:
        out = out[out["entity"] == entity]
    return out.reset_index(drop=True)


def _returning_query(max_length: int) -> str:
    """Every flow P -> X (the pairs of :data:`_FLOWS`) with the length of the shortest chain of
    selected deals X -> ... -> P of at most ``max_length - 1`` hops (-1: none)."""
    limit = int(max_length) - 1
    return f"""
MATCH (p:{m.ENTITY})-[d:{DEAL_TYPES_PATTERN}]->(x:{m.ENTITY})
WHERE p <> x AND {deal_filter('d')}
WITH DISTINCT p, x
OPTIONAL MATCH path = shortestPath((x)-[rels:{DEAL_TYPES_PATTERN}*1..{limit}]->(p))
WHERE all(r IN rels WHERE {deal_filter('r')})
RETURN p.id AS payer, x.id AS payee, CASE WHEN path IS NULL THEN -1 ELSE length(path) END AS dist
"""


def returning_distance(driver: neo4j.Driver, flows: pd.DataFrame, stmt: Statement, *, database=None,
                       timeout=None) -> np.ndarray:
    """For each flow row P -> X: shortest X -> ... -> P within ``max_length - 1`` hops, else -1."""
    rows = read(driver, stmt.text, stmt.params, database=database, timeout=timeout)
    found = {(r["payer"], r["payee"]): r["dist"] for r in rows}
    return np.array([found.get(pair, -1) for pair in zip(flows["payer"], flows["payee"])], dtype=np.int64)


def round_trip(driver: neo4j.Driver, *, database=None, max_length: int = 5, entity: str | None = None,
               as_of=None, status=None, timeout: float | None = None, engine: str = "projection") -> pd.DataFrame:
    """Same table as :func:`dealgraph.queries.roundtrip.round_trip`: the flows come from the
    server; the returning distances from the embedded compiled search on them
    (``engine="projection"``) or from ``shortestPath`` on the server (``"cypher"``); the
    table from the shared code."""
    from dealgraph.queries.roundtrip import COLUMNS, round_trip_table
    from dealgraph.queries.roundtrip import returning_distance as embedded_distance

    fl, *back = round_trip_statements(max_length=max_length, as_of=as_of, status=status, engine=engine)
    flows = pair_flows(driver, fl, database=database, timeout=timeout)
    if len(flows) == 0:
        return pd.DataFrame(columns=COLUMNS)
    if engine == "projection":
        dist = embedded_distance(flows, max_length)
    else:
        dist = returning_distance(driver, flows, back[0], database=database, timeout=timeout)
    return round_trip_table(flows, dist, entity=entity)
