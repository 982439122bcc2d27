"""Push and pull against a real Neo4j (the session server from neo4j_fixture)."""

from __future__ import annotations

import pandas as pd
import pytest

from dealgraph.graph.schema import DEAL_TYPES, relationship_type
from dealgraph.neo4j_backend import model
from dealgraph.neo4j_backend.push import delete_own, push
from dealgraph.neo4j_backend.pull import pull
from dealgraph.graph.store import open_store

pytestmark = [pytest.mark.neo4j]


@pytest.fixture
def neo(neo4j_target, neo4j_driver):
    """The shared server with dealgraph's own nodes removed before the test."""
    delete_own(neo4j_driver, neo4j_target.database)
    return neo4j_driver


def count(driver, query, **params):
    records, _, _ = driver.execute_query(query, params)
    return records[0][0]


def sorted_frames(store):
    out = {}
    for kind, df in store.export_frames().items():
        cols = sorted(df.columns)
        out[kind] = df[cols].sort_values(cols).reset_index(drop=True)
    return out


def assert_same_store(a, b):
    """Every table Neo4j holds is the same (not the sources file's observations: they stay
    in the store, docs/neo4j.md)."""
    fa, fb = sorted_frames(a), sorted_frames(b)
    assert fa.keys() == fb.keys()
    for kind in fa:
        if kind != "observations":
            pd.testing.assert_frame_equal(fa[kind], fb[kind], obj=kind)


def test_push_builds_the_documented_model(neo, tmp_path):
    store = open_store(tmp_path / "s.db")
    summary = push(store, neo)
    deals = store.deals
    named = deals[deals["payer"].notna()]
    assert count(neo, "MATCH (e:Entity) RETURN count(e)") == len(store.entities)
    for kind, label in model.KIND_LABELS.items():
        n = int((store.entities["kind"] == kind).sum())
        assert count(neo, f"MATCH (e:Entity:{label}) RETURN count(e)") == n
    for rel in model.DEAL_REL_TYPES:
        expected = int(named["type"].map(relationship_type).eq(rel).sum())
        assert count(neo, f"MATCH (:Entity)-[r:{rel}]->(:Entity) RETURN count(r)") == expected
    assert count(neo, "MATCH (:Entity)-[:RAISED]->(r:Round) RETURN count(r)") == int(deals["payer"].isna().sum())
    own_metrics = store.metrics[store.metrics["deal_id"].isna()]
    assert count(neo, "MATCH (:Entity)-[:HAS_METRIC]->(m:Metric) RETURN count(m)") == len(own_metrics)
    assert count(neo, "MATCH (x:FxRate) RETURN count(x)") == len(store.fx)
    # every deal property is there, under the store's names, money direction payer -> payee
    row = named.iloc[0]
    rec, _, _ = neo.execute_query("MATCH (a)-[r {deal_id: $id}]->(b) RETURN a.id AS a, b.id AS b, type(r) AS t, "
                                  "r.amount_usd AS usd, r.date AS date, r.date_key AS key", id=row["deal_id"])
    assert (rec[0]["a"], rec[0]["b"], rec[0]["t"]) == (row["payer"], row["payee"], relationship_type(row["type"]))
    assert rec[0]["date"] == row["date"] and rec[0]["key"] == row["date_key"]
    assert summary.rows["deals"] == len(deals)


def test_constraints_exist_and_deal_id_is_unique(neo, tmp_path):
    push(open_store(tmp_path / "s.db"), neo)
    names = {r["name"] for r in neo.execute_query("SHOW CONSTRAINTS YIELD name RETURN name").records}
    assert {"dealgraph_entity_id", "dealgraph_invested_in_deal_id", "dealgraph_round_deal_id"} <= names
    from neo4j.exceptions import ConstraintError

    with pytest.raises(ConstraintError):
        neo.execute_query("MATCH (a:Entity {id:'nvidia'}), (b:Entity {id:'openai'}) "
                          "CREATE (a)-[:INVESTED_IN {deal_id: 'nvidia-openai-investment-2025-09'}]->(b)")


def test_second_push_changes_nothing(neo, tmp_path):
    store = open_store(tmp_path / "s.db")
    first = push(store, neo)
    assert first.counters["nodes_created"] > 0 and first.counters["relationships_created"] > 0
    second = push(store, neo)
    assert not second.changed, second.counters
    assert all(v == 0 for v in second.counters.values()), second.counters


