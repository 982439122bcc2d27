"""Known answers for concentration (and --without) and round-trip."""

from __future__ import annotations

from test_queries_support import approx, deal, is_na, make_store

from dealgraph.queries.concentration import concentration
from dealgraph.queries.roundtrip import round_trip


def test_concentration_shares_and_herfindahl(tmp_path):
    s = make_store(tmp_path, deals=[
        deal("1", "2024", "investment", "a", "y", "60m"),
        deal("2", "2024", "investment", "b", "y", "30m"),
        deal("3", "2025", "investment", "b", "y", "10m"),        # parallel deals add up: b = 40
        deal("4", "2025", "investment", "c", "y", None, status="in_talks"),  # undisclosed, tentative
        deal("5", "2025", "funding_round", None, "y", "500m"),   # payer-less: unattributed
        deal("6", "2025", "investment", "a", "z", None),         # only undisclosed inflow
    ])
    df = concentration(s).set_index("entity")
    y = df.loc["y"]
    assert y["inflow_usd"] == 100e6 and y["counterparties"] == 3
    assert y["top_counterparty"] == "a" and y["top_share_pct"] == approx(60.0)
    assert y["hhi"] == approx(0.6 ** 2 + 0.4 ** 2)
    assert y["undisclosed_deals"] == 1 and y["unattributed_inflow_usd"] == 500e6 and y["tentative_deals"] == 1
    assert y["breakdown"] == "a 60.0%; b 40.0%"
    z = df.loc["z"]
    assert is_na(z["hhi"]) and is_na(z["top_share_pct"]) and "no known inflow" in z["reason"]


def test_without_direct_and_one_hop(tmp_path):
    # x pays z 50 and y 10; w pays z 50; z pays y 40; c pays y 50.
    # z's funds = 100 (x 50, w 50) >= outflow 40: pro rata x share of z = 1/2 -> y loses 20 via z.
    # upper bound via z: min(50, 40) = 40.
    s = make_store(tmp_path, deals=[
        deal("1", "2024", "investment", "x", "z", "50m"),
        deal("2", "2024", "investment", "w", "z", "50m"),
        deal("3", "2024", "compute_contract", "z", "y", "40m"),
        deal("4", "2024", "investment", "c", "y", "50m"),
        deal("5", "2024", "investment", "x", "y", "10m"),
        # q: paid 1 by x, pays out 10 (more than its inflow): x funds at most 1/10 of q's payments
        deal("6", "2024", "investment", "x", "q", "1m"),
        deal("7", "2024", "chip_purchase", "q", "v", "10m"),
    ])
    df = concentration(s, without="x").set_index("entity")
    y = df.loc["y"]
    assert y["direct_loss_usd"] == 10e6
    assert y["indirect_loss_usd"] == approx(20e6)
    assert y["indirect_max_usd"] == approx(40e6)
    assert y["loss_share_pct"] == approx(100 * 30 / 100)
    assert y["max_loss_share_pct"] == approx(100 * 50 / 100)
    assert y["via"] == "z ($20m)"
    v = df.loc["v"]
    assert v["direct_loss_usd"] == 0 and v["indirect_loss_usd"] == approx(1e6)   # 1/10 * 10, not 10
    assert v["indirect_max_usd"] == approx(1e6)
    assert df.loc["z", "loss_share_pct"] == approx(50.0)
    assert "x" not in df.index and "c" not in df.index and "w" not in df.index
    assert list(df.index)[0] in ("q",)                      # q loses 100% directly: sorted first


