"""Property tests: the compiled cycle search against networkx and brute force on
random small multigraphs (parallel deals, partial dates, undisclosed amounts)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dealgraph.graph.arrays import build_arrays, date_intervals
from dealgraph.graph.dates import compare, parse_date
from dealgraph.queries import circular
from dealgraph.queries.circular import circular_flows

from circular_helpers import (brute_time_ordered, cycle_key_of, deals_frame, nx_cycles, rank_key,
                              witness_ok)

ENTITIES = ["a", "b", "c", "d", "e", "f"]


@st.composite
def partial_dates(draw):
    year = draw(st.sampled_from([2023, 2024]))
    prec = draw(st.sampled_from([1, 2, 3, 3]))
    month = draw(st.integers(1, 3))
    day = draw(st.sampled_from([1, 2, 15, 28, 31])) if month != 2 else draw(st.sampled_from([1, 2, 15, 28]))
    if prec == 1:
        return f"{year}"
    if prec == 2:
        return f"{year}-{month:02d}"
    return f"{year}-{month:02d}-{day:02d}"


@st.composite
def multigraphs(draw, max_entities=6, max_deals=16):
    n = draw(st.integers(2, max_entities))
    names = ENTITIES[:n]
    m = draw(st.integers(1, max_deals))
    rows = []
    for i in range(m):
        payer = draw(st.sampled_from(names + [None]) if i % 7 == 6 else st.sampled_from(names))
        payee = draw(st.sampled_from(names))
        amount = draw(st.one_of(st.none(), st.sampled_from([1.0, 2.0, 5.0, 10.0, 1e9])))
        status = draw(st.sampled_from(["completed", "completed", "announced", "rumoured"]))
        rows.append((f"d{i}", draw(partial_dates()), payer, payee, amount, status))
    return deals_frame(rows)


SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(multigraphs(), st.integers(2, 5))
def test_cycle_set_and_counts_equal_networkx(df, k):
    expected = nx_cycles(df, k)
    res = circular_flows(df, max_length=k, top=None, status="all")
    got = [cycle_key_of(c) for c in res["cycle"]]
    assert len(got) == len(set(got))
    assert set(got) == expected
    assert res.attrs["total_cycles"] == len(expected)
    assert res.attrs["complete"] is True
    by_len = {L: sum(1 for c in expected if len(c) == L) for L in range(2, k + 1)}
    assert res.attrs["counts_by_length"] == by_len
    counts = circular_flows(df, max_length=k, count_only=True, status="all")
    assert dict(zip(counts["length"], counts["cycles"])) == by_len


@SETTINGS
@given(multigraphs(), st.integers(2, 5), st.integers(1, 6))
def test_top_n_is_prefix_of_documented_ranking(df, k, top):
    expected = sorted(nx_cycles(df, k), key=lambda c: rank_key(df, c))
    res = circular_flows(df, max_length=k, top=top, status="all")
    assert [cycle_key_of(c) for c in res["cycle"]] == expected[:top]
    assert res.attrs["total_cycles"] == len(expected)


@pytest.mark.slow
@SETTINGS
@given(multigraphs(), st.integers(2, 5), st.sampled_from([None, 0, 10, 45, 100, 400]))
def test_temporal_equals_brute_force(df, k, window):
    cycles = nx_cycles(df, k)
    expected = {c for c in cycles if brute_time_ordered(df, c, window)}
    res = circular_flows(df, max_length=k, temporal=True, window=window, top=None, status="all")
    got = {cycle_key_of(c) for c in res["cycle"]}
    assert got == expected
    assert res.attrs["total_cycles"] == len(expected)
    for c, w, flag in zip(res["cycle"], res["witness"], res["time_ordered"]):
        assert flag
        assert witness_ok(df, cycle_key_of(c), w, window)
    # without --temporal every cycle is listed, flagged by the same definition
    allres = circular_flows(df, max_length=k, window=None, top=None, status="all")
    for c, flag in zip(allres["cycle"], allres["time_ordered"]):
        assert flag == brute_time_ordered(df, cycle_key_of(c), None)


@settings(max_examples=60, deadline=None)
@given(multigraphs(), st.integers(2, 5), st.booleans(), st.integers(1, 4))
def test_resumed_slices_and_state_overflow_change_nothing(df, k, temporal, top):
    """A 3-step budget forces the search to stop and resume many times; a Pareto
    capacity of 1 forces the overflow-and-restart path."""
    ref = circular_flows(df, max_length=k, temporal=temporal, top=top, status="all")
    old = circular._STEP_BUDGET, circular._STATE_CAP
    circular._STEP_BUDGET, circular._STATE_CAP = 3, 1
    try:
        res = circular_flows(df, max_length=k, temporal=temporal, top=top, status="all", timeout=None)
    finally:
        circular._STEP_BUDGET, circular._STATE_CAP = old
    assert list(res["cycle"]) == list(ref["cycle"])
    assert res.attrs["counts_by_length"] == ref.attrs["counts_by_length"]


@settings(max_examples=300, deadline=None)
@given(partial_dates(), partial_dates())
def test_interval_form_of_partial_date_comparison(a, b):
    """The engine's ``a earlier than b  <=>  last day of a < first day of b``."""
    (ka, pa), (kb, pb) = parse_date(a), parse_date(b)
    lo, hi = date_intervals(np.array([ka, kb]), np.array([pa, pb]))
    assert (compare(a, b) < 0) == (hi[0] < lo[1])
    assert (compare(b, a) < 0) == (hi[1] < lo[0])


