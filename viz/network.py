"""Build the network view model (a pyvis ``Network``) from the deal graph.

Input: a ``networkx.MultiDiGraph`` in the ``store.graph()`` format (nodes =
entity ids with entity columns as attributes; one edge per deal, payer -> payee,
keyed by ``deal_id`` with all deal columns as attributes) and the result of
``dealgraph.queries.circular.circular_flows`` (a DataFrame, one row per cycle).

Output: a :class:`View` holding the pyvis ``Network`` (nodes, edges, vis
options), the cycles in a display form, the legend and the notes saying how the
view was reduced. :mod:`dealgraph.viz.html` turns it into a self-contained page.

Why not ``Network.add_edge``/``write_html``: ``add_edge`` checks node existence
with a list scan (O(nodes) per edge, minutes at 5,000 entities), and pyvis's
template loads bootstrap (and in ``local``/``remote`` mode vis-network) from a
CDN and switches to an ``innerHTML`` popup when a title contains "href". We use
pyvis's node/edge model and its bundled vis-network, and render our own page.

Reduction of big views (each step is recorded in ``View.notes``):

1. ``entity``/``depth``: the entities within ``depth`` hops of ``entity``
   (either direction) and the deals among them.
2. ``cycles_only``: only the deals on some circular flow, and their entities.
3. more than ``max_nodes`` entities: the aggregated view of
   :mod:`dealgraph.viz.aggregate` -- every member of a listed cycle and the
   ``hubs`` largest entities by money through them are drawn, every other entity
   is folded into a "+ N more" node beside the drawn entity it exchanges the
   most money with, and its deals with drawn entities into one link per group,
   entity and direction.
4. more than ``max_edges`` deals: keep deals on cycles, then the largest known
   amounts, then undisclosed ones.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import networkx as nx
import pandas as pd
from pyvis.edge import Edge
from pyvis.network import Network
from pyvis.node import Node

from dealgraph.graph.schema import DEAL_TYPES, ENTITY_KINDS, STATUSES, TENTATIVE_STATUSES, UNDIRECTED_TYPES
from dealgraph.viz import style
from dealgraph.viz.aggregate import DEFAULT_HUBS, aggregate
from dealgraph.viz.layout import force_layout, place_labels

DEFAULT_MAX_NODES = 5000
DEFAULT_MAX_EDGES = 20000
#: Above this many deals only parallel/reciprocal deals are drawn curved.
CURVE_LIMIT = 2000


@dataclass
class View:
    """Everything the page needs; ``net`` is the pyvis model."""

    net: Network
    cycles: list[dict]
    legend: dict
    notes: list[str] = field(default_factory=list)
    title: str = "dealgraph network"
    temporal: bool = False
    full_counts: tuple[int, int] = (0, 0)  # entities, deals before reduction

    @property
    def node_count(self) -> int:
        return len(self.net.nodes)

    @property
    def edge_count(self) -> int:
        return len(self.net.edges)


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------

def _num(x) -> float | None:
    """float or None for NaN/NA/None/non-numbers (JSON-safe)."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def _txt(x) -> str:
    """Display text for a possibly missing value."""
    if x is None:
        return ""
    try:
        if pd.isna(x):
            return ""
    except (TypeError, ValueError):
        pass
    return str(x)


def _bool(x) -> bool | None:
    """True/False, or None when missing (numpy and pandas booleans included)."""
    if x is None or x is pd.NA:
        return None
    if isinstance(x, float) and math.isnan(x):
        return None
    return bool(x)


def _int(x, default: int = 0) -> int:
    v = _num(x)
    return default if v is None else int(v)


def money_through(graph: nx.MultiDiGraph) -> dict:
    """Known USD paid + received per entity (undisclosed amounts count 0)."""
    flow = {n: 0.0 for n in graph.nodes}
    for u, v, d in graph.edges(data=True):
        a = _num(d.get("amount_usd"))
        if a is not None and a > 0:
            flow[u] += a
            flow[v] += a
    return flow


# ---------------------------------------------------------------------------
# cycles
# ---------------------------------------------------------------------------

_ARROW = re.compile(r"\s*(?:→|->|=>|>)\s*")


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    if hasattr(x, "tolist"):
        return list(x.tolist())
    if isinstance(x, str):
        return [s for s in re.split(r"\s*[;,]\s*", x.strip()) if s]
    try:
        if pd.isna(x):
            return []
    except (TypeError, ValueError):
        pass
    return [x]


