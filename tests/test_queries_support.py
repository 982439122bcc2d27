"""Hand-made stores for the query tests (written as CSV, loaded by the real store),
and the tests of the metric lookup every query shares."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from dealgraph.graph.schema import DEAL_COLUMNS, METRIC_COLUMNS
#: The deal columns the rows below spell out, in file order (the optional ones after notes, such as
#: confidence, are left out: the loader gives them their default).
DEAL_COLUMNS = DEAL_COLUMNS[:DEAL_COLUMNS.index("notes") + 1]

ANY = object()


def _write(path: Path, columns, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(columns))
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return path


def deal(deal_id, date, type_, payer, payee, amount=None, **kw) -> dict:
    """One deal row; keyword columns as in the CSV schema (stake_pct=49, ...)."""
    row = {"deal_id": deal_id, "date": date, "type": type_, "payer": payer or "", "payee": payee,
           "amount": "" if amount is None else amount, "currency": kw.pop("currency", "USD"),
           "status": kw.pop("status", "completed"), "source": kw.pop("source", "test")}
    row.update(kw)
    return row


def metric(entity, name, date, value, **kw) -> dict:
    return {"entity": entity, "metric": name, "date": date, "value": value, "currency": kw.get("currency", "USD"),
            "source": kw.get("source", "test")}


def make_store(tmp_path: Path, deals=(), metrics=(), fx=(), name: str = "s.db"):
    """A real store at ``tmp_path/name`` holding exactly these rows (entities made
    from every id used, kind company)."""
    from dealgraph.graph.store import open_store

    ids = sorted({d["payer"] for d in deals if d.get("payer")} | {d["payee"] for d in deals} |
                 {m["entity"] for m in metrics})
    files = [_write(tmp_path / "entities.csv", ["id", "name", "kind"],
                    [{"id": i, "name": i.upper(), "kind": "company"} for i in ids])]
    if fx:
        files.append(_write(tmp_path / "fx.csv", ["currency", "date", "usd_per_unit", "source"], fx))
    extra = sorted({k for d in deals for k in d} - set(DEAL_COLUMNS))
    files.append(_write(tmp_path / "deals.csv", list(DEAL_COLUMNS) + extra, deals))
    if metrics:
        files.append(_write(tmp_path / "metrics.csv", METRIC_COLUMNS, metrics))
    store = open_store(tmp_path / name, seed=False)
    store.add(files, strict=True)
    return store


def approx(x, rel=1e-9):
    return pytest.approx(x, rel=rel)


def is_na(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


# ---------------------------------------------------------------------------
# queries/metrics.py: deal column first, else latest observation on or before
# ---------------------------------------------------------------------------

def _rec(store, deal_id):
    d = store.deals
    return d[d["deal_id"] == deal_id].iloc[0].to_dict()


def test_latest_observation_on_or_before_at_common_precision(tmp_path):
    from dealgraph.queries.metrics import deal_figure, metric_index

    s = make_store(tmp_path, deals=[
        deal("d-nov", "2025-11", "acquisition", "a", "t", "1bn"),
        deal("d-dec", "2025-12", "acquisition", "a", "t", "1bn"),
        deal("d-y2025", "2025", "acquisition", "a", "t", "1bn"),
        deal("d-2024-12", "2024-12-31", "acquisition", "a", "t", "1bn"),
        deal("d-2023", "2023-05", "acquisition", "a", "t", "1bn"),
        deal("d-own", "2025-11", "acquisition", "a", "u", "1bn", target_revenue="7m"),
    ], metrics=[
        metric("t", "revenue", "2024", "10m"),
        metric("t", "revenue", "2025-06", "20m"),
        metric("t", "revenue", "2025-12-30", "30m"),
    ])
    idx = metric_index(s)
    rev = lambda d: deal_figure(idx, _rec(s, d), "target_revenue")  # noqa: E731
    assert rev("d-nov").value == 20e6             # 2025-12-30 is later than 2025-11
    assert rev("d-dec").value == 30e6             # 2025-12-30 is "on" 2025-12 at month precision
    assert rev("d-y2025").value == 30e6           # every 2025 date is "on" 2025
    assert rev("d-2024-12").value == 10e6         # 2024 (year) is on or before 2024-12-31
    f = rev("d-2023")
    assert not f.known and "no revenue of t on or before 2023-05" in f.reason
    own = rev("d-own")
    assert own.value == 7e6 and own.origin == "deal"   # the deal's own column wins
    assert rev("d-nov").origin.startswith("metric 2025-06")


def test_exact_observation_preferred_on_a_tie(tmp_path):
    from dealgraph.queries.metrics import deal_figure, metric_index

    s = make_store(tmp_path, deals=[deal("d", "2025-06-30", "acquisition", "a", "t", "1bn")],
                   metrics=[metric("a", "market_cap", "2025-06", "2T"),
                            metric("a", "market_cap", "2025-06", "~3T")])
    f = deal_figure(metric_index(s), _rec(s, "d"), "acquirer_market_cap")
    assert f.value == 2e12 and f.qualifier == "exact"


def test_ratio_reasons_never_zero():
    from dealgraph.queries.metrics import Figure, missing, ratio

    a = Figure(10.0, "USD", 10.0, "exact", "deal")
    v, why = ratio(a, Figure(0.0, "USD", 0.0, "exact", "deal"), what="m", num_name="n", den_name="revenue")
    assert is_na(v) and why == "m: revenue is zero"
    v, why = ratio(a, missing("no revenue"), what="m", num_name="n", den_name="revenue")
    assert is_na(v) and why == "m: no revenue"
    # different currencies without a USD value: no silent mixing
    v, why = ratio(Figure(10.0, "EUR", float("nan")), Figure(5.0, "USD", 5.0), what="m", num_name="amount",
                   den_name="revenue")
    assert is_na(v) and "missing FX rate" in why
    assert ratio(Figure(10.0, "EUR", 11.0), Figure(5.0, "EUR", 5.5), what="m", num_name="a", den_name="b")[0] == 2.0


def test_months_common_matches_months_between():
    from dealgraph.graph.dates import format_key, months_between, parse_date, truncate_key
    from dealgraph.queries.common import months_common

    dates = ["2024", "2024-02", "2024-02-29", "2025-09", "2025-12-24", "2025-12", "2023-06-29", "2024-03-19",
             "2025-01-31", "2025-03-01"]
    for a in dates:
        for b in dates:
            (ka, pa), (kb, pb) = parse_date(a), parse_date(b)
            p = min(pa, pb)
            want = months_between(format_key(truncate_key(ka, p), p), format_key(truncate_key(kb, p), p))
            assert months_common(ka, pa, kb, pb) == want, (a, b)
    assert months_common(*parse_date("2025-09"), *parse_date("2025-12-24")) == 3
    assert months_common(*parse_date("2023"), *parse_date("2025-06-12")) == 24
