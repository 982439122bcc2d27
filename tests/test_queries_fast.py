"""The vectorised query paths against the scalar reference, on random small stores.

multiples, returns, rounds and deal-comparisons run on arrays (binary searches
for "latest observation on or before", a round table, pairs of exits and
earlier rounds). The scalar functions that state each rule deal by deal
(``deal_multiples``, ``_build_rounds``, ``exit_returns``, ``MetricIndex.latest``
...) stay as the reference: on random stores with partial dates, undisclosed
amounts, qualified values, stakes, zero revenues, EUR deals and parallel deals
both must give identical frames (exact floats, same text). The store refuses
zero figures, so zero and negative denominators are checked on figures made by hand.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest
from test_queries_support import deal, make_store

from dealgraph.graph.schema import DEAL_TYPES, STATUSES
from dealgraph.queries.common import EXIT_TYPES, NAN, date_of, deals_of, entity_names, join, months_common, num, \
    records, text
from dealgraph.queries.comparisons import COLUMNS as COMPARISON_COLUMNS, _structure, deal_comparisons
from dealgraph.queries.metrics import metric_index
from dealgraph.queries.multiples import COLUMNS as MULTIPLE_COLUMNS, deal_multiples, multiples
from dealgraph.queries.returns import (RETURN_COLUMNS, RoundTable, _build_rounds, _round_deals, earlier_rounds,
                                       exit_returns, returns, rounds)

ENTITIES = [f"e{i}" for i in range(6)]


def _date(rng: random.Random) -> str:
    y = rng.choice([2020, 2021, 2022])
    p = rng.choice([1, 2, 3, 3])
    if p == 1:
        return f"{y}"
    m = rng.randint(1, 3)
    return f"{y}-{m:02d}" if p == 2 else f"{y}-{m:02d}-{rng.choice([1, 2, 15, 28]):02d}"


def _money(rng: random.Random) -> str:
    return rng.choice(["", "~", "up to ", "at least "]) + f"{rng.choice([1, 2, 5, 7.5, 20, 300])}{rng.choice(['m', 'bn'])}"


def random_store(tmp_path, seed: int):
    rng = random.Random(seed)
    types = list(DEAL_TYPES)
    deals = []
    for i in range(rng.randint(5, 45)):
        t = rng.choice(types + ["funding_round", "investment"] * 2 + list(EXIT_TYPES))
        payee = rng.choice(ENTITIES)
        payer = None if t == "funding_round" and rng.random() < 0.6 else \
            rng.choice([e for e in ENTITIES if e != payee])
        kw = {"status": rng.choice(STATUSES + ("completed",) * 4)}
        if rng.random() < 0.2:
            kw["currency"] = "EUR"
        if rng.random() < 0.3:
            kw["stake_pct"] = rng.choice(["49", "100", "10.5", "0.5"])
        for col in ("post_money_valuation", "target_revenue", "acquirer_market_cap"):
            if rng.random() < 0.25:
                kw[col] = _money(rng)
        if not DEAL_TYPES[t].directed:  # a partnership: no side-specific figures (refused)
            kw = {k: v for k, v in kw.items() if k in ("status", "currency")}
        amount = None if rng.random() < 0.2 or not DEAL_TYPES[t].money else _money(rng)  # no money, no amount
        d = deal(f"d{i:02d}", _date(rng), t, payer, payee, amount, **kw)
        deals.append(d)
        if rng.random() < 0.2:   # a parallel deal on the same pair and date
            t2 = rng.choice(types) if payer else "funding_round"
            deals.append(deal(f"d{i:02d}b", d["date"], t2, payer, payee,
                              None if rng.random() < 0.5 or not DEAL_TYPES[t2].money else _money(rng)))
    metrics = [{"entity": rng.choice(ENTITIES), "metric": rng.choice(["revenue", "market_cap", "post_money_valuation"]),
                "date": _date(rng), "value": _money(rng), "currency": "USD", "source": rng.choice(["a", ""])}
               for _ in range(rng.randint(0, 25))]
    fx = [{"currency": "EUR", "date": y, "usd_per_unit": "1.1", "source": "t"} for y in ("2020", "2021")]
    return make_store(tmp_path, deals=deals, metrics=metrics, fx=fx)


def _nan_none(rec):
    """A record with NaN as None (an unknown interval end: NaN objects never compare equal)."""
    return None if rec is None else {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in rec.items()}


def _points(columns) -> list[str]:
    """The columns the scalar references give: the figures, not their intervals (those are
    checked against brute force in tests/test_intervals.py)."""
    return [c for c in columns if not (c.endswith(("_low", "_high")) and c.rsplit("_", 1)[0] in columns)]


def _same(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    assert set(slow.columns) <= set(fast.columns) and _points(fast.columns) == list(slow.columns)
    fast = fast[list(slow.columns)]
    assert len(fast) == len(slow)
    if len(slow):
        pd.testing.assert_frame_equal(fast.reset_index(drop=True), slow.reset_index(drop=True), check_exact=True)


# --- the scalar references -------------------------------------------------------------------------


def slow_multiples(store, **kw) -> pd.DataFrame:
    deals = deals_of(store, **kw)
    index = metric_index(store)
    return pd.DataFrame([deal_multiples(index, r) for r in records(deals)], columns=_points(MULTIPLE_COLUMNS))


def slow_rounds(deals, index) -> dict:
    return _build_rounds(records(_round_deals(deals)), index)


def slow_returns(store, **kw) -> pd.DataFrame:
    deals = deals_of(store, **kw)
    index = metric_index(store)
    rs = slow_rounds(deals, index)
    ex = deals[deals["type"].isin(EXIT_TYPES)].sort_values(["date_key", "date_precision", "deal_id"], kind="stable")
    rows = []
    for rec in records(ex):
        rows.extend(exit_returns(deals, index, rec, rs))
    return pd.DataFrame(rows, columns=_points(RETURN_COLUMNS))


def slow_comparisons(store, **kw) -> pd.DataFrame:
    """deal_comparisons as it was written row by row."""
    deals = deals_of(store, **kw)
    index = metric_index(store)
    names = entity_names(store)
    keep = deals["type"].isin(EXIT_TYPES)
    for col in ("target_revenue", "acquirer_market_cap"):
        keep |= pd.to_numeric(deals[col], errors="coerce").notna()
    chosen = deals[keep].sort_values(["date_key", "date_precision", "deal_id"], kind="stable")
    recs = records(chosen)
    groups: dict = {}
    for rec in recs:
        groups.setdefault((text(rec.get("payer")), text(rec.get("payee")), int(rec["date_key"]),
                           int(rec["date_precision"])), []).append(rec)
    rs = slow_rounds(deals, index)
    rows = []
    for rec in recs:
        key = (text(rec.get("payer")), text(rec.get("payee")), int(rec["date_key"]), int(rec["date_precision"]))
        if math.isnan(num(rec.get("amount_usd"))) and any(not math.isnan(num(r.get("amount_usd"))) for r in groups[key]):
            continue
        m = deal_multiples(index, rec)
        payer, payee = key[0], key[1]
        label = f"{names.get(payer, payer)} → {names.get(payee, payee)}" if payer else names.get(payee, payee)
        if text(rec.get("type")) in EXIT_TYPES:
            k, p = int(rec["date_key"]), int(rec["date_precision"])
            earlier = earlier_rounds(rs.get(payee, []), k, p)
            if earlier:
                lr = (earlier[-1].date, months_common(earlier[-1].date_key, earlier[-1].date_precision, k, p), "")
            else:
                lr = ("", NAN, f"months_from_last_raise: no round of {payee} before the deal")
        else:
            lr = ("", NAN, "months_from_last_raise: not an exit-like deal")
        rows.append({
            "deal_id": m["deal_id"], "deal": label, "date": date_of(rec), "status": m["status"],
            "structure": _structure(groups[key]), "value_usd": m["amount_usd"],
            "value_qualifier": m["amount_qualifier"], "target_revenue_usd": m["target_revenue_usd"],
            "deal_to_revenue": m["deal_to_revenue"], "acquirer_market_cap_usd": m["acquirer_market_cap_usd"],
            "share_of_acquirer_cap_pct": m["share_of_acquirer_cap_pct"], "last_raise_date": lr[0],
            "months_from_last_raise": lr[1],
            "reasons": join([m["deal_to_revenue_reason"], m["share_of_acquirer_cap_reason"], lr[2]]),
        })
    return pd.DataFrame(rows, columns=_points(COMPARISON_COLUMNS))


def _round_tuple(r) -> tuple:
    def f(x):
        return "nan" if isinstance(x, float) and math.isnan(x) else x
    pm = r.post_money
    return (r.entity, r.date, r.date_key, r.date_precision, r.deal_ids, r.types, r.investors, r.statuses,
            f(r.amount_usd), tuple(f(float(v)) if isinstance(v, (float, np.floating)) else v
                                   for v in (pm.value, pm.currency, pm.value_usd, pm.qualifier, pm.origin, pm.reason)),
            r.note)


SEEDS = range(24)


@pytest.mark.parametrize("seed", SEEDS)
def test_fast_paths_equal_the_scalar_reference(tmp_path, seed):
    store = random_store(tmp_path, seed)
    for kw in ({}, {"status": "all"}, {"as_of": "2021-02"}):
        _same(multiples(store, all_deals=True, **kw), slow_multiples(store, **kw))
        _same(returns(store, **kw), slow_returns(store, **kw))
        _same(deal_comparisons(store, **kw), slow_comparisons(store, **kw))
        deals = deals_of(store, **kw)
        index = metric_index(store)
        fast = RoundTable(deals, index).rounds()
        slow = slow_rounds(deals, index)
        assert list(fast) == list(slow)
        for e in slow:
            assert [_round_tuple(r) for r in fast[e]] == [_round_tuple(r) for r in slow[e]]
    # one entity's exits and round history take the same paths
    e = ENTITIES[seed % len(ENTITIES)]
    full = slow_returns(store)
    _same(returns(store, entity=e), full[full["entity"] == e])
    assert len(rounds(store, entity=e)) >= len(slow_rounds(deals_of(store), metric_index(store)).get(e, []))


@pytest.mark.parametrize("seed", range(8))
def test_metric_lookups_many_equal_one_by_one(tmp_path, seed):
    store = random_store(tmp_path, 100 + seed)
    index = metric_index(store)
    rng = random.Random(seed)
    qs = [(rng.choice(ENTITIES + ["nobody"]), rng.choice(["revenue", "market_cap", "post_money_valuation"]),
           _date(rng), f"d{rng.randint(0, 40):02d}") for _ in range(300)]
    from dealgraph.graph.dates import parse_date
    for metric in ("revenue", "market_cap", "post_money_valuation"):
        sub = [q for q in qs if q[1] == metric]
        ents = np.array([q[0] for q in sub], dtype=object)
        kp = [parse_date(q[2]) for q in sub]
        keys = np.array([k for k, _ in kp], dtype=np.int64)
        precs = np.array([p for _, p in kp], dtype=np.int64)
        ids = np.array([q[3] for q in sub], dtype=object)
        latest = index.latest_many(ents, metric, keys, precs)
        same = index.for_deal_or_date_many(ents, metric, ids, keys, precs)
        for i, (e, _, _, did) in enumerate(sub):
            want = index.latest(e, metric, int(keys[i]), int(precs[i]))
            got = index.record(int(latest[i])) if latest[i] >= 0 else None
            assert _nan_none(got) == _nan_none(want)
            want = index.for_deal_or_date(e, metric, did, int(keys[i]), int(precs[i]))
            got = index.record(int(same[i])) if same[i] >= 0 else None
            assert _nan_none(got) == _nan_none(want)


def test_ratios_equal_ratio_row_by_row():
    """Zero, negative, missing, other-currency and no-FX denominators, vectorised and scalar."""
    from dealgraph.queries.metrics import Figure, Figures, ratio, ratios

    figs = [Figure(), Figure(reason="gone"), Figure(10.0, "USD", 10.0, "exact", "deal"),
            Figure(0.0, "USD", 0.0, "exact", "deal"), Figure(-2.0, "EUR", -2.2, "approx", "deal"),
            Figure(5.0, "EUR", 5.5, "exact", "deal"), Figure(5.0, "EUR", NAN, "exact", "deal"),
            Figure(3.0, "", 3.0, "exact", "deal"), Figure(4.0, "GBP", 0.0, "exact", "deal")]
    pairs = [(a, b) for a in figs for b in figs]

    def many(fs):
        return Figures(*(np.array([getattr(f, k) for f in fs], dtype=float if k in ("value", "value_usd") else object)
                         for k in ("value", "currency", "value_usd", "qualifier", "origin", "reason")))

    vals, whys = ratios(many([a for a, _ in pairs]), many([b for _, b in pairs]), what="w", num_name="n",
                        den_name="d")
    for (a, b), v, why in zip(pairs, vals, whys):
        wv, wwhy = ratio(a, b, what="w", num_name="n", den_name="d")
        assert (v == wv or (math.isnan(v) and math.isnan(wv))) and why == wwhy, (a, b, v, why, wv, wwhy)


def _top_text_reference(df, group, label, value_text, limit):
    """common.top_text as first written (groupby.agg with a Python join)."""
    if len(df) == 0:
        return pd.Series(dtype=object)
    head = df.groupby(group, sort=False).head(limit)
    parts = head[label].astype(str) + " " + value_text(head)
    joined = parts.groupby(head[group], sort=False).agg("; ".join)
    n = df.groupby(group, sort=False).size()
    more = (n - limit).clip(lower=0)
    suffix = more.map(lambda m: f"; +{m} more" if m else "")
    return joined + suffix.reindex(joined.index).fillna("")


@pytest.mark.parametrize("seed", range(6))
def test_top_text_equals_reference(seed):
    from dealgraph.queries.common import top_text

    rng = random.Random(seed)
    n = rng.randint(1, 60)
    df = pd.DataFrame({"g": [rng.choice("abcdefg") for _ in range(n)], "who": [f"p{rng.randint(0, 9)}" for _ in range(n)],
                       "x": [rng.random() for _ in range(n)]})
    for limit in (1, 2, 5):
        got = top_text(df, "g", "who", lambda h: h["x"].map(lambda v: f"{v:.2f}"), limit)
        want = _top_text_reference(df, "g", "who", lambda h: h["x"].map(lambda v: f"{v:.2f}"), limit)
        pd.testing.assert_series_equal(got, want, check_names=False)
