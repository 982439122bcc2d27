"""The canned queries that have a Cypher implementation, by name, and running them.

Names and options are those of :mod:`dealgraph.queries.registry`, so
``run_cypher_query("circular-flows", driver, max_length=4)`` gives the table
``run_query("circular-flows", store, max_length=4)`` gives on the same data.
"""

from __future__ import annotations

import importlib

import pandas as pd

from dealgraph.errors import QueryError

#: query name -> "module:function" taking (driver, *, database, **options).
CYPHER_QUERIES: dict[str, str] = {
    "circular-flows": "dealgraph.neo4j_backend.circular:circular_flows",
    "concentration": "dealgraph.neo4j_backend.flows:concentration",
    "round-trip": "dealgraph.neo4j_backend.flows:round_trip",
    "multiples": "dealgraph.neo4j_backend.valuation:multiples",
    "returns": "dealgraph.neo4j_backend.valuation:returns",
    "rounds": "dealgraph.neo4j_backend.valuation:rounds",
    "deal-comparisons": "dealgraph.neo4j_backend.valuation:deal_comparisons",
    # no Cypher counterpart: run embedded on the graph pulled from the server (neo4j_backend/embedded.py)
    "circularity": "dealgraph.neo4j_backend.embedded:circularity",
    "hubs": "dealgraph.neo4j_backend.embedded:hubs",
    "timeline": "dealgraph.neo4j_backend.embedded:timeline",
    "sensitivity": "dealgraph.neo4j_backend.embedded:sensitivity",
}


def cypher_function(name: str):
    module, _, attr = CYPHER_QUERIES[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def run_cypher_query(name: str, driver, *, database=None, **options):
    """Run query ``name`` on the Neo4j server behind ``driver``; :class:`QueryError` for a
    name with no Cypher implementation."""
    if name not in CYPHER_QUERIES:
        raise QueryError(f"no Cypher implementation of {name!r}; available: {', '.join(CYPHER_QUERIES)}")
    return cypher_function(name)(driver, database=database, **options)


def server_entities(driver, database=None) -> pd.DataFrame:
    """The entities on the server (id, name, aliases), to resolve an entity named in an option."""
    from dealgraph.neo4j_backend import model as m

    records, _, _ = driver.execute_query(
        f"MATCH (e:{m.ENTITY}) RETURN e.id AS id, e.name AS name, coalesce(e.aliases, '') AS aliases",
        database_=database)
    return pd.DataFrame([r.data() for r in records], columns=["id", "name", "aliases"]).astype("string")
