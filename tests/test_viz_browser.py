"""The generated pages in a real browser (Debian's Chromium via Playwright).

Each test opens a page written by the real code from a real store and asserts
on what the browser shows: counts read back from vis-network, pixels on the
canvas, the highlight on cycle edges, tooltips, filters, hostile text staying
text, and no request leaving the file.
"""

from __future__ import annotations

import pandas as pd
import pytest

from browser import (canvas_ink, chrome,  # noqa: F401 (chrome, sample_store: fixtures)
                     sample_store, glow_pixels, hover_edge, hover_node, open_page,
                     violations)
from dealgraph.graph.dates import truncate_key
from dealgraph.viz import style
from dealgraph.viz.bench import synthetic_graph
from dealgraph.viz.build import view_from_store
from dealgraph.viz.html import render_view_page, write_page

pytestmark = [pytest.mark.browser]

COUNTS_JS = """(i) => { const v = window.dealgraph.views[i];
    return {nodes: v.nodes.length, edges: v.edges.length,
            drawnNodes: v.network.body.nodeIndices.length, drawnEdges: v.network.body.edgeIndices.length,
            shownNodes: v.nodesView.length, shownEdges: v.edgesView.length}; }"""


@pytest.fixture(scope="module")
def sample_page(sample_store, tmp_path_factory):
    return write_page(render_view_page(view_from_store(sample_store)),
                      tmp_path_factory.mktemp("pages") / "sample.html")


def hostile_frames():
    """Entities and deals (CSV schema, all text) whose every text field attacks."""
    ents = pd.DataFrame({
        "id": ["evil", "good", "hrefco"],
        "name": ['<img src=x onerror="window.__pwned=1">', "Good Co",
                 '<a href="#" onmouseover="window.__pwned=2">hrefco</a>'],
        "kind": ["company", "investor", "company"], "aliases": ["", "", ""], "ticker": ["", "", ""],
        "country": ["", "", ""],
        "source": ["javascript:window.__pwned=4", "", '<img src=y onerror="window.__pwned=7"> href'],
        "notes": ["<script>window.__pwned=3</script>", "", ""]})
    deals = pd.DataFrame({
        "deal_id": ["d1", "d2", "d3"], "date": ["2024-01", "2024-05-02", "2025"],
        "type": ["investment", "compute_contract", "license"], "payer": ["good", "evil", "hrefco"],
        "payee": ["evil", "hrefco", "good"], "amount": ["1000000", "", "500000000"],
        "currency": ["USD", "USD", "USD"], "status": ["completed", "completed", "rumoured"],
        "stake_pct": ["", "", ""], "post_money_valuation": ["", "", ""], "target_revenue": ["", "", ""],
        "acquirer_market_cap": ["", "", ""],
        "source": ["</script><script>window.__pwned=5</script>", "https://example.com/x?a=<b>",
                   '<img src=x onerror="window.__pwned=6"> href'],
        "notes": ['<a href="javascript:window.__pwned=8">click</a>', "", ""]})
    return {"entities": ents, "deals": deals}


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory):
    from dealgraph.graph.store import open_store

    s = open_store(tmp_path_factory.mktemp("hostile") / "h.db", seed=False)
    s.import_frames(hostile_frames())
    return s


def assert_offline(page):
    assert page.outside_requests == []
    assert [u for u in page.requests if not u.startswith("file://")] == []
    assert violations(page) == []
    assert page.errors == []


# --------------------------------------------------------------------------- sample view

def test_sample_network_renders_every_entity_and_deal(chrome, sample_store, sample_page):
    g = sample_store.graph()
    page = open_page(chrome, sample_page)
    c = page.evaluate(COUNTS_JS, 0)
    n, m = g.number_of_nodes(), g.number_of_edges()
    assert c == {"nodes": n, "edges": m, "drawnNodes": n, "drawnEdges": m, "shownNodes": n, "shownEdges": m}
    assert canvas_ink(page) > 20000  # nodes, edges and labels drawn, not a blank canvas
    assert page.inner_text(".dg-counts") == f"{n} of {n} entities, {m} of {m} deals shown"
    ids = set(page.evaluate("dealgraph.views[0].edges.getIds()"))
    assert ids == {k for _, _, k in g.edges(keys=True)}
    assert_offline(page)


