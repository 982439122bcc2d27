"""circularity, hubs, timeline and sensitivity through ``neo4j query``: run embedded on the
graph pulled from the server, with the same tables as the local queries, and said so."""

from __future__ import annotations

import pandas as pd
import pytest

from dealgraph.graph.store import open_store
from dealgraph.neo4j_backend.embedded import EMBEDDED, NOTE
from dealgraph.neo4j_backend.push import push
from dealgraph.neo4j_backend.registry import run_cypher_query
from dealgraph.queries.registry import run_query

pytestmark = [pytest.mark.neo4j]

OPTIONS = {"circularity": {"samples": 50, "seed": 3}, "hubs": {}, "timeline": {"freq": "year"},
           "sensitivity": {"top": 3}}


@pytest.mark.parametrize("name", EMBEDDED)
def test_embedded_on_the_pulled_graph_equals_the_local_query(neo4j_target, neo4j_driver, tmp_path, name):
    store = open_store(tmp_path / "s.db")
    push(store, neo4j_driver, database=neo4j_target.database, replace=True)
    local = run_query(name, store, **OPTIONS[name])
    remote = run_cypher_query(name, neo4j_driver, database=neo4j_target.database, **OPTIONS[name])
    pd.testing.assert_frame_equal(local.reset_index(drop=True), remote.reset_index(drop=True), check_dtype=False)
    assert remote.attrs["message"].startswith(NOTE)


def test_cli_says_it_runs_embedded(neo4j_target, neo4j_driver, tmp_path, cli):
    store = open_store(tmp_path / "s.db")
    push(store, neo4j_driver, database=neo4j_target.database, replace=True)
    r = cli("neo4j", "query", "hubs", *neo4j_target.cli_args(), env=neo4j_target.cli_env())
    assert r.returncode == 0, r.stderr
    assert "embedded, pulled from Neo4j" in r.stdout and "no Cypher implementation" in r.stderr