def test_pull_restores_the_store_exactly(neo, tmp_path):
    store = open_store(tmp_path / "s.db")
    push(store, neo)
    pulled = open_store(tmp_path / "pulled.db", seed=False)
    summary = pull(pulled, neo)
    assert sum(f.inserted for f in summary.files) > 0
    assert_same_store(store, pulled)
    # pulling again changes nothing
    again = pull(pulled, neo)
    assert all(f.inserted == 0 and not f.updated for f in again.files)


def test_push_follows_changed_deals_and_removed_properties(neo, tmp_path):
    store = open_store(tmp_path / "s.db")
    push(store, neo)
    frames = store.export_frames()
    deals = frames["deals"].copy()
    i = deals.index[deals["deal_id"] == "nvidia-openai-investment-2025-09"][0]
    deals.loc[i, "type"] = "debt_financing"  # another relationship type
    deals.loc[i, "payer"] = "microsoft"  # another payer
    deals.loc[i, "notes"] = ""  # a property that goes away
    store.import_frames({"entities": frames["entities"], "deals": deals})
    summary = push(store, neo)
    assert summary.changed
    rec, _, _ = neo.execute_query("MATCH (a)-[r {deal_id: 'nvidia-openai-investment-2025-09'}]->(b) "
                                  "RETURN a.id AS a, type(r) AS t, r.notes AS notes")
    assert [(r["a"], r["t"], r["notes"]) for r in rec] == [("microsoft", "LENT_TO", "")]
    assert not push(store, neo).changed
    pulled = open_store(tmp_path / "pulled.db", seed=False)
    pull(pulled, neo)
    assert_same_store(store, pulled)


def test_payerless_round_moving_to_a_named_payer(neo, tmp_path):
    store = open_store(tmp_path / "s.db")
    push(store, neo)
    frames = store.export_frames()
    deals = frames["deals"].copy()
    rounds = deals.index[deals["payer"] == ""]
    assert len(rounds) > 0
    i = rounds[0]
    payee = deals.loc[i, "payee"]
    payer = next(e for e in frames["entities"]["id"] if e != payee)
    deals.loc[i, "payer"] = payer
    store.import_frames({"deals": deals})
    push(store, neo)
    deal_id = deals.loc[i, "deal_id"]
    assert count(neo, "MATCH (r:Round {deal_id: $d}) RETURN count(r)", d=deal_id) == 0
    assert count(neo, "MATCH (a {id: $p})-[r:INVESTED_IN {deal_id: $d}]->() RETURN count(r)",
                 p=payer, d=deal_id) == 1


def test_replace_deletes_only_dealgraphs_nodes(neo, tmp_path):
    neo.execute_query("CREATE (:Person {name: 'not ours'})-[:KNOWS]->(:Person {name: 'also not ours'})")
    try:
        store = open_store(tmp_path / "s.db")
        push(store, neo)
        neo.execute_query("CREATE (:Entity {id: 'stale-entity', name: 'Stale', kind: 'company'})")
        summary = push(store, neo, replace=True)
        assert summary.counters["nodes_deleted"] > 0
        assert count(neo, "MATCH (e:Entity {id: 'stale-entity'}) RETURN count(e)") == 0
        assert count(neo, "MATCH (e:Entity) RETURN count(e)") == len(store.entities)
        assert count(neo, "MATCH (:Person)-[k:KNOWS]->(:Person) RETURN count(k)") == 1
    finally:
        neo.execute_query("MATCH (p:Person) WHERE p.name IN ['not ours', 'also not ours'] DETACH DELETE p")


def test_hostile_text_is_stored_as_given(neo, tmp_path):
    """Names and notes with quotes, braces, Cypher and newlines are parameters, never Cypher."""
    store = open_store(tmp_path / "s.db", seed=False)
    evil = "x'}) DETACH DELETE n //\n\"<script>\"` MATCH (n)"
    ents = pd.DataFrame({"id": ["a", "b"], "name": [evil, "=B"], "kind": ["company", "fund"]})
    deals = pd.DataFrame({"deal_id": ["d1"], "date": ["2024-08"], "type": ["investment"], "payer": ["b"],
                          "payee": ["a"], "amount": ["$1m"], "notes": [evil]})
    store.import_frames({"entities": ents, "deals": deals})
    push(store, neo)
    assert count(neo, "MATCH (e:Entity {id: 'a'}) RETURN e.name") == evil
    assert count(neo, "MATCH ()-[r {deal_id: 'd1'}]->() RETURN r.notes") == evil
    pulled = open_store(tmp_path / "p.db", seed=False)
    pull(pulled, neo)
    assert_same_store(store, pulled)


