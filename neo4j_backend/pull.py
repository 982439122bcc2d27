"""Pull dealgraph's data from Neo4j back into a local store (round trip of ``push``).

Reads :Entity nodes, deal relationships and :Round nodes, :Metric and :FxRate
nodes (layout in :mod:`dealgraph.neo4j_backend.model`) into frames shaped like the
store's tables, turns them into the CSV schema with the store's own export code,
and applies them with ``store.import_frames`` -- so a pulled store goes through the
same validation as ``dealgraph add``, and ``push`` then ``pull`` into an empty store
reproduces it exactly (same ``export``).

Derived properties (``*_usd``, ``fx_rate``, ``date_key``) are not read back: the
store recomputes them from the amounts, currencies and FX rates.
"""

from __future__ import annotations


import neo4j
import pandas as pd

from dealgraph.graph.schema import TABLES
from dealgraph.neo4j_backend import model as m

_ENTITY_Q = f"MATCH (e:{m.ENTITY}) RETURN properties(e) AS p ORDER BY e.id"
_DEAL_Q = (f"MATCH (a:{m.ENTITY})-[r]->(b:{m.ENTITY}) WHERE type(r) IN $types AND r.deal_id IS NOT NULL "
           f"RETURN a.id AS payer, b.id AS payee, properties(r) AS p ORDER BY r.deal_id")
_ROUND_Q = (f"MATCH (e:{m.ENTITY})-[:{m.RAISED}]->(d:{m.ROUND}) "
            f"RETURN null AS payer, e.id AS payee, properties(d) AS p ORDER BY d.deal_id")
_METRIC_Q = f"MATCH (x:{m.METRIC}) RETURN properties(x) AS p"
_FX_Q = f"MATCH (x:{m.FXRATE}) RETURN properties(x) AS p"


def read_tables(driver: neo4j.Driver, database: str | None = None) -> dict[str, pd.DataFrame]:
    """Frames with the columns of the store's tables (missing values as NA)."""

    def fetch(query, **params):
        records, _, _ = driver.execute_query(query, params, database_=database,
                                             routing_=neo4j.RoutingControl.READ)
        return records

    ents = [r["p"] for r in fetch(_ENTITY_Q)]
    deals = [{**r["p"], "payer": r["payer"], "payee": r["payee"]}
             for r in fetch(_DEAL_Q, types=list(m.DEAL_REL_TYPES)) + fetch(_ROUND_Q)]
    metrics = [r["p"] for r in fetch(_METRIC_Q)]
    fx = [r["p"] for r in fetch(_FX_Q)]
    from dealgraph.graph.store import as_table

    out = {}
    for kind, rows in (("entities", ents), ("deals", deals), ("metrics", metrics), ("fx", fx)):
        df = as_table(pd.DataFrame.from_records(rows, columns=list(TABLES[kind].names)), kind)
        for col in TABLES[kind].columns:  # absent properties: the column's default ("{}" for extra)
            if col.default is not None:
                df[col.name] = df[col.name].fillna(col.default)
        out[kind] = df
    # Neo4j does not hold the sources file's observations: an empty table (pull keeps the
    # store's own, see :func:`pull`)
    out["observations"] = as_table(pd.DataFrame(columns=list(TABLES["observations"].names)), "observations")
    return out


def tables_to_frames(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The CSV-schema text frames for table-shaped frames, formatted exactly as
    ``dealgraph export`` formats them (:func:`dealgraph.graph.store.frames_from_tables`)."""
    from dealgraph.graph.store import frames_from_tables

    return frames_from_tables(tables)


def pull(store, driver: neo4j.Driver, *, database: str | None = None, replace: bool = False):
    """Apply what Neo4j holds to ``store``; returns the store's add summary.

    ``replace``: the store becomes exactly what Neo4j holds (in one transaction), but for
    the observations of the sources file, which Neo4j does not hold: those of the deals and
    entities Neo4j has are kept; otherwise rows are added or updated and the store's other
    rows stay.
    """
    frames = tables_to_frames(read_tables(driver, database))
    if replace:  # Neo4j holds no observations: keep the store's, of the deals and entities still there
        mine = store.export_frames()["observations"]
        known = set(frames["deals"]["deal_id"]) | set(frames["entities"]["id"])
        frames["observations"] = mine[mine["subject"].isin(known)]
    return store.import_frames(frames, replace=replace, origin="neo4j")
