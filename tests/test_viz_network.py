"""The network view model, the page it renders to, the CLI commands, the report.

Known answers on a hand-made graph in the ``store.graph()`` format, plus the
shipped sample data through the real store and ``circular_flows``.
"""

from __future__ import annotations

import html
import json
import os
import re

import networkx as nx
import pandas as pd
import pytest
from click.testing import CliRunner

from dealgraph.viz import style
from dealgraph.viz.html import render_view_page, safe_json, view_data
from dealgraph.viz.network import build_view, money_through, normalise_cycles, reduce_graph

HOSTILE_IMG = '<img src=x onerror="window.__pwned=1">'
HOSTILE_HREF = '<a href="#" onmouseover="window.__pwned=2">hrefco</a>'


def deal(g, deal_id, payer, payee, amount, *, type_="investment", date="2024-01-15", status="completed",
         source="src", qualifier="exact", notes=""):
    """Add one deal edge with the store.graph() attributes."""
    from dealgraph.graph.dates import parse_date

    key, prec = parse_date(date)
    g.add_edge(payer, payee, key=deal_id, deal_id=deal_id, date=date, date_key=key, date_precision=prec,
               type=type_, payer=payer, payee=payee, amount=amount, amount_usd=amount,
               amount_qualifier=None if amount is None else qualifier, currency="USD", fx_rate=1.0,
               status=status, source=source, notes=notes, stake_pct=None)


def handmade_graph() -> nx.MultiDiGraph:
    """a -> b -> c -> a (c -> a undisclosed), a <-> b with two parallel a -> b deals,
    d -> a alone, e isolated; b has a hostile name, c a name containing href."""
    g = nx.MultiDiGraph()
    for n, name, kind in (("a", "Alpha", "company"), ("b", HOSTILE_IMG, "company"), ("c", HOSTILE_HREF, "fund"),
                          ("d", "Delta", "investor"), ("e", "Echo", "lender")):
        g.add_node(n, id=n, name=name, kind=kind, aliases="", ticker="", country="", source=f"{n}-src", notes="")
    deal(g, "ab1", "a", "b", 100e6, type_="chip_purchase", date="2024-01")
    deal(g, "ab2", "a", "b", 50e6, type_="chip_purchase", date="2024-03-01")
    deal(g, "bc", "b", "c", 30e6, type_="compute_contract", date="2024-06")
    deal(g, "ca", "c", "a", None, type_="investment", date="2024-09", source="https://example.com/ca")
    deal(g, "ba", "b", "a", 20e9, type_="investment", date="2023", status="rumoured", qualifier="approx")
    deal(g, "da", "d", "a", 5e6, type_="debt_financing", date="2022-02-02")
    return g


def handmade_cycles() -> pd.DataFrame:
    """The two cycles of the hand-made graph in circular_flows' column format."""
    return pd.DataFrame([
        {"cycle": "a -> b -> a", "length": 2, "bottleneck_usd": 150e6, "total_usd": 20.15e9,
         "undisclosed_hops": 0, "tentative": True, "time_ordered": False, "witness": "",
         "hops": "", "deal_ids": "ab1, ab2, ba"},
        {"cycle": "a -> b -> c -> a", "length": 3, "bottleneck_usd": float("nan"), "total_usd": 180e6,
         "undisclosed_hops": 1, "tentative": False, "time_ordered": True, "witness": "ab1, bc, ca",
         "hops": "", "deal_ids": "ab1, ab2, bc, ca"},
    ])


# --------------------------------------------------------------------------- style

def test_edge_width_is_log_scaled_and_undisclosed_is_thin():
    top = 100e9
    assert style.edge_width(None, top) == 1.0
    assert style.edge_width(float("nan"), top) == 1.0
    assert style.edge_width(top, top) == pytest.approx(style.MAX_WIDTH)
    w1, w2, w3 = (style.edge_width(a, top) for a in (1e7, 1e8, 1e9))
    assert 1.0 < w1 < w2 < w3 < style.MAX_WIDTH
    # log scale: equal ratios give (nearly) equal steps; linear would make w1, w2 almost 1
    assert (w3 - w2) == pytest.approx(w2 - w1, rel=0.05)


