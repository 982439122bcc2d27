"""Playwright helper: Debian's Chromium, offline, every request recorded.

Never downloads a browser (``playwright install`` cannot work here): it drives
``/usr/bin/chromium`` through ``executable_path``. :func:`open_page` loads a
local HTML file and records every request the page makes; anything other than
the file itself is aborted and listed in ``page.outside_requests``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("DEALGRAPH_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--disable-quic"]


# Fixtures the browser test modules share (imported by name: pytest finds them there).
@pytest.fixture(scope="module")
def chrome():
    """One launched Chromium per test module."""
    with browser() as b:
        yield b


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    """A store of the bundled sample data, one per test module."""
    from dealgraph.graph.store import open_store

    return open_store(tmp_path_factory.mktemp("sample") / "sample.db")


@contextlib.contextmanager
def browser():
    """A launched Chromium (one per test module keeps the suite fast)."""
    from playwright.sync_api import sync_playwright  # here: without Playwright the group is skipped, not broken

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def open_page(b, path, *, width: int = 1280, height: int = 800, wait_ready: bool = True):
    """Open ``path`` (a local file) in a fresh context; returns the page.

    ``page.requests``: every URL requested; ``page.outside_requests``: the ones
    that were not the file itself (aborted); ``page.errors``: uncaught page
    errors; ``page.console``: console messages (CSP violations appear here).
    """
    url = Path(path).resolve().as_uri()
    ctx = b.new_context(viewport={"width": width, "height": height}, java_script_enabled=True)
    page = ctx.new_page()
    page.requests, page.outside_requests, page.errors, page.console = [], [], [], []

    def route(r):
        page.requests.append(r.request.url)
        if r.request.url == url:
            r.continue_()
        else:
            page.outside_requests.append(r.request.url)
            r.abort()

    ctx.route("**/*", route)
    # a Content-Security-Policy block never reaches the network (or the route
    # above): record violations too, so "no request" also means "none attempted"
    ctx.add_init_script("""window.__violations = [];
        document.addEventListener('securitypolicyviolation',
            e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));""")
    page.on("request", lambda req: None if req.url in page.requests else page.requests.append(req.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.console.append(f"{m.type}: {m.text}"))
    page.goto(url)
    if wait_ready:
        page.wait_for_function("() => window.dealgraph && window.dealgraph.views.length > 0 "
                               "&& window.dealgraph.views.every(v => v.ready)", timeout=60000)
    return page


def violations(page) -> list[str]:
    """Content-Security-Policy violations the page triggered (blocked loads, inline code)."""
    return page.evaluate("window.__violations")


def canvas_ink(page, index: int = 0) -> int:
    """Number of non-white pixels in view ``index``'s canvas (0 = blank)."""
    return page.evaluate(
        """(i) => {
            const v = window.dealgraph.views[i];
            const c = v.network.canvas.frame.canvas;
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let k = 0; k < d.length; k += 4) {
                if (d[k + 3] > 0 && (d[k] < 240 || d[k + 1] < 240 || d[k + 2] < 240)) n++;
            }
            return n;
        }""", index)


def glow_pixels(page, index: int = 0) -> int:
    """Canvas pixels of the cycle highlight's amber family (strong red and green, little blue):
    no deal-type or kind colour falls in it (viz/style.py), so they come from the glow and borders."""
    return page.evaluate(
        """(i) => {
            const c = window.dealgraph.views[i].network.canvas.frame.canvas;
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let k = 0; k < d.length; k += 4) {
                if (d[k + 3] > 0 && d[k] > 230 && d[k + 1] > 150 && d[k + 1] < 215 && d[k + 2] < 200
                    && d[k] - d[k + 2] > 60) n++;
            }
            return n;
        }""", index)


def hover_edge(page, edge_id: str, index: int = 0):
    """Move the mouse onto the middle of an edge's curve; returns the tooltip text."""
    pt = page.evaluate(
        """([i, id]) => {
            const v = window.dealgraph.views[i];
            v.network.canvas.frame.scrollIntoView({block: 'center'});
            const e = v.network.body.edges[id];
            const p = e.edgeType.getPoint(0.5);
            const dom = v.network.canvasToDOM(p);
            const r = v.network.canvas.frame.getBoundingClientRect();
            return {x: r.left + dom.x, y: r.top + dom.y};
        }""", [index, edge_id])
    page.mouse.move(pt["x"] - 40, pt["y"] - 40)
    page.mouse.move(pt["x"], pt["y"], steps=4)
    page.wait_for_selector("div.vis-tooltip", state="visible", timeout=5000)
    return page.inner_text("div.vis-tooltip")


