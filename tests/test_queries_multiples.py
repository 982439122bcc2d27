"""Known answers for multiples and deal-comparisons on hand-made stores."""

from __future__ import annotations

from test_queries_support import approx, deal, is_na, make_store, metric

from dealgraph.queries.comparisons import deal_comparisons
from dealgraph.queries.multiples import multiples


def _row(df, deal_id):
    rows = df[df["deal_id"] == deal_id]
    assert len(rows) == 1, f"{deal_id}: {len(rows)} rows"
    return rows.iloc[0]


def store(tmp_path):
    return make_store(tmp_path, deals=[
        # own columns: 1bn / 100m = 10x; 1bn / 50bn = 2%; whole company: implied valuation 1bn
        deal("acq", "2024-03-01", "acquisition", "buyer", "target", "1bn", target_revenue="100m",
             acquirer_market_cap="50bn"),
        # revenue and market cap from metric observations; 49% stake
        deal("stake", "2025-06-12", "stake", "meta", "scale", "14.7bn", stake_pct="49"),
        # no revenue figure ("negligible"): n/a with the reason
        deal("hire", "2024-03-19", "acquihire", "ms", "infl", "650m"),
        # undisclosed amount
        deal("hire2", "2024-03-19", "acquihire", "ms", "other", None),
        # a plain investment without figures is not listed; one with a market cap is
        deal("inv", "2024-01", "investment", "vc", "target", "10m"),
        deal("big-inv", "2024-11-22", "investment", "amzn", "anth", "8bn", acquirer_market_cap="2T"),
        # a licence in EUR with its own revenue column: ratio in EUR, no FX needed for the ratio
        deal("lic", "2025-02", "license", "buyer", "eu", "100m", currency="EUR", target_revenue="20m"),
    ], metrics=[
        metric("scale", "revenue", "2025", "~750m"),
        metric("scale", "revenue", "2026", "2bn"),     # later than the deal: not used
        metric("meta", "market_cap", "2025-06-12", "~3T"),
    ], fx=[{"currency": "EUR", "date": "2025-02", "usd_per_unit": "1.1", "source": "test"}])


def test_multiples_known_answers(tmp_path):
    s = store(tmp_path)
    df = multiples(s)
    assert set(df["deal_id"]) == {"acq", "stake", "hire", "hire2", "big-inv", "lic"}

    r = _row(df, "acq")
    assert r["deal_to_revenue"] == approx(10.0)
    assert r["share_of_acquirer_cap_pct"] == approx(2.0)
    assert r["implied_valuation_usd"] == approx(1e9)
    assert r["implied_ev_to_revenue"] == approx(10.0)
    assert r["qualifier"] == "exact" and r["reasons"] == ""

    r = _row(df, "stake")
    assert r["deal_to_revenue"] == approx(14.7 / 0.75)
    assert r["implied_valuation_usd"] == approx(14.7e9 / 0.49)
    assert r["implied_ev_to_revenue"] == approx(14.7 / 0.49 / 0.75)
    assert r["share_of_acquirer_cap_pct"] == approx(100 * 14.7 / 3000)
    assert r["revenue_origin"].startswith("metric 2025") and r["qualifier"] == "approx"

    r = _row(df, "hire")
    assert is_na(r["deal_to_revenue"]) and "deal_to_revenue: no revenue of infl on or before 2024-03-19" in r["reasons"]
    assert is_na(r["implied_valuation_usd"]) and "no stake_pct" in r["reasons"]
    assert is_na(r["share_of_acquirer_cap_pct"]) and "no market_cap of ms on or before 2024-03-19" in r["reasons"]

    r = _row(df, "hire2")
    assert is_na(r["amount_usd"]) and is_na(r["deal_to_revenue"])
    assert "deal amount undisclosed" in r["reasons"]

    r = _row(df, "big-inv")
    assert r["share_of_acquirer_cap_pct"] == approx(0.4)

    r = _row(df, "lic")
    assert r["deal_to_revenue"] == approx(5.0)
    assert r["amount_usd"] == approx(110e6)


def test_multiples_options_and_filters(tmp_path):
    s = store(tmp_path)
    assert "inv" in set(multiples(s, all_deals=True)["deal_id"])
    assert list(multiples(s, deal="acq")["deal_id"]) == ["acq"]
    assert set(multiples(s, as_of="2024-03")["deal_id"]) == {"acq", "hire", "hire2"}


def test_deal_comparisons_known_answers(tmp_path):
    s = make_store(tmp_path, deals=[
        deal("r1", "2024-08", "funding_round", None, "groq", "640m", post_money_valuation="2.8bn"),
        deal("r2", "2025-09", "funding_round", None, "groq", "750m", post_money_valuation="6.9bn"),
        deal("lic", "2025-12-24", "license", "nvidia", "groq", "20bn", target_revenue="500m",
             acquirer_market_cap="4.5T", status="announced"),
        deal("hire", "2025-12-24", "acquihire", "nvidia", "groq", None, status="announced"),
        deal("stk", "2025-06-12", "stake", "meta", "scale", "14.8bn", stake_pct="49"),
        deal("inv", "2024-11", "investment", "amzn", "anth", "8bn", acquirer_market_cap="2T"),
    ])
    df = deal_comparisons(s)
    assert list(df["deal_id"]) == ["inv", "stk", "lic"]   # by date, then deal id; "hire" is in lic's structure

    r = _row(df, "lic")
    assert r["structure"] == "license + acquihire"
    assert r["deal"] == "NVIDIA → GROQ"
    assert r["value_usd"] == 20e9 and r["deal_to_revenue"] == approx(40.0)
    assert r["share_of_acquirer_cap_pct"] == approx(100 * 20 / 4500)
    assert r["last_raise_date"] == "2025-09" and r["months_from_last_raise"] == 3   # at month precision

    assert _row(df, "stk")["structure"] == "49% stake"
    r = _row(df, "stk")
    assert is_na(r["months_from_last_raise"]) and "no round of scale before the deal" in r["reasons"]
    r = _row(df, "inv")
    assert r["share_of_acquirer_cap_pct"] == approx(0.4)
    assert "not an exit-like deal" in r["reasons"]