def test_node_size_area_grows_with_money():
    assert style.node_size(0, 100) == style.MIN_NODE
    assert style.node_size(100, 100) == style.MAX_NODE
    quarter = style.node_size(25, 100)
    assert quarter == pytest.approx(style.MIN_NODE + (style.MAX_NODE - style.MIN_NODE) * 0.5)


def test_money_labels_with_qualifiers():
    # the shared formatter (queries.common.money), with "undisclosed" for a missing amount
    assert style.money(20e9) == "$20.0bn"
    assert style.money(6.9e9) == "$6.9bn"
    assert style.qualified_money(4.5e12, "approx") == "~$4.5tn"
    assert style.qualified_money(1e9, "up_to") == "up to $1.0bn"
    assert style.qualified_money(None, "exact") == "undisclosed"
    assert style.money(float("nan")) == "undisclosed"


# --------------------------------------------------------------------------- model

def test_money_through_counts_known_amounts_both_ways():
    flow = money_through(handmade_graph())
    assert flow["a"] == pytest.approx(100e6 + 50e6 + 20e9 + 5e6)
    assert flow["c"] == pytest.approx(30e6)  # the undisclosed c -> a counts 0
    assert flow["e"] == 0


def test_normalise_cycles_hops_and_bottlenecks():
    g = handmade_graph()
    cyc = normalise_cycles(handmade_cycles(), g)
    assert [c["nodes"] for c in cyc] == [["a", "b"], ["a", "b", "c"]]
    two, three = cyc
    # parallel a -> b deals collapse into one hop with the summed amount
    assert two["hops"][0]["deal_ids"] == ["ab1", "ab2"]
    assert two["hops"][0]["amount_usd"] == pytest.approx(150e6)
    assert two["bottleneck_usd"] == pytest.approx(150e6) and two["bottleneck_hop"] == 0
    assert two["tentative"] is True and two["time_ordered"] is False
    # a hop with an undisclosed deal: the bottleneck is unknown and that hop is marked
    assert three["bottleneck_usd"] is None and three["bottleneck_hop"] == 2
    assert three["witness"] == ["ab1", "bc", "ca"]
    assert three["undisclosed_hops"] == 1
    assert three["deal_ids"] == ["ab1", "ab2", "bc", "ca"]


def test_cycles_not_in_the_graph_are_dropped():
    g = handmade_graph()
    extra = pd.DataFrame([{"cycle": "x -> y -> x", "deal_ids": "xy, yx", "bottleneck_usd": 1.0}])
    assert normalise_cycles(pd.concat([handmade_cycles(), extra]), g)[-1]["nodes"] == ["a", "b", "c"]


def test_build_view_counts_ids_and_encodings():
    g = handmade_graph()
    v = build_view(g, handmade_cycles())
    assert v.node_count == g.number_of_nodes() == 5
    assert v.edge_count == g.number_of_edges() == 6
    edges = {e["id"]: e for e in v.net.edges}
    assert set(edges) == {k for _, _, k in g.edges(keys=True)}
    assert edges["ab1"]["from"] == "a" and edges["ab1"]["to"] == "b" and edges["ab1"]["arrows"] == "to"
    assert edges["ca"]["dashes"] is True and edges["ca"]["width"] == 1.0
    assert edges["ba"]["width"] > edges["ab1"]["width"] > edges["da"]["width"]
    assert edges["ab1"]["color"] == style.TYPE_COLOURS["chip_purchase"]
    # parallel deals on one pair get different curvature so both stay visible
    assert edges["ab1"]["smooth"]["roundness"] != edges["ab2"]["smooth"]["roundness"]
    assert edges["bc"]["cycles"] == [1] and sorted(edges["ab1"]["cycles"]) == [0, 1] and edges["da"]["cycles"] == []
    nodes = {n["id"]: n for n in v.net.nodes}
    assert nodes["c"]["color"] == style.KIND_COLOURS["fund"]
    assert nodes["b"]["size"] == style.MAX_NODE and nodes["e"]["size"] == style.MIN_NODE  # b: $20.18B through it
    assert nodes["d"]["size"] < nodes["c"]["size"] < nodes["a"]["size"] < nodes["b"]["size"]
    assert nodes["a"]["on_cycle"] and not nodes["d"]["on_cycle"]
    # tooltips are structured data, never a pyvis "title" string (no href popup, no innerHTML)
    assert all("title" not in n for n in v.net.nodes) and all("title" not in e for e in v.net.edges)
    tip = dict(edges["ba"]["tip"]["rows"])
    assert tip["Amount"] == "~$20.0bn" and tip["Status"] == "rumoured (tentative)" and tip["Source"] == "src"
    assert tip["Date"] == "2023" and tip["Type"] == "investment"
    # positions precomputed, physics off
    assert all(isinstance(n["x"], float) and isinstance(n["y"], float) for n in v.net.nodes)
    assert v.net.options["physics"]["enabled"] is False


