"""``dealgraph neo4j query NAME``: the canned queries that have a Cypher implementation.

Options are taken from the query registry (:mod:`dealgraph.queries.registry`), so
``dealgraph neo4j query circular-flows --max-length 4`` takes the same options as
``dealgraph query circular-flows`` and prints the same table.
"""

from __future__ import annotations

import importlib

import click

from dealgraph.queries.output import render
from dealgraph.queries.registry import QUERIES

#: query name -> "module:function" taking (driver, *, database, **options).
CYPHER_QUERIES: dict[str, str] = {
    "circular-flows": "dealgraph.neo4j_backend.circular:circular_flows",
    "concentration": "dealgraph.neo4j_backend.flows:concentration",
    "round-trip": "dealgraph.neo4j_backend.flows:round_trip",
    "multiples": "dealgraph.neo4j_backend.valuation:multiples",
    "returns": "dealgraph.neo4j_backend.valuation:returns",
    "rounds": "dealgraph.neo4j_backend.valuation:rounds",
    "deal-comparisons": "dealgraph.neo4j_backend.valuation:deal_comparisons",
}


def cypher_function(name: str):
    module, _, attr = CYPHER_QUERIES[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def run_cypher_query(name: str, driver, *, database=None, **options):
    """Run query ``name`` on the Neo4j server behind ``driver``."""
    if name not in CYPHER_QUERIES:
        raise KeyError(f"no Cypher implementation of {name!r}; available: {', '.join(CYPHER_QUERIES)}")
    return cypher_function(name)(driver, database=database, **options)


def _server_entity_id(driver, database, text: str) -> str:
    import pandas as pd

    from dealgraph.loaders.resolve import entity_lookup
    from dealgraph.neo4j_backend import model as m

    records, _, _ = driver.execute_query(
        f"MATCH (e:{m.ENTITY}) RETURN e.id AS id, e.name AS name, coalesce(e.aliases, '') AS aliases",
        database_=database)
    ents = pd.DataFrame([r.data() for r in records], columns=["id", "name", "aliases"]).astype("string")
    ident = entity_lookup(ents).get(text.strip().lower())
    if ident is None:
        raise click.ClickException(f"no entity on the server matches {text!r} (by id, name or alias)")
    return ident


def _make(name: str) -> click.Command:
    from dealgraph.cli.neo4j import _conn_options, _session
    from dealgraph.cli.query import _common_options, _param

    q = QUERIES[name]

    def callback(uri, user, password, database, fmt, as_of, status, **opts):
        with _session(uri, user, password, database, failed="query failed") as (_, driver):
            try:
                for o in q.options:  # an entity by id, name or alias, as the local CLI resolves it
                    if o.type == "entity" and opts.get(o.name) is not None:
                        opts[o.name] = _server_entity_id(driver, database, opts[o.name])
                df = run_cypher_query(name, driver, database=database, as_of=as_of, status=status, **opts)
            except (ValueError, TypeError) as e:
                raise click.ClickException(str(e)) from None
        click.echo(render(df, fmt, title=f"{name} (Neo4j)" if fmt == "table" else None), nl=False)
        if df.attrs.get("message"):
            click.echo(str(df.attrs["message"]), err=True)

    f = callback
    for o in reversed(q.options):
        f = _param(o)(f)
    f = _common_options(f)
    f = _conn_options(f)
    return click.command(name=name, help=q.description + "\n\nComputed in Cypher on the server; "
                                                          "same table as `dealgraph query " + name + "`.",
                         short_help=q.description)(f)


class _Group(click.Group):
    def list_commands(self, ctx):
        return list(CYPHER_QUERIES)

    def get_command(self, ctx, name):
        return _make(name) if name in CYPHER_QUERIES else None


neo4j_query_command = _Group(name="query", help="Run a canned query in Cypher on the Neo4j server "
                                                "(same options and table as `dealgraph query`).")