def test_round_trip_known_answers(tmp_path):
    # a -> b -> a (length 2); a -> d -> c -> a (length 3); e -> a no return.
    s = make_store(tmp_path, deals=[
        deal("ab", "2024", "investment", "a", "b", "10m"),
        deal("ba", "2024", "chip_purchase", "b", "a", "4m"),
        deal("ba2", "2025", "chip_purchase", "b", "a", None, status="rumoured"),  # undisclosed, still returning
        deal("ad", "2024", "investment", "a", "d", None),          # undisclosed hop still connects
        deal("dc", "2024", "investment", "d", "c", "5m"),
        deal("ca", "2024", "compute_contract", "c", "a", "6m"),
        deal("ea", "2024", "investment", "e", "a", "10m"),
    ])
    df = round_trip(s, max_length=3).set_index("entity")
    a = df.loc["a"]
    assert a["inflow_usd"] == 20e6
    assert a["returning_inflow_usd"] == 10e6 and a["share_pct"] == approx(50.0)
    assert a["returning_payers"] == 2 and a["undisclosed_deals"] == 1 and a["tentative_deals"] == 1
    assert a["counterparties"] == "c $6m (cycle of 3); b $4m (cycle of 2)"
    # with k = 2 only the direct loop counts
    a2 = round_trip(s, max_length=2, entity="a").iloc[0]
    assert a2["returning_inflow_usd"] == 4e6 and a2["share_pct"] == approx(20.0)
    # b's inflow (10 from a) returns: b paid a directly
    assert df.loc["b", "share_pct"] == approx(100.0)
    # d's inflow from a is undisclosed: no known inflow -> n/a, not 0
    assert is_na(df.loc["d", "share_pct"])
    # time is ignored by round-trip; --as-of drops later deals
    assert round_trip(s, as_of="2024", entity="a").iloc[0]["undisclosed_deals"] == 0
    assert round_trip(s, status="completed", entity="a").iloc[0]["tentative_deals"] == 0


# ---------------------------------------------------------------------------
# round-trip's compiled search agrees with networkx shortest paths
# ---------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=150, deadline=None)
@given(edges=st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=30),
       k=st.integers(2, 6), compiled=st.booleans())
def test_returning_distance_matches_networkx(edges, k, compiled):
    import networkx as nx
    import pandas as pd

    from dealgraph.queries.roundtrip import returning_distance

    pairs = sorted({(f"e{a}", f"e{b}") for a, b in edges if a != b})
    flows = pd.DataFrame({"payer": [p for p, _ in pairs], "payee": [q for _, q in pairs],
                          "amount_usd": 1.0, "deals": 1, "undisclosed": 0})
    got = returning_distance(flows, k, compiled=compiled)   # the Python and the compiled search
    g = nx.DiGraph(pairs)
    for (p, x), d in zip(pairs, got):
        try:
            want = nx.shortest_path_length(g, x, p)   # x -> ... -> p closes the cycle p -> x
        except nx.NetworkXNoPath:
            want = None
        if want is not None and want <= k - 1:
            assert d == want, (p, x, d, want)
        else:
            assert d == -1, (p, x, d, want)


@settings(max_examples=200, deadline=None)
@given(edges=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), max_size=40),
       k=st.integers(2, 6), switch=st.integers(-1, 5), compiled=st.booleans())
def test_returning_distance_backward_switch_matches_networkx(edges, k, switch, compiled):
    """The search that turns backwards at level ``switch`` (any level) gives the
    same distances as networkx's shortest paths."""
    import networkx as nx
    import pandas as pd

    from dealgraph.queries.roundtrip import returning_distance

    pairs = sorted({(f"e{a}", f"e{b}") for a, b in edges if a != b})
    flows = pd.DataFrame({"payer": [p for p, _ in pairs], "payee": [q for _, q in pairs],
                          "amount_usd": 1.0, "deals": 1, "undisclosed": 0})
    got = returning_distance(flows, k, compiled=compiled, switch=switch)
    g = nx.DiGraph(pairs)
    for (p, x), d in zip(pairs, got):
        try:
            want = nx.shortest_path_length(g, x, p)
        except nx.NetworkXNoPath:
            want = None
        assert d == (want if want is not None and want <= k - 1 else -1), (p, x, d, want, switch)


@settings(max_examples=100, deadline=None)
@given(edges=st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=50), compiled=st.booleans())
def test_strong_components_match_networkx(edges, compiled):
    import networkx as nx
    import numpy as np

    from dealgraph.graph.arrays import strong_components
    from dealgraph.queries.roundtrip import _csr

    n = 13
    src = np.array([a for a, _ in edges], dtype=np.int64)
    dst = np.array([b for _, b in edges], dtype=np.int64)
    indptr, indices, _ = _csr(src, dst, n)
    comp = (strong_components if compiled else strong_components.py_func)(n, indptr, indices)
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    want = {frozenset(c) for c in nx.strongly_connected_components(g)}
    got = {frozenset(np.flatnonzero(comp == c).tolist()) for c in set(comp.tolist())}
    assert got == want