def test_reduce_by_entity_depth():
    g = handmade_graph()
    h, notes = reduce_graph(g, [], entity="d", depth=1)
    assert set(h.nodes) == {"d", "a"} and h.number_of_edges() == 1
    h, _ = reduce_graph(g, [], entity="Delta", depth=2)  # by name, two hops either direction
    assert set(h.nodes) == {"a", "b", "c", "d"}
    assert "within 2 hop(s) of d" in _[0]
    with pytest.raises(KeyError):
        reduce_graph(g, [], entity="nobody")


def test_reduce_cycles_only_and_limits():
    g = handmade_graph()
    cyc = normalise_cycles(handmade_cycles(), g)
    h, notes = reduce_graph(g, cyc, cycles_only=True)
    assert set(h.nodes) == {"a", "b", "c"} and sorted(k for _, _, k in h.edges(keys=True)) == ["ab1", "ab2", "ba", "bc", "ca"]
    assert "5 of 6 deals" in notes[0]
    # node limit: the aggregated view; cycle members are never folded, even past the limit
    h, notes = reduce_graph(g, cyc[:1], max_nodes=3)
    assert {"a", "b"} <= set(h.nodes) and "Aggregated view" in notes[0]
    real = [n for n in h if not h.nodes[n].get("aggregate")]
    assert set(real) == {"a", "b"}
    assert len(real) + sum(h.nodes[n]["members"] for n in h if h.nodes[n].get("aggregate")) == 5
    # no cycles: the largest by money through them, as many as leave room for a group each (+ 1)
    h, notes = reduce_graph(g, [], max_nodes=4, hubs=2)
    assert [n for n in h if not h.nodes[n].get("aggregate")] == ["b"] and h.number_of_nodes() <= 4
    # edge limit: cycle deals first, then the largest
    h, notes = reduce_graph(g, cyc[:1], max_edges=4)
    assert sorted(k for _, _, k in h.edges(keys=True)) == ["ab1", "ab2", "ba", "bc"]
    assert "Reduced to 4 of 6 deals" in notes[0]


def test_view_notes_when_cycles_leave_the_view():
    v = build_view(handmade_graph(), handmade_cycles(), max_edges=4)
    assert len(v.cycles) == 1  # a -> b -> c -> a needs deal ca, which the edge limit dropped
    assert v.cycles[0]["nodes"] == ["a", "b"]
    assert any("leave this view" in n for n in v.notes)


# --------------------------------------------------------------------------- page

def test_page_is_self_contained(tmp_path):
    text = render_view_page(build_view(handmade_graph(), handmade_cycles()))
    assert "<script src" not in text.lower() and "<link" not in text.lower()
    for host in ("cdnjs", "jsdelivr", "unpkg", "bootstrap"):
        assert host not in text.lower(), host
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text, re.I)
    assert "vis.Network" in text and "vis-tooltip" in text  # vis-network JS and CSS inline
    assert "default-src 'none'" in text  # CSP: no fetch of any kind
    # every script carries the page nonce (so injected inline handlers cannot run)
    nonce = re.search(r"'nonce-([^']+)'", text).group(1)
    scripts = _script_tags(text)
    assert len(scripts) == 3  # vis-network, the data, the view script
    assert all(a.get("nonce") == nonce or a.get("type") == "application/json" for a in scripts)