def _flat(xs) -> list[str]:
    out = []
    for x in _as_list(xs):
        if isinstance(x, (list, tuple)) or hasattr(x, "tolist"):
            out.extend(_flat(x))
        elif isinstance(x, dict):
            out.extend(_flat(x.get("deal_ids") or x.get("deals") or []))
        else:
            out.append(str(x))
    return out


def _cycle_nodes(row, graph, deal_ids: list[str]) -> list[str]:
    raw = row.get("cycle")
    if isinstance(raw, str):
        nodes = [s for s in _ARROW.split(raw.strip()) if s]
    else:
        nodes = [str(s) for s in _as_list(raw)]
    if len(nodes) >= 2 and nodes[0] == nodes[-1]:
        nodes = nodes[:-1]
    if not nodes:  # fall back to the deals' endpoints in order
        ends = {}
        for _, _, k, d in _edges_by_key(graph, deal_ids):
            ends[d.get("payer")] = d.get("payee")
        if ends:
            start = next(iter(ends))
            nodes, cur = [], start
            while cur not in nodes and cur in ends:
                nodes.append(cur)
                cur = ends[cur]
    return nodes


def _edges_by_key(graph, keys):
    keys = set(keys)
    return [(u, v, k, d) for u, v, k, d in graph.edges(keys=True, data=True) if k in keys]


def cycle_members(cycles: pd.DataFrame | None) -> list[str]:
    """The entity ids of every cycle of a ``circular_flows`` result, once each."""
    if cycles is None or len(cycles) == 0:
        return []
    out: dict[str, None] = {}
    for raw in cycles["cycle"]:
        for n in (_ARROW.split(raw.strip()) if isinstance(raw, str) else _as_list(raw)):
            if n:
                out[str(n)] = None
    return list(out)


def cycle_deals(cycles: pd.DataFrame | None) -> list[str]:
    """The deal ids of every cycle of a ``circular_flows`` result."""
    if cycles is None or len(cycles) == 0:
        return []
    return sorted({k for x in cycles["deal_ids"] for k in _flat(x)})


def normalise_cycles(cycles: pd.DataFrame | None, graph: nx.MultiDiGraph) -> list[dict]:
    """Display form of ``circular_flows`` rows, restricted to cycles whose
    entities and deals are all in ``graph``.

    Each cycle: ``nodes`` (entity ids in order, not repeating the first),
    ``hops`` (``from``, ``to``, ``deal_ids``, ``amount_usd`` = sum of known
    amounts, ``undisclosed``), ``bottleneck_usd`` (smallest hop amount, from the
    query when given), ``bottleneck_hop`` (index of that hop), ``total_usd``,
    ``length``, ``time_ordered``, ``tentative``, ``witness`` (deal ids in time
    order, when the query found one), ``deal_ids`` and ``label``.
    """
    if cycles is None or len(cycles) == 0:
        return []
    deal_keys = {k for _, _, k in graph.edges(keys=True)}
    out = []
    for _, row in cycles.iterrows():
        row = row.to_dict()
        deal_ids = _flat(row.get("deal_ids"))
        nodes = _cycle_nodes(row, graph, deal_ids)
        if len(nodes) < 2 or any(n not in graph for n in nodes):
            continue
        want = set(deal_ids)
        hops, ok = [], True
        for i, u in enumerate(nodes):
            v = nodes[(i + 1) % len(nodes)]
            ks = [k for k in (graph.get_edge_data(u, v) or {}) if not want or k in want]
            if not ks:
                ok = False
                break
            amounts = [_num(graph.edges[u, v, k].get("amount_usd")) for k in ks]
            known = [a for a in amounts if a is not None]
            hops.append({"from": u, "to": v, "deal_ids": ks,
                         "amount_usd": sum(known) if known else None,
                         "undisclosed": any(a is None for a in amounts)})
        if not ok:
            continue
        # bottleneck = smallest hop amount; a hop that includes an undisclosed
        # deal has no known amount, so (as in circular_flows) the bottleneck is
        # then unknown and that hop is the one marked
        known = [(h["amount_usd"], i) for i, h in enumerate(hops) if not h["undisclosed"]]
        open_hops = [i for i, h in enumerate(hops) if h["undisclosed"]]
        if open_hops:
            bottleneck, b_hop = None, open_hops[0]
        else:
            bottleneck, b_hop = min(known)
        if "bottleneck_usd" in row and _num(row.get("bottleneck_usd")) is not None:
            bottleneck = _num(row.get("bottleneck_usd"))
        witness = [str(w) for w in _flat(row.get("witness"))]
        names = [_txt(graph.nodes[n].get("name")) or n for n in nodes]
        total = _num(row.get("total_usd"))
        out.append({
            "nodes": nodes,
            "names": names,
            "hops": hops,
            "deal_ids": sorted({k for h in hops for k in h["deal_ids"]}),
            "length": len(nodes),
            "bottleneck_usd": bottleneck,
            "bottleneck_hop": b_hop,
            "total_usd": total if total is not None else sum(h["amount_usd"] or 0.0 for h in hops),
            "time_ordered": _bool(row.get("time_ordered")),
            "tentative": bool(_bool(row.get("tentative"))),
            "undisclosed_hops": _int(row.get("undisclosed_hops"), sum(h["undisclosed"] for h in hops)),
            "witness": [w for w in witness if w in deal_keys],
            "label": " → ".join(names + names[:1]) + f"  (bottleneck {style.money(bottleneck)})",
        })
    return out