def test_cycle_edges_carry_the_highlight(chrome, sample_page):
    page = open_page(chrome, sample_page)
    e = page.evaluate("dealgraph.views[0].edges.get('oracle-nvidia-chips-2025-05')")
    assert e["dg_highlight"] == "cycle" and e["shadow"]["enabled"] is True
    assert e["shadow"]["color"] == style.CYCLE_COLOUR
    off = page.evaluate("dealgraph.views[0].edges.get('google-deepmind-acquisition-2014')")
    assert off["dg_highlight"] == "none" and off["shadow"]["enabled"] is False
    assert glow_pixels(page) > 500  # the glow is on the canvas, not just in the data
    # choose one loop from the list: only its deals stay highlighted, the bottleneck is labelled
    page.locator(".dg-cycles .dg-cycle", has_text="Nvidia → OpenAI → Oracle → Nvidia").first.click()
    # the opacity vis-network draws with (its own per-edge options), not just the data
    sel = page.evaluate("""() => { const v = dealgraph.views[0];
        return v.edges.get().map(e => [e.id, e.dg_highlight, (e.label || "").trim(),
                                       v.network.body.edges[e.id].options.color.opacity]); }""")
    on = {i: (h, lab) for i, h, lab, op in sel if h != "none"}
    assert on == {"nvidia-openai-investment-2025-09": ("cycle", ""),
                  "openai-oracle-compute-2025-09": ("cycle", ""),
                  "oracle-nvidia-chips-2025-05": ("bottleneck", "bottleneck $40.0bn")}
    assert all(op == 0.08 for i, h, lab, op in sel if h == "none")
    assert all(op == 1 for i, h, lab, op in sel if h != "none")
    faded = page.evaluate("""() => { const n = dealgraph.views[0].network.body.nodes;
        return Object.keys(n).filter(id => n[id].options.opacity < 1).sort(); }""")
    assert "nvidia" not in faded and "groq" in faded and "microsoft" in faded
    assert "Bottleneck $40.0bn" in page.inner_text(".dg-cycle-info")
    page.click("text=Show all cycles")
    # back to all cycles: the bottleneck label is gone from the drawn edge, the glow is back
    drawn = page.evaluate("dealgraph.views[0].network.body.edges['oracle-nvidia-chips-2025-05']"
                          ".labelModule.elementOptions.label")
    assert (drawn or "").strip() == ""
    assert page.evaluate("dealgraph.views[0].network.body.edges['google-deepmind-acquisition-2014']"
                         ".options.color.opacity") == 0.45
    assert page.evaluate("dealgraph.views[0].network.body.edges['oracle-nvidia-chips-2025-05']"
                         ".options.color.opacity") == 1


def test_tooltip_shows_deal_terms_and_source(chrome, sample_page):
    page = open_page(chrome, sample_page)
    tip = hover_edge(page, "nvidia-groq-license-2025-12")
    assert "license: nvidia → groq" in tip
    assert "$20.0bn" in tip and "announced" in tip and "2025-12" in tip
    assert "Seed article 'Who Captures the Value If AI Inference Becomes Cheap?'" in tip
    tip = hover_node(page, "groq")
    assert "Groq" in tip and "Received (known)" in tip


