"""`export --format gexf|graphml`: the files networkx (and so Gephi / Cytoscape) reads,
checked against the store and against `query circular-flows`."""

from __future__ import annotations

import math

import networkx as nx
import pytest

from conftest import run_cli
from dealgraph.graph.store import open_store
from dealgraph.queries.circular import circular_flows
from dealgraph.queries.filters import select_deals

READ = {"gexf": nx.read_gexf, "graphml": nx.read_graphml}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from dealgraph.graph.store import open_store as make

    tmp = tmp_path_factory.mktemp("net")
    db = tmp / "s.db"
    make(db)
    out = {}
    for fmt in READ:
        path = tmp / f"net.{fmt}"
        r = run_cli("export", "--format", fmt, path, db=db)
        assert r.returncode == 0, r.stderr
        assert r.stdout == f"{path}\n"
        out[fmt] = READ[fmt](path)
    return open_store(db), out


@pytest.mark.parametrize("fmt", list(READ))
def test_nodes_are_the_entities_and_edges_the_deals_with_their_attributes(exported, fmt):
    store, graphs = exported
    g = graphs[fmt]
    assert isinstance(g, nx.MultiDiGraph)
    ents = store.entities.set_index("id")
    assert set(g.nodes) == set(ents.index)
    for n, a in g.nodes(data=True):
        assert a["kind"] == ents.loc[n, "kind"] and a["name"] == ents.loc[n, "name"]
    deals = store.deals[store.deals["payer"].notna()].set_index("deal_id")
    edges = {k: (u, v, a) for u, v, k, a in g.edges(keys=True, data=True)}
    assert set(edges) == set(deals.index) and g.number_of_edges() == len(deals)
    for deal_id, (u, v, a) in edges.items():
        d = deals.loc[deal_id]
        assert (u, v) == (d["payer"], d["payee"])
        assert a["deal_id"] == deal_id and a["deal_type"] == d["type"] and a["status"] == d["status"]
        assert a["date"] == d["date"] and a["currency"] == d["currency"]
        if math.isnan(d["amount"]):
            assert "amount" not in a and "amount_usd" not in a  # undisclosed is not 0
        else:
            assert a["amount"] == d["amount"] and a["amount_qualifier"] == d["amount_qualifier"]
            assert a["amount_usd"] == d["amount_usd"] and a["weight"] == d["amount_usd"]
            for end in ("amount_low", "amount_high", "amount_usd_low", "amount_usd_high"):  # unknown end: absent
                assert a.get(end, math.nan) == d[end] or (math.isnan(d[end]) and end not in a)


@pytest.mark.parametrize("fmt", list(READ))
def test_cycles_are_marked_as_circular_flows_lists_them(exported, fmt):
    store, graphs = exported
    g = graphs[fmt]
    cycles = circular_flows(store, max_length=4, top=100)
    assert len(cycles) > 0
    counted = set(select_deals(store.deals)["deal_id"])
    on = {}
    for rank, text in enumerate(cycles["cycle"], start=1):
        ids = text.split(" -> ")
        for a, b in zip(ids, ids[1:]):
            on.setdefault(a, set()).add(rank)
            for k, attrs in g.get_edge_data(a, b).items():
                if k in counted:
                    assert str(rank) in attrs["cycles"].split(";")
    for n, a in g.nodes(data=True):
        ranks = on.get(n, set())
        assert a["on_cycle"] == bool(ranks)
        assert a["cycles"] == ";".join(str(r) for r in sorted(ranks))
    marked = {k for *_e, k, a in g.edges(keys=True, data=True) if a["on_cycle"]}
    assert marked and marked <= counted
    for *_e, k, a in g.edges(keys=True, data=True):
        assert a["on_cycle"] == (a["cycles"] != "")
    if fmt == "graphml":
        assert g.graph["cycles_total"] == cycles.attrs["total_cycles"] and g.graph["cycles_marked"] == len(cycles)


def test_gexf_edge_ids_are_the_deal_ids(exported, tmp_path):
    import xml.etree.ElementTree as ET

    store, _ = exported
    path = tmp_path / "n.gexf"
    assert run_cli("export", "--format", "gexf", path, db=store.path).returncode == 0
    ids = {e.get("id") for e in ET.parse(path).getroot().iter() if e.tag.endswith("}edge")}
    assert ids == set(store.deals[store.deals["payer"].notna()]["deal_id"])


def test_cycles_top_limits_what_is_marked(exported, tmp_path):
    store, _ = exported
    path = tmp_path / "n.graphml"
    assert run_cli("export", "--format", "graphml", "--cycles-top", "1", path, db=store.path).returncode == 0
    g = nx.read_graphml(path)
    assert g.graph["cycles_marked"] == 1
    assert {a["cycles"] for _n, a in g.nodes(data=True)} == {"", "1"}