def test_hop_collapse_sums_known_amounts_and_flags_undisclosed():
    df = deals_frame([("x1", "2024-01", "a", "b", 5.0), ("x2", "2024-02", "a", "b", None),
                      ("x3", "2024-03", "a", "b", 2.0), ("x4", "2024", "b", "a", None),
                      ("x5", "2024", None, "a", 9.0)])
    arr = build_arrays(df)
    assert list(arr.ids) == ["a", "b"]
    ab, ba = arr.hop_index(0, 1), arr.hop_index(1, 0)
    assert arr.hop_amount[ab] == 7.0 and arr.hop_undisclosed[ab]
    assert math.isnan(arr.hop_amount[ba]) and arr.hop_undisclosed[ba]
    assert sorted(arr.deals["deal_id"][arr.hop_deals(ab)]) == ["x1", "x2", "x3"]
    assert arr.m == 2  # the payer-less round is not an edge


@st.composite
def single_cycles(draw):
    """One cycle of length 2..5 with 1..3 parallel deals per hop and dates from a
    narrow pool, so partial-date ties and near-misses are common."""
    L = draw(st.integers(2, 5))
    rows = []
    for i in range(L):
        for j in range(draw(st.integers(1, 3))):
            rows.append((f"h{i}d{j}", draw(partial_dates()), ENTITIES[i], ENTITIES[(i + 1) % L], 1.0))
    return deals_frame(rows), tuple(ENTITIES[:L])


@pytest.mark.slow
@settings(max_examples=250, deadline=None)
@given(single_cycles(), st.sampled_from([None, 0, 14, 31, 60, 366]))
def test_time_ordered_single_cycle_equals_brute_force(case, window):
    df, cycle = case
    expected = brute_time_ordered(df, cycle, window)
    res = circular_flows(df, max_length=5, temporal=True, window=window, status="all")
    assert len(res) == (1 if expected else 0)
    assert res.attrs["total_cycles"] == (1 if expected else 0)
    flag = circular_flows(df, max_length=5, window=None, status="all")
    assert bool(flag["time_ordered"].iloc[0]) == brute_time_ordered(df, cycle, None)
    if expected:
        assert witness_ok(df, cycle, res["witness"].iloc[0], window)


@st.composite
def heavy_cycles(draw):
    """A cycle of length 2..4 whose hops carry up to 7 parallel deals each (the
    staircase and binary-search shortcuts for hops with many deals)."""
    L = draw(st.integers(2, 4))
    rows = []
    for i in range(L):
        for j in range(draw(st.integers(1, 7))):
            rows.append((f"h{i}d{j}", draw(partial_dates()), ENTITIES[i], ENTITIES[(i + 1) % L], 1.0))
    return deals_frame(rows), tuple(ENTITIES[:L])


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(heavy_cycles(), st.sampled_from([None, None, 20, 90]))
def test_time_ordered_with_many_parallel_deals_equals_brute_force(case, window):
    df, cycle = case
    expected = brute_time_ordered(df, cycle, window)
    res = circular_flows(df, max_length=4, temporal=True, window=window, status="all")
    assert res.attrs["total_cycles"] == (1 if expected else 0)
    top = circular_flows(df, max_length=4, temporal=True, window=window, status="all", top=1)
    assert len(top) == (1 if expected else 0)
