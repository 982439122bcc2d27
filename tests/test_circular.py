"""Known-answer tests for circular-flows on small hand-made graphs."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from dealgraph.queries import circular
from dealgraph.queries.circular import RESULT_COLUMNS, circular_flows

from circular_helpers import deals_frame

# Amazon invests in Anthropic twice (one undisclosed), Anthropic buys compute
# back: a self-financing loop of length 2 with parallel deals.
LOOP2 = [
    ("amz-1", "2023-09-25", "amazon", "anthropic", 1.25e9),
    ("amz-2", "2024-03", "amazon", "anthropic", 2.75e9),
    ("amz-3", "2024-11-22", "amazon", "anthropic", None),
    ("ant-aws", "2024-11-22", "anthropic", "amazon", 0.5e9),
]


def test_self_financing_loop_of_length_two_with_parallel_deals():
    df = circular_flows(deals_frame(LOOP2), max_length=5)
    assert list(df.columns[:len(RESULT_COLUMNS)]) == RESULT_COLUMNS
    assert len(df) == 1
    row = df.iloc[0]
    assert row["cycle"] == "amazon -> anthropic -> amazon"
    assert row["length"] == 2
    # hop amazon->anthropic = 1.25 + 2.75 (known) with an undisclosed deal; back = 0.5
    assert row["bottleneck_usd"] == 0.5e9
    assert row["total_usd"] == 4.5e9
    assert row["undisclosed_hops"] == 1
    assert row["hops"] == "amazon->anthropic: amz-1, amz-2, amz-3; anthropic->amazon: ant-aws"
    assert row["deal_ids"] == "amz-1, amz-2, amz-3, ant-aws"
    assert row["time_ordered"]
    assert row["witness"] == "amz-1, ant-aws"
    assert df.attrs["total_cycles"] == 1
    assert df.attrs["counts_by_length"] == {2: 1, 3: 0, 4: 0, 5: 0}
    assert df.attrs["complete"] is True


def test_fully_undisclosed_hop_gives_nan_bottleneck_and_sorts_last():
    rows = LOOP2 + [
        ("nv-oai", "2025-09-22", "nvidia", "openai", None),
        ("oai-orc", "2025-09-10", "openai", "oracle", 300e9),
        ("orc-nv", "2025-10", "oracle", "nvidia", 40e9),
        ("x-y", "2025-01-01", "xai", "yco", 1.0),
        ("y-x", "2025-01-02", "yco", "xai", 2.0),
    ]
    df = circular_flows(deals_frame(rows), max_length=5)
    assert list(df["cycle"]) == ["amazon -> anthropic -> amazon", "xai -> yco -> xai",
                                 "nvidia -> openai -> oracle -> nvidia"]
    last = df.iloc[2]
    assert math.isnan(last["bottleneck_usd"])
    assert last["total_usd"] == 340e9  # known hops only
    assert last["undisclosed_hops"] == 1
    # top=1 keeps the best; the undisclosed one is still counted
    top1 = circular_flows(deals_frame(rows), max_length=5, top=1)
    assert list(top1["cycle"]) == ["amazon -> anthropic -> amazon"]
    assert top1.attrs["total_cycles"] == 3
    assert top1.attrs["counts_by_length"][3] == 1


# A triangle that misses being time-ordered by three days: a pays b on 1 Mar,
# b pays c on 10 Mar, c pays a on 5 Mar -- starting anywhere, some deal comes
# before the one preceding it.
NOT_ORDERED = [
    ("ab", "2024-03-01", "a", "b", 10.0),
    ("bc", "2024-03-10", "b", "c", 10.0),
    ("ca", "2024-03-05", "c", "a", 10.0),
    ("ca-late", "2024-03-07", "c", "a", 1.0),
]


def test_cycle_not_time_ordered_by_a_few_days():
    rows = NOT_ORDERED
    full = circular_flows(deals_frame(rows), max_length=3)
    assert list(full["cycle"]) == ["a -> b -> c -> a"]
    assert not full.iloc[0]["time_ordered"] and full.iloc[0]["witness"] == ""
    temporal = circular_flows(deals_frame(rows), max_length=3, temporal=True)
    assert len(temporal) == 0 and temporal.attrs["total_cycles"] == 0
    # three days later the loop closes: c pays a on 13 Mar
    fixed = rows + [("ca-2", "2024-03-13", "c", "a", 2.0)]
    temporal = circular_flows(deals_frame(fixed), max_length=3, temporal=True)
    assert list(temporal["cycle"]) == ["a -> b -> c -> a"]
    assert temporal.iloc[0]["witness"] == "ab, bc, ca-2"
    assert temporal.iloc[0]["bottleneck_usd"] == 10.0


def test_partial_dates_compare_at_common_precision():
    # "2024-03" is not earlier than "2024-03-10": the month-level deal can close the loop
    rows = NOT_ORDERED[:2] + [("ca-month", "2024-03", "c", "a", 3.0)]
    res = circular_flows(deals_frame(rows), max_length=3, temporal=True)
    assert res.iloc[0]["witness"] == "ab, bc, ca-month"
    # ... but a loop must not end before it starts: from a, the dates 2024-08-20, 2024-08,
    # 2024-08-05, 2024-09-01 are pairwise "non-decreasing" yet the third is earlier than
    # the first; every other start puts 2024-09-01 before 2024-08-20.
    rows = [("p", "2024-08-20", "a", "b", 1.0), ("q", "2024-08", "b", "c", 1.0),
            ("r", "2024-08-05", "c", "d", 1.0), ("s", "2024-09-01", "d", "a", 1.0)]
    res = circular_flows(deals_frame(rows), max_length=4, temporal=True)
    assert len(res) == 0
    # with the month deal first in time it works: 2024-08, 08-05, 08-20 (start at b)
    rows = [("p", "2024-08-20", "a", "b", 1.0), ("q", "2024-08", "b", "c", 1.0),
            ("r", "2024-08-05", "c", "a", 1.0)]
    res = circular_flows(deals_frame(rows), max_length=3, temporal=True)
    assert res.iloc[0]["witness"] == "q, r, p"
    # a year-precision deal is not earlier than anything in that year
    rows = [("p", "2024-12-31", "a", "b", 1.0), ("q", "2024", "b", "a", 1.0)]
    assert circular_flows(deals_frame(rows), temporal=True).iloc[0]["witness"] == "p, q"


def test_window_bounds_first_to_last_deal():
    rows = [("ab", "2023-01-10", "a", "b", 5.0), ("bc", "2023-06", "b", "c", 5.0),
            ("ca", "2024-12-31", "c", "a", 5.0)]
    df = deals_frame(rows)
    # first days: 2023-01-10, 2023-06-01, 2024-12-31 -> span 721 days
    assert len(circular_flows(df, max_length=3, window=721)) == 1
    res = circular_flows(df, max_length=3, window=720)
    assert len(res) == 0 and res.attrs["temporal"] is True
    # a later hop with a second, closer deal brings it inside the window
    df2 = deals_frame(rows + [("ca-2", "2023-07", "c", "a", 1.0)])
    res = circular_flows(df2, max_length=3, window=200)
    assert res.iloc[0]["witness"] == "ab, bc, ca-2"


def test_canonical_rotation_store_object_and_filters():
    rows = [("1", "2024-01", "zeta", "alpha", 5.0), ("2", "2024-02", "alpha", "mid", 6.0),
            ("3", "2024-03", "mid", "zeta", 7.0, "rumoured"), ("4", "2024-04", "mid", "alpha", 1.0,
                                                                 "terminated")]
    store = SimpleNamespace(deals=deals_frame(rows))
    res = circular_flows(store, max_length=4)
    assert list(res["cycle"]) == ["alpha -> mid -> zeta -> alpha"]  # terminated 2-cycle excluded
    assert bool(res.iloc[0]["tentative"]) is True
    assert len(circular_flows(store, status="all")) == 2
    assert len(circular_flows(store, status="completed")) == 0
    assert len(circular_flows(store, as_of="2024-02")) == 0
    assert len(circular_flows(store, as_of="2024")) == 1
    assert len(circular_flows(store, max_length=2, status="all")) == 1


def test_count_only_and_length_bound():
    # complete digraph on 4 nodes: 6 two-cycles, 8 three-cycles, 6 four-cycles
    names = ["a", "b", "c", "d"]
    rows = [(f"{x}{y}", "2024", x, y, 1.0) for x in names for y in names if x != y]
    counts = circular_flows(deals_frame(rows), max_length=4, count_only=True)
    assert list(counts["length"]) == [2, 3, 4] and list(counts["cycles"]) == [6, 8, 6]
    assert counts.attrs["total_cycles"] == 20
    assert circular_flows(deals_frame(rows), max_length=3, top=None).attrs["total_cycles"] == 14
    with pytest.raises(ValueError):
        circular_flows(deals_frame(rows), max_length=1)


def test_timeout_returns_partial_results_with_a_message(monkeypatch):
    names = [f"n{i}" for i in range(7)]
    rows = [(f"{x}-{y}", "2024", x, y, 1.0) for x in names for y in names if x != y]
    monkeypatch.setattr(circular, "_STEP_BUDGET", 5)
    res = circular_flows(deals_frame(rows), max_length=5, timeout=0.0)
    assert res.attrs["complete"] is False
    assert "timeout" in res.attrs["message"]
    full = circular_flows(deals_frame(rows), max_length=5, timeout=None, top=None)
    assert full.attrs["complete"] is True
    assert res.attrs["total_cycles"] < full.attrs["total_cycles"]
    assert set(res["cycle"]) <= set(full["cycle"])