def test_filters_by_type_status_date_and_amount(chrome, sample_store, sample_page):
    from dealgraph.queries.filters import select_deals

    deals = select_deals(sample_store.deals)  # what the view shows: all but terminated
    deals = deals[deals["payer"].notna()]  # payer-less rounds are not edges
    assert len(deals) == sample_store.graph().number_of_edges()
    page = open_page(chrome, sample_page)

    def shown():
        return page.evaluate(COUNTS_JS, 0)["shownEdges"]

    page.locator(".dg-check", has_text="chip purchase").locator("input").uncheck()
    assert shown() == int((deals["type"] != "chip_purchase").sum())
    page.locator(".dg-check", has_text="chip purchase").locator("input").check()
    page.locator(".dg-check", has_text="announced").locator("input").uncheck()
    assert shown() == int((deals["status"] != "announced").sum())
    page.locator(".dg-check", has_text="announced").locator("input").check()
    # from 2025 on: partial dates compare at their common precision (year)
    page.fill(".dg-date >> nth=0", "2025")
    assert shown() == int((deals["date_key"] // 10000 >= 2025).sum())
    page.fill(".dg-date >> nth=0", "2025-09")
    keep = [truncate_key(k, min(p, 2)) >= truncate_key(20250900, min(p, 2))
            for k, p in zip(deals["date_key"], deals["date_precision"])]
    assert shown() == sum(keep)
    page.fill(".dg-date >> nth=0", "")
    page.fill(".dg-amount", "10000")  # US$ millions: $10B and up, undisclosed kept
    big = deals["amount_usd"].isna() | (deals["amount_usd"] >= 10e9)
    assert shown() == int(big.sum())
    page.locator(".dg-check", has_text="include undisclosed").locator("input").uncheck()
    assert shown() == int((deals["amount_usd"] >= 10e9).sum())
    # entities whose deals are all filtered out disappear; the others stay
    c = page.evaluate(COUNTS_JS, 0)
    kept = deals[deals["amount_usd"] >= 10e9]
    assert c["shownNodes"] == len(set(kept["payer"]) | set(kept["payee"]) |
                                  (set(sample_store.graph().nodes) - set(deals["payer"]) - set(deals["payee"])))
    assert c["drawnEdges"] == c["shownEdges"]


# --------------------------------------------------------------------------- hostile data

def test_hostile_names_and_sources_stay_text(chrome, hostile_store, tmp_path):
    path = write_page(render_view_page(view_from_store(hostile_store)), tmp_path / "h.html")
    page = open_page(chrome, path)
    texts = [hover_node(page, n) for n in ("evil", "hrefco", "good")]
    texts += [hover_edge(page, d) for d in ("d1", "d2", "d3")]
    joined = "\n".join(texts)
    assert '<img src=x onerror="window.__pwned=1">' in joined  # shown literally
    assert '<a href="#" onmouseover="window.__pwned=2">hrefco</a>' in joined
    assert "</script><script>window.__pwned=5</script>" in joined
    assert "<script>window.__pwned=3</script>" in joined
    page.locator(".dg-cycles .dg-cycle").first.click()
    assert "onerror" in page.inner_text(".dg-cycle-info")
    # no element was created from user text anywhere on the page
    assert page.evaluate("document.querySelectorAll('img, a, iframe, object, embed').length") == 0
    assert page.evaluate("document.querySelectorAll('script').length") == 3
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert_offline(page)


def test_hostile_report_stays_text(chrome, hostile_store, tmp_path):
    from dealgraph.viz.report import render_report

    text, _ = render_report(hostile_store)
    path = write_page(text, tmp_path / "hr.html")
    page = open_page(chrome, path)
    hover_node(page, "evil")
    srcs = page.inner_text(".dg-sources")
    assert "</script><script>window.__pwned=5</script>" in srcs and "javascript:window.__pwned=4" in srcs
    links = page.evaluate("[...document.querySelectorAll('a')].map(a => a.getAttribute('href'))")
    # only the http(s) URL became a link (the others are the report's own table of contents)
    assert [x for x in links if not x.startswith("#")] == ["https://example.com/x?a="]
    assert page.evaluate("document.querySelectorAll('img, iframe').length") == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert_offline(page)


# --------------------------------------------------------------------------- report

def test_report_page(chrome, sample_store, tmp_path):
    from dealgraph.viz.report import render_report

    text, notes = render_report(sample_store)
    page = open_page(chrome, write_page(text, tmp_path / "report.html"))
    g = sample_store.graph()
    c = page.evaluate(COUNTS_JS, 0)
    assert (c["drawnNodes"], c["drawnEdges"]) == (g.number_of_nodes(), g.number_of_edges())
    assert canvas_ink(page) > 20000
    assert page.locator("table.dg-table").count() >= 8  # summary + 7 query tables
    assert page.locator("figure.dg-figure[data-entity=groq] svg").count() == 1
    assert "exit: license by Nvidia" in page.inner_text("figure.dg-figure[data-entity=groq]")
    assert page.locator(".dg-sources li").count() > 5
    assert_offline(page)


# --------------------------------------------------------------------------- large graphs

def test_five_thousand_entities_open_and_respond(chrome, tmp_path):
    import time

    from dealgraph.viz.network import build_view

    g = synthetic_graph(5000, 11997)
    loop = [("e10", "e20", "loop1"), ("e20", "e30", "loop2"), ("e30", "e10", "loop3")]
    for k, (a, b, d) in enumerate(loop):
        g.add_edge(a, b, key=d, deal_id=d, type="investment", payer=a, payee=b, date=f"2024-0{k + 1}",
                   date_key=20240000 + (k + 1) * 100, date_precision=2, amount_usd=(k + 1) * 1e9,
                   amount_qualifier="exact", status="completed", source=f"loop source {k}")
    cycles = pd.DataFrame([{"cycle": "e10 -> e20 -> e30 -> e10", "deal_ids": "loop1, loop2, loop3",
                            "bottleneck_usd": 1e9, "time_ordered": True, "witness": "loop1, loop2, loop3"}])
    t0 = time.perf_counter()
    view = build_view(g, cycles)
    path = write_page(render_view_page(view), tmp_path / "big.html")
    t1 = time.perf_counter()
    page = open_page(chrome, path)
    t2 = time.perf_counter()
    c = page.evaluate(COUNTS_JS, 0)
    assert (c["drawnNodes"], c["drawnEdges"]) == (5000, 12000)
    assert view.notes == []  # at the limit, nothing reduced
    assert canvas_ink(page) > 1000
    timings = page.evaluate("dealgraph.views[0].timings")
    # interactive: a hover answers with a tooltip
    node = max(view.net.nodes, key=lambda n: n["size"])["id"]
    assert "Entity" in hover_node(page, node)
    # choosing the loop in a big view hides every other deal (fading 12,000 would be slow to draw)
    page.mouse.move(5, 5)
    page.locator(".dg-cycles .dg-cycle").first.click()
    visible = page.evaluate("""() => { const e = dealgraph.views[0].network.body.edges;
        return Object.keys(e).filter(i => !e[i].options.hidden).sort(); }""")
    assert visible == ["loop1", "loop2", "loop3"]
    assert "bottleneck $1.0bn" in page.evaluate("dealgraph.views[0].edges.get('loop1').label")
    page.click("text=Show all cycles")
    assert page.evaluate("""() => { const e = dealgraph.views[0].network.body.edges;
        return Object.keys(e).filter(i => !e[i].options.hidden).length; }""") == 12000
    print(f"\n5000 entities / 12000 deals: build+write {t1 - t0:.2f} s, open until drawn {t2 - t1:.2f} s "
          f"(in page: mounted {timings['constructed']:.0f} ms, first draw {timings['firstDraw']:.0f} ms)")


def test_over_the_limit_the_view_is_reduced_and_says_so(chrome, tmp_path):
    from dealgraph.viz.network import build_view

    # the same rule as at the default 5,000, on a smaller graph to keep the suite quick
    g = synthetic_graph(1200, 2000)
    view = build_view(g, None, max_nodes=1000)
    page = open_page(chrome, write_page(render_view_page(view), tmp_path / "bigger.html"))
    c = page.evaluate(COUNTS_JS, 0)
    assert c["drawnNodes"] <= 1000
    assert "Aggregated view (more than --max-nodes 1000 entities)" in page.inner_text(".dg-head")


def test_temporal_view_numbers_the_witness_deals(chrome, sample_store, tmp_path):
    from dealgraph.queries.circular import circular_flows

    view = view_from_store(sample_store, temporal=True, cycles_only=True)
    page = open_page(chrome, write_page(render_view_page(view), tmp_path / "t.html"))
    cf = circular_flows(sample_store, temporal=True)
    assert page.locator(".dg-cycles .dg-cycle").count() == len(cf) > 0
    assert "time-ordered only" in page.inner_text(".dg-side")
    i = next(k for k, c in enumerate(view.cycles) if len(c["witness"]) >= 3)
    page.locator(".dg-cycles .dg-cycle").nth(i).click()
    labels = page.evaluate("Object.fromEntries(dealgraph.views[0].edges.get().map(e => [e.id, (e.label || '').trim()]))")
    for k, deal_id in enumerate(view.cycles[i]["witness"]):
        assert labels[deal_id].startswith(f"#{k + 1}"), (deal_id, labels[deal_id])
    assert "In time order: " + " → ".join(view.cycles[i]["witness"]) in page.inner_text(".dg-cycle-info")


def test_notebook_iframe_displays_the_view(chrome, sample_store, tmp_path):
    """What Jupyter does with _repr_html_: put it in the notebook page. The view
    must render inside the sandboxed srcdoc iframe."""
    from dealgraph.viz import show

    w = show(sample_store, entity="nvidia", depth=1)
    host = tmp_path / "notebook.html"
    host.write_text("<!DOCTYPE html><html><body><h1>notebook</h1>" + w._repr_html_() + "</body></html>")
    page = open_page(chrome, host, wait_ready=False)
    frame = page.frames[1]
    frame.wait_for_function("() => window.dealgraph && window.dealgraph.views.length"
                            " && window.dealgraph.views[0].ready", timeout=60000)
    c = frame.evaluate(COUNTS_JS, 0)
    assert (c["drawnNodes"], c["drawnEdges"]) == (w.view.node_count, w.view.edge_count)
    ink = frame.evaluate("""() => { const c = dealgraph.views[0].network.canvas.frame.canvas;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let k = 0; k < d.length; k += 4) if (d[k + 3] > 0 && d[k] < 240) n++; return n; }""")
    assert ink > 5000
    assert page.outside_requests == [] and page.errors == []


def test_partnerships_are_drawn_as_undirected_links(chrome, tmp_path):
    """The AI Bubble Map data (tests/data/ai-bubble-map): its 16 partnerships are drawn by
    vis-network without an arrow and dotted, money deals with one; the legend names the kind."""
    from pathlib import Path

    from dealgraph.graph.store import open_store

    peer = Path(__file__).resolve().parent / "data" / "ai-bubble-map"
    store = open_store(tmp_path / "peer.db", seed=False)
    store.add([peer / "entities.csv", peer / "deals_full.csv"])
    page = open_page(chrome, write_page(render_view_page(view_from_store(store)), tmp_path / "peer.html"))
    drawn = page.evaluate("""() => { const v = dealgraph.views[0];
        return v.edges.get().map(e => { const o = v.network.body.edges[e.id].options;
            return [e.deal_type, o.arrows.to.enabled, o.dashes]; }); }""")
    parts = [d for d in drawn if d[0] == "partnership"]
    assert len(parts) == 16 and all(not arrow and dashes == [2, 6] for _t, arrow, dashes in parts)
    assert all(arrow for t, arrow, _d in drawn if t != "partnership")
    assert "partnership: undirected link, no arrow" in page.inner_text("body")

# --------------------------------------------------------------------------- issue 15: the network view

def test_highlight_colour_differs_from_every_deal_type_colour(chrome, sample_page):
    from test_viz_network import colour_distance

    page = open_page(chrome, sample_page)
    got = page.evaluate("""() => { const v = dealgraph.views[0];
        const types = {}; v.data.edges.forEach(e => { types[e.deal_type] = e.color; });
        const glow = v.edges.get().filter(e => e.dg_highlight === "cycle").map(e => e.shadow.color);
        const border = v.nodes.get().filter(n => v.data.nodes.find(b => b.id === n.id).on_cycle)
                                    .map(n => v.network.body.nodes[n.id].options.color.border);
        const swatches = [...document.querySelectorAll('.dg-check .dg-swatch')].map(s => getComputedStyle(s).backgroundColor);
        const ring = getComputedStyle(document.querySelector('.dg-ring')).borderTopColor;
        return {types, glow, border, swatches, ring}; }""")
    highlight = {*got["glow"], *got["border"]}
    assert highlight == {style.CYCLE_COLOUR} and got["glow"] and got["border"]
    assert len(got["types"]) >= 6  # the sample data uses most deal types
    for t, colour in got["types"].items():
        assert colour.lower() != style.CYCLE_COLOUR.lower(), t
        assert colour_distance(style.CYCLE_COLOUR, colour) >= 10, t  # also for colour-blind eyes
    # what the legend paints (computed styles): the type swatches and the highlight ring
    rgb = lambda h: "rgb(%d, %d, %d)" % tuple(int(h[i:i + 2], 16) for i in (1, 3, 5))  # noqa: E731
    assert got["ring"] == rgb(style.CYCLE_COLOUR) and rgb(style.CYCLE_COLOUR) not in got["swatches"]
    assert glow_pixels(page) > 500  # and the glow is on the canvas


RING_JS = """(i) => { const v = dealgraph.views[0]; const c = v.data.cycles[i];
    return {ids: c.nodes, pos: v.network.getPositions(c.nodes)}; }"""


def test_picking_a_three_cycle_lays_it_out_as_a_ring(chrome, sample_page):
    import math

    page = open_page(chrome, sample_page)
    before = page.evaluate("() => dealgraph.views[0].network.getPositions()")
    cycles = page.evaluate("dealgraph.views[0].data.cycles.map(c => c.nodes.length)")
    i = cycles.index(3)
    page.locator(".dg-cycles .dg-cycle").nth(i).click()
    r = page.evaluate(RING_JS, i)
    pts = [(r["pos"][n]["x"], r["pos"][n]["y"]) for n in r["ids"]]
    cx, cy = sum(p[0] for p in pts) / 3, sum(p[1] for p in pts) / 3
    dist = [math.hypot(x - cx, y - cy) for x, y in pts]
    assert max(dist) - min(dist) <= 0.01 * max(dist)  # on one circle round the centroid
    (ax, ay), (bx, by), (qx, qy) = pts
    area = abs((bx - ax) * (qy - ay) - (by - ay) * (qx - ax)) / 2
    assert area > 0.5 * (3 * math.sqrt(3) / 4) * min(dist) ** 2  # a real triangle (equilateral: 1.0), not a line
    # the cycle's deals are emphasised, the others dimmed
    ops = page.evaluate("""(i) => { const v = dealgraph.views[0]; const b = v.network.body.edges;
        return v.data.edges.map(e => [e.cycles.indexOf(i) >= 0, b[e.id].options.color.opacity, b[e.id].options.width,
                                      e.width]); }""", i)
    assert all(op == 1 and w > w0 for on, op, w, w0 in ops if on)
    assert all(op < 0.2 for on, op, w, w0 in ops if not on)
    # a 4-cycle too, then unpicking restores every position
    j = cycles.index(4) if 4 in cycles else None
    if j is not None:
        page.locator(".dg-cycles .dg-cycle").nth(j).click()
        r4 = page.evaluate(RING_JS, j)
        pts = [(r4["pos"][n]["x"], r4["pos"][n]["y"]) for n in r4["ids"]]
        cx, cy = sum(p[0] for p in pts) / 4, sum(p[1] for p in pts) / 4
        d4 = [math.hypot(x - cx, y - cy) for x, y in pts]
        assert max(d4) - min(d4) <= 0.01 * max(d4)
    page.click("text=Show all cycles")
    after = page.evaluate("() => dealgraph.views[0].network.getPositions()")
    assert after.keys() == before.keys()  # getPositions rounds to whole units
    assert all(abs(after[k][a] - before[k][a]) <= 1 for k in before for a in "xy")
    sizes = page.evaluate("""() => { const b = dealgraph.views[0].network.body.nodes;
        return [...new Set(Object.values(b).map(n => n.labelModule.fontOptions.size))]; }""")
    assert sizes == [style.FONT_SIZE]  # restyling kept the label size


LABEL_BOXES_JS = """() => { const v = dealgraph.views[0]; const out = [];
    v.network.redraw();
    for (const id of v.network.body.nodeIndices) {
        const n = v.network.body.nodes[id]; const s = n.labelModule.size;
        out.push({id, x: n.x, y: n.y, r: n.shape.radius !== undefined ? n.shape.radius : n.options.size,
                  label: n.options.label || "", box: [s.left, s.top, s.left + s.width, s.top + s.height]});
    } return out; }"""


def overlapping_labels(items):
    """(label owner, node) pairs where a drawn label's box meets another node's box (x ± r, y ± r)."""
    bad = []
    for a in items:
        if not a["label"].strip():
            continue
        x0, y0, x1, y1 = a["box"]
        for b in items:
            if b["id"] != a["id"] and x0 < b["x"] + b["r"] and b["x"] - b["r"] < x1 \
                    and y0 < b["y"] + b["r"] and b["y"] - b["r"] < y1:
                bad.append((a["id"], b["id"]))
    return bad


def test_labels_do_not_overlap_nodes(chrome, sample_page, tmp_path):
    page = open_page(chrome, sample_page)
    items = page.evaluate(LABEL_BOXES_JS)
    assert sum(1 for i in items if i["label"]) == len(items) == 16
    assert overlapping_labels(items) == []
    # legible: at the fitted zoom a label is drawn at least 11 px high
    scale = page.evaluate("dealgraph.views[0].network.getScale()")
    assert style.FONT_SIZE * scale >= 11
    # a crowded synthetic view too
    g = synthetic_graph(150, 300)
    from dealgraph.viz.network import build_view

    p = open_page(chrome, write_page(render_view_page(build_view(g, None)), tmp_path / "crowd.html"))
    items = p.evaluate(LABEL_BOXES_JS)
    assert overlapping_labels(items) == []


def test_aggregated_view_shows_every_cycle_member_and_counts_add_up(chrome, tmp_path):
    from dealgraph.viz.network import build_view

    g = synthetic_graph(3000, 6000)
    loops = [["e2900", "e2910", "e2920"], ["e2950", "e2960"]]
    rows = []
    for li, loop in enumerate(loops):
        ids = []
        for k, a in enumerate(loop):
            b = loop[(k + 1) % len(loop)]
            d = f"loop{li}-{k}"
            ids.append(d)
            g.add_edge(a, b, key=d, deal_id=d, type="investment", payer=a, payee=b, date="2024-05",
                       date_key=20240500, date_precision=2, amount_usd=2e6, amount_qualifier="exact",
                       status="completed", source="s")
        rows.append({"cycle": " -> ".join(loop + loop[:1]), "deal_ids": ", ".join(ids), "bottleneck_usd": 2e6})
    view = build_view(g, pd.DataFrame(rows), max_nodes=300, hubs=100)
    page = open_page(chrome, write_page(render_view_page(view), tmp_path / "agg.html"))
    got = page.evaluate("""() => { const v = dealgraph.views[0];
        return v.nodes.get().map(n => { const b = v.data.nodes.find(x => x.id === n.id);
            return {id: n.id, aggregate: b.aggregate, members: b.members, label: n.label || ""}; }); }""")
    ids = {n["id"] for n in got}
    assert {m for loop in loops for m in loop} <= ids  # every cycle member drawn, though small
    more = [n for n in got if n["aggregate"]]
    real = [n for n in got if not n["aggregate"]]
    assert more and all(n["label"] == f"+ {n['members']:,} more" for n in more)
    assert len(real) + sum(n["members"] for n in more) == 3000  # the counts add up to every entity
    assert len(got) <= 300
    assert page.locator(".dg-cycles .dg-cycle").count() == 2
    assert "Aggregated view" in page.inner_text(".dg-head")
    assert "+ N more" in page.inner_text(".dg-side")  # the legend explains the grey nodes
    tip = hover_node(page, max(more, key=lambda n: n["members"])["id"])
    assert "Entities" in tip and "Largest" in tip


def test_hostile_names_fire_no_dialog(chrome, tmp_path):
    from dealgraph.graph.store import open_store

    frames = hostile_frames()
    frames["entities"].loc[0, "name"] = "<img src=x onerror=alert(1)>"
    frames["entities"].loc[2, "name"] = "<svg onload=alert(2)>"
    s = open_store(tmp_path / "alert.db", seed=False)
    s.import_frames(frames)
    for limit in (5000, 1):  # the plain view and the aggregated one (names in '+ N more' tooltips)
        path = write_page(render_view_page(view_from_store(s, max_nodes=limit, hubs=0)), tmp_path / f"a{limit}.html")
        page = open_page(chrome, path)
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        texts = [hover_node(page, n) for n in page.evaluate("dealgraph.views[0].nodes.getIds()")]
        page.locator(".dg-cycles .dg-cycle").first.click()
        page.wait_for_timeout(200)
        assert dialogs == []
        assert page.evaluate("document.querySelectorAll('img, svg:not(.vis-network svg)').length") == 0
        if limit == 5000:
            assert "<img src=x onerror=alert(1)>" in "\n".join(texts)  # shown literally
        assert_offline(page)


def test_page_money_reads_as_the_tables(chrome, sample_page):
    """The page's money text (view.js) is the tables' (queries.common.money) for amounts
    across every unit and boundary: one way of writing money everywhere."""
    import random

    from dealgraph.queries.common import money

    rnd = random.Random(7)
    values = [0, 1, 999, 999.4, 1000, 12_345, 99_940, 99_960, 950_000, 999_960, 1e6, 6.5e6, 99.94e6, 99.96e6,
              650e6, 999.9e6, 999.96e6, 1e9, 20e9, 1234.5e9, 1e12, 1.2e12, 45e12, -650e6, -20e9]
    values += [round(10 ** rnd.uniform(0, 13), rnd.choice([0, 2])) for _ in range(300)]
    page = open_page(chrome, sample_page)
    got = page.evaluate("(xs) => xs.map(x => dealgraph.money(x))", values)
    assert got == [money(v) for v in values]
    assert page.evaluate("dealgraph.money(null)") == "undisclosed"