def _script_tags(text):
    """Attributes of each real <script> element (as the HTML parser sees them)."""
    from html.parser import HTMLParser

    found = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "script":
                found.append(dict(attrs))

    P().feed(text)
    return found


def test_user_text_cannot_break_out_of_the_data_block():
    g = handmade_graph()
    g.nodes["d"]["notes"] = "</script><script>window.__pwned=9</script>"
    text = render_view_page(build_view(g, handmade_cycles()))
    assert "<img" not in text and "window.__pwned" in text  # present, but only escaped
    assert "</script><script>window.__pwned" not in text
    data = re.search(r'<script type="application/json" id="dealgraph-view-data">(.*?)</script>', text, re.S).group(1)
    parsed = json.loads(data)
    assert {n["label"] for n in parsed["nodes"]} >= {HOSTILE_IMG, HOSTILE_HREF}


def test_safe_json_escapes_markup_and_nan():
    s = safe_json({"a": "</script>&<b>", "n": float("nan"), "u": "\u2028"})
    assert "<" not in s and ">" not in s and "&" not in s and "\u2028" not in s
    assert json.loads(s) == {"a": "</script>&<b>", "n": None, "u": "\u2028"}


def test_view_data_date_range_and_counts():
    d = view_data(build_view(handmade_graph(), handmade_cycles()))
    assert d["date_range"] == ["2022-02-02", "2024-09"]
    assert d["full_counts"] == [5, 6] and len(d["cycles"]) == 2


# --------------------------------------------------------------------------- with the real store

@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    from dealgraph.graph.store import open_store

    return open_store(tmp_path_factory.mktemp("viz") / "sample.db")


def test_sample_view_uses_circular_flows(sample_store):
    from dealgraph.queries.circular import circular_flows
    from dealgraph.viz.build import view_from_store

    v = view_from_store(sample_store)
    g = sample_store.graph()
    assert (v.node_count, v.edge_count) == (g.number_of_nodes(), g.number_of_edges())
    cf = circular_flows(sample_store)
    assert len(v.cycles) == len(cf) > 0
    on_cycle = {e["id"] for e in v.net.edges if e["cycles"]}
    assert "oracle-nvidia-chips-2025-05" in on_cycle
    t = view_from_store(sample_store, temporal=True, cycles_only=True)
    assert len(t.cycles) == len(circular_flows(sample_store, temporal=True))
    assert all(c["time_ordered"] and c["witness"] for c in t.cycles)
    assert t.edge_count == len({k for c in t.cycles for k in c["deal_ids"]})


def test_notebook_display_is_an_iframe(sample_store):
    from dealgraph.viz import show

    w = show(sample_store, entity="groq", depth=1)
    r = w._repr_html_()
    assert r.startswith("<iframe srcdoc=\"") and 'sandbox="allow-scripts"' in r
    srcdoc = re.search(r'srcdoc="([^"]*)"', r).group(1)
    assert html.unescape(srcdoc) == w.html


def test_valuation_chart_for_groq(sample_store):
    from dealgraph.queries.returns import rounds
    from dealgraph.viz.charts import valuation_history

    svg = valuation_history(rounds(sample_store, entity="groq"), "Groq")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "Matplotlib v" in svg  # drawn by the library (its generator metadata)
    assert "$2.8bn" in svg and "$6.9bn" in svg  # both post-money rounds
    assert "×2.46" in svg and "×2.90" in svg  # step-ups 6.9/2.8 and 20/6.9
    assert "exit: license by nvidia, $20.0bn" in svg
    one = rounds(sample_store, entity="groq").head(1)
    assert valuation_history(one, "one point") == ""


