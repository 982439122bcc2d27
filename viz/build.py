"""From a store to a :class:`~dealgraph.viz.network.View`: select deals, find cycles, reduce, lay out."""

from __future__ import annotations

from dealgraph.viz.aggregate import DEFAULT_HUBS
from dealgraph.viz.cycles import DEFAULT_TOP, find_cycles
from dealgraph.viz.network import (DEFAULT_MAX_EDGES, DEFAULT_MAX_NODES, View, aggregated_graph, build_view,
                                   cycle_deals, cycle_members)


def view_from_store(store, *, as_of: str | None = None, status=None, entity: str | None = None,
                    depth: int = 1, cycles_only: bool = False, temporal: bool = False,
                    window: int | None = None, max_length: int = 5, max_nodes: int = DEFAULT_MAX_NODES,
                    max_edges: int = DEFAULT_MAX_EDGES, top_cycles: int | None = DEFAULT_TOP,
                    hubs: int = DEFAULT_HUBS, title: str | None = None) -> View:
    """The network view of ``store`` (the same deal selection as the queries:
    ``as_of`` and ``status`` as in :func:`dealgraph.queries.filters.select_deals`).

    ``temporal``/``window``: only time-ordered circular flows are highlighted
    and listed (see ``circular_flows``).

    Above ``max_nodes`` entities (and without ``entity``/``cycles_only``) the
    aggregated view is built straight from the store's tables, never as a graph
    of every deal: that is what keeps a million deals to seconds."""
    entities = store.entities
    full_counts = None
    if entity is None and not cycles_only and len(entities) > max_nodes:
        from dealgraph.queries.filters import select_deals

        deals = select_deals(store.deals, as_of=as_of, status=status)
        cycles, notes = find_cycles(deals, max_length=max_length, temporal=temporal, window=window,
                                    as_of=as_of, status=status, top=top_cycles)
        deals = deals[deals["payer"].notna()]
        graph, more = aggregated_graph(entities, deals, keep=cycle_members(cycles),
                                       keep_deals=cycle_deals(cycles), hubs=hubs, max_nodes=max_nodes,
                                       max_edges=max_edges)
        notes += more
        full_counts = (len(entities), len(deals))
        max_nodes = max(max_nodes, graph.number_of_nodes())  # cycle members are never cut
    else:
        cycles, notes = find_cycles(store, max_length=max_length, temporal=temporal, window=window,
                                    as_of=as_of, status=status, top=top_cycles)
        graph = store.graph(as_of=as_of, status=status)
    if title is None:
        bits = ["dealgraph network"]
        if entity:
            bits.append(f"around {entity}")
        if as_of:
            bits.append(f"as of {as_of}")
        title = " ".join(bits)
    view = build_view(graph, cycles, entity=entity, depth=depth, cycles_only=cycles_only, temporal=temporal,
                      max_nodes=max_nodes, max_edges=max_edges, hubs=hubs, title=title, full_counts=full_counts)
    if temporal:
        notes.append("Time-ordered circular flows only" + (f" (first to last deal within {window} days)."
                                                           if window is not None else "."))
    view.notes = notes + view.notes
    return view
