"""circularity: the degree-preserving swap chain (properties, uniformity by enumeration),
exact empirical p-values for a fixed seed, the query's table and its CLI verdict."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dealgraph.graph.arrays import build_arrays
from dealgraph.queries.circularity import circularity, lag1_autocorrelation, null_ensemble
from dealgraph.queries.swaps import EMPTY, SwapChain

from circular_helpers import deals_frame


def _degrees(src, dst, n):
    return np.bincount(src, minlength=n).tolist(), np.bincount(dst, minlength=n).tolist()


@st.composite
def simple_digraphs(draw, max_nodes=8):
    n = draw(st.integers(2, max_nodes))
    pairs = [(u, v) for u in range(n) for v in range(n) if u != v]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=0, max_size=len(pairs), unique=True))
    chosen.sort()
    src = np.array([u for u, _ in chosen], np.int64)
    dst = np.array([v for _, v in chosen], np.int64)
    return n, src, dst


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(simple_digraphs(), st.integers(0, 2**31 - 1), st.integers(0, 400), st.sampled_from([0.0, 0.1, 0.5, 1.0]))
def test_chain_keeps_every_degree_and_stays_simple(graph, seed, attempts, p_triple):
    n, src, dst = graph
    chain = SwapChain(src, dst, n, seed_value=seed, p_triple=p_triple)
    chain.run(attempts)
    assert (chain.src == src).all()  # a slot keeps its payer
    assert _degrees(chain.src, chain.dst, n) == _degrees(src, dst, n)
    assert not (chain.src == chain.dst).any(), "self-loop created"
    keys = chain.src * n + chain.dst
    assert len(np.unique(keys)) == len(keys), "repeated hop created"
    # the hash table holds exactly the current hops (insertions and deletions consistent)
    assert sorted(chain.table[chain.table != EMPTY].tolist()) == sorted(keys.tolist())
    assert 0 <= chain.accepted <= attempts


def _all_realisations(n, src, dst):
    """Every simple digraph on n nodes with the in/out degrees of (src, dst), as frozensets."""
    out_deg, in_deg = _degrees(src, dst, n)
    pairs = [(u, v) for u in range(n) for v in range(n) if u != v]
    found = []
    m = len(src)
    for combo in itertools.combinations(range(len(pairs)), m):
        od = [0] * n
        idg = [0] * n
        for c in combo:
            u, v = pairs[c]
            od[u] += 1
            idg[v] += 1
        if od == out_deg and idg == in_deg:
            found.append(frozenset(pairs[c] for c in combo))
    return found


def _chi2_bound(df: int, z: float = 3.719) -> float:
    """Upper 0.9999 quantile of chi-square(df) (Wilson-Hilferty; z = the normal quantile)."""
    a = 2.0 / (9.0 * df)
    return df * (1.0 - a + z * math.sqrt(a)) ** 3


def _sample_states(n, src, dst, *, samples, thin, seed, p_triple=0.1):
    chain = SwapChain(src, dst, n, seed_value=seed, p_triple=p_triple)
    chain.run(20 * thin)
    seen = []
    for _ in range(samples):
        chain.run(thin)
        seen.append(frozenset(zip(chain.src.tolist(), chain.dst.tolist())))
    return seen


@pytest.mark.parametrize("edges,n", [
    # 5 nodes, a directed triangle plus a path and a back edge: several states, some
    # reachable only through triangle reversals
    ([(0, 1), (1, 2), (2, 0), (0, 3), (3, 4), (4, 1), (2, 4)], 5),
    ([(0, 1), (1, 2), (2, 3), (3, 0), (0, 2), (1, 3)], 4),
])
def test_sampler_is_close_to_uniform_over_all_realisations(edges, n):
    src = np.array([u for u, _ in edges], np.int64)
    dst = np.array([v for _, v in edges], np.int64)
    states = _all_realisations(n, src, dst)
    assert len(states) >= 3
    seen = _sample_states(n, src, dst, samples=20000, thin=30, seed=12345)
    counts = np.array([sum(1 for s in seen if s == st_) for st_ in states], dtype=float)
    assert counts.sum() == len(seen), "the chain left the set of degree-preserving simple digraphs"
    expected = len(seen) / len(states)
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert counts.min() > 0, "some realisation is never reached"
    assert chi2 < _chi2_bound(len(states) - 1), (chi2, counts)


def test_triangle_reversal_needs_the_rotation_move():
    # a lone directed triangle has two realisations (both orientations); 2-swaps alone can never
    # move between them, the 3-rotation can
    src, dst = np.array([0, 1, 2]), np.array([1, 2, 0])
    assert len(_all_realisations(3, src, dst)) == 2
    only_swaps = set(_sample_states(3, src, dst, samples=200, thin=10, seed=1, p_triple=0.0))
    assert len(only_swaps) == 1
    seen = _sample_states(3, src, dst, samples=4000, thin=10, seed=1)
    share = sum(1 for s in seen if (0, 1) in s) / len(seen)
    assert abs(share - 0.5) < 0.05


# ---------------------------------------------------------------------------
# p-values
# ---------------------------------------------------------------------------

def _random_deals(seed, n=9, m=26):
    rng = np.random.default_rng(seed)
    rows, seen = [], set()
    while len(rows) < m:
        u, v = int(rng.integers(n)), int(rng.integers(n))
        if u == v or (u, v) in seen:
            continue
        seen.add((u, v))
        rows.append((f"d{len(rows)}", "2024-01-01", f"e{u}", f"e{v}", float(rng.integers(1, 100)) * 1e9))
    return deals_frame(rows)


def _nx_count(src, dst, k):
    g = nx.DiGraph()
    g.add_edges_from(zip(src.tolist(), dst.tolist()))
    return sum(1 for c in nx.simple_cycles(g, length_bound=k) if len(c) >= 2)


def test_p_values_are_exact_for_a_fixed_seed():
    deals = _random_deals(3)
    k, samples, seed = 4, 60, 11
    arrays = build_arrays(deals)
    obs, s = null_ensemble(arrays, k, samples=samples, seed=seed, swaps=1.0, burn_in=5.0)
    # replay the chain independently and count each sample's cycles with networkx
    keep = arrays.hop_src != arrays.hop_dst
    src, dst = arrays.hop_src[keep].astype(np.int64), arrays.hop_dst[keep].astype(np.int64)
    m = len(src)
    rng = np.random.default_rng(seed)
    chain = SwapChain(src, dst, arrays.n, seed_value=int(rng.integers(0, 2**31 - 1)))
    chain.run(5 * m)
    replay = []
    for _ in range(samples):
        chain.run(m)
        replay.append(_nx_count(src, chain.dst, k))
    assert s["series"].tolist() == replay
    observed = _nx_count(src, dst, k)
    assert obs.total == observed
    mean, sd, z, p = s["total"]
    assert p == (1 + sum(x >= observed for x in replay)) / (1 + samples)
    assert mean == pytest.approx(np.mean(replay))
    assert sd == pytest.approx(np.std(replay, ddof=1))
    assert z == pytest.approx((observed - np.mean(replay)) / np.std(replay, ddof=1))
    # the same seed gives the same table; another seed another chain
    a = circularity(deals, samples=40, seed=5)
    b = circularity(deals, samples=40, seed=5)
    assert a.equals(b)
    c = circularity(deals, samples=40, seed=6)
    assert not a["null_mean"].equals(c["null_mean"])


def test_per_entity_null_counts_match_a_replay():
    deals = _random_deals(8)
    arrays = build_arrays(deals)
    obs, s = null_ensemble(arrays, 3, samples=30, seed=2, swaps=1.0, burn_in=2.0)
    g = nx.DiGraph()
    keep = arrays.hop_src != arrays.hop_dst
    g.add_edges_from(zip(arrays.hop_src[keep].tolist(), arrays.hop_dst[keep].tolist()))
    want = np.zeros(arrays.n)
    for c in nx.simple_cycles(g, length_bound=3):
        if len(c) >= 2:
            for v in c:
                want[v] += 1
    assert obs.node.tolist() == want.tolist()
    mean, sd, z, p = s["node"]
    assert ((p > 0) & (p <= 1)).all()
    # every cycle of length L is counted at its L entities, in each sample
    cm = s["counts"][0]
    assert mean.shape == (arrays.n,)
    assert mean.sum() == pytest.approx(2 * cm[0] + 3 * cm[1])


def test_amounts_permute_keeps_counts_and_changes_volume_only():
    deals = _random_deals(4)
    keep = circularity(deals, samples=50, seed=1, amounts="keep")
    perm = circularity(deals, samples=50, seed=1, amounts="permute")
    counts = keep["figure"].str.startswith("cycles of length")
    assert keep.loc[counts, "null_mean"].tolist() == perm.loc[counts, "null_mean"].tolist()
    vol = keep["figure"] == "circular volume ($bn)"
    assert keep.loc[vol, "observed"].item() == perm.loc[vol, "observed"].item()


def test_table_layout_and_edge_cases():
    df = circularity(_random_deals(5), samples=30, seed=0, top=3)
    assert list(df.columns) == ["scope", "figure", "observed", "null_mean", "null_sd", "z", "p_value", "verdict"]
    web = df[df["scope"] == "web"]
    assert web["figure"].tolist()[:3] == ["cycles of length 2", "cycles of length 3", "cycles of length 4"]
    assert ((web["p_value"] > 0) & (web["p_value"] <= 1)).all()
    assert (df["scope"] == "chain").sum() == 6
    assert len(df) - len(web) - 6 <= 3
    assert "more circular than chance" in df.attrs["message"]
    # a web with no hops at all: nothing to swap, p = 1, said so
    empty = circularity(deals_frame([("d1", "2024-01-01", None, "a", 5.0)]), samples=5)
    assert empty.attrs["p_value"] == 1.0 and not empty.attrs["more_circular"]
    # a single 2-cycle cannot be rewired: the null equals the observation (sd 0, z n/a)
    two = circularity(deals_frame([("d1", "2024-01-01", "a", "b", 5.0), ("d2", "2024-02-01", "b", "a", 5.0)]),
                      samples=10)
    row = two[two["figure"] == "cycles of length 2..4"].iloc[0]
    assert row["observed"] == 1 and row["null_mean"] == 1 and math.isnan(row["z"]) and row["p_value"] == 1.0


def test_a_planted_cycle_web_is_more_circular_than_chance():
    # ten 2-cycles on 20 entities: a rewiring keeps the degrees (1 in, 1 out) but almost
    # never recreates ten reciprocal pairs
    rows = []
    for i in range(10):
        a, b = f"a{i:02d}", f"b{i:02d}"
        rows += [(f"x{i}", "2024-01-01", a, b, 1e9), (f"y{i}", "2024-01-02", b, a, 1e9)]
    df = circularity(deals_frame(rows), samples=200, seed=3, max_length=2)
    assert df.attrs["more_circular"] and df.attrs["p_value"] == pytest.approx(1 / 201)
    assert "is more circular than chance at the 5% level" in df.attrs["message"]


def test_autocorrelation():
    assert lag1_autocorrelation(np.arange(10.0)) > 0.5
    assert math.isnan(lag1_autocorrelation(np.ones(5)))


def test_cli_says_the_verdict_in_words(cli, sample_db):
    r = cli("query", "circularity", "--samples", "200", "--seed", "1", db=sample_db)
    assert r.returncode == 0, r.stderr
    assert "cycles of length 2..4" in r.stdout and "circular volume  " in r.stdout and "$774.7bn" in r.stdout
    assert "more circular than chance at the 5% level" in " ".join(r.stderr.split())   # wrapped to the width
    assert all(len(line) <= 80 for line in (r.stdout + r.stderr).splitlines())
    csv = cli("query", "circularity", "--samples", "200", "--seed", "1", "--format", "csv", db=sample_db).stdout
    assert csv.splitlines()[0] == "scope,figure,observed,null_mean,null_sd,z,p_value,verdict"
    assert "web,circular volume ($bn),774.7," in csv
    r = cli("query", "circularity", "--samples", "20", "--amounts", "bogus", db=sample_db)
    assert r.returncode == 1 and "amounts must be one of" in r.stderr


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(simple_digraphs(), st.integers(2, 5), st.integers(0, 2**31 - 1))
def test_null_graph_search_equals_the_circular_flows_search(graph, k, seed):
    from dealgraph.queries.circularity import NullGraphs, graph_stats, hop_arrays

    n, src, dst = graph
    ids = np.array([f"e{i}" for i in range(n)], dtype=object)
    amount = np.random.default_rng(seed).integers(1, 9, len(src)).astype(float)
    null = NullGraphs(ids, src, dst)
    chain = SwapChain(src, dst, n, seed_value=seed)
    for _ in range(3):  # the start graph and two rewirings
        want = graph_stats(hop_arrays(ids, src, chain.dst.copy(), amount), k)
        got = null.stats(chain.dst, amount, k)
        assert got.counts.tolist() == want.counts.tolist()
        assert got.node.tolist() == want.node.tolist()
        assert got.volume == want.volume
        chain.run(2 * len(src) + 1)
