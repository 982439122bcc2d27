"""CLI commands for the canned queries: ``dealgraph queries``, ``dealgraph query NAME``,
``dealgraph check CLAIMS.csv``.

The subcommands of ``query`` are generated from :mod:`dealgraph.queries.registry`,
so a query registered there appears here with its options. The store comes from
the root command's ``--db`` / ``$DEALGRAPH_DB`` (``ctx.obj.store()``).
"""

from __future__ import annotations

import sys

import click
import pandas as pd

from dealgraph.queries.output import FORMATS, render
from dealgraph.queries.registry import QUERIES, Option, Query, list_queries

_CLICK_TYPES = {"int": int, "float": float, "str": str, "entity": str}


def _store(ctx: click.Context):
    obj = ctx.find_root().obj
    if obj is not None and hasattr(obj, "store"):
        return obj.store()
    from dealgraph.graph.store import open_store  # used outside the dealgraph group (tests, embedding)
    return open_store(None)


def _entity_id(store, text: str) -> str:
    from dealgraph.loaders.resolve import entity_lookup

    ident = entity_lookup(store.entities).get(text.strip().lower())
    if ident is None:
        raise click.ClickException(f"no entity matches {text!r} (by id, name or alias)")
    return ident


def _emit(df: pd.DataFrame, fmt: str, title: str | None = None) -> None:
    click.echo(render(df, fmt, title=title if fmt == "table" else None), nl=False)
    message = df.attrs.get("message") if hasattr(df, "attrs") else None
    if message:
        click.echo(str(message), err=True)


def _format_option(f):
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                        help="Output format.")(f)


def _common_options(f):
    f = click.option("--status", default=None,
                     help="Comma-separated statuses, or 'all' (default: all but terminated; "
                          "in_talks/rumoured included and marked).")(f)
    f = click.option("--as-of", "as_of", default=None, metavar="DATE",
                     help="Only deals dated on or before DATE (YYYY[-MM[-DD]]).")(f)
    return _format_option(f)


def _param(o: Option):
    if o.argument:
        return click.argument(o.name, required=o.required, type=_CLICK_TYPES.get(o.type, str))
    if o.type == "bool":
        return click.option(o.flag, o.name, is_flag=True, default=bool(o.default), help=o.help)
    return click.option(o.flag, o.name, type=_CLICK_TYPES[o.type], default=o.default, show_default=o.default is not None,
                        required=o.required, help=o.help,
                        metavar="ENTITY" if o.type == "entity" else None)


def _make_command(q: Query) -> click.Command:
    def callback(fmt: str, as_of, status, **opts):
        ctx = click.get_current_context()
        store = _store(ctx)
        for o in q.options:
            if o.type == "entity" and opts.get(o.name) is not None:
                opts[o.name] = _entity_id(store, opts[o.name])
        try:
            df = q.run(store, as_of=as_of, status=status, **opts)
        except (ValueError, TypeError) as e:
            raise click.ClickException(str(e)) from None
        _emit(df, fmt, title=q.name)

    callback.__doc__ = q.description + "\n\nDefinitions: docs/queries.md."
    f = callback
    for o in reversed(q.options):
        f = _param(o)(f)
    f = _common_options(f)
    return click.command(name=q.name, help=callback.__doc__, short_help=q.description)(f)


class _QueryGroup(click.Group):
    """``dealgraph query NAME``: one subcommand per registered query."""

    def list_commands(self, ctx):
        return list(QUERIES)

    def get_command(self, ctx, name):
        q = QUERIES.get(name)
        return _make_command(q) if q is not None else None


query_command = _QueryGroup(name="query", help="Run a canned query (list them with `dealgraph queries`).\n\n"
                                               "Every query takes --format table|csv|json|markdown, --as-of DATE "
                                               "and --status.")


@click.command(name="queries")
@_format_option
def queries_command(fmt: str) -> None:
    """List the canned queries, one line each."""
    _emit(list_queries(), fmt, title="queries")


@click.command(name="check")
@click.argument("claims", type=click.Path(exists=True, dir_okay=False))
@click.option("--tolerance", type=float, default=0.01, show_default=True,
              help="Relative tolerance beyond the rounding of the stated digits.")
@click.option("--approx-tolerance", type=float, default=0.10, show_default=True,
              help="Relative tolerance for approximate ('~', 'about') stated values.")
@click.option("--strict", is_flag=True, help="Exit with status 1 when a claim is not supported.")
@_common_options
def check_command(claims: str, tolerance: float, approx_tolerance: float, strict: bool, fmt: str, as_of,
                  status) -> None:
    """Check stated figures (CSV: subject,metric,stated,source) against the store.

    Prints stated vs recomputed, the difference and a verdict (supported / not
    supported / cannot check); definitions in docs/queries.md.
    """
    from dealgraph.queries.claims import check_claims

    store = _store(click.get_current_context())
    try:
        df = check_claims(store, claims, tolerance=tolerance, approx_tolerance=approx_tolerance,
                          as_of=as_of, status=status)
    except (ValueError, TypeError) as e:
        raise click.ClickException(str(e)) from None
    _emit(df, fmt, title=f"claims: {claims}")
    counts = df["verdict"].value_counts()
    summary = ", ".join(f"{int(counts.get(v, 0))} {v}" for v in ("supported", "not supported", "cannot check"))
    click.echo(f"{len(df)} claims: {summary}", err=True)
    if strict and int(counts.get("not supported", 0)):
        sys.exit(1)