def _cli(store_path, args, cwd):
    from dealgraph.cli import main

    runner = CliRunner()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, ["--db", str(store_path), *args], catch_exceptions=False)
    finally:
        os.chdir(old)


def test_cli_viz_writes_only_the_file(sample_store, tmp_path):
    r = _cli(sample_store.path, ["viz", "-o", "net.html"], tmp_path)
    assert r.exit_code == 0, r.output
    assert sorted(os.listdir(tmp_path)) == ["net.html"]  # no lib/ next to it
    assert "circular flows" in r.output
    r = _cli(sample_store.path, ["viz", "--cycles-only", "--temporal", "-o", "ouro.html"], tmp_path)
    assert r.exit_code == 0 and "Cycles only" in r.output
    r = _cli(sample_store.path, ["viz", "--entity", "nvidia", "--depth", "2", "-o", "nv.html"], tmp_path)
    assert r.exit_code == 0 and "within 2 hop(s) of nvidia" in r.output
    r = _cli(sample_store.path, ["viz", "--entity", "no-such-entity"], tmp_path)
    assert r.exit_code != 0 and "no entity" in r.output
    r = _cli(sample_store.path, ["viz", "--max-nodes", "5", "-o", "small.html"], tmp_path)
    assert r.exit_code == 0 and "Aggregated view (more than --max-nodes 5 entities)" in r.output
    assert "'+ N more' nodes" in r.output
    assert sorted(os.listdir(tmp_path)) == ["net.html", "nv.html", "ouro.html", "small.html"]


def test_cli_report(sample_store, tmp_path):
    r = _cli(sample_store.path, ["report", "-o", "ai-deals.html"], tmp_path)
    assert r.exit_code == 0, r.output
    assert os.listdir(tmp_path) == ["ai-deals.html"]
    text = (tmp_path / "ai-deals.html").read_text()
    for heading in ("Circular money flows", "Valuation multiples", "Deal comparisons", "Round-trip money",
                    "Claims check", "Valuation histories", "Sources", "The deal network"):
        assert heading in text, heading
    assert "Could not compute" not in text
    from dealgraph.queries.registry import QUERIES
    from dealgraph.viz.report import REPORT_QUERIES, report_queries

    names = [n for n, _, _ in report_queries()]
    assert names == [n for n, _ in REPORT_QUERIES]  # the declared order; every query has a heading
    assert set(names) == (set(QUERIES) - {"rounds"}) | {"check"}  # every table-like query is in the report
    for n in names:
        assert f'<section id="q-{n}">' in text
    assert 'data-entity="groq"' in text  # groq has two rounds with post-money valuations
    assert "<script src" not in text.lower() and "<link" not in text.lower()
    assert "Seed article" in text


def test_report_links_only_http_urls():
    from dealgraph.viz.report import _linkify

    out = _linkify('see https://example.com/a?b=1&c=<x> and javascript:alert(1) "q"')
    assert '<a class="dg-url" href="https://example.com/a?b=1&amp;c=" rel="noopener noreferrer nofollow">' in out
    assert "javascript:alert(1)" in out and 'href="javascript' not in out
    assert "&lt;x&gt;" in out and "&quot;q&quot;" in out


@pytest.mark.slow
@pytest.mark.parametrize("grid_from", [10**9, 100])  # exact repulsion, then the grid approximation
def test_layout_is_deterministic_and_pulls_neighbours_together(monkeypatch, grid_from):
    import numpy as np

    import dealgraph.viz.layout as layout

    monkeypatch.setattr(layout, "GRID_FROM", grid_from)
    g = nx.connected_watts_strogatz_graph(400, 4, 0.05, seed=2)
    nodes, edges = list(g), list(g.edges())
    a = layout.force_layout(nodes, edges, seed=5)
    assert a == layout.force_layout(nodes, edges, seed=5)
    p = np.array([a[n] for n in nodes])
    assert np.isfinite(p).all() and len({tuple(x) for x in p.round(3)}) == len(nodes)  # no two coincide
    edge_len = np.mean([np.hypot(*np.subtract(a[u], a[v])) for u, v in edges])
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, len(nodes), size=(2000, 2))
    random_len = np.mean([np.hypot(*(p[i] - p[j])) for i, j in pairs if i != j])
    assert edge_len < random_len / 3


