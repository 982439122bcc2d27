"""`dealgraph neo4j ...` end to end, and the faults: unreachable server, bad URI,
wrong password (never printed), server killed in the middle of a push."""

from __future__ import annotations

import threading
import time

import pytest

from dealgraph.loaders import synth
from dealgraph.neo4j_backend.connection import Settings, connect
from dealgraph.neo4j_backend.push import delete_own, push
from dealgraph.neo4j_backend.pull import pull
from dealgraph.neo4j_backend.server import LocalNeo4j, free_port
from dealgraph.graph.store import open_store
from test_neo4j_push import assert_same_store

pytestmark = [pytest.mark.neo4j]


def one_error_line(proc, starts: str) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(starts), lines[0]
    return lines[0]


@pytest.mark.slow
def test_cli_push_pull_query(cli, neo4j_target, neo4j_driver, tmp_path):
    delete_own(neo4j_driver, neo4j_target.database)
    db = tmp_path / "s.db"
    conn, env = neo4j_target.cli_args(), neo4j_target.cli_env()
    first = cli("neo4j", "push", *conn, db=db, env=env)
    assert first.returncode == 0, first.stderr
    assert "pushed" in first.stdout and "created" in first.stdout
    second = cli("neo4j", "push", *conn, db=db, env=env)
    assert second.returncode == 0 and second.stdout.strip().endswith("no changes"), second.stdout

    pulled = tmp_path / "pulled.db"
    open_store(pulled, seed=False)
    p = cli("neo4j", "pull", *conn, db=pulled, env=env)
    assert p.returncode == 0, p.stderr
    assert_same_store(open_store(db), open_store(pulled))

    # more options: test_neo4j_queries.py (in-process); here the command line, and an entity by name
    for name, args, engine in (("circular-flows", ["--max-length", "4", "--temporal"], []),
                               ("circular-flows", ["--max-length", "4", "--temporal"], ["--engine", "cypher"]),
                               ("round-trip", ["--max-length", "3"], ["--engine", "cypher"]),
                               ("rounds", ["Scale AI"], [])):
        cy = cli("neo4j", "query", name, *conn, *args, *engine, "--format", "csv", db=db, env=env)
        emb = cli("query", name, *args, "--format", "csv", db=db)
        assert cy.returncode == 0 and emb.returncode == 0, (cy.stderr, emb.stderr)
        assert cy.stdout == emb.stdout
        assert cy.stdout.count("\n") > 1  # a header and at least one row

    # refused values: the same one line and exit 1 as `dealgraph query`
    nobody = cli("neo4j", "query", "rounds", "nobody-at-all", *conn, db=db, env=env)
    one_error_line(nobody, "error: no entity on the server matches 'nobody-at-all' (by id, name or alias)")
    for bad, line in ((["--status", "bogus"], "error: unknown status 'bogus'"),
                      (["--as-of", "2025-13"], "error: as-of date '2025-13' has no month 13")):
        one_error_line(cli("neo4j", "query", "multiples", *conn, *bad, db=db, env=env), line)


def test_unreachable_server_is_one_line(cli, tmp_path):
    port = free_port()
    for sub in (["push"], ["pull"], ["query", "circular-flows"]):
        proc = cli("neo4j", *sub, "--uri", f"bolt://127.0.0.1:{port}", db=tmp_path / "s.db")
        one_error_line(proc, f"error: cannot reach Neo4j at bolt://127.0.0.1:{port}")
        assert proc.stdout == ""
    routed = cli("neo4j", "push", "--uri", f"neo4j://127.0.0.1:{port}", db=tmp_path / "s.db")
    one_error_line(routed, f"error: cannot reach Neo4j at neo4j://127.0.0.1:{port}")


def test_bad_uri_is_one_line(cli, tmp_path):
    proc = cli("neo4j", "push", "--uri", "http://127.0.0.1:7474", db=tmp_path / "s.db")
    one_error_line(proc, "error: invalid Neo4j URI 'http://127.0.0.1:7474'")


