"""One error rule for every command (dealgraph.cli.common): a refused value is one
`error:` line and exit 1, a command line click cannot parse is exit 2, and anything
else -- a bug -- is a traceback, never dressed up as a user error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from dealgraph.cli import main
from dealgraph.cli.common import Group
from dealgraph.errors import DealgraphError, LoadError, Neo4jError, QueryError
from dealgraph.loaders.csv import Problem
from dealgraph.neo4j_backend.server import ServerError


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    from dealgraph.graph.store import open_store

    path = tmp_path_factory.mktemp("errors") / "sample.db"
    open_store(path)
    return path


#: the same refusal through each command family: (command, how it names an entity)
COMMANDS = {
    "deals": (["deals"], ["--entity"]),
    "show": (["show"], []),
    "query": (["query", "returns"], ["--entity"]),
    "check": (["check", str(Path(__file__).resolve().parent.parent / "data" / "claims.csv")], None),
    "viz": (["viz", "-o", "{out}"], ["--entity"]),
    "report": (["report", "-o", "{out}"], None),
}

BAD = {
    "unknown entity": (["nobody-at-all"], "error: no entity matches 'nobody-at-all' (by id, name or alias)"),
    "bad --as-of": (["--as-of", "2025-13"], "error: as-of date '2025-13' has no month 13"),
    "bad --status": (["--status", "bogus"], "error: unknown status 'bogus'; expected one of "),
}


def cases():
    for name, (cmd, entity) in COMMANDS.items():
        for what, (args, line) in BAD.items():
            if what == "unknown entity" and entity is None:
                continue
            if what != "unknown entity" and name == "show":
                continue
            extra = entity + args if what == "unknown entity" else args
            yield pytest.param(cmd, extra, line, id=f"{name}-{what}")


@pytest.mark.parametrize("cmd,extra,line", list(cases()))
def test_a_refused_value_is_one_line_and_exit_1(cli, db, tmp_path, cmd, extra, line):
    out = tmp_path / "page.html"
    p = cli(*[a.format(out=out) for a in cmd], *extra, db=db)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert p.stderr.splitlines() == [p.stderr.strip()] and p.stderr.startswith(line), p.stderr
    assert p.stdout == "" and not out.exists()


@pytest.mark.parametrize("args", [["deals", "--format", "bogus"], ["query", "no-such-query"],
                                  ["query", "circular-flows", "--max-length", "many"],
                                  ["check", "no-such-claims.csv"], ["no-such-command"]])
def test_a_command_line_click_cannot_parse_is_exit_2(cli, db, tmp_path, args):
    p = cli(*args, db=db, cwd=tmp_path)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert "Usage:" in p.stderr and "Traceback" not in p.stderr


def test_an_option_out_of_range_is_exit_1_in_every_family(cli, db, tmp_path):
    for args in (["query", "circular-flows", "--max-length", "1"], ["viz", "--max-length", "1", "-o", "v.html"]):
        p = cli(*args, db=db, cwd=tmp_path)
        assert (p.returncode, p.stderr) == (1, "error: max_length must be at least 2\n")
    p = cli("query", "round-trip", "--max-length", "1", db=db)
    assert (p.returncode, p.stderr) == (1, "error: max_length must be at least 2 (a loop X -> P -> X)\n")


def test_an_unreadable_claims_file_is_one_line(cli, db, tmp_path):
    bad = tmp_path / "claims.csv"
    bad.write_bytes(b"subject,metric,stated\n\xff\xfe,1,2\n")
    p = cli("check", bad, db=db)
    assert p.returncode == 1 and p.stderr.startswith(f"error: {bad}: cannot read the claims file as UTF-8 CSV")
    assert len(p.stderr.splitlines()) == 1


# --- the handler itself -----------------------------------------------------------------


def _group_raising(exc: BaseException) -> click.Group:
    @click.group(cls=Group)
    def root():
        pass

    @root.command()
    def boom():
        raise exc

    return root


def test_a_dealgraph_error_becomes_its_message_and_exit_1():
    r = CliRunner().invoke(_group_raising(QueryError("no such thing")), ["boom"])
    assert (r.exit_code, r.output) == (1, "error: no such thing\n")
    problems = [Problem("b.csv", 3, 2, "date: bad"), Problem("a.csv", 2, 1, "type: bad")]
    r = CliRunner().invoke(_group_raising(LoadError(problems)), ["boom"])
    assert r.exit_code == 1
    assert r.output.splitlines() == ["a.csv:2:1: type: bad", "b.csv:3:2: date: bad",
                                     "error: 2 problems found; nothing was written"]


@pytest.mark.parametrize("bug", [TypeError("unexpected keyword"), ValueError("a programming error"),
                                 KeyError("column"), AttributeError("no attribute")])
def test_any_other_exception_is_a_bug_and_propagates(bug):
    with pytest.raises(type(bug)) as raised:
        CliRunner().invoke(_group_raising(bug), ["boom"], catch_exceptions=False)
    assert raised.value is bug


def test_the_installed_command_shows_a_bug_as_a_traceback(tmp_path):
    code = ("from dealgraph.cli import main\n"
            "@main.command()\n"
            "def boom():\n"
            "    raise TypeError('a bug')\n"
            "main(['boom'])\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 1
    assert "Traceback" in p.stderr and p.stderr.rstrip().endswith("TypeError: a bug")
    assert "error:" not in p.stderr


def test_one_hierarchy():
    assert isinstance(main, Group)
    for cls in (LoadError, QueryError, Neo4jError, ServerError):
        assert issubclass(cls, DealgraphError)
    assert issubclass(QueryError, ValueError)  # what these were before they had a class
    import dealgraph.loaders.csv as csv_loader
    import dealgraph.neo4j_backend.connection as connection

    assert csv_loader.LoadError is LoadError and connection.Neo4jError is Neo4jError


def test_an_unknown_cypher_query_is_a_query_error():
    from dealgraph.errors import QueryError
    from dealgraph.neo4j_backend.registry import run_cypher_query

    with pytest.raises(QueryError, match="no Cypher implementation of 'nosuch'"):
        run_cypher_query("nosuch", driver=None)
