"""One error rule for every command (dealgraph.cli.common): a refused value is one
`error:` line and exit 1, a command line click cannot parse is exit 2, and anything
else -- a bug -- is a traceback, never dressed up as a user error."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from dealgraph.cli import main
from conftest import run_cli
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
    "show": (["show", "groq"], None),
    "show-entity": (["show"], []),
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
            if (what == "unknown entity") != (entity is not None) and name.startswith("show"):
                continue   # `show X`: the entity is the argument
            if what == "unknown entity" and entity is None:
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


# --- unknown values, ranges, paths -------------------------------------------------------------


def one_error_line(p, code: int = 1) -> str:
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    if code == 1:
        assert p.stderr.count("\n") == 1 and p.stderr.startswith("error: "), p.stderr
        return p.stderr.strip()
    assert p.stderr.count("Error: ") == 1 and "Usage:" in p.stderr, p.stderr
    return p.stderr


def test_an_unknown_deal_type_is_refused_with_the_allowed_ones(cli, db):
    from dealgraph.graph.schema import DEAL_TYPES

    line = one_error_line(cli("deals", "--type", "merger", db=db))
    assert line == f"error: unknown deal type 'merger'; expected one of {', '.join(DEAL_TYPES)}"
    ok = cli("deals", "--type", "license,acquihire", "--type", "stake", "--format", "json", db=db)
    import json
    assert ok.returncode == 0 and {r["type"] for r in json.loads(ok.stdout)} == {"license", "acquihire", "stake"}


@pytest.mark.parametrize("args,line", [
    (["viz", "--depth", "-1", "--entity", "groq"], "error: --depth must be at least 0, not -1"),
    (["viz", "--depth", "2"], "error: --depth needs --entity (the entity the view is centred on)"),
    (["viz", "--max-nodes", "0"], "error: --max-nodes must be at least 1, not 0"),
    (["report", "--max-edges", "-3"], "error: --max-edges must be at least 1, not -3"),
    (["query", "circular-flows", "--timeout", "-1"], "error: timeout must be at least 0, not -1"),
    (["deals", "--limit", "-1"], "error: --limit must be 0 or more, not -1"),
    (["query", "returns", "--sort", "-nosuch"], "error: --sort: no column 'nosuch'; the columns are exit_deal_id, "),
    (["show", "groq", "--columns", "date,nope"], "error: --columns: no column 'nope'; the columns are deal_id, "),
])
def test_values_out_of_range_are_exit_1(cli, db, tmp_path, args, line):
    assert one_error_line(cli(*args, db=db, cwd=tmp_path)).startswith(line)
    assert list(tmp_path.iterdir()) == []          # nothing written


def test_an_unknown_option_is_usage(cli, db, tmp_path):
    assert "No such option '--deal'" in one_error_line(cli("viz", "--deal", "nosuch", db=db, cwd=tmp_path), 2)


def test_the_same_unknown_entity_in_show_and_viz(cli, db, tmp_path):
    lines = {one_error_line(cli(*args, db=db, cwd=tmp_path)) for args in
             (["show", "nosuch"], ["viz", "--entity", "nosuch"], ["deals", "--entity", "nosuch"],
              ["query", "rounds", "nosuch"])}
    assert lines == {"error: no entity matches 'nosuch' (by id, name or alias)"}


@pytest.mark.parametrize("args,option", [
    (["--db", "{missing}/x.db", "deals"], "--db"),
    (["viz", "-o", "{missing}/v.html"], "-o/--output"),
    (["report", "-o", "{missing}/r.html"], "-o/--output"),
    (["export", "{missing}/out"], "OUT"),
    (["synth", "--deals", "10", "-o", "{missing}/big"], "-o/--out"),
])
def test_a_path_into_a_missing_directory_is_refused(cli, db, tmp_path, args, option):
    missing = tmp_path / "no" / "such"
    p = cli(*[a.format(missing=missing) for a in args], db=db, cwd=tmp_path)
    line = one_error_line(p)
    assert line.startswith(f"error: {option}: directory '{missing}' does not exist (for '{missing}/")
    assert line.endswith("); create it first")
    assert list(tmp_path.iterdir()) == []


def test_a_path_whose_directory_exists_is_created(cli, db, tmp_path):
    p = cli("export", tmp_path / "new", db=db)
    assert p.returncode == 0 and (tmp_path / "new" / "deals.csv").exists()


def test_query_check_is_check_and_queries_lists_what_query_runs(cli, db, tmp_path):
    import json

    from dealgraph.cli.query import query_command

    listed = [r["query"] for r in json.loads(cli("queries", "--format", "json").stdout)]
    assert listed == query_command.list_commands(None)
    a = cli("check", "--format", "json", db=db, cwd=tmp_path)       # no file: the bundled claims, any directory
    b = cli("query", "check", "--format", "json", db=db, cwd=tmp_path)
    assert a.returncode == b.returncode == 0 and a.stdout == b.stdout and len(json.loads(a.stdout)) == 15
    table = cli("check", db=db, cwd=tmp_path)
    assert table.returncode == 0 and table.stdout.splitlines()[0] == "claims: the sample claims (data/claims.csv)"


# --- every command: --help, and no traceback for any option value ---------------------------------


def leaf_commands(group: click.Group = main, path: tuple[str, ...] = ()):
    """(path, command) for every command below ``group`` (groups first, then their leaves)."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        yield path + (name,), cmd
        if isinstance(cmd, click.Group):
            yield from leaf_commands(cmd, path + (name,))


