"""Benchmark: how long a big network view takes to build and to become interactive.

    python3 -m dealgraph.viz.bench [--entities 5000] [--deals 12000]
    python3 -m dealgraph.viz.bench --stores 100000,1000000 [--repeats 3]

Prints: Python build time (layout, model), page size, and in Chromium the time
until the page is drawn and answers a hover (Debian's /usr/bin/chromium via
Playwright, as in the tests). Numbers, not assertions.

``--stores``: for each size, ``dealgraph synth --deals N --entities N/10 --seed 7``
added to a fresh store, then ``view_from_store`` with the defaults (the
aggregated view above 5,000 entities) timed in-process, wall and CPU, median of
``--repeats``, and the page rendered; the baseline measured in the same run is
``store.graph()``, the networkx graph of every deal that the view was built on
before the aggregated view (its cost alone was more than the whole view now).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def synthetic_graph(n_entities: int, n_deals: int, seed: int = 3):
    """A random deal graph in the store.graph() format (skewed degrees, 1 in 7 undisclosed)."""
    import networkx as nx
    import numpy as np

    rng = np.random.default_rng(seed)
    g = nx.MultiDiGraph()
    kinds = ["company", "investor", "fund", "lender"]
    for i in range(n_entities):
        g.add_node(f"e{i}", id=f"e{i}", name=f"Entity {i}", kind=kinds[i % 4], source=f"s{i}")
    w = 1.0 / np.arange(1, n_entities + 1) ** 0.8
    w /= w.sum()
    src = rng.choice(n_entities, size=n_deals, p=w)
    dst = rng.integers(0, n_entities, size=n_deals)
    types = ["investment", "chip_purchase", "compute_contract", "debt_financing"]
    for j, (a, b) in enumerate(zip(src, dst)):
        if a == b:
            b = (b + 1) % n_entities
        amt = float(10 ** rng.uniform(6, 11)) if j % 7 else None
        y, mth = 2015 + j % 11, 1 + j % 12
        g.add_edge(f"e{a}", f"e{b}", key=f"x{j}", deal_id=f"x{j}", type=types[j % 4], payer=f"e{a}",
                   payee=f"e{b}", date=f"{y}-{mth:02d}", date_key=y * 10000 + mth * 100, date_precision=2,
                   amount_usd=amt, amount_qualifier="exact" if amt else None, status="completed",
                   source=f"source {j}")
    return g


def _timed(fn, repeats: int):
    """(result, median wall s, median CPU s) over ``repeats`` calls."""
    import statistics

    walls, cpus, out = [], [], None
    for _ in range(max(1, repeats)):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return out, statistics.median(walls), statistics.median(cpus)


def store_bench(sizes: list[int], repeats: int, work: Path) -> None:
    """The view of synthetic stores of ``sizes`` deals (see the module docstring)."""
    import os

    from dealgraph.graph.store import open_store
    from dealgraph.loaders.synth import write
    from dealgraph.viz.build import view_from_store
    from dealgraph.viz.html import render_view_page

    print(f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for n in sizes:
        d = work / f"s{n}"
        d.mkdir()
        ents, deals = write(d, n, n // 10, seed=7)
        store = open_store(work / f"s{n}.db", seed=False)
        store.add([ents, deals])
        store.deals  # noqa: B018 - the table read is not part of the view
        view_from_store(store)  # kernels loaded, imports done
        view, wall, cpu = _timed(lambda: view_from_store(store), repeats)
        text, r_wall, r_cpu = _timed(lambda: render_view_page(view), 1)
        _, g_wall, g_cpu = _timed(lambda: store.graph(), 1)
        groups = sum(1 for x in view.net.nodes if x.get("aggregate"))
        links = sum(1 for x in view.net.edges if x.get("aggregate"))
        print(f"{n:,} deals / {n // 10:,} entities: view {wall:.2f} s (cpu {cpu:.2f} s), render {r_wall:.2f} s, "
              f"page {len(text.encode()) / 1e6:.1f} MB: {view.node_count - groups} entities + {groups} '+ N more', "
              f"{view.edge_count - links} deals + {links} links; baseline store.graph() {g_wall:.2f} s "
              f"(cpu {g_cpu:.2f} s) -> view + render is {(g_wall) / (wall + r_wall):.1f}x the graph alone's speed")
    print(f"load average at end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entities", type=int, default=5000)
    ap.add_argument("--deals", type=int, default=12000)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--stores", default="", help="comma-separated deal counts: time the view of synthetic stores")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    if args.stores:
        with tempfile.TemporaryDirectory() as tmp:
            store_bench([int(x) for x in args.stores.split(",")], args.repeats, Path(tmp))
        return

    from dealgraph.viz.html import render_view_page
    from dealgraph.viz.layout import force_layout
    from dealgraph.viz.network import build_view

    force_layout(["a", "b"], [("a", "b")])  # compile (cached on disk after the first run)
    g = synthetic_graph(args.entities, args.deals)
    t0 = time.perf_counter()
    view = build_view(g, None, max_nodes=max(args.entities, 1))
    t1 = time.perf_counter()
    text = render_view_page(view)
    t2 = time.perf_counter()
    print(f"{args.entities} entities, {args.deals} deals: build {t1 - t0:.2f} s, render {t2 - t1:.2f} s, "
          f"page {len(text.encode()) / 1e6:.1f} MB")
    for n in view.notes:
        print("note:", n)

    from playwright.sync_api import sync_playwright

    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--disable-quic"]
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        path = Path(tmp) / "bench.html"
        path.write_text(text, encoding="utf-8")
        b = pw.chromium.launch(executable_path=args.chromium, args=flags, headless=True)
        page = b.new_page(viewport={"width": 1280, "height": 800})
        t3 = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_function("() => window.dealgraph && window.dealgraph.views.length"
                               " && window.dealgraph.views[0].ready", timeout=120000)
        t4 = time.perf_counter()
        tm = page.evaluate("dealgraph.views[0].timings")
        # interactive: hover the biggest node until its tooltip shows
        node = max(view.net.nodes, key=lambda n: n["size"])["id"]
        pt = page.evaluate("""(id) => { const v = dealgraph.views[0];
            const d = v.network.canvasToDOM(v.network.getPosition(id));
            const r = v.network.canvas.frame.getBoundingClientRect(); return {x: r.left + d.x, y: r.top + d.y}; }""",
                           node)
        page.mouse.move(pt["x"] - 20, pt["y"] - 20)
        page.mouse.move(pt["x"], pt["y"], steps=3)
        page.wait_for_selector("div.vis-tooltip", state="visible", timeout=60000)
        t5 = time.perf_counter()
        b.close()
    print(f"browser: load until first draw {t4 - t3:.2f} s (script: data+DataSets {tm['constructed']:.0f} ms, "
          f"first draw at {tm['firstDraw']:.0f} ms); hover answered {t5 - t4:.2f} s later")


if __name__ == "__main__":
    main()
