"""``dealgraph sql``: read-only SQL over the store's tables, run by DuckDB.

Tables: ``deals``, ``entities``, ``metrics``, ``fx`` -- each exactly the store table of
that name in ``graph/schema.py`` (its columns in storage order: the key first), so
``deals`` has ``amount_usd`` (= ``amount`` x ``fx_rate``) and ``metrics`` has
``value_usd``; ``metrics`` is the metrics files' rows (the figures a deal row carries,
``target_revenue`` ..., are columns of ``deals``). Column reference:
``docs/sql.md``, generated from the schema by :func:`tables_markdown`. Text columns
are ``VARCHAR`` (the store's dictionary-encoded columns are decoded first, so a
comparison with any string works), ``REAL`` is ``DOUBLE``, ``INTEGER`` is ``BIGINT``;
a missing value is ``NULL``.

Read only, by construction: the tables are the store's Arrow columns registered in a
fresh in-memory DuckDB database, so no statement can reach the store file; only one
``SELECT`` statement (``WITH ... SELECT``, ``DESCRIBE``, ``SUMMARIZE`` included) is
run, anything else (``INSERT``, ``CREATE``, ``COPY``, ``ATTACH``, ``SET``, two
statements) is refused; and file access is switched off, so ``read_csv('/etc/...')``
is refused too. A query DuckDB cannot run is a :class:`~dealgraph.errors.QueryError`
with DuckDB's first line (``Binder Error: Referenced column "x" not found ...``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from dealgraph.errors import QueryError
from dealgraph.graph.schema import QUALIFIERS, TABLES

if TYPE_CHECKING:
    from dealgraph.graph.store import Store

#: Schema type -> the DuckDB type a column has in SQL.
SQL_TYPES: dict[str, str] = {"TEXT": "VARCHAR", "REAL": "DOUBLE", "INTEGER": "BIGINT"}


def arrow_tables(store: "Store") -> dict[str, pa.Table]:
    """The store's tables as plain Arrow (dictionary columns decoded to strings and
    narrowed integers widened to the schema's types)."""
    out = {}
    for name in TABLES:
        t = store.columns(name)
        schema = pa.schema([(f.name, pa.string() if pa.types.is_dictionary(f.type) else
                             (pa.int64() if pa.types.is_integer(f.type) else f.type)) for f in t.schema])
        out[name] = t.cast(schema)
    return out


def run_sql(store: "Store", query: str) -> pd.DataFrame:
    """The result of one read-only ``SELECT`` over the store's tables (module docstring)."""
    import duckdb

    con = duckdb.connect(":memory:", config={"enable_external_access": False, "autoload_known_extensions": False,
                                             "autoinstall_known_extensions": False})
    try:
        try:
            statements = con.extract_statements(query)
        except duckdb.Error as e:
            raise QueryError(_one_line(e)) from None
        if len(statements) != 1:
            raise QueryError(f"give exactly one SELECT statement (found {len(statements)})")
        kind = statements[0].type
        if kind != duckdb.StatementType.SELECT:
            raise QueryError(f"only a SELECT query is run (the store is read only here); this is {kind.name}")
        for name, table in arrow_tables(store).items():
            con.register(name, table)
        con.execute("SET lock_configuration = true")
        try:
            return con.execute(query).df()
        except duckdb.Error as e:
            raise QueryError(_one_line(e)) from None
    finally:
        con.close()


def _one_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def tables_markdown() -> str:
    """The SQL tables' columns as Markdown (what ``docs/sql.md`` shows), from the schema."""
    out = []
    for name, table in TABLES.items():
        out += [f"### `{name}`", "", "| column | type | notes |", "|---|---|---|"]
        for c in table.columns:
            notes = []
            if c.key:
                notes.append("key")
            if c.csv:
                notes.append(f"CSV column ({c.csv})")
            if c.amount:
                notes.append(f"money; qualifier in `{c.name}_qualifier`")
            if c.derived:
                notes.append(f"= `{c.derived[0]}` x `{c.derived[1]}`")
            if c.name.endswith("_qualifier") and c.name[:-len("_qualifier")] in table.amounts:
                notes.append(f"how `{c.name[:-len('_qualifier')]}` relates to the true figure: "
                             f"{', '.join(QUALIFIERS)}")
            elif c.bound:
                amount = c.name[:-len(c.bound) - 1]
                notes.append(f"{c.bound} end of `{amount}`'s interval: a range's end as typed, else `{amount}` "
                             f"(NULL where unknown: the low end of `up to`, the high end of `at least`)")
            elif not c.csv and not c.derived:
                notes.append("computed by `add`")
            out.append(f"| `{c.name}` | {SQL_TYPES[c.type]} | {'; '.join(notes)} |")
        out.append("")
    return "\n".join(out)