ALL_COMMANDS = list(leaf_commands())


def test_every_command_has_help():
    assert len(ALL_COMMANDS) > 20
    for path, _ in [((), main)] + ALL_COMMANDS:
        r = CliRunner().invoke(main, [*path, "--help"], catch_exceptions=False)
        assert r.exit_code == 0 and r.output.startswith("Usage: "), (path, r.output)
        assert "Traceback" not in r.output


#: left out of the property test: they start or reach servers, open browsers or write a lot
NOT_FUZZED = {("neo4j",)}
NOT_FUZZED_OPTIONS = {"open_", "uri", "user", "password", "database"}


def fuzzed_commands():
    for path, cmd in ALL_COMMANDS:
        if isinstance(cmd, click.Group) or path[:1] in NOT_FUZZED:
            continue
        yield pytest.param(path, cmd, id=" ".join(path))


def value_strategy(param: click.Parameter):
    from hypothesis import strategies as st

    junk = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
    special = st.sampled_from(["", " ", "-", "--", "-1", "0", "all", "nan", "inf", "1e400", "2025-13", "2025-02-30",
                               "9999", "..", "/", "groq", "Groq Inc.", "completed,bogus", "a,b", "-total_usd",
                               "'; drop table deals; --", "<script>", "[bold]x", "%s", "{0}", "nvidia -> openai"])
    t = param.type
    if isinstance(t, click.Choice):
        return st.one_of(st.sampled_from(list(t.choices)), junk, special)
    if isinstance(t, (click.types.IntParamType, click.types.FloatParamType)) or param.name in ("deals", "n_deals"):
        # numbers stay small where they are sizes (synth --deals, --max-length): the test is about refusals
        return st.one_of(st.integers(-10**6, 6).map(str), st.floats(allow_nan=True).map(str), junk, special)
    return st.one_of(junk, special)


