"""The local Neo4j the tests run against is real and answers Cypher over Bolt."""

import pytest

from dealgraph.neo4j_backend import server

pytestmark = [pytest.mark.neo4j]


def test_server_answers_return_1(neo4j_target, neo4j_driver):
    records, _, _ = neo4j_driver.execute_query("RETURN 1 AS one", database_=neo4j_target.database)
    assert records[0]["one"] == 1


def test_local_server_is_neo4j_526(neo4j_target, neo4j_driver):
    records, _, _ = neo4j_driver.execute_query("CALL dbms.components() YIELD name, versions RETURN name, versions")
    name, versions = records[0]["name"], records[0]["versions"]
    assert name == "Neo4j Kernel"
    if neo4j_target.local is not None:
        assert versions == [server.NEO4J_VERSION]




def test_launcher_start_failure_is_reported(tmp_path):
    """A data directory that is a file: the launcher exits and the error says so (no hang)."""
    import pytest

    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    bad = server.LocalNeo4j(data_dir=not_a_dir, log_path=tmp_path / "launcher.log")
    with pytest.raises(server.ServerError, match="exited with code 1 before it was ready: .*FileAlreadyExists"):
        bad.start(timeout=300)


@pytest.mark.slow
def test_serve_runs_until_interrupted_and_stops_cleanly(tmp_path):
    """`dealgraph neo4j serve`: ready line, a working Bolt server, Ctrl-C (SIGINT) stops it."""
    import signal
    import subprocess

    from neo4j import GraphDatabase

    from conftest import dealgraph_exe

    port = server.free_port()
    proc = subprocess.Popen(dealgraph_exe() + ["neo4j", "serve", "--port", str(port), "--data", str(tmp_path / "db")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith(f"Neo4j ready at bolt://127.0.0.1:{port}"), (first, proc.stderr.read())
        driver = GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=None)
        try:
            driver.execute_query("CREATE (:Probe {n: 1})")
            assert driver.execute_query("MATCH (p:Probe) RETURN p.n AS n").records[0]["n"] == 1
        finally:
            driver.close()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped." in err and "Traceback" not in err
    assert (tmp_path / "db" / "data").is_dir()  # the database lives in --data
    import socket

    with socket.socket() as s:  # nothing listens on the port any more
        assert s.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.slow
def test_server_does_not_outlive_a_killed_parent(tmp_path):
    """The launcher watches its stdin pipe: SIGKILL the Python process that started it and
    the Neo4j process shuts itself down (no orphan servers after a crashed test run)."""
    import os
    import subprocess
    import sys
    import time

    code = ("from dealgraph.neo4j_backend.server import LocalNeo4j; import time, sys\n"
            f"s = LocalNeo4j(log_path={str(tmp_path / 'orphan.log')!r}).start()\n"
            "print(s.pid, flush=True); time.sleep(600)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        java_pid = int(parent.stdout.readline())
        os.kill(java_pid, 0)  # running
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            os.kill(java_pid, 0)
        except ProcessLookupError:
            break
        # reap it if it became our zombie (it is our grandchild, normally reaped by init)
        time.sleep(0.2)
    else:
        os.kill(java_pid, 9)
        raise AssertionError("the Neo4j launcher kept running after its parent was killed")