# ---------------------------------------------------------------------------
# reduction
# ---------------------------------------------------------------------------

def _resolve_entity(graph, entity: str) -> str:
    if entity in graph:
        return entity
    low = entity.strip().lower()
    for n, d in graph.nodes(data=True):
        if str(n).lower() == low or _txt(d.get("name")).lower() == low:
            return n
        if low in [a.strip().lower() for a in _txt(d.get("aliases")).split(";") if a.strip()]:
            return n
    raise KeyError(f"no entity {entity!r} in the graph")


def graph_from_frames(entities: pd.DataFrame, deals: pd.DataFrame) -> nx.MultiDiGraph:
    """The ``store.graph()`` form of the given entities and (money) deals."""
    from dealgraph.graph.store import _records

    g = nx.MultiDiGraph()
    g.add_nodes_from((r["id"], r) for r in _records(entities.drop(columns=["extra"], errors="ignore")))
    g.add_edges_from((r["payer"], r["payee"], r["deal_id"], r)
                     for r in _records(deals.drop(columns=["extra"], errors="ignore")))
    return g


def aggregated_graph(entities: pd.DataFrame, deals: pd.DataFrame, *, keep=(), keep_deals=(),
                     hubs: int = DEFAULT_HUBS, max_nodes: int = DEFAULT_MAX_NODES,
                     max_edges: int = DEFAULT_MAX_EDGES) -> tuple[nx.MultiDiGraph, list[str]]:
    """The graph of the aggregated view (:func:`dealgraph.viz.aggregate.aggregate`):
    shown entities with their deals, a node per group (``aggregate=True``, its
    ``members`` count, ``kinds``, ``top`` members) and a link edge per group,
    shown entity and direction (``aggregate=True``, ``deals``, ``amount_usd``,
    ``undisclosed``, ``types``); and the note saying what was folded."""
    a = aggregate(entities, deals, keep=keep, keep_deals=keep_deals, hubs=hubs, max_nodes=max_nodes,
                  max_edges=max_edges)
    shown = entities[entities["id"].isin(a.shown)]
    g = graph_from_frames(shown, a.deals_shown)
    hub_name = {n: _txt(g.nodes[n].get("name")) or n for n in g}
    for r in a.groups.itertuples(index=False):
        g.add_node(r.group_id, id=r.group_id, aggregate=True, members=r.members, flow_usd=r.flow_usd,
                   kinds=r.kinds, top=r.top, hub=r.hub, name=f"+ {r.members:,} more",
                   hub_name=hub_name.get(r.hub) if r.hub else None)
    for src, dst, n_deals, amount, undisclosed, types in a.links[
            ["from", "to", "deals", "amount_usd", "undisclosed", "types"]].itertuples(index=False, name=None):
        key = f"{src}>{dst}"
        g.add_edge(src, dst, key=key, deal_id=key, aggregate=True, deals=int(n_deals), amount_usd=_num(amount),
                   undisclosed=int(undisclosed), types=types, payer=src, payee=dst)
    folded = int(a.groups["members"].sum()) if len(a.groups) else 0
    notes = [f"Aggregated view (more than --max-nodes {max_nodes} entities): {len(a.shown):,} of "
             f"{a.total_entities:,} entities drawn (every member of a listed circular flow, then the largest "
             f"by money through them); the other {folded:,} are folded into {len(a.groups):,} '+ N more' "
             f"nodes, each beside the entity it exchanges the most money with. Deals: {len(a.deals_shown):,} "
             f"drawn one by one, {int(a.links['deals'].sum()) if len(a.links) else 0:,} summed into "
             f"{len(a.links):,} links to '+ N more' nodes, {a.hidden_deals:,} between folded entities "
             f"not drawn" + (f", {a.cut_deals:,} left out by --max-edges {max_edges} (deals on circular "
                             f"flows first, then a link per '+ N more' node, then the largest amounts)."
                             if a.cut_deals else ".")]
    return g, notes


