"""The canned queries with no Cypher implementation, run on a graph pulled from Neo4j.

``circularity``, ``hubs``, ``timeline`` and ``sensitivity`` are compiled numeric
searches (an edge-swap chain, max-flows, many cycle counts) that Cypher has no
counterpart for. ``dealgraph neo4j query NAME`` runs them **embedded**: it pulls the
server's graph into a temporary local store (the same :func:`~dealgraph.neo4j_backend.pull.pull`
as ``dealgraph neo4j pull``, with its validation), runs the embedded query on it and
says so in the result's message. The tables are those of ``dealgraph query NAME`` on the
pulled data.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

#: Queries run embedded on the pulled graph (not in Cypher).
EMBEDDED: tuple[str, ...] = ("circularity", "hubs", "timeline", "sensitivity")

NOTE = "computed embedded (dealgraph's engine) on the graph pulled from Neo4j; this query has no Cypher implementation"


def run_embedded(name: str, driver, *, database=None, **options) -> pd.DataFrame:
    """Pull the server's graph into a temporary store and run query ``name`` on it."""
    from dealgraph.graph.store import open_store
    from dealgraph.neo4j_backend.pull import pull
    from dealgraph.queries.registry import run_query

    with tempfile.TemporaryDirectory(prefix="dealgraph-pulled-") as tmp:
        store = open_store(Path(tmp) / "pulled.db", seed=False)
        pull(store, driver, database=database, replace=True)
        df = run_query(name, store, **options)
    message = df.attrs.get("message")
    df.attrs["message"] = NOTE + (f". {message}" if message else "")
    df.attrs["embedded"] = True
    return df


def circularity(driver, *, database=None, **options) -> pd.DataFrame:
    return run_embedded("circularity", driver, database=database, **options)


def hubs(driver, *, database=None, **options) -> pd.DataFrame:
    return run_embedded("hubs", driver, database=database, **options)


def timeline(driver, *, database=None, **options) -> pd.DataFrame:
    return run_embedded("timeline", driver, database=database, **options)


def sensitivity(driver, *, database=None, **options) -> pd.DataFrame:
    return run_embedded("sensitivity", driver, database=database, **options)
