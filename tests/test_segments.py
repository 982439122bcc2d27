"""The store's columnar segments: the log of adds reads back as the upserts it
records, compaction keeps it short, and a version-1 store (row tables) converts."""

from __future__ import annotations

import io
import csv
import sqlite3

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import write
from dealgraph.graph.schema import DEAL_COLUMNS, TABLES
from dealgraph.graph.store import MAX_SEGMENTS, PAGE_SIZE, Store, open_store
#: The deal columns the rows below spell out, in file order (the optional ones after notes, such as
#: confidence, are left out: the loader gives them their default).
DEAL_COLUMNS = DEAL_COLUMNS[:DEAL_COLUMNS.index("notes") + 1]


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(DEAL_COLUMNS)
    w.writerows(rows)
    return buf.getvalue()


def _deal(i: int, amount: int, note: str) -> list[str]:
    return [f"d{i}", "2024-05", "investment", f"p{i % 3}", f"q{i % 4}", f"{amount}m", "USD", "completed",
            "", "", "", "", "test", note]


def _segments(path) -> list[tuple[str, int]]:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT tbl, COUNT(DISTINCT seq) FROM segments GROUP BY tbl").fetchall()
    finally:
        con.close()


batches = st.lists(st.lists(st.tuples(st.integers(0, 30), st.integers(1, 5), st.sampled_from(["", "x", "y"])),
                            min_size=1, max_size=12), min_size=1, max_size=14)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(adds=batches)
def test_a_log_of_adds_reads_back_as_its_upserts(tmp_path_factory, adds):
    """After any sequence of adds (new deals, changed deals, repeats), the deals
    table -- read fresh from the file, not from memory -- holds the last version of
    every deal, and the log never exceeds MAX_SEGMENTS segments."""
    tmp = tmp_path_factory.mktemp("log")
    store = open_store(tmp / "s.db", seed=False)
    model: dict[str, tuple[float, str]] = {}
    for k, batch in enumerate(adds):
        last = {i: (amount, note) for i, amount, note in batch}  # a file may not repeat an id with other values
        f = write(tmp / f"{k}.csv", _csv([_deal(i, a, n) for i, (a, n) in last.items()]))
        store.add([f])
        for i, (a, n) in last.items():
            model[f"d{i}"] = (a * 1e6, n)
    fresh = Store(tmp / "s.db").deals
    got = {r.deal_id: (r.amount, r.notes) for r in fresh.itertuples()}
    assert got == model
    assert fresh["deal_id"].is_unique
    assert all(n <= MAX_SEGMENTS for _, n in _segments(tmp / "s.db"))
    # what the writer holds in memory is what a new reader sees, in the same order
    pd.testing.assert_frame_equal(store.deals.reset_index(drop=True), fresh.reset_index(drop=True))


def test_small_adds_append_segments_and_a_big_one_compacts(tmp_path):
    store = open_store(tmp_path / "s.db", seed=False)
    store.add([write(tmp_path / "a.csv", _csv([_deal(i, 1, "") for i in range(100)]))])
    store.add([write(tmp_path / "b.csv", _csv([_deal(1000, 1, "")]))])
    store.add([write(tmp_path / "c.csv", _csv([_deal(5, 2, "changed")]))])
    assert dict(_segments(tmp_path / "s.db"))["deals"] == 3
    # an unchanged re-add writes nothing
    store.add([tmp_path / "c.csv"])
    assert dict(_segments(tmp_path / "s.db"))["deals"] == 3
    # more new rows than stored ones: the table is rewritten as one segment
    store.add([write(tmp_path / "d.csv", _csv([_deal(i, 3, "") for i in range(2000, 2200)]))])
    assert dict(_segments(tmp_path / "s.db"))["deals"] == 1
    con = sqlite3.connect(tmp_path / "s.db")
    assert con.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
    con.close()
    deals = Store(tmp_path / "s.db").deals.set_index("deal_id")
    assert len(deals) == 100 + 1 + 200
    assert deals.loc["d5", "notes"] == "changed" and deals.loc["d5", "amount"] == 2e6


def test_a_version_1_store_is_converted_on_first_open_and_loses_nothing(tmp_path, sample_db):
    """A store written by dealgraph 0.1 (one SQLite row table per table, WAL journal)
    opens with every row intact and is converted once."""
    before = open_store(sample_db)
    tables = {name: before._table(name) for name in TABLES}
    old = tmp_path / "v1.db"
    con = sqlite3.connect(old, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    con.execute("INSERT INTO meta VALUES ('schema_version', '1'), ('store_id', 'abc')")
    for name, table in TABLES.items():
        cols = table.types
        body = ", ".join(f'"{c}" {t}' for c, t in cols.items())
        keys = ", ".join(f'"{k}"' for k in table.key)
        con.execute(f"CREATE TABLE {name} ({body}, PRIMARY KEY ({keys})) WITHOUT ROWID")
        con.execute("INSERT INTO meta VALUES (?, '3')", (f"gen:{name}",))
        df = tables[name]
        rows = df.astype(object).where(df.notna(), None).itertuples(index=False, name=None)
        con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(cols))})", rows)
    con.close()

    converted = open_store(old)
    for name in TABLES:
        keys = list(TABLES[name].key)
        want = tables[name].sort_values(keys, ignore_index=True)
        got = converted._table(name).sort_values(keys, ignore_index=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=True)
    con = sqlite3.connect(old)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    mode = con.execute("PRAGMA journal_mode").fetchone()[0]
    page = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    assert names == {"meta", "segments", "changes", "change_rows"} and version == "2" and mode == "delete" and page == PAGE_SIZE
    # and it is a working store: queries and adds run on it
    assert len(converted.deals) == len(before.deals)
    converted.add([write(tmp_path / "n.csv", _csv([_deal(1, 1, "")]))])
    assert len(Store(old).deals) == len(before.deals) + 1


def test_segments_written_with_plain_text_columns_still_read(tmp_path):
    """Stores written before more columns were dictionary-encoded hold those columns as
    plain text; they read back the same, beside segments written now."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    store = open_store(tmp_path / "s.db", seed=False)
    store.add([write(tmp_path / "a.csv", _csv([_deal(i, 1, f"note {i}") for i in range(50)]))])
    before = Store(tmp_path / "s.db").deals
    con = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    (data,) = con.execute("SELECT data FROM segments WHERE tbl = 'deals'").fetchone()
    table = ipc.open_stream(pa.py_buffer(data)).read_all()
    assert pa.types.is_dictionary(table.schema.field("source").type)
    # derived columns are not written (computed on reading), small integers are narrowed
    assert "amount_usd" not in table.column_names and table.schema.field("date_precision").type == pa.int8()
    assert (before["amount_usd"] == before["amount"] * before["fx_rate"]).all() and before["amount_usd"].notna().all()
    plain = pa.table({c: table[c].cast(pa.string()) if pa.types.is_dictionary(table[c].type) and c not in
                      ("payer", "payee") else table[c] for c in table.column_names})
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, plain.schema) as w:
        w.write_table(plain)
    con.execute("UPDATE segments SET data = ? WHERE tbl = 'deals'", (sink.getvalue().to_pybytes(),))
    con.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'gen:deals'")
    con.close()
    old = Store(tmp_path / "s.db")
    pd.testing.assert_frame_equal(old.deals, before)
    old.add([write(tmp_path / "b.csv", _csv([_deal(3, 2, "changed"), _deal(99, 1, "")]))])
    deals = Store(tmp_path / "s.db").deals.set_index("deal_id")
    assert len(deals) == 51 and deals.loc["d3", "notes"] == "changed" and deals.loc["d4", "notes"] == "note 4"
