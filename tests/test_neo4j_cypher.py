"""`dealgraph neo4j cypher NAME`: the Cypher each canned query runs, with parameters.

The fast tests check the printed text (the CLI, the docs page, parameter literals); the
``neo4j`` ones feed the printed script to a real server, statement by statement, the way
cypher-shell would: every ``:param`` value is evaluated by Neo4j itself, and the script's
statements return exactly what the query functions read."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dealgraph.neo4j_backend.cypher_common import as_of_bounds, cypher_literal
from dealgraph.neo4j_backend.registry import (CYPHER_STATEMENTS, cypher_script, cypher_statements, docs_section,
                                              DOCS_BEGIN, DOCS_END, ENGINES)

REPO = Path(__file__).resolve().parent.parent

PARAM_RE = re.compile(r"^:param (\w+) => (.*);$")


def parse_script(text: str) -> list[tuple[dict[str, str], str]]:
    """(param name -> literal text, statement) pairs, as cypher-shell reads the script."""
    out, params, lines = [], {}, []
    for line in text.splitlines():
        if line.startswith("//") or (not line.strip() and not lines):
            continue
        m = PARAM_RE.match(line)
        if m:
            params[m[1]] = m[2]
            continue
        lines.append(line)
        if line.endswith(";"):
            out.append((params, "\n".join(lines)[:-1]))
            params, lines = {}, []
    assert not lines, "a statement without its closing ;"
    return out


def test_docs_show_the_generated_cypher_of_every_query():
    page = (REPO / "docs" / "neo4j.md").read_text(encoding="utf-8")
    start, end = page.index(DOCS_BEGIN), page.index(DOCS_END) + len(DOCS_END)
    assert page[start:end] == docs_section(), \
        "docs/neo4j.md is stale: run python -m dealgraph.neo4j_backend.registry docs/neo4j.md"
    for name in CYPHER_STATEMENTS:
        assert f"#### `dealgraph neo4j cypher {name}" in page


@pytest.mark.parametrize("name", list(CYPHER_STATEMENTS))
def test_cli_prints_the_statements_the_query_runs(cli, name, tmp_path):
    args = ["--as-of", "2025-06", "--status", "all"]
    opts = {"as_of": "2025-06", "status": "all"}
    if name in ("circular-flows", "round-trip"):
        args += ["--max-length", "4"]
        opts["max_length"] = 4
    proc = cli("neo4j", "cypher", name, *args, db=tmp_path / "unused.db")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == cypher_script(name, **opts)
    statements = cypher_statements(name, **opts)
    parsed = parse_script(proc.stdout)
    assert [s for _, s in parsed] == [s.text.strip() for s in statements]
    assert [set(p) for p, _ in parsed] == [set(s.params) for s in statements]
    assert not (tmp_path / "unused.db").exists()  # no store, no server needed

    as_json = cli("neo4j", "cypher", name, *args, "--params", "json")
    shown = [json.loads(line.removeprefix("// params: ")) for line in as_json.stdout.splitlines()
             if line.startswith("// params: ")]
    assert shown == [s.params for s in statements]


def test_cli_refuses_bad_options_in_one_line(cli):
    for args, line in ((["circular-flows", "--max-length", "1"], "error: max_length must be at least 2"),
                       (["multiples", "--as-of", "2025-13"], "error: as-of date '2025-13' has no month 13"),
                       (["returns", "--status", "bogus"], "error: unknown status 'bogus'")):
        proc = cli("neo4j", "cypher", *args)
        assert proc.returncode == 1 and proc.stdout == "", (args, proc.stdout, proc.stderr)
        assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and proc.stderr.startswith(line), \
            proc.stderr


def test_as_of_bounds_are_the_embedded_rule():
    """A deal with date key k and precision p is kept iff k <= bounds[p - 1], exactly when the
    embedded select_deals keeps it (every pair of a grid of partial dates)."""
    import pandas as pd

    from dealgraph.graph.dates import parse_date
    from dealgraph.queries.filters import select_deals

    dates = ([f"{y}" for y in (2023, 2024, 2025)] + [f"{y}-{m:02d}" for y in (2024, 2025) for m in (1, 6, 12)]
             + [f"{y}-{m:02d}-{d:02d}" for y in (2024, 2025) for m in (1, 6, 12) for d in (1, 15, 30)])
    keys = [parse_date(d) for d in dates]
    deals = pd.DataFrame({"date": dates, "date_key": [k for k, _ in keys], "date_precision": [p for _, p in keys],
                          "status": "completed"})
    for as_of in dates:
        want = set(select_deals(deals, as_of=as_of)["date"])
        b = as_of_bounds(as_of)
        assert {d for d, (k, p) in zip(dates, keys) if k <= b[p - 1]} == want, as_of
    assert as_of_bounds("2025-06") == [20259999, 20250699, 20250699]


def test_cypher_literals():
    assert cypher_literal(["a'b", "c\\d", None, True, 3, 2.5, {"k": 1, "two words": "x"}]) == \
        "['a\\'b', 'c\\\\d', null, true, 3, 2.5, {k: 1, `two words`: 'x'}]"


@pytest.mark.neo4j
def test_param_literals_are_what_neo4j_reads(neo4j_target, neo4j_driver):
    hostile = ["x'}) DETACH DELETE n //", "back\\slash", "new\nline", "`tick`", "ünï"]
    for value in (hostile, {"weird key`": hostile, "n": [1, 2.5, None]}, [20259999, 20250699, 20250699]):
        rec, _, _ = neo4j_driver.execute_query(f"RETURN {cypher_literal(value)} AS v",
                                               database_=neo4j_target.database)
        assert rec[0]["v"] == value


@pytest.mark.neo4j
@pytest.mark.parametrize("name", list(CYPHER_STATEMENTS))
def test_printed_script_runs_and_reads_what_the_query_reads(neo4j_target, neo4j_driver, tmp_path, name):
    """The script as cypher-shell runs it (each :param evaluated by the server) returns the
    same rows as the statements the query function runs."""
    from dealgraph.graph.store import open_store
    from dealgraph.neo4j_backend.cypher_common import read
    from dealgraph.neo4j_backend.push import push

    store = open_store(tmp_path / "s.db")
    push(store, neo4j_driver, database=neo4j_target.database, replace=True)
    db = neo4j_target.database
    for engine in (list(ENGINES[name][0]) if name in ENGINES else [None]):
        opts = {"as_of": "2025-06", "max_length": 3, "engine": engine} if engine else {"as_of": "2025"}
        _script_reads_what_the_query_reads(neo4j_driver, db, name, opts)


def _script_reads_what_the_query_reads(neo4j_driver, db, name, opts):
    from dealgraph.neo4j_backend.cypher_common import read

    statements = cypher_statements(name, **opts)
    parsed = parse_script(cypher_script(name, **opts))
    some = 0
    for (literals, text), stmt in zip(parsed, statements, strict=True):
        params = {k: neo4j_driver.execute_query(f"RETURN {v} AS v", database_=db).records[0]["v"]
                  for k, v in literals.items()}
        got = read(neo4j_driver, text, params, database=db)
        want = read(neo4j_driver, stmt.text, stmt.params, database=db)
        assert repr(got) == repr(want)  # repr: NaN (an undisclosed amount) equals NaN
        some += len(got)
    assert some > 0
