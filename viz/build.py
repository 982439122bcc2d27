"""From a store to a :class:`~dealgraph.viz.network.View`: select deals, find cycles, reduce, lay out."""

from __future__ import annotations

from dealgraph.viz.cycles import DEFAULT_TOP, find_cycles
from dealgraph.viz.network import DEFAULT_MAX_EDGES, DEFAULT_MAX_NODES, View, build_view


def view_from_store(store, *, as_of: str | None = None, status=None, entity: str | None = None,
                    depth: int = 1, cycles_only: bool = False, temporal: bool = False,
                    window: int | None = None, max_length: int = 5, max_nodes: int = DEFAULT_MAX_NODES,
                    max_edges: int = DEFAULT_MAX_EDGES, top_cycles: int | None = DEFAULT_TOP,
                    title: str | None = None) -> View:
    """The network view of ``store`` (the same deal selection as the queries:
    ``as_of`` and ``status`` as in :func:`dealgraph.queries.filters.select_deals`).

    ``temporal``/``window``: only time-ordered circular flows are highlighted
    and listed (see ``circular_flows``)."""
    graph = store.graph(as_of=as_of, status=status)
    cycles, notes = find_cycles(store, max_length=max_length, temporal=temporal, window=window,
                                as_of=as_of, status=status, top=top_cycles)
    if title is None:
        bits = ["dealgraph network"]
        if entity:
            bits.append(f"around {entity}")
        if as_of:
            bits.append(f"as of {as_of}")
        title = " ".join(bits)
    view = build_view(graph, cycles, entity=entity, depth=depth, cycles_only=cycles_only, temporal=temporal,
                      max_nodes=max_nodes, max_edges=max_edges, title=title)
    if temporal:
        notes.append("Time-ordered circular flows only" + (f" (first to last deal within {window} days)."
                                                           if window is not None else "."))
    view.notes = notes + view.notes
    return view