def test_every_deal_type_round_trips(neo, tmp_path):
    store = open_store(tmp_path / "s.db", seed=False)
    ents = pd.DataFrame({"id": ["p", "q"], "name": ["P", "Q"], "kind": ["investor", "company"]})
    rows = [{"deal_id": f"d-{t}", "date": "2025", "type": t, "payer": "p", "payee": "q",
             "amount": "~5m" if DEAL_TYPES[t].money else "", "status": "rumoured"} for t in DEAL_TYPES]
    rows.append({"deal_id": "round-no-payer", "date": "2025-02-03", "type": "funding_round", "payer": "",
                 "payee": "q", "amount": "", "status": "completed", "post_money_valuation": "up to $2bn"})
    store.import_frames({"entities": ents, "deals": pd.DataFrame(rows)})
    push(store, neo)
    pulled = open_store(tmp_path / "p.db", seed=False)
    pull(pulled, neo)
    assert_same_store(store, pulled)


def test_pull_replace_makes_the_store_what_neo4j_holds(neo, tmp_path):
    store = open_store(tmp_path / "s.db")
    push(store, neo)
    local = open_store(tmp_path / "local.db")
    frames = local.export_frames()
    extra = frames["deals"].iloc[:1].copy()
    extra["deal_id"] = "only-local"
    local.import_frames({"deals": extra})
    pull(local, neo)  # add/update: the local-only deal stays
    assert "only-local" in set(local.deals["deal_id"])
    pull(local, neo, replace=True)
    assert "only-local" not in set(local.deals["deal_id"])
    assert_same_store(store, local)


# --------------------------------------------------------------------------- what a push sends

def sent(summary, what: str) -> int:
    return sum(s[what] for s in summary.sent.values())


def test_prop_rows_are_clean_props_of_every_row(tmp_path):
    """The column-wise row builder gives exactly the documented per-row properties."""
    from dealgraph.neo4j_backend.push import clean_props, prop_rows

    store = open_store(tmp_path / "s.db")
    for df, skip in ((store.deals, ("payer", "payee")), (store.entities, ()), (store.fx, ())):
        records = df.astype(object).where(df.notna(), None).to_dict("records")
        assert prop_rows(df, skip=skip) == [clean_props(r, skip=skip) for r in records]


def test_fingerprints_follow_every_value(tmp_path):
    from dealgraph.neo4j_backend.push import fingerprints

    deals = open_store(tmp_path / "s.db").deals
    fp = fingerprints(deals)
    assert len(set(fp.tolist())) == len(deals)  # distinct rows, distinct fingerprints
    assert (fingerprints(deals.copy()) == fp).all()  # deterministic
    for col, value in (("payer", "microsoft"), ("amount_usd", 1.0), ("notes", "changed"), ("type", "license")):
        other = deals.copy()
        other.loc[3, col] = value
        changed = fingerprints(other) != fp
        assert changed.tolist() == [i == 3 for i in range(len(deals))], col


def test_first_push_creates_and_an_unchanged_push_sends_nothing(neo, tmp_path):
    store = open_store(tmp_path / "s.db")
    first = push(store, neo)
    assert sent(first, "created") == sum(first.rows.values()) and sent(first, "updated") == 0
    fps = count(neo, "MATCH ()-[r]->() WHERE r.deal_id IS NOT NULL AND r._fp IS NOT NULL RETURN count(r)")
    assert fps == int(store.deals["payer"].notna().sum())
    second = push(store, neo)
    assert sent(second, "created") == sent(second, "updated") == 0 and not second.changed
    assert sent(second, "unchanged") == sum(second.rows.values())


def test_only_changed_rows_are_sent(neo, tmp_path):
    store = open_store(tmp_path / "s.db")
    push(store, neo)
    frames = store.export_frames()
    deals = frames["deals"].copy()
    deals.loc[deals.index[:3], "notes"] = "edited"
    store.import_frames({"deals": deals})
    again = push(store, neo)
    assert again.sent["deals"] == {"created": 0, "updated": 3, "unchanged": len(deals) - 3, "pruned": 0}
    assert sent(again, "updated") == 3
    assert count(neo, "MATCH ()-[r]->() WHERE r.notes = 'edited' RETURN count(r)") + \
        count(neo, "MATCH (r:Round) WHERE r.notes = 'edited' RETURN count(r)") == 3
    # a fingerprint lost on the server (a hand edit, say): that row is rewritten
    neo.execute_query("MATCH (e:Entity {id: 'nvidia'}) SET e.name = 'hand edit' REMOVE e._fp")
    fixed = push(store, neo)
    assert fixed.sent["entities"]["updated"] == 1
    assert count(neo, "MATCH (e:Entity {id: 'nvidia'}) RETURN e.name") == "Nvidia"