def hover_node(page, node_id: str, index: int = 0):
    """Move the mouse onto a node; returns the tooltip text."""
    pt = page.evaluate(
        """([i, id]) => {
            const v = window.dealgraph.views[i];
            v.network.canvas.frame.scrollIntoView({block: 'center'});
            const dom = v.network.canvasToDOM(v.network.getPosition(id));
            const r = v.network.canvas.frame.getBoundingClientRect();
            return {x: r.left + dom.x, y: r.top + dom.y};
        }""", [index, node_id])
    page.mouse.move(pt["x"] - 30, pt["y"] - 30)
    page.mouse.move(pt["x"], pt["y"], steps=4)
    page.wait_for_selector("div.vis-tooltip", state="visible", timeout=5000)
    return page.inner_text("div.vis-tooltip")


def take_screenshots(outdir="docs/screenshots") -> list[Path]:
    """Screenshots of the sample data's view and report for the README:
    ``python3 tests/browser.py`` (writes PNGs into docs/screenshots/)."""
    import tempfile

    from dealgraph.graph.store import open_store
    from dealgraph.viz.build import view_from_store
    from dealgraph.viz.html import render_view_page, write_page
    from dealgraph.viz.report import render_report

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    with tempfile.TemporaryDirectory() as tmp, browser() as b:
        store = open_store(Path(tmp) / "sample.db")
        view = write_page(render_view_page(view_from_store(store)), Path(tmp) / "view.html")
        page = open_page(b, view, width=1280, height=760)
        page.screenshot(path=str(out / "network.png"))
        shots.append(out / "network.png")
        page.locator(".dg-cycles .dg-cycle", has_text="Nvidia → OpenAI → Oracle → Nvidia").first.click()
        page.wait_for_timeout(300)
        page.screenshot(path=str(out / "network-cycle.png"))
        shots.append(out / "network-cycle.png")
        page.click("text=Show all cycles")
        hover_edge(page, "nvidia-groq-license-2025-12")
        page.screenshot(path=str(out / "network-tooltip.png"))
        shots.append(out / "network-tooltip.png")
        shots.append(aggregated_screenshot(b, Path(tmp), out))
        text, _ = render_report(store)
        report = write_page(text, Path(tmp) / "report.html")
        page = open_page(b, report, width=1280, height=900)
        page.screenshot(path=str(out / "report.png"))
        shots.append(out / "report.png")
        for name, selector in (("report-web", "#web"), ("report-tables", "#q-multiples")):
            page.locator(selector).scroll_into_view_if_needed()
            page.evaluate("s => document.querySelector(s).scrollIntoView()", selector)
            page.screenshot(path=str(out / f"{name}.png"))
            shots.append(out / f"{name}.png")
        page.locator("figure.dg-figure[data-entity=groq]").screenshot(path=str(out / "report-valuation.png"))
        shots.append(out / "report-valuation.png")
    return shots


def aggregated_screenshot(b, tmp: Path, out: Path) -> Path:
    """The aggregated view of 100,000 synthetic deals (``dealgraph synth --deals 100000
    --entities 10000 --seed 7``), as ``dealgraph viz --hubs 60 --max-edges 3000`` draws it."""
    from dealgraph.graph.store import open_store
    from dealgraph.loaders.synth import write
    from dealgraph.viz.build import view_from_store
    from dealgraph.viz.html import render_view_page, write_page

    (tmp / "synth").mkdir()
    store = open_store(tmp / "synth.db", seed=False)
    store.add(list(write(tmp / "synth", 100_000, 10_000, seed=7)))
    path = write_page(render_view_page(view_from_store(store, hubs=60, max_edges=3000)), tmp / "agg.html")
    page = open_page(b, path, width=1280, height=760)
    page.screenshot(path=str(out / "network-aggregated.png"))
    return out / "network-aggregated.png"


if __name__ == "__main__":
    for p in take_screenshots():
        print(p, p.stat().st_size, "bytes")
