"""hubs: circular capacity against networkx max-flow and a brute-force minimum cut; cycles
through each entity against networkx.simple_cycles; shares and ranking."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dealgraph.graph.arrays import build_arrays
from dealgraph.queries.hubs import Capacities, hubs

from circular_helpers import deals_frame

NAMES = [f"e{i}" for i in range(8)]


@st.composite
def money_graphs(draw, max_entities=7, max_deals=22):
    n = draw(st.integers(2, max_entities))
    m = draw(st.integers(1, max_deals))
    rows = []
    for i in range(m):
        u = draw(st.integers(0, n - 1))
        v = draw(st.integers(0, n - 1))
        amount = draw(st.one_of(st.none(), st.integers(1, 50).map(lambda x: x * 1e8),
                                st.floats(0.01, 1e3).map(lambda x: round(x, 2))))
        rows.append((f"d{i}", "2024-01-01", NAMES[u], NAMES[v], amount))
    return deals_frame(rows)


def _split_graph(arrays, x):
    """networkx DiGraph of the hops with x split into ('out', x) and ('in', x); capacities in cents."""
    g = nx.DiGraph()
    for h in range(arrays.m):
        u, v = int(arrays.hop_src[h]), int(arrays.hop_dst[h])
        if u == v:
            continue
        a = arrays.hop_amount[h]
        cap = 0 if np.isnan(a) else int(round(a * 100))
        uu = ("out", x) if u == x else u
        vv = ("in", x) if v == x else v
        g.add_edge(uu, vv, capacity=cap)
    g.add_node(("out", x))
    g.add_node(("in", x))
    return g


def _brute_min_cut(g, s, t):
    """Minimum s-t cut by enumerating every node set holding s and not t."""
    others = [v for v in g.nodes if v not in (s, t)]
    best = None
    for r in range(len(others) + 1):
        for side in itertools.combinations(others, r):
            S = set(side) | {s}
            cut = sum(d["capacity"] for u, v, d in g.edges(data=True) if u in S and v not in S)
            best = cut if best is None else min(best, cut)
    return best


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(money_graphs())
def test_circular_capacity_equals_max_flow_and_brute_force_min_cut(deals):
    arrays = build_arrays(deals)
    caps = Capacities(arrays)
    for x in range(arrays.n):
        g = _split_graph(arrays, x)
        want = nx.maximum_flow_value(g, ("out", x), ("in", x))
        got = caps(x)
        assert round(got * 100) == want
        if g.number_of_nodes() <= 8:
            assert want == _brute_min_cut(g, ("out", x), ("in", x))
    # the residual graph is restored after every call: a second pass gives the same
    assert [caps(x) for x in range(arrays.n)] == [caps(x) for x in range(arrays.n)]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(money_graphs(), st.integers(2, 5))
def test_cycles_per_entity_equal_networkx_and_rows_are_consistent(deals, k):
    df = hubs(deals, max_length=k, top=None)
    g = nx.DiGraph()
    for _, r in deals.iterrows():
        g.add_edge(r["payer"], r["payee"])
    want: dict[tuple[str, int], int] = {}
    for c in nx.simple_cycles(g, length_bound=k):
        if len(c) >= 2:
            for v in c:
                want[(v, len(c))] = want.get((v, len(c)), 0) + 1
    g.remove_edges_from(list(nx.selfloop_edges(g)))
    on_cycle = {v for c in nx.strongly_connected_components(g) if len(c) > 1 for v in c}
    assert set(df["entity"]) == on_cycle  # on a cycle of any length
    assert {v for v, _ in want} <= on_cycle
    for _, r in df.iterrows():
        for L in range(2, k + 1):
            assert r[f"len{L}"] == want.get((r["entity"], L), 0)
        assert r["cycles"] == sum(r[f"len{L}"] for L in range(2, k + 1))
        # capacity is carried by hops on cycles only
        assert r["capacity_usd"] <= min(_nz(r["out_usd"]) * _share(r["out_on_cycles_pct"]),
                                        _nz(r["in_usd"]) * _share(r["in_on_cycles_pct"])) + 0.011
    assert df["rank"].tolist() == list(range(1, len(df) + 1))
    keys = list(zip(-df["capacity_usd"], -df["cycles"], df["entity"]))
    assert keys == sorted(keys)


def _nz(v):
    return 0.0 if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _share(p):
    return 0.0 if p is None or (isinstance(p, float) and math.isnan(p)) else float(p) / 100.0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(money_graphs(), st.integers(1, 4))
def test_top_n_is_the_head_of_the_full_ranking(deals, top):
    full = hubs(deals, top=None)
    head = hubs(deals, top=top)
    cols = ["entity", "capacity_usd", "cycles"]
    assert head[cols].reset_index(drop=True).equals(full[cols].head(top).reset_index(drop=True))


def test_sample_data_figures(sample_db):
    from dealgraph.graph.store import open_store

    store = open_store(sample_db)
    df = hubs(store)
    top = df.iloc[0]
    assert top["rank"] == 1 and top["capacity_usd"] > 0
    one = hubs(store, entity="nvidia")
    assert len(one) == 1 and one.iloc[0]["entity"] == "nvidia"
    row = df[df["entity"] == "nvidia"].iloc[0]
    assert one.iloc[0]["capacity_usd"] == row["capacity_usd"]


def test_two_cycle_capacity_is_its_bottleneck_and_shares():
    deals = deals_frame([("d1", "2024-01-01", "a", "b", 10e9), ("d2", "2024-02-01", "b", "a", 4e9),
                         ("d3", "2024-03-01", "a", "c", 6e9)])
    df = hubs(deals).set_index("entity")
    assert df.loc["a", "capacity_usd"] == 4e9 and df.loc["b", "capacity_usd"] == 4e9
    assert df.loc["a", "out_usd"] == 16e9
    assert df.loc["a", "out_on_cycles_pct"] == pytest.approx(62.5)
    assert df.loc["b", "in_on_cycles_pct"] == 100.0
    assert "c" not in df.index


def test_cli_ranks_with_capacity(cli, sample_db):
    r = cli("query", "hubs", "--format", "csv", db=sample_db)
    assert r.returncode == 0, r.stderr
    head = r.stdout.splitlines()[0].split(",")
    assert head[:4] == ["rank", "entity", "capacity_usd", "cycles"]
    r = cli("query", "hubs", "--entity", "NVIDIA", db=sample_db)
    assert r.returncode == 0 and "  Nvidia  " in r.stdout and "\n1 entity" in r.stdout   # the table names it


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(money_graphs(max_entities=8, max_deals=30), st.integers(2, 5), st.integers(1, 40))
def test_per_entity_counts_survive_a_paused_search(deals, k, budget):
    # the search returns to Python every `budget` steps and resumes; per-entity counts must not care
    from dealgraph.queries import circular

    want = hubs(deals, max_length=k, top=None)
    old = circular._STEP_BUDGET
    circular._STEP_BUDGET = budget
    try:
        got = hubs(deals, max_length=k, top=None)
    finally:
        circular._STEP_BUDGET = old
    pd_cols = ["entity", "cycles"] + [f"len{L}" for L in range(2, k + 1)]
    assert got[pd_cols].equals(want[pd_cols])