def reduce_graph(graph: nx.MultiDiGraph, cycles: list[dict], *, entity: str | None = None,
                 depth: int = 1, cycles_only: bool = False, max_nodes: int = DEFAULT_MAX_NODES,
                 max_edges: int = DEFAULT_MAX_EDGES,
                 hubs: int = DEFAULT_HUBS) -> tuple[nx.MultiDiGraph, list[str]]:
    """The sub-graph to draw and the notes describing each reduction made."""
    notes: list[str] = []
    g = graph
    if entity is not None:
        centre = _resolve_entity(g, entity)
        near = nx.single_source_shortest_path_length(g.to_undirected(as_view=True), centre, cutoff=depth)
        g = g.subgraph(near).copy()
        notes.append(f"Showing {g.number_of_nodes()} entities within {depth} hop(s) of {centre} "
                     f"and the {g.number_of_edges()} deals among them.")
    if cycles_only:
        on_cycle = {k for c in cycles for k in c["deal_ids"]}
        keep = [(u, v, k) for u, v, k in g.edges(keys=True) if k in on_cycle]
        h = g.edge_subgraph(keep).copy()
        notes.append(f"Cycles only: {h.number_of_edges()} of {g.number_of_edges()} deals lie on "
                     f"{len(cycles)} circular flow(s).")
        g = h
    if g.number_of_nodes() > max_nodes:
        ents = pd.DataFrame([{"id": n, **d} for n, d in g.nodes(data=True)])
        deals = pd.DataFrame([d for _, _, d in g.edges(data=True)],
                             columns=sorted({c for _, _, d in g.edges(data=True) for c in d} | {"payer", "payee",
                                                                                              "amount_usd", "type"}))
        g, more = aggregated_graph(ents, deals, keep=[n for c in cycles for n in c["nodes"]],
                                   keep_deals=[k for c in cycles for k in c["deal_ids"]], hubs=hubs,
                                   max_nodes=max_nodes, max_edges=max_edges)
        notes.extend(more)
    if g.number_of_edges() > max_edges:
        on_cycle = {k for c in cycles for k in c["deal_ids"]}
        ranked = sorted(g.edges(keys=True, data=True),
                        key=lambda e: (e[2] not in on_cycle, -(_num(e[3].get("amount_usd")) or -1.0), str(e[2])))
        before = g.number_of_edges()
        h = nx.MultiDiGraph()
        h.add_nodes_from(g.nodes(data=True))
        h.add_edges_from((u, v, k, d) for u, v, k, d in ranked[:max_edges])
        g = h
        notes.append(f"Reduced to {max_edges} of {before} deals (limit --max-edges {max_edges}): "
                     f"deals on circular flows first, then the largest amounts.")
    return g, notes


# ---------------------------------------------------------------------------
# the pyvis model
# ---------------------------------------------------------------------------

def _type_label(t) -> str:
    return _txt(t).replace("_", " ")


