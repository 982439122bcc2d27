"""The offline bulk import builds exactly the graph a Bolt push builds (same properties, same
fingerprints), so later pushes are incremental; it refuses a database that holds anything."""

from __future__ import annotations

import pytest

from dealgraph.errors import Neo4jError
from dealgraph.graph.store import open_store
from dealgraph.neo4j_backend.bulk import INCOMPLETE, bulk_push
from dealgraph.neo4j_backend.push import delete_own, push
from dealgraph.neo4j_backend.server import LocalNeo4j

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]


def graph_dump(driver, database=None) -> tuple[list[str], list[str]]:
    """Every node (labels, properties) and relationship (type, properties, both ends'
    labels and properties), each as text, sorted: equal dumps, equal graphs."""
    nodes, _, _ = driver.execute_query("MATCH (n) RETURN labels(n) AS l, properties(n) AS p", database_=database)
    rels, _, _ = driver.execute_query("MATCH (a)-[r]->(b) RETURN type(r) AS t, properties(r) AS p, labels(a) AS la, "
                                      "properties(a) AS pa, labels(b) AS lb, properties(b) AS pb", database_=database)

    def text(v):
        return repr(sorted(v.items())) if isinstance(v, dict) else repr(sorted(v))

    return (sorted(" ".join(text(r[k]) for k in ("l", "p")) for r in nodes),
            sorted(" ".join([r["t"], *(text(r[k]) for k in ("p", "la", "pa", "lb", "pb"))]) for r in rels))


def test_bulk_push_builds_the_bolt_graph_and_later_pushes_are_incremental(neo4j_target, neo4j_driver, tmp_path):
    from neo4j import GraphDatabase

    # the sample data: every kind of row (entities of each kind, deals of each type, payer-less
    # rounds, metrics, FX rates), empty and missing values, text with quotes and commas
    for i, store in enumerate([open_store(tmp_path / "sample.db")]):
        # the Bolt push into the session server
        delete_own(neo4j_driver, neo4j_target.database)
        push(store, neo4j_driver, database=neo4j_target.database)
        want = graph_dump(neo4j_driver, neo4j_target.database)
        assert want[0] and want[1]

        server = LocalNeo4j(data_dir=tmp_path / f"bulk{i}")
        summary = bulk_push(store, server)  # not running: started to check it is empty, left stopped
        assert server.proc.poll() is not None
        assert summary.counters["relationships_created"] == len(want[1])
        assert summary.counters["nodes_created"] == len(want[0])
        assert not (tmp_path / f"bulk{i}" / INCOMPLETE).exists()
        with server:
            with GraphDatabase.driver(server.uri) as driver:
                assert graph_dump(driver) == want  # same labels, types, properties and fingerprints
                again = push(store, driver)  # a Bolt push after it: every row unchanged, nothing sent
                assert not again.changed
                assert all(s["created"] == s["updated"] == 0 for s in again.sent.values())
                with pytest.raises(Neo4jError, match="not empty"):
                    bulk_push(store, server)  # refused, and the graph is untouched
                assert server.proc.poll() is None  # a running server stays running
                assert graph_dump(driver) == want


def test_an_unfinished_bulk_push_is_replaced(tmp_path):
    """A bulk push killed after the import left a marker: the next one overwrites that database."""
    from neo4j import GraphDatabase

    store = open_store(tmp_path / "s.db")
    server = LocalNeo4j(data_dir=tmp_path / "db")
    with server:
        with GraphDatabase.driver(server.uri) as driver:
            driver.execute_query("CREATE (:Entity {id: 'half-done'})")
    (tmp_path / "db" / INCOMPLETE).write_text("")
    bulk_push(store, server)
    with server:
        with GraphDatabase.driver(server.uri) as driver:
            ids = {r["id"] for r in driver.execute_query("MATCH (e:Entity) RETURN e.id AS id").records}
    assert ids == set(store.entities["id"])


def test_cli_bulk_push(cli, tmp_path):
    from neo4j import GraphDatabase

    r = cli("neo4j", "push", "--bulk", "--data", str(tmp_path / "db"), db=tmp_path / "s.db")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("bulk-imported ") and "relationships created" in r.stdout
    again = cli("neo4j", "push", "--bulk", "--data", str(tmp_path / "db"), db=tmp_path / "s.db")
    assert again.returncode == 1 and "not empty" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    with LocalNeo4j(data_dir=tmp_path / "db") as server, GraphDatabase.driver(server.uri) as driver:
        n = driver.execute_query("MATCH (e:Entity) RETURN count(e) AS n").records[0]["n"]
    store = open_store(tmp_path / "s.db")
    assert n == len(store.entities)