def test_prune_deletes_what_the_store_no_longer_has(neo, tmp_path):
    store = open_store(tmp_path / "s.db")
    push(store, neo)
    frames = store.export_frames()
    deals = frames["deals"]
    gone = [deals["deal_id"][deals["payer"] != ""].iloc[0], deals["deal_id"][deals["payer"] == ""].iloc[0]]
    smaller = open_store(tmp_path / "smaller.db", seed=False)
    smaller.import_frames({**frames, "deals": deals[~deals["deal_id"].isin(gone)]})
    kept = push(smaller, neo)  # without --prune: nothing is deleted
    assert sent(kept, "pruned") == 0
    assert count(neo, "MATCH ()-[r]->() WHERE r.deal_id IN $g RETURN count(r)", g=gone) + \
        count(neo, "MATCH (r:Round) WHERE r.deal_id IN $g RETURN count(r)", g=gone) == 2
    pruned = push(smaller, neo, prune=True)
    assert pruned.sent["deals"]["pruned"] == 2 and sent(pruned, "pruned") == 2
    assert count(neo, "MATCH ()-[r]->() WHERE r.deal_id IN $g RETURN count(r)", g=gone) == 0
    assert count(neo, "MATCH (r:Round) WHERE r.deal_id IN $g RETURN count(r)", g=gone) == 0
    assert not push(smaller, neo, prune=True).changed
    pulled = open_store(tmp_path / "pulled.db", seed=False)
    pull(pulled, neo)
    assert_same_store(smaller, pulled)


def test_partnerships_push_as_their_own_relationship_and_pull_back(neo, tmp_path):
    """The AI Bubble Map data (16 partnerships): PARTNERS_WITH relationships from the smaller id,
    pulled back exactly; the Cypher money queries leave them out, as the embedded ones do."""
    from pathlib import Path

    from dealgraph.neo4j_backend.registry import run_cypher_query
    from dealgraph.queries.registry import run_query

    peer = Path(__file__).resolve().parent / "data" / "ai-bubble-map"
    store = open_store(tmp_path / "s.db", seed=False)
    store.add([peer / "entities.csv", peer / "deals_full.csv", peer / "metrics.csv"])
    push(store, neo)
    assert count(neo, "MATCH (:Entity)-[r:PARTNERS_WITH]->(:Entity) RETURN count(r)") == 16
    assert count(neo, "MATCH (:Entity {id: 'oracle'})-[r:PARTNERS_WITH]-(:Entity) RETURN count(r)") == 6
    assert count(neo, "MATCH (a:Entity)-[r:PARTNERS_WITH]->(b:Entity) WHERE a.id > b.id RETURN count(r)") == 0
    assert count(neo, "MATCH ()-[r:PARTNERS_WITH]->() WHERE r.type <> 'partnership' RETURN count(r)") == 0
    pulled = open_store(tmp_path / "p.db", seed=False)
    pull(pulled, neo)
    assert_same_store(store, pulled)
    for name, options in (("circular-flows", {"max_length": 4, "top": None}),
                          ("circular-flows", {"max_length": 4, "top": None, "engine": "cypher"}),
                          ("round-trip", {}), ("concentration", {}), ("multiples", {"all_deals": True}),
                          ("circular-flows", {"max_length": 4, "include": "partnerships"})):
        emb = run_query(name, store, **{k: v for k, v in options.items() if k != "engine"})
        cy = run_cypher_query(name, neo, **options)
        pd.testing.assert_frame_equal(emb.reset_index(drop=True), cy.reset_index(drop=True), check_dtype=False,
                                      obj=f"{name} {options}")


def test_pull_replace_keeps_the_stores_observations(neo, tmp_path):
    """Neo4j holds no observations: `pull --replace` keeps the store's own, of the deals
    and entities the server still has, and the queries' chosen figures stay as they were."""
    from dealgraph.queries.registry import run_query

    store = open_store(tmp_path / "s.db")
    before = store.export_frames()["observations"]
    assert len(before) > 0
    multiples = run_query("multiples", store)
    push(store, neo)
    pull(store, neo, replace=True)
    after = store.export_frames()["observations"]
    pd.testing.assert_frame_equal(before.reset_index(drop=True), after.reset_index(drop=True))
    pd.testing.assert_frame_equal(multiples, run_query("multiples", store))
