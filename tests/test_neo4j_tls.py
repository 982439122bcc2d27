"""TLS and authentication against a real Neo4j that requires both.

One local server for the module: Bolt TLS required (a self-signed certificate made here with
the ``cryptography`` package), authentication on with a generated password. The CLI connects
with ``bolt+ssc://`` and ``neo4j+ssc://``; a wrong password, a plain ``bolt://`` /
``neo4j://`` connection and a verifying ``bolt+s://`` one each fail with one clear line and
exit 1; the password never shows in output, in the server's logs or in any process's command
line (what ``ps`` shows every user)."""

from __future__ import annotations

import secrets
import subprocess
import time

import psutil
import pytest

from conftest import dealgraph_exe, run_cli
from neo4j_fixture import self_signed_certificate
from test_neo4j_cli import one_error_line

from dealgraph.neo4j_backend.server import LocalNeo4j

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("tls")
    password = secrets.token_urlsafe(16)
    server = LocalNeo4j(password=password, tls_dir=self_signed_certificate(home / "certs"),
                        data_dir=home / "data", log_path=home / "server.log")
    assert password not in " ".join(server_command_preview(server))
    server.start(timeout=600)
    try:
        yield server, password, home
    finally:
        server.stop()


def server_command_preview(server: LocalNeo4j) -> list[str]:
    """The launcher's command line as it will run (before it runs)."""
    from dealgraph.neo4j_backend.java import prepare
    from dealgraph.neo4j_backend.server import java_command

    java, lib, launcher = prepare()
    return java_command(java, lib, launcher, server.port, server.data_dir)


def uri(server, scheme: str) -> str:
    return f"{scheme}://127.0.0.1:{server.port}"


def test_self_signed_tls_with_a_password_works_end_to_end(tls_server, tmp_path):
    server, password, _ = tls_server
    db = tmp_path / "s.db"
    env = {"NEO4J_PASSWORD": password}
    pushed = run_cli("neo4j", "push", "--replace", "--uri", uri(server, "bolt+ssc"), db=db, env=env)
    assert pushed.returncode == 0, pushed.stderr
    assert "created" in pushed.stdout
    for scheme in ("bolt+ssc", "neo4j+ssc"):
        cy = run_cli("neo4j", "query", "circular-flows", "--max-length", "3", "--format", "csv",
                     "--uri", uri(server, scheme), db=db, env=env)
        emb = run_cli("query", "circular-flows", "--max-length", "3", "--format", "csv", db=db)
        assert cy.returncode == 0, cy.stderr
        assert cy.stdout == emb.stdout and cy.stdout.count("\n") > 1
    again = run_cli("neo4j", "push", "--uri", uri(server, "neo4j+ssc"), db=db, env=env)
    assert again.returncode == 0 and again.stdout.strip().endswith("no changes"), again.stdout + again.stderr
    for proc in (pushed, cy, again):
        assert password not in proc.stdout + proc.stderr


def test_wrong_password_over_tls_is_one_line(tls_server, tmp_path):
    server, password, _ = tls_server
    wrong = password[::-1] + "x"
    for scheme in ("bolt+ssc", "neo4j+ssc"):
        proc = run_cli("neo4j", "push", "--uri", uri(server, scheme), db=tmp_path / "s.db",
                       env={"NEO4J_PASSWORD": wrong})
        one_error_line(proc, f"error: Neo4j at {uri(server, scheme)} refused the credentials of user 'neo4j'")
        assert wrong not in proc.stderr and password not in proc.stderr
    none = run_cli("neo4j", "pull", "--uri", uri(server, "bolt+ssc"), db=tmp_path / "s.db",
                   env={"NEO4J_PASSWORD": ""})
    one_error_line(none, f"error: Neo4j at {uri(server, 'bolt+ssc')} requires authentication")


@pytest.mark.parametrize("scheme", ["bolt", "neo4j"])
def test_plain_connection_to_a_tls_only_server_is_one_line(tls_server, tmp_path, scheme):
    server, password, _ = tls_server
    proc = run_cli("neo4j", "query", "rounds", "groq", "--uri", uri(server, scheme), db=tmp_path / "s.db",
                   env={"NEO4J_PASSWORD": password})
    line = one_error_line(proc, f"error: cannot connect to Neo4j at {uri(server, scheme)}: ")
    assert "requires TLS" in line and f"{scheme}+ssc://" in line, line
    assert proc.stdout == ""


def test_verified_tls_refuses_a_self_signed_certificate_in_one_line(tls_server, tmp_path):
    server, password, _ = tls_server
    proc = run_cli("neo4j", "push", "--uri", uri(server, "bolt+s"), db=tmp_path / "s.db",
                   env={"NEO4J_PASSWORD": password})
    line = one_error_line(proc, f"error: cannot connect to Neo4j at {uri(server, 'bolt+s')}: its TLS certificate "
                                f"is not trusted")
    assert "bolt+ssc://" in line, line


def test_password_is_in_no_command_line_and_no_log(tls_server, tmp_path):
    """While a CLI command runs against the server, no process on the machine (what `ps`
    lists) has the password in its arguments; nor has the server; nor is it in any log."""
    server, password, home = tls_server
    assert password not in " ".join(psutil.Process(server.pid).cmdline())
    proc = subprocess.Popen(dealgraph_exe() + ["neo4j", "query", "circular-flows", "--max-length", "4",
                                               "--uri", uri(server, "bolt+ssc")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**__import__("os").environ, "NEO4J_PASSWORD": password,
                                 "DEALGRAPH_DB": str(tmp_path / "s.db")})
    seen = 0
    try:
        while proc.poll() is None:
            for p in psutil.process_iter(["cmdline"]):
                args = " ".join(p.info["cmdline"] or ())
                assert password not in args, f"process {p.pid} shows the password in its command line"
                seen += 1
            time.sleep(0.05)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert seen > 0 and password not in out + err
    logs = [server.log_path, *(p for p in (home / "data").rglob("*") if p.is_file() and p.suffix == ".log")]
    assert len(logs) > 1  # the launcher's log and Neo4j's own (debug.log, ...)
    for log in logs:
        assert password not in log.read_text(errors="replace"), log