# --------------------------------------------------------------------------- palette

CVD = (None, "protan", "deutan", "tritan")


def colour_distance(a: str, b: str) -> float:
    """The smallest CIEDE2000 distance of two colours for normal vision and for
    simulated protanopia, deuteranopia and tritanopia (coloraide's filters)."""
    from coloraide import Color

    out = []
    for cvd in CVD:
        x, y = Color(a), Color(b)
        if cvd:
            x, y = x.filter(cvd), y.filter(cvd)
        out.append(x.delta_e(y, method="2000"))
    return min(out)


def test_highlight_is_no_type_colour_even_for_colour_blind_eyes():
    others = {**style.TYPE_COLOURS, "unknown type": style.UNKNOWN_TYPE_COLOUR, "+ N more": style.AGGREGATE_COLOUR}
    for name, colour in others.items():
        assert colour_distance(style.CYCLE_COLOUR, colour) >= 10, name
    # and the deal types among themselves (Tol's muted scheme) are as far apart
    types = list(style.TYPE_COLOURS.values())
    assert len(set(types)) == len(types)
    assert min(colour_distance(a, b) for i, a in enumerate(types) for b in types[i + 1:]) >= 10
    # a cycle member's border is the highlight, so no kind fill may look like it
    for kind, colour in style.KIND_COLOURS.items():
        assert colour_distance(style.CYCLE_COLOUR, colour) >= 10, kind


# --------------------------------------------------------------------------- aggregation

def random_frames(seed: int, n: int = 40, m: int = 120):
    """Random entities and money deals (1 in 5 undisclosed) as the store's frames."""
    import numpy as np

    rng = np.random.default_rng(seed)
    ents = pd.DataFrame({"id": [f"e{i:02d}" for i in range(n)], "name": [f"E {i}" for i in range(n)],
                         "kind": rng.choice(["company", "investor", "fund"], size=n)})
    p = rng.integers(0, n, size=m)
    q = (p + rng.integers(1, n, size=m)) % n
    amt = np.where(rng.random(m) < 0.2, np.nan, np.round(10 ** rng.uniform(6, 9, size=m)))
    deals = pd.DataFrame({"deal_id": [f"d{j}" for j in range(m)], "payer": ents["id"].to_numpy()[p],
                          "payee": ents["id"].to_numpy()[q], "amount_usd": amt,
                          "type": rng.choice(["investment", "license", "stake"], size=m)})
    return ents, deals


