"""The local Neo4j the tests run against is real and answers Cypher over Bolt."""

from dealgraph.neo4j import server


def test_server_answers_return_1(neo4j_target, neo4j_driver):
    records, _, _ = neo4j_driver.execute_query("RETURN 1 AS one", database_=neo4j_target.database)
    assert records[0]["one"] == 1


def test_local_server_is_neo4j_526(neo4j_target, neo4j_driver):
    records, _, _ = neo4j_driver.execute_query("CALL dbms.components() YIELD name, versions RETURN name, versions")
    name, versions = records[0]["name"], records[0]["versions"]
    assert name == "Neo4j Kernel"
    if neo4j_target.local is not None:
        assert versions == [server.NEO4J_VERSION]


def test_ensure_jars_without_pom_is_one_clear_error(tmp_path):
    import pytest

    with pytest.raises(server.ServerError, match="no pom.xml"):
        server.ensure_jars(tmp_path)


def test_launcher_start_failure_is_reported(tmp_path):
    """A data directory that is a file: the launcher exits and the error says so (no hang)."""
    import pytest

    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    bad = server.LocalNeo4j(data_dir=not_a_dir, log_path=tmp_path / "launcher.log")
    with pytest.raises(server.ServerError, match="exited with code 1 before it was ready: .*FileAlreadyExists"):
        bad.start(timeout=300)