def test_wrong_password_is_one_line_and_never_printed(cli, neo4j_target, tmp_path):
    if neo4j_target.password is None:  # an external server without authentication: make one with it
        server = LocalNeo4j(password="s3cret-Pa55word", log_path=tmp_path / "auth.log").start()
        uri, secret = server.uri, "s3cret-Pa55word"
    else:
        server, uri, secret = None, neo4j_target.uri, neo4j_target.password
    wrong = "wr0ng-Pa55word"
    try:
        db = tmp_path / "s.db"
        base = ["--uri", uri, "--user", neo4j_target.user or "neo4j"]
        bad = cli("neo4j", "push", *base, db=db, env={"NEO4J_PASSWORD": wrong})
        line = one_error_line(bad, f"error: Neo4j at {uri} refused the credentials of user")
        none = cli("neo4j", "pull", *base, db=db, env={"NEO4J_PASSWORD": ""})
        one_error_line(none, f"error: Neo4j at {uri} requires authentication")
        good = cli("neo4j", "query", "circular-flows", *base, db=db, env={"NEO4J_PASSWORD": secret})
        assert good.returncode == 0, good.stderr
        for proc in (bad, good, none):
            assert secret not in proc.stdout + proc.stderr and wrong not in proc.stdout + proc.stderr
        assert wrong not in line
        asked = cli("neo4j", "query", "rounds", "groq", *base, "--ask-password", db=db, input=secret + "\n",
                    env={"NEO4J_PASSWORD": ""})
        assert asked.returncode == 0, asked.stderr
        assert secret not in asked.stdout + asked.stderr
    finally:
        if server is not None:
            server.stop()


def test_a_password_on_the_command_line_is_refused_and_not_echoed(cli, tmp_path):
    """argv is public (`ps`): the CLI refuses --password VALUE before connecting, in one line."""
    secret = "argv-Pa55word-xyz"
    for sub in (["push"], ["pull"], ["query", "circular-flows"]):
        proc = cli("neo4j", *sub, "--uri", f"bolt://127.0.0.1:{free_port()}", "--password", secret,
                   db=tmp_path / "s.db")
        line = one_error_line(proc, "error: a password on the command line is visible to every user")
        assert "NEO4J_PASSWORD" in line and secret not in proc.stdout + proc.stderr


DEALS_Q = ("CALL { MATCH ()-[r]->() WHERE r.deal_id IS NOT NULL RETURN count(r) AS n "
           "UNION ALL MATCH (d:Round) RETURN count(d) AS n } RETURN sum(n)")


@pytest.mark.slow
def test_push_interrupted_by_a_killed_server_converges(tmp_path):
    """SIGKILL the server while a push's deal batch is in flight, restart it on the same data,
    push again: exactly the store. Batches of 2,000 deals take about a second each here, and
    the kill comes as soon as the first deal batch has committed, so it lands inside a
    transaction: the restarted server holds whole batches only."""
    batch = 2000
    ep, dp = synth.write(tmp_path / "synth", 20_000, 4_000, seed=7)
    store = open_store(tmp_path / "big.db", seed=False)
    store.add([ep, dp])
    data = tmp_path / "neo4j-data"
    server = LocalNeo4j(data_dir=data, log_path=tmp_path / "run1.log").start()
    port = server.port
    outcome: dict = {"done": []}

    def run_push():
        driver = connect(Settings(uri=server.uri, retry_seconds=1))
        try:
            outcome["summary"] = push(store, driver, batch=batch, progress=lambda d, t: outcome["done"].append(d))
        except Exception as e:  # the server died under it
            outcome["error"] = e
        finally:
            driver.close()

    watcher = connect(Settings(uri=server.uri, retry_seconds=1))
    t = threading.Thread(target=run_push)
    t.start()
    try:
        seen = 0
        deadline = time.monotonic() + 300
        while seen < batch and t.is_alive() and time.monotonic() < deadline:
            seen = watcher.execute_query(DEALS_Q).records[0][0]
            time.sleep(0.02)
        server.kill()
    finally:
        watcher.close()
        t.join(120)
    assert "error" in outcome, "the push finished before the server was killed: nothing was interrupted"
    assert 0 < seen < len(store.deals)

    with LocalNeo4j(port=port, data_dir=data, log_path=tmp_path / "run2.log") as again:
        driver = connect(Settings(uri=again.uri))
        try:
            partial = driver.execute_query(DEALS_Q).records[0][0]
            assert 0 < partial < len(store.deals)  # the kill really left a partial graph behind
            assert partial % batch == 0  # whole batches: the one in flight was rolled back
            second = push(store, driver, batch=batch)
            assert second.sent["deals"]["unchanged"] == partial  # what committed is not sent again
            assert second.sent["deals"]["created"] == len(store.deals) - partial
            assert not push(store, driver).changed
            pulled = open_store(tmp_path / "pulled.db", seed=False)
            pull(pulled, driver)
            assert_same_store(store, pulled)
        finally:
            driver.close()
