"""`dealgraph sql`: DuckDB over the store's tables, read only, through the real command."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import run_cli
from dealgraph.graph.schema import TABLES
from dealgraph.graph.store import open_store
from dealgraph.queries.sql import run_sql, tables_markdown

REPO = Path(__file__).resolve().parents[1]


def test_the_done_when_query_sums_money_by_payer(sample_db):
    r = run_cli("sql", "--format", "csv", "select payer, sum(amount_usd) from deals group by 1", db=sample_db)
    assert r.returncode == 0, r.stderr
    got = pd.read_csv(io.StringIO(r.stdout), keep_default_na=False).set_index("payer")["sum(amount_usd)"]
    deals = open_store(sample_db).deals
    want = deals.groupby(deals["payer"].fillna(""), dropna=False)["amount_usd"].sum(min_count=1)
    assert set(got.index) == set(want.index)
    for payer, total in want.items():
        assert (got[payer] == "" if pd.isna(total) else float(got[payer]) == total), payer
    table = run_cli("sql", "select payer, sum(amount_usd) from deals group by 1", db=sample_db)
    assert table.returncode == 0 and "openai" in table.stdout and f"{len(want)} rows" in table.stdout


def test_a_table_shows_the_headers_as_written_and_null_as_null(sample_db):
    r = run_cli("sql", "select payer, sum(amount_usd), amount_qualifier from deals where payer is null "
                       "or payer = 'oracle' group by 1, 3 order by 1 nulls first", db=sample_db)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[1].split() == ["payer", "sum(amount_usd)", "amount_qualifier"]   # none humanised or folded
    assert lines[3].split()[0] == "NULL" and "n/a" not in r.stdout
    assert any(line.split()[0] == "oracle" for line in lines[3:-2])


def test_every_table_has_the_schema_columns_in_storage_order(sample_db):
    store = open_store(sample_db)
    for name, table in TABLES.items():
        df = run_sql(store, f"select * from {name}")
        assert tuple(df.columns) == table.names, name
        assert len(df) == store.columns(name).num_rows


def test_text_columns_compare_as_strings_and_json_and_markdown_work(sample_db):
    r = run_cli("sql", "--format", "json", "select count(*) as n from deals where type = 'no such type'", db=sample_db)
    assert r.returncode == 0 and json.loads(r.stdout) == [{"n": 0}]
    r = run_cli("sql", "--format", "markdown", "select id from entities where id = 'nvidia'", db=sample_db)
    assert r.returncode == 0 and "| nvidia |" in r.stdout
    assert run_cli("sql", "describe deals", db=sample_db).returncode == 0


@pytest.mark.parametrize("query, message", [
    ("select nosuch from deals",
     'error: Binder Error: Referenced column "nosuch" not found in FROM clause!'),
    ("selec 1", 'error: Parser Error: syntax error at or near "selec"'),
    ("drop table deals", "error: only a SELECT query is run (the store is read only here); this is DROP"),
    ("insert into deals select * from deals",
     "error: only a SELECT query is run (the store is read only here); this is INSERT"),
    ("copy deals to 'out.csv'", "error: only a SELECT query is run (the store is read only here); this is COPY"),
    ("attach 'other.db'", "error: only a SELECT query is run (the store is read only here); this is ATTACH"),
    ("set enable_external_access = true",
     "error: only a SELECT query is run (the store is read only here); this is SET"),
    ("select 1; select 2", "error: give exactly one SELECT statement (found 2)"),
    ("select * from read_csv('/etc/hostname')",
     'error: Permission Error: Cannot access file "/etc/hostname" - file system operations are disabled by '
     'configuration'),
])
def test_anything_but_one_query_is_refused_in_one_line_and_the_store_is_unchanged(sample_db, tmp_path, query, message):
    before = open_store(sample_db).export_frames()
    work = tmp_path / "cwd"
    work.mkdir()
    r = run_cli("sql", query, db=sample_db, cwd=work)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", message + "\n")
    after = open_store(sample_db).export_frames()
    assert all(before[k].equals(after[k]) for k in before)
    assert list(work.iterdir()) == []


def test_the_sql_doc_lists_the_declared_columns():
    doc = (REPO / "docs" / "sql.md").read_text(encoding="utf-8")
    assert tables_markdown() in doc
