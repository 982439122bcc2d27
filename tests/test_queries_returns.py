"""Known answers for returns and rounds on hand-made stores."""

from __future__ import annotations

import math

from test_queries_support import approx, deal, is_na, make_store

from dealgraph.queries.returns import annualised, returns, rounds


def groq_like(tmp_path):
    return make_store(tmp_path, deals=[
        deal("r1", "2024-08", "funding_round", None, "g", "640m", post_money_valuation="2.8bn"),
        # a round recorded as the total plus a named participant: amount is the total, not the sum
        deal("r2", "2025-09", "funding_round", None, "g", "750m", post_money_valuation="6.9bn"),
        deal("r2-vc", "2025-09", "investment", "vc", "g", "100m"),
        deal("x", "2025-12-24", "license", "nv", "g", "20bn", status="announced"),
        deal("x-hire", "2025-12-24", "acquihire", "nv", "g", None, status="announced"),
        # a round on the exit's month: not earlier at common precision
        deal("r3", "2025-12", "funding_round", None, "g", "1bn", post_money_valuation="10bn"),
    ])


def test_returns_known_answers(tmp_path):
    s = groq_like(tmp_path)
    df = returns(s, entity="g")
    lic = df[df["exit_deal_id"] == "x"].set_index("round_date")
    assert list(lic.index) == ["2024-08", "2025-09"]      # 2025-12 is not before 2025-12-24

    last = lic.loc["2025-09"]
    m = 20 / 6.9
    assert last["multiple"] == approx(m)
    assert last["months"] == 3                              # month precision: 24 Dec counts as Dec
    assert last["annualised_compound_pct"] == approx(100 * (m ** 4 - 1))
    assert last["annualised_simple_pct"] == approx(100 * (m - 1) * 4)
    assert bool(last["last_round"]) and last["round_step_up"] == approx(6.9 / 2.8)
    assert last["exit_basis"] == "deal amount" and last["round_deal_ids"] == "r2, r2-vc"

    first = lic.loc["2024-08"]
    assert first["multiple"] == approx(20 / 2.8) and first["months"] == 16 and not bool(first["last_round"])
    assert first["annualised_compound_pct"] == approx(100 * ((20 / 2.8) ** (12 / 16) - 1))

    hire = df[df["exit_deal_id"] == "x-hire"]
    assert len(hire) == 2 and hire["multiple"].isna().all()
    assert (hire["reason"] == "exit value: deal amount undisclosed").all()


def test_stake_exit_uses_implied_valuation_and_year_precision(tmp_path):
    s = make_store(tmp_path, deals=[
        deal("seed", "2022", "investment", "angel", "sc", "1m"),      # no post-money, not the last: no row
        deal("r", "2023", "funding_round", None, "sc", "1bn", post_money_valuation="10bn"),
        deal("nopm", "2024-02", "investment", "vc", "sc", "5m"),
        deal("st", "2025-06-12", "stake", "meta", "sc", "15bn", stake_pct="50"),
    ])
    df = returns(s).set_index("round_date")
    assert list(df.index) == ["2023", "2024-02"]
    r = df.loc["2023"]
    assert r["exit_value_usd"] == 30e9 and r["exit_basis"] == "implied valuation (amount / stake)"
    assert r["multiple"] == approx(3.0)
    assert r["months"] == 24                               # year precision: 2023 -> 2025
    assert r["annualised_compound_pct"] == approx(100 * (3 ** 0.5 - 1))
    n = df.loc["2024-02"]
    assert is_na(n["multiple"]) and "no post-money valuation" in n["reason"] and bool(n["last_round"])


def test_exit_without_rounds_and_zero_months(tmp_path):
    s = make_store(tmp_path, deals=[deal("a", "2020", "acquisition", "b", "t", "1bn")])
    df = returns(s)
    assert len(df) == 1 and df["reason"].iloc[0] == "no round of t before the exit"
    comp, simple, why = annualised(2.0, 0.0)
    assert math.isnan(comp) and math.isnan(simple) and "no time" in why
    assert annualised(2.0, 12.0)[:2] == (approx(100.0), approx(100.0))


def test_rounds_history_with_step_ups_and_exits(tmp_path):
    s = groq_like(tmp_path)
    df = rounds(s, entity="g")
    # by date key: 2025-12 (month) sorts before 2025-12-24; rounds before exits on a date
    assert list(df["kind"]) == ["round", "round", "round", "exit", "exit"]
    assert list(df["date"]) == ["2024-08", "2025-09", "2025-12", "2025-12-24", "2025-12-24"]
    r2 = df.iloc[1]
    assert r2["amount_usd"] == 750e6 and r2["investors"] == "vc" and r2["deal_ids"] == "r2, r2-vc"
    assert r2["step_up"] == approx(6.9 / 2.8) and r2["months_since_previous"] == 13
    lic = df[df["deal_ids"] == "x"].iloc[0]
    assert lic["valuation_usd"] == 20e9 and lic["step_up"] == approx(20 / 10)   # vs the row before (r3)
    hire = df[df["deal_ids"] == "x-hire"].iloc[0]
    assert is_na(hire["valuation_usd"]) and hire["reason"] == "deal amount undisclosed"
    assert rounds(s, entity="g", as_of="2025-06")["kind"].tolist() == ["round"]
