"""``dealgraph sql``: one read-only SQL query over the store (:mod:`dealgraph.queries.sql`)."""

from __future__ import annotations

import click

from dealgraph.cli.common import emit, format_option, pass_store
from dealgraph.graph.store import Store
from dealgraph.queries.output import Layout

#: A SQL result in a table: headers as the query wrote them (``sum(amount_usd)``), every column selected,
#: a missing value as ``NULL``.
SQL_LAYOUT = Layout(raw_headers=True, missing="NULL")


@click.command("sql")
@click.argument("query")
@format_option
@pass_store
def sql_command(store: Store, query: str, fmt: str) -> None:
    """Run one read-only SQL SELECT (DuckDB) over the tables deals, entities, metrics, fx.

    Columns: as graph/schema.py declares each table (docs/sql.md). Only a query runs:
    anything else, and reading files, is refused. Example:

    \b
    dealgraph sql "select payer, sum(amount_usd) from deals group by 1"
    """
    from dealgraph.queries.sql import run_sql

    df = run_sql(store, query)
    emit(df, fmt, title=f"{len(df)} row{'' if len(df) == 1 else 's'}", layout=SQL_LAYOUT)