@pytest.mark.parametrize("seed", range(12))
def test_aggregation_against_brute_force(seed):
    import numpy as np

    from dealgraph.viz.aggregate import GROUP_PREFIX, aggregate

    ents, deals = random_frames(seed)
    rng = np.random.default_rng(100 + seed)
    keep = list(rng.choice(ents["id"], size=int(rng.integers(0, 6)), replace=False))
    hubs, max_nodes = int(rng.integers(1, 10)), int(rng.integers(3, 30))
    keep_deals = list(rng.choice(deals["deal_id"], size=4, replace=False))
    max_edges = int(rng.integers(5, 200))
    a = aggregate(ents, deals, keep=keep, keep_deals=keep_deals, hubs=hubs, max_nodes=max_nodes,
                  max_edges=max_edges)

    # brute force: money through each entity, the shown set, each folded entity's group
    rows = deals.to_dict("records")
    flow = {e: 0.0 for e in ents["id"]}
    for r in rows:
        if r["amount_usd"] == r["amount_usd"]:
            flow[r["payer"]] += r["amount_usd"]
            flow[r["payee"]] += r["amount_usd"]
    target = max(len(keep), min(hubs, (max_nodes - 1) // 2))
    rest = sorted((e for e in flow if e not in keep), key=lambda e: (-flow[e], e))
    shown = set(keep) | set(rest[:target - len(keep)])
    assert set(a.shown) == shown and set(keep) <= set(a.shown)
    assert len(a.shown) + a.groups["members"].sum() == len(ents)  # every entity shown or in one group
    assert len(a.shown) + len(a.groups) <= max(max_nodes, 2 * len(keep) + 1)
    exchange = {}
    for r in rows:
        for x, h in ((r["payer"], r["payee"]), (r["payee"], r["payer"])):
            if x not in shown and h in shown:
                s_, c_ = exchange.get((x, h), (0.0, 0))
                amt = r["amount_usd"] if r["amount_usd"] == r["amount_usd"] else 0.0
                exchange[(x, h)] = (s_ + amt, c_ + 1)
    for x in set(flow) - shown:
        cands = [(-s_, -c_, h) for (y, h), (s_, c_) in exchange.items() if y == x]
        want = GROUP_PREFIX + (min(cands)[2] if cands else "")
        assert a.group_of[x] == want, x
    sizes = dict(zip(a.groups["group_id"], a.groups["members"]))
    assert sizes == pd.Series(a.group_of).value_counts().to_dict()
    # deals: single ones between shown entities, summed links, cut by the limit, hidden: they add up
    n_links = int(a.links["deals"].sum()) if len(a.links) else 0
    assert len(a.deals_shown) + n_links + a.cut_deals + a.hidden_deals == len(deals)
    assert a.hidden_deals == sum(1 for r in rows if r["payer"] not in shown and r["payee"] not in shown)
    assert len(a.deals_shown) + len(a.links) <= max_edges
    # the deals kept first survive the edge limit when they lie between shown entities
    for d in keep_deals:
        r = deals.set_index("deal_id").loc[d]
        if r["payer"] in shown and r["payee"] in shown and len(keep_deals) <= max_edges:
            assert d in set(a.deals_shown["deal_id"])
    # each link is the sum of its deals
    node = lambda e: e if e in shown else a.group_of[e]  # noqa: E731
    for lk in a.links.to_dict("records"):
        mine = [r for r in rows if node(r["payer"]) == lk["from"] and node(r["payee"]) == lk["to"]
                and (r["payer"] in shown) != (r["payee"] in shown)]
        assert lk["deals"] == len(mine)
        known = [r["amount_usd"] for r in mine if r["amount_usd"] == r["amount_usd"]]
        assert (lk["amount_usd"] == pytest.approx(sum(known))) if known else np.isnan(lk["amount_usd"])
        assert lk["undisclosed"] == len(mine) - len(known)
        assert sum(lk["types"].values()) == len(mine)


def test_aggregated_view_keeps_every_cycle_and_labels_groups():
    from dealgraph.viz.bench import synthetic_graph

    g = synthetic_graph(600, 1500)
    for k, (a, b) in enumerate([("e500", "e510"), ("e510", "e520"), ("e520", "e500")]):
        deal(g, f"loop{k}", a, b, 1e6 * (k + 1))
    cycles = pd.DataFrame([{"cycle": "e500 -> e510 -> e520 -> e500", "deal_ids": "loop0, loop1, loop2",
                            "bottleneck_usd": 1e6}])
    v = build_view(g, cycles, max_nodes=60, hubs=20)
    nodes = {n["id"]: n for n in v.net.nodes}
    assert {"e500", "e510", "e520"} <= set(nodes) and len(v.cycles) == 1
    real = [n for n in nodes.values() if not n["aggregate"]]
    more = [n for n in nodes.values() if n["aggregate"]]
    assert len(real) + sum(n["members"] for n in more) == 600
    assert len(nodes) <= 60 and more
    assert all(n["label"] == f"+ {n['members']:,} more" for n in more)
    assert all(n["color"] == style.AGGREGATE_COLOUR for n in more)
    assert any("Aggregated view" in t for t in v.notes)


# --------------------------------------------------------------------------- labels

def label_overlaps(pos, sizes, labels, font_size):
    """(label of i, disc of j) and (label, label) pairs that overlap, with the box model of place_labels."""
    from dealgraph.viz.layout import CHAR_WIDTH, LINE_HEIGHT

    boxes = {}
    for v, t in labels.items():
        if t:
            w, h = len(t) * CHAR_WIDTH * font_size + 8, LINE_HEIGHT * font_size + 4
            x, y = pos[v]
            boxes[v] = (x - w / 2, y + sizes[v], x + w / 2, y + sizes[v] + h)
    bad = []
    for v, (x0, y0, x1, y1) in boxes.items():
        for u, (x, y) in pos.items():
            if u != v:
                cx, cy = min(max(x, x0), x1), min(max(y, y0), y1)
                if (x - cx) ** 2 + (y - cy) ** 2 < sizes[u] ** 2:
                    bad.append((v, u))
        for u, (a0, b0, a1, b1) in boxes.items():
            if u > v and min(x1, a1) > max(x0, a0) and min(y1, b1) > max(y0, b0):
                bad.append((v, u))
    return bad


def test_labels_are_moved_clear_of_nodes_and_other_labels():
    import numpy as np

    from dealgraph.viz.layout import place_labels

    rng = np.random.default_rng(4)
    n = 60
    pos = {f"n{i}": tuple(rng.uniform(-300, 300, size=2)) for i in range(n)}  # crowded on purpose
    sizes = {v: float(rng.uniform(8, 40)) for v in pos}
    labels = {v: "Entity " + "x" * int(rng.integers(1, 12)) for v in pos}
    assert label_overlaps(pos, sizes, labels, 18)  # the crowded start overlaps
    out = place_labels(pos, sizes, labels, font_size=18)
    assert label_overlaps(out, sizes, labels, 18) == []
    assert out == place_labels(pos, sizes, labels, font_size=18)  # deterministic


# --------------------------------------------------------------------------- viz --open

def test_viz_open_says_when_no_browser_opened(sample_store, tmp_path):
    import shutil
    import subprocess

    exe = shutil.which("dealgraph") or os.path.join(os.path.dirname(os.sys.executable), "dealgraph")
    base = [exe, "--db", str(sample_store.path), "viz", "--open", "-o", str(tmp_path / "n.html")]
    env = {**os.environ, "BROWSER": "false"}  # a "browser" that fails to start
    r = subprocess.run(base, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 1
    assert f"wrote {tmp_path / 'n.html'}" in r.stdout  # the page is written and its path printed
    assert r.stderr.strip().splitlines()[-1] == (f"error: no web browser could be opened (set BROWSER, or open "
                                                 f"{tmp_path / 'n.html'} yourself)")
    assert "Traceback" not in r.stderr
    r = subprocess.run(base, env={**os.environ, "BROWSER": "true"}, capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0 and f"wrote {tmp_path / 'n.html'}" in r.stdout and "error" not in r.stderr


def test_a_range_reads_as_its_interval_in_the_deal_tooltip(tmp_path):
    """A deal whose amount is a range (`1-2bn`) shows `$1.0–2.0bn` in its tooltip, as the
    tables do, never the midpoint as if it were the figure."""
    from dealgraph.graph.store import open_store
    from dealgraph.viz.build import view_from_store

    (tmp_path / "e.csv").write_text("id,name,kind\na,Alpha,company\nb,Beta,company\n")
    (tmp_path / "d.csv").write_text("date,type,payer,payee,amount,source\n"
                                    "2025-01,investment,a,b,1-2bn,s\n2025-02,compute_contract,b,a,3bn,s\n")
    store = open_store(tmp_path / "s.db", seed=False)
    store.add([tmp_path / "e.csv", tmp_path / "d.csv"])
    tips = {e["deal_type"]: json.dumps(e["tip"], ensure_ascii=False) for e in view_from_store(store).net.edges}
    assert "$1.0–2.0bn" in tips["investment"] and "$1.5bn" not in tips["investment"]
    assert "$3.0bn" in tips["compute_contract"]
