"""The report's parts without a browser: the lead's findings against the query
results, human headers, tables (names, escaping, nothing cut), the matplotlib charts."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dealgraph.queries.common import money
from dealgraph.viz import charts, findings
from dealgraph.viz.report import header, run_queries, table_html


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    from dealgraph.graph.store import open_store

    return open_store(tmp_path_factory.mktemp("report") / "sample.db")


@pytest.fixture(scope="module")
def results(sample_store):
    out = run_queries(sample_store)
    failed = {k: v for k, v in out.items() if isinstance(v, Exception)}
    assert not failed
    return out


@pytest.fixture(scope="module")
def names(sample_store):
    e = sample_store.entities
    return dict(zip(e["id"], e["name"]))


def _by_topic(found):
    return {f.topic: f for f in found}


def test_findings_state_the_query_results(sample_store, results, names):
    from dealgraph.queries.common import deals_of

    deals = deals_of(sample_store)
    found = _by_topic(findings.findings(results, deals, names))
    assert list(found) == ["money", "loops", "hub", "key deals", "multiples", "claims"]

    tl = results["timeline"]
    m = found["money"]
    assert m.figures["on_cycles_usd"] == tl.attrs["on_cycles_usd"] > 0
    assert m.figures["on_cycles_pct"] == tl["on_cycles_pct"].iloc[-1]
    assert math.isclose(100 * tl.attrs["on_cycles_usd"] / tl.attrs["hop_usd"], m.figures["on_cycles_pct"])
    known = pd.to_numeric(deals["amount_usd"], errors="coerce")
    assert m.figures["known_usd"] == known.sum() and m.figures["deals"] == len(deals)
    assert f"{money(known.sum())} of disclosed amounts" in m.text
    assert f"{money(tl.attrs['on_cycles_usd'])} of the {money(tl.attrs['hop_usd'])}" in m.text

    cf = results["circular-flows"]
    loops = found["loops"]
    assert loops.figures["total_cycles"] == cf.attrs["total_cycles"]
    assert loops.text.startswith(f"{cf.attrs['total_cycles']} money cycles")
    for r, got in zip(cf.head(3).to_dict("records"), loops.figures["cycles"]):
        path = " → ".join(names[x.strip()] for x in r["cycle"].split("->"))
        assert got["cycle"] == path and path in loops.text
        assert f"bottleneck {money(r['bottleneck_usd'])}, {money(r['total_usd'])} around the loop" in loops.text

    top = results["hubs"].iloc[0]
    assert found["hub"].figures["capacity_usd"] == top["capacity_usd"]
    assert found["hub"].text.startswith(f"{names[top['entity']]} sits at the centre")
    assert money(top["capacity_usd"]) in found["hub"].text

    key = results["sensitivity"].attrs["key_deals"].head(3)
    assert [d["deal_id"] for d in found["key deals"].figures["deals"]] == key["deal_id"].tolist()

    mult = results["multiples"].dropna(subset=["deal_to_revenue"]).sort_values("deal_to_revenue", ascending=False)
    got = found["multiples"].figures["multiples"]
    assert [g["deal_id"] for g in got] == mult["deal_id"].head(3).tolist()
    assert f"{mult['deal_to_revenue'].iloc[0]:.1f}x" in found["multiples"].text

    chk = results["check"]
    c = found["claims"]
    assert c.figures == {"claims": len(chk), "supported": int((chk.verdict == "supported").sum()),
                         "not_supported": int((chk.verdict == "not supported").sum()),
                         "cannot_check": int((chk.verdict == "cannot check").sum())}
    for stated in chk.loc[chk.verdict == "not supported", "stated"]:
        assert f"stated {stated}" in c.text  # each claim that does not hold is named with its figure


def test_findings_leave_out_what_the_data_does_not_show(sample_store, names):
    from dealgraph.queries.common import deals_of

    # deals before 2019: no cycles, no multiples with revenue, no claims
    deals = deals_of(sample_store, as_of="2018")
    res = run_queries(sample_store, as_of="2018")
    res["check"] = None
    found = _by_topic(findings.findings(res, deals, names))
    assert "loops" not in found and "hub" not in found and "claims" not in found
    assert found["money"].figures["deals"] == len(deals) == 1
    assert findings.findings({}, deals.iloc[0:0], names) == []


def test_claims_finding_names_each_failed_claim():
    deals = pd.DataFrame({"deal_id": ["d1"], "type": ["license"], "payer": ["a"], "payee": ["b"],
                          "amount_usd": [2e9], "amount_qualifier": ["exact"], "date": ["2025-01"]})
    check = pd.DataFrame({"subject": ["d1", "d1@r", "b"], "metric": ["deal_to_revenue", "return_multiple", "x"],
                          "stated": ["40x", "~7x", "3"], "recomputed": [12.5, 7.0, float("nan")],
                          "unit": ["x", "x", ""], "verdict": ["not supported", "supported", "cannot check"]})
    f = findings.claims_finding(check, deals, {"a": "Alpha <A>", "b": "Beta"})
    assert f.text == ("Of 3 figures stated in the sources, 1 hold when recomputed from the deals; 1 does not — "
                      "deal to revenue of Alpha <A> → Beta license of $2.0bn (2025-01): stated 40x, recomputed "
                      "12.5x; 1 cannot be checked from the data.")


def test_headers_read_as_words():
    assert header("bottleneck_usd") == "Bottleneck"
    assert header("top_share_pct") == "Top share (%)"
    assert header("deal_ids") == "Deal IDs"
    assert header("hhi") == "HHI"
    assert header("implied_ev_to_revenue") == "Implied EV to revenue"
    assert header("cycle") == "Cycle"


def test_table_shows_names_whole_lists_and_escapes(results, names):
    from dealgraph.queries.registry import QUERIES

    cf = results["circular-flows"]
    out = table_html(cf, layout=QUERIES["circular-flows"].layout, names=names, command="dealgraph query circular-flows")
    assert "<th scope=\"col\">Cycle</th>" in out and "bottleneck_usd" not in out
    assert "Nvidia → OpenAI → Oracle → Nvidia" in out
    for ids in cf["deal_ids"]:
        assert html_escape(ids) in out  # whole, never cut with an ellipsis
    assert "…" not in out
    hostile = pd.DataFrame({"entity": ['<script>alert(1)</script>', '"onmouseover=alert(2)'],
                            "inflow_usd": [1e9, 2e6]})
    out = table_html(hostile)
    assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&quot;onmouseover=alert(2)" in out and "$1.0bn" in out and "$2m" in out


def html_escape(s):
    import html

    return html.escape(s, quote=True)


def test_money_by_year_is_a_matplotlib_svg_with_the_totals(sample_store):
    from dealgraph.queries.common import deals_of

    deals = deals_of(sample_store)
    svg = charts.money_by_year(deals)
    assert svg.startswith("<svg") and "Matplotlib v" in svg and "<?xml" not in svg
    assert "<image" not in svg and "href=\"http" not in svg  # nothing to fetch
    amt = pd.to_numeric(deals["amount_usd"], errors="coerce")
    by_year = amt.groupby(deals["date_key"] // 10000).sum()
    for year, total in by_year[by_year > 0].items():
        assert f">{money(total)}<" in svg, (year, money(total))
    assert charts.money_by_year(deals.iloc[0:0]) == ""


def test_cycle_diagram_labels_every_hop_and_escapes_names():
    svg = charts.cycle_diagram(["<script>alert(1)</script>", '"onmouseover=x', "$5 Co"], [3e9, float("nan"), 4e8],
                               "1. bottleneck undisclosed", bottleneck=None)
    assert "Matplotlib v" in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg and "<script>" not in svg
    # the quote is in text content only, never closing an attribute
    assert svg.count("onmouseover") == svg.count('>"onmouseover=x</text>') == 1
    assert "$5 Co" in svg  # a dollar sign is text, not mathtext
    assert ">$3.0bn<" in svg and ">undisclosed<" in svg and ">$400m<" in svg


def test_period_ticks_one_per_year():
    ticks, labels = charts.period_ticks(["2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2", "2026-Q1"])
    assert ticks == [0, 2, 4] and labels == ["2024", "2025", "2026"]
    ticks, labels = charts.period_ticks([str(y) for y in range(2000, 2030)], most=10)
    assert len(ticks) <= 10 and labels[0] == "2000"
