"""``dealgraph viz`` and ``dealgraph report``: the HTML views of the deals."""

from __future__ import annotations

import datetime as _dt
import webbrowser
from pathlib import Path

import click

from dealgraph.cli.common import entity_id, in_existing_dir, pass_store, selection_options
from dealgraph.errors import DealgraphError, QueryError
from dealgraph.viz.aggregate import DEFAULT_HUBS
from dealgraph.viz.network import DEFAULT_MAX_EDGES, DEFAULT_MAX_NODES


def _open(path: Path) -> None:
    """Open the written page in the user's browser (``$BROWSER`` or the system's).

    The page is written either way and its path printed; when no browser could
    be started this raises (one ``error:`` line, exit 1) so a script sees it."""
    try:
        opened = webbrowser.open(path.resolve().as_uri())
    except webbrowser.Error:
        opened = False
    if not opened:
        raise DealgraphError(f"no web browser could be opened (set BROWSER, or open {path.resolve()} yourself)")


@click.command("viz")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="dealgraph-network.html",
              show_default=True, help="HTML file to write (the only file written).")
@click.option("--open", "open_", is_flag=True,
              help="Open the page in the web browser (exit 1 with one error line if none could be opened; "
                   "the page is written either way).")
@click.option("--cycles-only", is_flag=True, help="Only deals on circular flows, and their entities.")
@click.option("--temporal", is_flag=True, help="Only time-ordered circular flows (dates non-decreasing round the loop).")
@click.option("--window", type=int, default=None, help="With --temporal: first-to-last deal within DAYS.")
@click.option("--max-length", type=int, default=5, show_default=True, help="Longest cycle (hops).")
@click.option("--entity", default=None, help="Centre the view on this entity (id, name or alias).")
@click.option("--depth", type=int, default=1, show_default=True, help="With --entity: hops around it.")
@selection_options
@click.option("--max-nodes", type=int, default=DEFAULT_MAX_NODES, show_default=True,
              help="Above this many entities: the aggregated view (cycle members and --hubs largest entities "
                   "drawn, the others folded into '+ N more' nodes).")
@click.option("--hubs", type=int, default=DEFAULT_HUBS, show_default=True,
              help="In the aggregated view: entities drawn besides the members of circular flows.")
@click.option("--max-edges", type=int, default=DEFAULT_MAX_EDGES, show_default=True,
              help="Above this many deals the view keeps cycle deals, then the largest.")
@pass_store
def viz_command(store, output, open_, cycles_only, temporal, window, max_length, entity, depth, as_of, status,
                max_nodes, hubs, max_edges, min_confidence=None):
    """Interactive network of the deals in one self-contained HTML file.

    Entities are nodes (size = money through them, colour = kind); deals are
    arrows from payer to payee (width = amount on a log scale, colour = type,
    dashed = undisclosed). Circular flows glow amber; pick one from the list to
    see that loop laid out as a ring, with its bottleneck. Above --max-nodes
    entities the view is aggregated into '+ N more' nodes. The page needs no
    network.
    """
    from dealgraph.queries.observations import effective
    from dealgraph.viz.build import view_from_store
    from dealgraph.viz.html import render_view_page, write_page

    store = effective(store, min_confidence)  # the figures the queries use (docs/queries.md#sources)
    in_existing_dir(output, "-o/--output")
    for name, value, least in (("--depth", depth, 0), ("--window", window, 0), ("--max-nodes", max_nodes, 1),
                               ("--hubs", hubs, 0), ("--max-edges", max_edges, 1)):
        if value is not None and value < least:
            raise QueryError(f"{name} must be at least {least}, not {value}")
    if entity is None and depth != 1 and click.get_current_context().get_parameter_source("depth").name != "DEFAULT":
        raise QueryError("--depth needs --entity (the entity the view is centred on)")
    if entity is not None:
        entity = entity_id(store.entities, entity)
    view = view_from_store(store, as_of=as_of, status=status, entity=entity, depth=depth,
                           cycles_only=cycles_only, temporal=temporal or window is not None, window=window,
                           max_length=max_length, max_nodes=max_nodes, max_edges=max_edges, hubs=hubs)
    path = write_page(render_view_page(view), output)
    for note in view.notes:
        click.echo(f"note: {note}", err=True)
    groups = sum(1 for n in view.net.nodes if n.get("aggregate"))
    links = sum(1 for e in view.net.edges if e.get("aggregate"))
    drawn = (f"{view.node_count - groups} entities, {view.edge_count - links} deals" +
             (f", {groups} '+ N more' nodes and {links} links to them" if groups else ""))
    click.echo(f"wrote {path.resolve()} ({drawn}, {len(view.cycles)} circular flows)")
    if open_:
        _open(path)


@click.command("report")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="dealgraph-report.html",
              show_default=True, help="HTML file to write (the only file written).")
@click.option("--open", "open_", is_flag=True, help="Open the report in the web browser.")
@click.option("--title", default="AI deals: who pays whom", show_default=True)
@selection_options
@click.option("--max-nodes", type=int, default=DEFAULT_MAX_NODES, show_default=True)
@click.option("--max-edges", type=int, default=DEFAULT_MAX_EDGES, show_default=True)
@pass_store
def report_command(store, output, open_, title, as_of, status, max_nodes, max_edges, min_confidence=None):
    """One-page HTML report: the headline findings in words, charts (money by year
    and type, the circular web's timeline, the largest loops, valuation histories),
    the network, the canned query tables and sources. Self-contained; works
    offline; prints to a clean PDF."""
    from dealgraph.queries.observations import effective
    from dealgraph.viz.html import write_page
    from dealgraph.viz.report import render_report

    store = effective(store, min_confidence)  # the figures the queries use (docs/queries.md#sources)
    in_existing_dir(output, "-o/--output")
    for name, value in (("--max-nodes", max_nodes), ("--max-edges", max_edges)):
        if value < 1:
            raise QueryError(f"{name} must be at least 1, not {value}")
    text, notes = render_report(store, title=title, as_of=as_of, status=status, max_nodes=max_nodes,
                                max_edges=max_edges, today=_dt.date.today())
    path = write_page(text, output)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"wrote {path}")
    if open_:
        _open(path)
