"""``dealgraph queries``, ``dealgraph query NAME`` and ``dealgraph check CLAIMS.csv``.

The subcommands of ``query`` are generated from :mod:`dealgraph.queries.registry`,
so a query registered there appears here with its options.
"""

from __future__ import annotations

import click

from dealgraph.cli.common import GeneratedGroup, emit, explain_option, format_option, pass_store, registry_options, \
    resolve_entities, selection_options, view_options
from dealgraph.queries.registry import CHECK, QUERIES, QUERIES_LAYOUT, Query, list_queries


def _make_command(q: Query) -> click.Command:
    @pass_store
    def callback(store, fmt: str, as_of, status, view, min_confidence, explain, **opts):
        from dealgraph.queries.observations import effective

        resolve_entities(q.options, opts, lambda: store.entities)
        store = effective(store, min_confidence)
        df = q.run(store, as_of=as_of, status=status, **opts)
        emit(df, fmt, title=q.name, markdown_title=False, layout=q.layout, entities=store.entities, view=view)
        if explain:
            emit_explain(df, store, fmt)

    help = q.description + "\n\nDefinitions: docs/queries.md."
    return click.command(name=q.name, help=help, short_help=q.description)(
        explain_option(registry_options(q.options)(callback)))


def emit_explain(df, store, fmt: str) -> None:
    """``--explain``: the sources of the figures ``df`` used, under a table (stdout), or on
    stderr for csv/json, which stay machine-readable."""
    import textwrap

    from dealgraph.queries.observations import explain
    from dealgraph.queries.output import terminal_width

    lines = explain(df, store)
    if fmt == "table":  # each line wrapped to the terminal, its continuation indented under it
        width = terminal_width()
        lines = [textwrap.fill(ln, width, subsequent_indent=" " * (len(ln) - len(ln.lstrip()) + 4),
                               break_on_hyphens=False, break_long_words=False) for ln in lines]
        # a web address is never cut: one wider than the terminal stands whole on a line of
        # its own, unindented, so it can still be copied or clicked
        lines = ["\n".join(part.strip() if len(part) > width and _is_url(part.strip()) else part
                           for part in ln.split("\n")) for ln in lines]
    click.echo("\n".join(lines), err=fmt in ("csv", "json"))


def _is_url(text: str) -> bool:
    return " " not in text and text.startswith(("http://", "https://"))


query_command = GeneratedGroup("query", QUERIES, lambda name: _make_command(QUERIES[name]),
                               help="Run a canned query (list them with `dealgraph queries`).\n\n"
                                    "Every query takes --format table|csv|json|markdown, --as-of DATE and --status.")


@click.command(name="queries")
@format_option
@view_options
def queries_command(fmt: str, view) -> None:
    """List the canned queries, one line each (each runs as `dealgraph query NAME`)."""
    emit(list_queries(), fmt, title="queries", markdown_title=False, layout=QUERIES_LAYOUT, view=view)


def bundled_claims() -> str:
    """The sample data's claims file (the article's stated figures), wherever dealgraph is installed."""
    from importlib.resources import files

    return str(files("dealgraph.data") / "claims.csv")


@click.command(name="check", short_help="Check stated figures in a claims CSV against recomputed ones.")
@click.argument("claims", type=click.Path(exists=True, dir_okay=False), required=False)
@click.option("--tolerance", type=float, default=0.01, show_default=True,
              help="Relative tolerance beyond the rounding of the stated digits.")
@click.option("--approx-tolerance", type=float, default=0.10, show_default=True,
              help="Relative tolerance for approximate ('~', 'about') stated values.")
@click.option("--strict", is_flag=True, help="Exit with status 1 when a claim is not supported.")
@format_option
@view_options
@selection_options
@explain_option
@pass_store
def check_command(store, claims: str, tolerance: float, approx_tolerance: float, strict: bool, fmt: str, as_of,
                  status, view, min_confidence, explain) -> None:
    """Check stated figures (CSV: subject,metric,stated,source) against the store.

    Prints stated vs recomputed, the difference and a verdict (supported / not
    supported / cannot check); definitions in docs/queries.md. Without CLAIMS: the
    bundled sample claims (the article's figures, data/claims.csv), from any directory.
    Also runs as `dealgraph query check`.
    """
    from dealgraph.queries.claims import check_claims
    from dealgraph.queries.observations import effective

    store = effective(store, min_confidence)
    shown = claims or "the sample claims (data/claims.csv)"
    claims = claims or bundled_claims()
    df = check_claims(store, claims, tolerance=tolerance, approx_tolerance=approx_tolerance,
                      as_of=as_of, status=status)
    counts = df["verdict"].value_counts()
    summary = f"{len(df)} claims: " + ", ".join(f"{int(counts.get(v, 0))} {v}"
                                                for v in ("supported", "not supported", "cannot check"))
    emit(df, fmt, title=f"claims: {shown}", markdown_title=False, layout=CHECK.layout, view=view, summary=summary)
    if fmt != "table":  # a table ends with it
        click.echo(summary, err=True)
    if explain:
        emit_explain(df, store, fmt)
    if strict and int(counts.get("not supported", 0)):
        click.get_current_context().exit(1)  # a failed check


query_command.add_command(check_command)  # `dealgraph query check` is `dealgraph check`, as `queries` lists it