@pytest.mark.slow
@pytest.mark.parametrize("path,cmd", list(fuzzed_commands()))
def test_no_traceback_for_any_option_value(db, tmp_path_factory, path, cmd):
    """Any values of a command's options and arguments: exit 0, 1 (one `error:` line) or 2 (usage, one
    `Error:` line); never an exception."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    params = [p for p in cmd.params if p.name not in NOT_FUZZED_OPTIONS and p.name != "help"
              and not (isinstance(p, click.Option) and p.is_flag)]
    heavy = path[0] in ("viz", "report", "synth")

    @settings(max_examples=12 if heavy else 40, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data):
        args: list[str] = list(path)
        for p in params:
            if isinstance(p, click.Argument):
                n = 1 if p.nargs == 1 else data.draw(st.integers(0, 2))
                args += [data.draw(value_strategy(p)) for _ in range(n)]
            elif data.draw(st.booleans()):
                args += [p.opts[0], data.draw(value_strategy(p))]
        if path[0] == "synth" and "--deals" not in args:
            args += ["--deals", "50"]
        if path[0] == "synth" and "--entities" not in args:
            args += ["--entities", "20"]
        import contextlib

        with contextlib.chdir(tmp_path_factory.mktemp("fuzz")):
            r = CliRunner().invoke(main, args, env={"DEALGRAPH_DB": str(db), "COLUMNS": "80"}, catch_exceptions=False)
        assert r.exit_code in (0, 1, 2), (args, r.exit_code, r.output)
        if r.exit_code == 1 and not (path == ("check",) and "--strict" in args):
            assert r.stderr.count("\n") >= 1 and r.stderr.splitlines()[-1].startswith("error: "), (args, r.stderr)
            # a LoadError lists its problems (file:line:col: reason, or path: reason) above its count line
            listing = re.match(r"error: (showing \d+ of )?\d+ problems?( found)?; nothing was written$",
                               r.stderr.splitlines()[-1])
            if not listing:
                assert len(r.stderr.splitlines()) == 1, (args, r.stderr)
        if r.exit_code == 2:
            assert r.stderr.count("Error: ") == 1, (args, r.stderr)

    check()


@pytest.mark.slow
def test_no_traceback_for_any_db_path(tmp_path_factory):
    """The root --db: any text is a store path that opens, or one `error:` line."""
    import contextlib

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.one_of(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
                     st.sampled_from(["", ".", "/", "no/such/dir/x.db", "~", "a.db/", "-"])))
    def check(value):
        with contextlib.chdir(tmp_path_factory.mktemp("dbfuzz")):
            r = CliRunner().invoke(main, ["--db", value, "deals", "--limit", "1"], catch_exceptions=False)
        assert r.exit_code in (0, 1, 2), (value, r.output)
        if r.exit_code == 1:
            assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith("error: "), (value, r.stderr)

    check()


# --- the README's commands, as a new user types them ---------------------------------------------

README = Path(__file__).resolve().parent.parent / "README.md"
#: not run here: they need a Neo4j server or open a browser (their own tests cover them)
README_SKIPPED = ("neo4j", "--open")
#: input files the README names as examples of the user's own (they do not exist: refused, exit 1)
README_EXAMPLE_FILES = ("my-deals.csv", "f.csv")
#: ids the README's "Correcting the data" examples name that the sample store lacks (refused: one line, exit 1)
README_EXAMPLE_IDS = ("nvidai", "open-ai", "d17")


def readme_commands() -> list[str]:
    """Every `dealgraph ...` command in the README's bash blocks, in order (`&&` chains split,
    comments and `[optional]` parts dropped; synth's million deals made small)."""
    import re

    out = []
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.S):
        block = re.sub(r"\\\n\s*", " ", block)  # a line continued with a backslash is one command
        for line in block.splitlines():
            for part in line.split("&&"):
                part = re.sub(r"\s+#.*$", "", part).strip().rstrip("&").strip()
                part = re.sub(r"\s*\[[^\]]*\]", "", part)
                if part.startswith("dealgraph "):
                    part = part.replace("--deals 1000000 --entities 100000", "--deals 2000 --entities 400")
                    # the repository's own files (the peer data), wherever the command runs
                    out.append(part.replace(" tests/data/", f" {README.parent / 'tests' / 'data'}/"))
    return out


def test_the_readme_names_the_commands_this_test_runs():
    cmds = readme_commands()
    assert "dealgraph query deal-comparisons" in cmds and "dealgraph check" in cmds
    assert len(cmds) > 25


@pytest.mark.slow
def test_the_readme_commands_run_from_any_directory(tmp_path):
    import shlex

    db = tmp_path / "store" / "deals.db"
    db.parent.mkdir()
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    ran = 0
    for cmd in readme_commands():
        if any(s in cmd for s in README_SKIPPED):
            continue
        p = run_cli(*shlex.split(cmd)[1:], db=db, cwd=cwd, env={"COLUMNS": "80"})
        assert "Traceback" not in p.stderr, (cmd, p.stderr)
        if any(f in cmd for f in README_EXAMPLE_FILES):
            assert p.returncode == 1 and p.stderr.splitlines()[-1].startswith("error: "), (cmd, p.stderr)
            assert "cannot read file: No such file or directory" in p.stderr
        elif any(i in shlex.split(cmd) for i in README_EXAMPLE_IDS):
            assert (p.returncode, len(p.stderr.splitlines())) == (1, 1) and p.stderr.startswith("error: "), \
                (cmd, p.stderr)
        else:
            assert p.returncode == 0, (cmd, p.stderr)
            if "--format" not in cmd and cmd.split()[1] in ("deals", "show", "query", "queries", "check"):  # tables
                # every line fits, but a web address, which is never cut (it stands alone, unindented)
                assert all(len(line) <= 80 or (line == line.strip() and line.startswith("https://")
                                               and " " not in line) for line in p.stdout.splitlines()), (cmd, p.stdout)
        ran += 1
    assert ran > 20
