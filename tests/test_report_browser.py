"""The report in a real browser (Debian's Chromium via Playwright): the lead states
the query results, every chart is an inline matplotlib SVG, nothing is wider than
a 1024 px window, print hides the interactive parts and makes a PDF, hostile text
stays text."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from browser import chrome, open_page, sample_store, violations  # noqa: F401 (fixtures)
from dealgraph.queries.common import money
from dealgraph.viz.html import write_page

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def report_path(sample_store, tmp_path_factory):
    from dealgraph.viz.report import render_report

    text, _ = render_report(sample_store)
    return write_page(text, tmp_path_factory.mktemp("reportpage") / "report.html")


def assert_offline(page):
    assert page.outside_requests == []
    assert [u for u in page.requests if not u.startswith("file://")] == []
    assert violations(page) == []
    assert page.errors == []


def test_lead_states_the_query_results(chrome, sample_store, report_path):
    from dealgraph.queries.circular import circular_flows
    from dealgraph.queries.claims import check_claims
    from dealgraph.queries.hubs import hubs
    from dealgraph.queries.timeline import timeline
    from dealgraph.viz.report import _claims_path

    page = open_page(chrome, report_path)
    lead = page.inner_text(".dg-lead")
    names = dict(zip(sample_store.entities["id"], sample_store.entities["name"]))
    tl = timeline(sample_store)
    assert f"{money(tl.attrs['on_cycles_usd'])} of the {money(tl.attrs['hop_usd'])} paid" in lead
    assert f"{tl['on_cycles_pct'].iloc[-1]:.0f}%" in lead
    cf = circular_flows(sample_store)
    assert f"{cf.attrs['total_cycles']} money cycles" in lead
    best = cf.iloc[0]
    path = " → ".join(names[x.strip()] for x in best["cycle"].split("->"))
    assert f"{path} (bottleneck {money(best['bottleneck_usd'])}, {money(best['total_usd'])} around the loop)" in lead
    hub = hubs(sample_store).iloc[0]
    assert f"{names[hub['entity']]} sits at the centre" in lead and money(hub["capacity_usd"]) in lead
    from dealgraph.queries.observations import effective

    chk = check_claims(effective(sample_store), claims=str(_claims_path()))  # the figures the report uses
    held = int((chk["verdict"] == "supported").sum())
    assert f"Of {len(chk)} figures stated in the sources, {held} hold" in lead
    for stated in chk.loc[chk["verdict"] == "not supported", "stated"]:
        assert f"stated {stated}" in lead
    # the lead comes first: before any chart or table
    assert page.evaluate("""() => { const l = document.querySelector('.dg-lead');
        const f = document.querySelector('figure, table');
        return !!(l.compareDocumentPosition(f) & Node.DOCUMENT_POSITION_FOLLOWING); }""")
    assert_offline(page)


def test_every_chart_is_an_inline_matplotlib_svg(chrome, sample_store, report_path):
    from dealgraph.queries.circular import circular_flows

    page = open_page(chrome, report_path)
    figs = page.evaluate("""() => [...document.querySelectorAll('figure.dg-figure')].map(f => {
        const s = f.querySelector(':scope > svg'); const b = s && s.getBoundingClientRect();
        return {svg: !!s, meta: s ? (s.querySelector('metadata') || {}).textContent || '' : '',
                w: b ? b.width : 0, h: b ? b.height : 0, text: f.textContent,
                cycle: f.dataset.cycle || null, entity: f.dataset.entity || null}; })""")
    n_cycles = min(6, len(circular_flows(sample_store)))
    assert len(figs) == 2 + n_cycles + 1  # money by year, timeline, the top cycles, Groq's valuations
    for f in figs:
        assert f["svg"] and re.search(r"Matplotlib v\d", f["meta"]), f["text"][:80]
        assert f["w"] > 150 and f["h"] > 100  # drawn, not an empty box
    assert page.evaluate("document.querySelectorAll('img, object, embed, iframe').length") == 0
    groq = next(f for f in figs if f["entity"] == "groq")
    assert "$2.8bn" in groq["text"] and "$6.9bn" in groq["text"] and "×2.46" in groq["text"]
    assert "exit: license by Nvidia, $20.0bn" in groq["text"]
    first = next(f for f in figs if f["cycle"] == "1")
    for amount in ("$100.0bn", "$300.0bn", "$40.0bn"):  # Nvidia → OpenAI → Oracle → Nvidia, each hop
        assert amount in first["text"]
    assert_offline(page)


def test_nothing_is_wider_than_a_1024px_window(chrome, report_path):
    page = open_page(chrome, report_path, width=1024, height=800)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    wide = page.evaluate("""() => [...document.querySelectorAll('main *')].filter(e => {
            const r = e.getBoundingClientRect(); return r.width > 0 && (r.right > innerWidth + 0.5 || r.left < -0.5);
        }).map(e => e.tagName + '.' + e.className)""")
    assert wide == []
    # tables fit without their own scroll bar: every cell's text is shown whole
    scrolled = page.evaluate("[...document.querySelectorAll('.dg-scroll')].filter(d => d.scrollWidth > d.clientWidth + 1).length")
    assert scrolled == 0
    assert "…" not in page.inner_text("#queries")


def test_print_hides_the_interactive_parts_and_makes_a_pdf(chrome, report_path, tmp_path):
    page = open_page(chrome, report_path)
    assert page.is_visible(".dg-interactive canvas")
    page.emulate_media(media="print")
    assert not page.is_visible(".dg-interactive") and not page.is_visible(".dg-toc")
    assert page.is_visible(".dg-print-only")
    assert page.is_visible(".dg-lead") and page.is_visible("#sources")
    assert page.evaluate("""() => [...document.querySelectorAll('figure.dg-figure, .dg-table tr')]
        .every(e => ['avoid'].includes(getComputedStyle(e).breakInside))""")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages > 0
    (tmp_path / "report.pdf").write_bytes(pdf)


def hostile_frames():
    """A loop of three whose names, notes and sources attack, one of them with two valued rounds."""
    e = {"id": ["evil", "quote", "good"],
         "name": ["<script>alert(1)</script>", '"onmouseover=alert(2) x="', "Good & Co"],
         "kind": ["company", "company", "investor"], "aliases": ["", "", ""], "ticker": ["", "", ""],
         "country": ["", "", ""],
         "source": ["javascript:alert(3)", "<img src=x onerror=alert(4)>", "https://example.com/good"],
         "notes": ["<script>alert(5)</script>", "", ""]}
    cols = ["deal_id", "date", "type", "payer", "payee", "amount", "currency", "status", "stake_pct",
            "post_money_valuation", "target_revenue", "acquirer_market_cap", "source", "notes"]
    rows = [
        ["d1", "2024-01", "investment", "good", "evil", "1000000000", "USD", "completed", "", "", "", "",
         "</script><script>alert(6)</script>", '<a href="javascript:alert(7)">x</a>'],
        ["d2", "2024-05", "compute_contract", "evil", "quote", "3000000000", "USD", "completed", "", "", "", "",
         "https://example.com/a?b=<i>", ""],
        ["d3", "2024-09", "chip_purchase", "quote", "good", "2000000000", "USD", "completed", "", "", "", "",
         '"onmouseover=alert(8)', ""],
        ["r1", "2023-02", "funding_round", "", "evil", "100000000", "USD", "completed", "", "1000000000", "", "",
         "<svg onload=alert(9)>", ""],
        ["r2", "2024-08", "funding_round", "", "evil", "500000000", "USD", "completed", "", "4000000000", "", "",
         "round two", ""],
    ]
    return {"entities": pd.DataFrame(e), "deals": pd.DataFrame(rows, columns=cols)}


def test_hostile_text_stays_text(chrome, tmp_path):
    from dealgraph.graph.store import open_store
    from dealgraph.viz.report import render_report

    store = open_store(tmp_path / "h.db", seed=False)
    store.import_frames(hostile_frames())
    text, _ = render_report(store)
    page = open_page(chrome, write_page(text, tmp_path / "h.html"))
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    lead = page.inner_text(".dg-lead")
    assert "<script>alert(1)</script>" in lead and '"onmouseover=alert(2) x="' in lead
    # the names are text in the charts too (the cycle diagram and the valuation history)
    cycle = page.inner_text("figure[data-cycle='1']")
    assert "<script>alert(1)</script>" in cycle and '"onmouseover=alert(2) x="' in cycle
    assert "<script>alert(1)</script>: post-money valuation" in page.inner_text("figure[data-entity=evil]")
    srcs = page.inner_text(".dg-sources")
    for s in ("</script><script>alert(6)</script>", "<svg onload=alert(9)>", '"onmouseover=alert(8)',
              "javascript:alert(3)", "<img src=x onerror=alert(4)>"):
        assert s in srcs
    links = sorted(page.evaluate("[...document.querySelectorAll('a[href^=\"http\"], a[href^=\"javascript\"]')]"
                                 ".map(a => a.getAttribute('href'))"))
    assert links == ["https://example.com/a?b=", "https://example.com/good"]
    # hover every figure and table cell: no handler was made from user text
    for sel in ("figure[data-cycle='1'] svg", "figure[data-entity=evil] svg", ".dg-lead", "#q-circular-flows table"):
        page.hover(sel)
    assert page.evaluate("document.querySelectorAll('main img, main iframe, svg script').length") == 0
    # the only script inside the page body is the network view's data block (JSON, not run)
    assert page.evaluate("[...document.querySelectorAll('main script')].map(s => s.type)") == ["application/json"]
    assert page.evaluate("[...document.querySelectorAll('*')].filter(e => [...e.attributes]"
                         ".some(a => a.name.startsWith('on'))).length") == 0
    assert dialogs == []
    assert_offline(page)
    # in print every link shows its address: as its text, or printed after it
    page.emulate_media(media="print")
    afters = page.evaluate("""() => [...document.querySelectorAll('main a[href^="http"]')].map(a =>
        [a.getAttribute('href'), a.textContent, getComputedStyle(a, '::after').content])""")
    assert len(afters) == 2 and all(text == href or href in after for href, text, after in afters)