def _deal_tip(k, d) -> dict:
    amt = style.qualified_money(d.get("amount_usd"), d.get("amount_qualifier"))
    if d.get("amount_qualifier") == "range":  # a range reads as its interval, not its midpoint
        amt = style.money_range(d.get("amount_usd_low"), d.get("amount_usd_high"), d.get("amount_usd"))
    cur = _txt(d.get("currency"))
    if cur and cur != "USD" and _num(d.get("amount")) is not None:
        amt += f" ({cur} {_num(d.get('amount')):,.0f} at {_num(d.get('fx_rate'))} USD/{cur})"
    sep = " – " if _link_kind(d.get("type")) else " → "  # an undirected link names two parties
    ends = f"{_txt(d.get('payer'))}{sep}{_txt(d.get('payee'))}"
    rows = [
        ["Deal", _txt(k)],
        ["Type", _type_label(d.get("type"))],
        ["Parties (undirected, no money)" if sep == " – " else "Payer → payee", ends],
        ["Date", _txt(d.get("date"))],
        ["Amount", amt],
        ["Status", _txt(d.get("status")) + (" (tentative)" if d.get("status") in TENTATIVE_STATUSES else "")],
        ["Confidence", _txt(d.get("confidence"))],
    ]
    if _num(d.get("stake_pct")) is not None:
        rows.append(["Stake", f"{_num(d.get('stake_pct')):g}%"])
    if _num(d.get("post_money_valuation_usd")) is not None:
        rows.append(["Post-money", style.money(d.get("post_money_valuation_usd"))])
    rows.append(["Source", _txt(d.get("source")) or "(none)"])
    if _txt(d.get("notes")):
        rows.append(["Notes", _txt(d.get("notes"))])
    return {"head": f"{_type_label(d.get('type'))}: {ends}", "rows": rows}


def _entity_tip(n, d, inflow, outflow, n_deals) -> dict:
    rows = [["Id", _txt(n)], ["Kind", _txt(d.get("kind")) or "(unknown)"]]
    for col, label in (("ticker", "Ticker"), ("country", "Country"), ("aliases", "Aliases")):
        if _txt(d.get(col)):
            rows.append([label, _txt(d.get(col))])
    rows += [["Received (known)", style.money(inflow)], ["Paid (known)", style.money(outflow)],
             ["Deals in view", str(n_deals)]]
    if _txt(d.get("source")):
        rows.append(["Source", _txt(d.get("source"))])
    if _txt(d.get("notes")):
        rows.append(["Notes", _txt(d.get("notes"))])
    return {"head": _txt(d.get("name")) or _txt(n), "rows": rows}


def _group_tip(d, inflow, outflow) -> dict:
    hub = d.get("hub_name")
    why = (f"entities whose largest known money is with {hub}" if hub
           else "entities with no deal with an entity drawn here")
    rows = [["Entities", f"{int(d.get('members') or 0):,} ({why})"],
            ["Kinds", ", ".join(f"{k or '(unknown)'} {c:,}" for k, c in (d.get("kinds") or {}).items())],
            ["Largest", ", ".join(d.get("top") or [])],
            ["Money through them", style.money(d.get("flow_usd"))],
            ["Received from drawn (known)", style.money(inflow)], ["Paid to drawn (known)", style.money(outflow)]]
    return {"head": _txt(d.get("name")), "rows": rows}


def _link_tip(g, u, v, d) -> dict:
    names = [_txt(g.nodes[x].get("name")) or str(x) for x in (u, v)]
    n, und = int(d.get("deals") or 0), int(d.get("undisclosed") or 0)
    rows = [["Deals", f"{n:,}"], ["Amount (known)", style.money(d.get("amount_usd"))
                                  + (f" + {und:,} undisclosed" if und else "")],
            ["By type", ", ".join(f"{_type_label(t)} {c:,}" for t, c in (d.get("types") or {}).items())]]
    return {"head": f"{names[0]} → {names[1]}", "rows": rows}


