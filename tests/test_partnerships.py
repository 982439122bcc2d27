"""Relations that move no money: partnerships (undirected) and warrants.

The schema declares the flows of every deal type; these tests check that the
loader refuses what a partnership cannot be (one party, the same party twice, an
amount), that a partnership's id and stored row do not depend on the order of its
two parties, that every money query ignores them (the real AI Bubble Map data
with its 16 partnerships gives exactly the results of its 75 directional rows),
and that ``circular-flows --include partnerships`` finds exactly the cycles a
brute force finds (networkx.simple_cycles on the graph of money hops and
partnership links, cycles with at least one money hop).
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from circular_helpers import brute_time_ordered, canonical
from conftest import run_cli, write

from dealgraph.graph.schema import DEAL_TYPES, MONEY, MONEY_TYPES, NON_MONEY_TYPES, NOTHING, UNDIRECTED_TYPES
from dealgraph.graph.store import open_store
from dealgraph.loaders.csv import LoadError
from dealgraph.queries.circular import circular_flows
from dealgraph.queries.registry import run_query

PEER = Path(__file__).resolve().parent / "data" / "ai-bubble-map"
HEADER = "deal_id,date,type,payer,payee,amount,stake_pct,post_money_valuation,source\n"


def entities(tmp_path: Path, *ids: str) -> Path:
    return write(tmp_path / "entities.csv", "id,name,kind\n" + "".join(f"{i},{i.title()},company\n" for i in ids))


# --------------------------------------------------------------------------- schema

def test_every_type_declares_its_flows_and_partnership_is_undirected_without_money():
    for t in DEAL_TYPES.values():
        assert t.flows in (MONEY, NOTHING) and t.flows_back and t.neo4j_type.isupper()
    p = DEAL_TYPES["partnership"]
    assert (p.flows, p.flows_back, p.directed, p.neo4j_type) == (NOTHING, NOTHING, False, "PARTNERS_WITH")
    w = DEAL_TYPES["warrant"]
    assert (w.flows, w.directed, w.is_round) == (NOTHING, True, False)
    assert len(MONEY_TYPES) == 9 and set(NON_MONEY_TYPES) == {"partnership", "warrant"}
    assert UNDIRECTED_TYPES == ("partnership",)
    assert len({t.neo4j_type for t in DEAL_TYPES.values()}) == len(DEAL_TYPES) - 1  # rounds share INVESTED_IN


# --------------------------------------------------------------------------- validation

def test_what_a_partnership_cannot_be_is_refused_with_file_line_column_and_nothing_is_stored(tmp_path):
    store = open_store(tmp_path / "s.db", seed=False)
    ents = entities(tmp_path, "nvidia", "oracle")
    bad = write(tmp_path / "bad.csv", HEADER +
                "p1,2024,partnership,,oracle,,,,s\n"            # line 2: one party
                "p2,2024,partnership,Nvidia,nvidia,,,,s\n"      # line 3: the same party twice (by name and id)
                "p3,2024,partnership,nvidia,oracle,$5bn,,,s\n"  # line 4: an amount
                "p4,2024,partnership,nvidia,oracle,,10,,s\n"    # line 5: a stake
                "p5,2024,partnership,nvidia,oracle,,,$1bn,s\n"  # line 6: a one-sided figure
                "w1,2024,warrant,nvidia,oracle,$1bn,,,s\n")     # line 7: a warrant moves no money either
    with pytest.raises(LoadError) as e:
        store.add([ents, bad])
    text = str(e.value)
    assert f"{bad}:2:4: payer: a partnership names both parties" in text
    assert f"{bad}:3:5: payee: a partnership needs two different parties; both name nvidia" in text
    assert f"{bad}:4:6: amount: a partnership moves no money, so it has no amount" in text
    assert f"{bad}:5:7: stake_pct: a partnership has no payer or payee side" in text
    assert f"{bad}:6:8: post_money_valuation: a partnership has no payer or payee side" in text
    assert f"{bad}:7:6: amount: a warrant moves no money" in text
    assert len(store.deals) == 0 and len(store.entities) == 0  # nothing was written


def test_the_cli_names_the_problem_and_exits_1(tmp_path):
    db = tmp_path / "c.db"
    ents = entities(tmp_path, "amd", "cohere")
    bad = write(tmp_path / "bad.csv", HEADER + ",2025,partnership,amd,,,,,s\n")
    r = run_cli("add", ents, bad, db=db)
    assert r.returncode == 1
    assert f"{bad}:2:5: payee: required value is empty" in r.stderr


# --------------------------------------------------------------------------- order of the parties

def test_the_parties_order_changes_neither_the_id_nor_the_stored_row(tmp_path):
    store = open_store(tmp_path / "s.db", seed=False)
    ents = entities(tmp_path, "amd", "cohere", "oracle")
    ab = write(tmp_path / "ab.csv", HEADER + ",2025-09-24,partnership,amd,cohere,,,,s\n"
                                             "x1,2024,partnership,Oracle,AMD,,,,s\n")
    ba = write(tmp_path / "ba.csv", HEADER + ",2025-09-24,partnership,Cohere,AMD,,,,s\n"
                                             "x1,2024,partnership,amd,oracle,,,,s\n")
    store.add([ents, ab])
    first = store.deals[["deal_id", "payer", "payee"]].sort_values("deal_id").reset_index(drop=True)
    assert first.to_dict("records") == [
        {"deal_id": "partnership-2025-09-24-" + first["deal_id"][0].rsplit("-", 1)[1], "payer": "amd",
         "payee": "cohere"},
        {"deal_id": "x1", "payer": "amd", "payee": "oracle"}]  # in id order, whatever the file said
    summary = store.add([ba])  # the same two partnerships, parties swapped
    assert [(f.inserted, f.updated, f.unchanged) for f in summary.files] == [(0, [], 2)]
    pd.testing.assert_frame_equal(store.deals[["deal_id", "payer", "payee"]].sort_values("deal_id")
                                  .reset_index(drop=True), first)
    # both orders in one file are one deal (an exact repeat), not a conflict
    again = open_store(tmp_path / "t.db", seed=False)
    both = write(tmp_path / "both.csv", HEADER + ",2025-09-24,partnership,amd,cohere,,,,s\n"
                                               ",2025-09-24,partnership,cohere,amd,,,,s\n")
    again.add([ents, both])
    assert len(again.deals) == 1 and again.deals["deal_id"][0] == first["deal_id"][0]


def test_a_directed_deal_keeps_its_direction_and_its_id_depends_on_it(tmp_path):
    store = open_store(tmp_path / "s.db", seed=False)
    f = write(tmp_path / "d.csv", HEADER + ",2025,investment,b,a,,,,s\n,2025,investment,a,b,,,,s\n")
    store.add([entities(tmp_path, "a", "b"), f])
    assert sorted(zip(store.deals["payer"], store.deals["payee"])) == [("a", "b"), ("b", "a")]
    assert store.deals["deal_id"].nunique() == 2


def test_lint_finds_a_partnership_recorded_twice(tmp_path):
    store = open_store(tmp_path / "s.db", seed=False)
    f = write(tmp_path / "d.csv", HEADER + "p1,2025-03-01,partnership,a,b,,,,s\np2,2025-03-02,partnership,b,a,,,,s\n")
    store.add([entities(tmp_path, "a", "b"), f])
    from dealgraph.queries.lint import lint_store

    found = lint_store(store)
    dup = found[found["check"] == "duplicate-deals"]
    assert len(dup) == 1 and {"p1", "p2"} <= set(re.split(r"[ ,;]+", dup["ids"].iloc[0]))


# --------------------------------------------------------------------------- the real peer data

@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    """The AI Bubble Map data: all 91 rows (deals_full.csv), and its 75 directional rows alone."""
    tmp = tmp_path_factory.mktemp("peer")
    full = open_store(tmp / "full.db", seed=False)
    full.add([PEER / "entities.csv", PEER / "deals_full.csv", PEER / "metrics.csv"])
    loadable = open_store(tmp / "loadable.db", seed=False)
    loadable.add([PEER / "entities.csv", PEER / "deals_loadable.csv", PEER / "metrics.csv"])
    return full, loadable


def test_the_whole_peer_file_loads_with_its_16_partnerships(peer):
    full, loadable = peer
    assert len(full.deals) == 91 and len(loadable.deals) == 75
    parts = full.deals[full.deals["type"] == "partnership"]
    assert len(parts) == 16
    assert (parts["payer"] < parts["payee"]).all() and parts["amount"].isna().all()
    other = full.deals[full.deals["type"] != "partnership"].reset_index(drop=True)
    pd.testing.assert_frame_equal(other, loadable.deals)  # the other rows exactly as the directional file


MONEY_QUERIES = [
    ("circular-flows", {"max_length": 6, "top": None}),
    ("circular-flows", {"max_length": 5, "temporal": True, "top": None}),
    ("round-trip", {}),
    ("concentration", {}),
    ("concentration", {"without": "nvidia"}),
    ("hubs", {}),
    ("timeline", {"freq": "year"}),
    ("sensitivity", {}),
    ("circularity", {"samples": 20, "seed": 3}),
]


@pytest.mark.parametrize("name,options", MONEY_QUERIES)
def test_money_queries_give_the_directional_files_results(peer, name, options):
    full, loadable = peer
    got = run_query(name, full, **options)
    want = run_query(name, loadable, **options)
    if name == "circularity":  # timings aside, the same figures
        got, want = (d.drop(columns=[c for c in d.columns if "time" in c]) for d in (got, want))
    pd.testing.assert_frame_equal(got, want)
    if name == "circular-flows":
        assert got.attrs["counts_by_length"] == want.attrs["counts_by_length"] and len(got) > 10


def test_include_partnerships_on_the_peer_data(peer):
    full, _ = peer
    money = circular_flows(full, max_length=4, top=None)
    both = circular_flows(full, max_length=4, top=None, include="partnerships")
    assert "links" in both.columns and "links" not in money.columns
    plain = both[both["links"] == 0]
    assert set(plain["cycle"]) == set(money["cycle"])  # the money cycles are all still there
    linked = both[both["links"] > 0]
    assert len(linked) > len(money)
    assert linked["cycle"].str.contains(" ~ ").all() and linked["bottleneck_usd"].isna().all()
    assert linked["via"].str.contains(r"\(partnership\)").all()
    # "Intel ~ NVIDIA -> Intel": NVIDIA's $5bn in Intel comes back over their chip partnership
    assert "intel ~ nvidia -> intel" in set(both["cycle"])
    r = run_cli("query", "circular-flows", "--max-length", "4", "--include", "partnerships", "--format", "csv",
                db=Path(full.path))
    assert r.returncode == 0 and "intel ~ nvidia -> intel" in r.stdout
    r = run_cli("query", "circular-flows", "--include", "mergers", db=Path(full.path))
    assert r.returncode == 1 and "unknown link kind 'mergers'; expected one of partnerships, warrants" in r.stderr


# --------------------------------------------------------------------------- brute force

def _random_deals(seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    nodes = [f"n{i}" for i in range(rng.randint(3, 7))]
    rows = []
    for i in range(rng.randint(3, 16)):
        a, b = rng.sample(nodes, 2)
        t = rng.choice(["investment", "chip_purchase", "partnership", "partnership", "warrant"])
        if not DEAL_TYPES[t].directed and a > b:
            a, b = b, a
        amount = None if not DEAL_TYPES[t].money or rng.random() < 0.2 else float(rng.randint(1, 9) * 10**9)
        date = f"202{rng.randint(0, 3)}-0{rng.randint(1, 9)}"
        rows.append({"deal_id": f"d{i:02d}", "date": date, "type": t, "payer": a, "payee": b, "amount_usd": amount,
                     "status": "completed"})
    df = pd.DataFrame(rows)
    from dealgraph.graph.dates import parse_date

    df["date_key"] = [parse_date(d)[0] for d in df["date"]]
    df["date_precision"] = [parse_date(d)[1] for d in df["date"]]
    return df


def _reference(df: pd.DataFrame, include: tuple[str, ...], k: int, temporal: bool = False) -> set[tuple]:
    """Cycles of the graph of money hops and links, by networkx, with a money hop each."""
    money = df[df["type"].isin(MONEY_TYPES)]
    paid = set(zip(money["payer"], money["payee"]))
    links = [df.iloc[:0]]
    for t in include:  # a link each way of a partnership, one way of a warrant
        sub = df[df["type"] == t]
        links += [sub] + ([sub.assign(payer=sub["payee"], payee=sub["payer"])] if not DEAL_TYPES[t].directed else [])
    links = pd.concat(links, ignore_index=True)
    links = links[[(a, b) not in paid for a, b in zip(links["payer"], links["payee"])]]  # a money hop stands
    ref = pd.concat([money, links], ignore_index=True)
    g = nx.DiGraph(list(zip(ref["payer"], ref["payee"])))
    out = set()
    for c in nx.simple_cycles(g, length_bound=k):
        if len(c) >= 2 and any((c[i], c[(i + 1) % len(c)]) in paid for i in range(len(c))):
            if not temporal or brute_time_ordered(ref, tuple(c)):
                out.add(canonical(c))
    return out


def _cycles(res: pd.DataFrame) -> set[tuple]:
    return {tuple(re.split(r" -> | ~> | ~ ", c)[:-1]) for c in res["cycle"]}


@pytest.mark.parametrize("seed", range(40))
def test_include_finds_exactly_the_brute_force_cycles(seed):
    df = _random_deals(seed)
    for include in (("partnership",), ("partnership", "warrant"), ("warrant",)):
        for k in (2, 3, 5):
            want = _reference(df, include, k)
            res = circular_flows(df, max_length=k, top=None, include=",".join(include), status="all")
            assert _cycles(res) == want, (include, k)
            assert sum(res.attrs["counts_by_length"].values()) == len(want)
            counts = circular_flows(df, max_length=k, count_only=True, include=",".join(include), status="all")
            assert sum(counts.attrs["counts_by_length"].values()) == len(want)
            top = circular_flows(df, max_length=k, top=3, include=",".join(include), status="all")
            assert list(top["cycle"]) == list(res["cycle"][:3])  # the best three of them, in rank order
        assert _cycles(circular_flows(df, max_length=4, top=None, temporal=True, include="partnerships",
                                      status="all")) == _reference(df, ("partnership",), 4, temporal=True)
    # without --include: the money graph only
    assert _cycles(circular_flows(df, max_length=5, top=None, status="all")) == _reference(df, (), 5)


# --------------------------------------------------------------------------- views, exports, listings

def test_the_network_view_draws_partnerships_as_their_own_undirected_link(peer):
    from dealgraph.viz.build import view_from_store
    from dealgraph.viz.html import render_view_page

    full, _ = peer
    view = view_from_store(full)
    parts = [e for e in view.net.edges if e["deal_type"] == "partnership"]
    money = [e for e in view.net.edges if e["deal_type"] != "partnership"]
    assert len(parts) == 16
    assert all(e["arrows"] == {"to": {"enabled": False}} and e.get("undirected") and e["dashes"] == [2, 6]
               for e in parts)
    assert money and all(e["arrows"] == "to" and not e.get("undirected") for e in money)  # an arrow each
    assert [t[0] for t in view.legend["undirected"]] == ["partnership"]
    html = render_view_page(view)
    assert '"undirected": true' in html or '"undirected":true' in html


def test_exports_mark_partnerships_undirected(peer, tmp_path):
    from dealgraph.graph.exports import write_network

    full, _ = peer
    gexf = write_network(full, tmp_path / "n.gexf", "gexf").read_text(encoding="utf-8")
    edge = re.search(r'<edge [^>]*id="oracle-openai-stargate-2025"[^>]*>', gexf).group(0)
    assert 'type="undirected"' in edge and 'source="openai"' in edge and 'target="oracle"' in edge
    money_edge = re.search(r'<edge [^>]*id="microsoft-openai-investment-2023"[^>]*>', gexf).group(0)
    assert "undirected" not in money_edge
    g = nx.read_graphml(write_network(full, tmp_path / "n.graphml", "graphml"))
    flags = {d["deal_id"]: (d["flows"], d["directed"]) for _u, _v, d in g.edges(data=True)}
    assert flags["oracle-openai-stargate-2025"] == ("nothing", False)
    assert flags["microsoft-openai-investment-2023"] == ("money", True)


def test_deals_and_show_say_a_partnership_is_undirected(peer):
    full, loadable = peer
    r = run_cli("deals", "--entity", "oracle", "--format", "csv", db=Path(full.path))
    rows = pd.read_csv(pd.io.common.StringIO(r.stdout))
    assert set(rows.loc[rows["type"] == "partnership", "flows"]) == {"nothing, undirected"}
    assert set(rows.loc[rows["type"] != "partnership", "flows"]) == {"money"}
    r = run_cli("deals", "--format", "csv", db=Path(loadable.path))
    assert "flows" not in r.stdout.splitlines()[0]  # a money-only listing reads as before
    r = run_cli("show", "oracle", "--format", "csv", db=Path(full.path))
    shown = pd.read_csv(pd.io.common.StringIO(r.stdout))
    mine = shown[shown["type"] == "partnership"]
    assert len(mine) == 6 and set(mine["direction"]) == {"partners with"}
    assert set(mine["counterparty"]) == {"amazon", "cohere", "google", "microsoft", "nvidia", "openai"}


def test_a_rename_keeps_a_partnership_in_id_order_so_re_adding_changes_nothing(tmp_path):
    store = open_store(tmp_path / "s.db", seed=False)
    ents = entities(tmp_path, "amd", "cohere")
    f = write(tmp_path / "p.csv", HEADER + ",2025-09-24,partnership,amd,cohere,,,,s\n")
    store.add([ents, f])
    store.rename("amd", "zz-amd")
    assert list(zip(store.deals["payer"], store.deals["payee"])) == [("cohere", "zz-amd")]
    summary = store.add([f])  # 'amd' is an alias of zz-amd now: the same deal, unchanged
    assert [(x.inserted, x.updated, x.unchanged) for x in summary.files] == [(0, [], 1)]


def test_a_workbook_and_a_csv_export_carry_partnerships_back_unchanged(peer, tmp_path):
    from dealgraph.graph.exports import write_xlsx

    full, _ = peer
    write_xlsx(full, tmp_path / "peer.xlsx")
    back = open_store(tmp_path / "back.db", seed=False)
    back.add([tmp_path / "peer.xlsx"])
    for kind, df in full.export_frames().items():
        pd.testing.assert_frame_equal(back.export_frames()[kind], df, obj=kind)
    again = open_store(tmp_path / "again.db", seed=False)
    again.add([p for p in full.export_csv(tmp_path / "csv") if p.name != "fx.csv"])  # (no FX rates: header only)
    assert (again.deals["type"] == "partnership").sum() == 16