def build_view(graph: nx.MultiDiGraph, cycles: pd.DataFrame | None = None, *, entity: str | None = None,
               depth: int = 1, cycles_only: bool = False, temporal: bool = False,
               max_nodes: int = DEFAULT_MAX_NODES, max_edges: int = DEFAULT_MAX_EDGES,
               hubs: int = DEFAULT_HUBS, title: str = "dealgraph network", seed: int = 7,
               full_counts: tuple[int, int] | None = None) -> View:
    """The pyvis model of the (possibly reduced) deal graph with cycles marked.

    ``cycles`` is a ``circular_flows`` result; ``temporal`` only labels the
    view (pass a temporal ``circular_flows`` result to restrict the cycles).
    ``graph`` may already be aggregated (:func:`aggregated_graph`);
    ``full_counts`` then gives the entities and deals it stands for.
    """
    if full_counts is None:
        full_counts = (graph.number_of_nodes(), graph.number_of_edges())
    all_cycles = normalise_cycles(cycles, graph)
    g, notes = reduce_graph(graph, all_cycles, entity=entity, depth=depth, cycles_only=cycles_only,
                            max_nodes=max_nodes, max_edges=max_edges, hubs=hubs)
    # cycles drawn = those entirely inside the drawn graph
    shown = [c for c in all_cycles if all(g.has_edge(h["from"], h["to"], k) for h in c["hops"] for k in h["deal_ids"])]
    if len(shown) < len(all_cycles):
        notes.append(f"{len(all_cycles) - len(shown)} circular flow(s) leave this view and are not listed.")
    cycle_of: dict[str, list[int]] = {}
    for i, c in enumerate(shown):
        for k in c["deal_ids"]:
            cycle_of.setdefault(k, []).append(i)

    flow = money_through(g)
    inflow = {n: 0.0 for n in g}
    outflow = {n: 0.0 for n in g}
    for u, v, d in g.edges(data=True):
        a = _num(d.get("amount_usd"))
        if a is not None and a > 0:
            outflow[u] += a
            inflow[v] += a
    max_flow = max(flow.values(), default=0.0)
    amounts = [a for a in (_num(d.get("amount_usd")) for _, _, d in g.edges(data=True)) if a is not None and a > 0]
    max_usd = max(amounts, default=0.0)

    # positions: parallel deals count once per deal, which pulls busy pairs together
    nodes = sorted(g.nodes, key=str)
    pos = force_layout(nodes, [(u, v) for u, v in g.edges()], seed=seed)
    # big views: no hover highlighting (a hover change redraws every edge) and
    # edges hidden while dragging/zooming; tooltips still work
    big = g.number_of_nodes() > 1000 or g.number_of_edges() > CURVE_LIMIT

    net = Network(directed=True, height="100%", width="100%", cdn_resources="in_line")
    cyc_nodes = {n for c in shown for n in c["nodes"]}
    sizes = {n: style.node_size(flow[n], max_flow) for n in nodes}
    # labels: every node of a small view; in a big one the largest, the cycle
    # members and the "+ N more" nodes (the others are named in their tooltip)
    ranked = sorted(nodes, key=lambda n: (-sizes[n], str(n)))
    labelled = set(ranked[:style.LABEL_LIMIT]) | cyc_nodes | {n for n in nodes if g.nodes[n].get("aggregate")}
    labels = {n: (_txt(g.nodes[n].get("name")) or str(n)) if n in labelled else "" for n in nodes}
    pos = place_labels(pos, sizes, labels, font_size=style.FONT_SIZE)
    for n in nodes:
        d = g.nodes[n]
        agg = bool(d.get("aggregate"))
        node = Node(n, "dot", label=labels[n], color=style.AGGREGATE_COLOUR if agg else style.kind_colour(d.get("kind")),
                    font_color=False, x=round(pos[n][0], 1), y=round(pos[n][1], 1),
                    size=round(sizes[n], 2), kind="" if agg else _txt(d.get("kind")),
                    flow_usd=flow[n], on_cycle=n in cyc_nodes, aggregate=agg,
                    members=int(d.get("members") or 0) if agg else 1,
                    tip=_group_tip(d, inflow[n], outflow[n]) if agg else
                    _entity_tip(n, d, inflow[n], outflow[n], g.degree(n)))
        if not labels[n]:
            node.options.pop("label", None)
        net.nodes.append(node.options)
        net.node_ids.append(n)
        net.node_map[n] = node.options

    # parallel deals on one ordered pair get increasing curvature so they do not
    # overlap (curvedCW also separates a -> b from b -> a). Big views draw the
    # other edges straight: curves cost redraw and hover hit-testing time.
    pair_count: dict[tuple, int] = {}
    for u, v in g.edges():
        pair_count[(u, v)] = pair_count.get((u, v), 0) + 1
    many = g.number_of_edges() > CURVE_LIMIT
    seen_pairs: dict[tuple, int] = {}
    for u, v, k, d in sorted(g.edges(keys=True, data=True), key=lambda e: (str(e[0]), str(e[1]), str(e[2]))):
        i = seen_pairs.get((u, v), 0)
        seen_pairs[(u, v)] = i + 1
        a = _num(d.get("amount_usd"))
        on = cycle_of.get(k, [])
        agg = bool(d.get("aggregate"))
        # dashed: undisclosed; an undirected type (a partnership) is its own link kind
        link = {"dashes": a is None and not agg, **({} if agg else _link_kind(d.get("type")))}
        e = Edge(u, v, True,
                 id=str(k),
                 width=round(style.edge_width(a, max_usd), 2),
                 color=style.AGGREGATE_COLOUR if agg else style.type_colour(d.get("type")),
                 aggregate=agg, deals=int(d.get("deals") or 0) if agg else 1,
                 smooth=({"enabled": False} if many and pair_count[(u, v)] == 1 and (v, u) not in pair_count
                         else {"enabled": True, "type": "curvedCW", "roundness": round(min(0.12 + 0.1 * i, 0.92), 2)}),
                 deal_type=_txt(d.get("type")), status=_txt(d.get("status")),
                 date=_txt(d.get("date")), date_key=_int(d.get("date_key")),
                 date_precision=_int(d.get("date_precision"), 3), amount_usd=a,
                 cycles=on, tip=_link_tip(g, u, v, d) if agg else _deal_tip(k, d), **link)
        net.edges.append(e.options)

    net.options = {
        "autoResize": True,
        "physics": {"enabled": False},
        "layout": {"improvedLayout": False},
        "interaction": {"hover": not big, "tooltipDelay": 80, "hideEdgesOnDrag": big,
                        "hideEdgesOnZoom": big, "navigationButtons": False, "keyboard": False,
                        "multiselect": False},
        "nodes": {"shape": "dot", "borderWidth": 1,
                  "font": {"size": style.FONT_SIZE, "strokeWidth": 4, "strokeColor": "#ffffff",
                           "face": style.FONT_FACE, "color": "#222222"},
                  "scaling": {"label": {"enabled": False, "drawThreshold": style.LABEL_MIN_PX,
                                        "maxVisible": style.LABEL_MAX_PX}}},
        "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.6}},
                  "arrowStrikethrough": False, "selectionWidth": 2, "hoverWidth": 1.5},
    }
    used_types = sorted({e["deal_type"] for e in net.edges if e["deal_type"]})
    used_kinds = sorted({n["kind"] for n in net.nodes if n["kind"]})
    legend = {
        "kinds": [[k, style.kind_colour(k)] for k in ENTITY_KINDS if k in used_kinds],
        "types": [[t, _type_label(t), style.type_colour(t)] for t in DEAL_TYPES if t in used_types],
        "undirected": [[t, _type_label(t), style.type_colour(t)] for t in UNDIRECTED_TYPES if t in used_types],
        "statuses": [s for s in STATUSES if any(e["status"] == s for e in net.edges)],
        "widths": [[style.money(a), round(style.edge_width(a, max_usd), 2)]
                   for a in _width_samples(max_usd)],
        "cycle_colour": style.CYCLE_COLOUR,
        "aggregate_colour": style.AGGREGATE_COLOUR,
        "aggregated": any(n.get("aggregate") for n in net.nodes),
        "min_node": style.MIN_NODE, "max_node": style.MAX_NODE, "max_flow": style.money(max_flow),
    }
    return View(net=net, cycles=shown, legend=legend, notes=notes, title=title, temporal=temporal,
                full_counts=full_counts)


#: How an undirected link (a partnership: no money, no direction) is drawn: no arrow,
#: dotted (an undisclosed money amount is dashed), whatever its amount.
UNDIRECTED_LINK = {"arrows": {"to": {"enabled": False}}, "dashes": [2, 6], "undirected": True}


def _link_kind(deal_type) -> dict:
    """Edge options of a deal type's link kind: :data:`UNDIRECTED_LINK` for an undirected
    type (``DEAL_TYPES[t].directed`` false), nothing for a directed one (an arrow)."""
    t = DEAL_TYPES.get(deal_type) if isinstance(deal_type, str) else None
    return dict(UNDIRECTED_LINK) if t is not None and not t.directed else {}


def _width_samples(max_usd: float) -> list[float]:
    """A few round amounts up to the largest deal for the width legend."""
    if not max_usd or max_usd <= 0:
        return []
    out = [1e7, 1e8, 1e9, 1e10, 1e11, 1e12]
    out = [a for a in out if a <= max_usd]
    if not out or out[-1] < max_usd:
        out.append(max_usd)
    return out[-4:]
