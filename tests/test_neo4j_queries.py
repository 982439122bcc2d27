"""The canned queries on a Neo4j server give the same tables as the embedded backend
(sample data, and random graphs with parallel deals, undisclosed amounts,
partial dates, tentative and terminated deals, payer-less rounds, self-loops)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dealgraph.neo4j_backend.push import push
from dealgraph.neo4j_backend.registry import CYPHER_QUERIES, run_cypher_query
from dealgraph.queries.registry import run_query
from dealgraph.graph.store import open_store

pytestmark = [pytest.mark.neo4j]

CIRCULAR_OPTIONS = [
    {},
    {"max_length": 2},
    {"max_length": 3, "top": 4},
    {"temporal": True},
    {"window": 400},
    {"as_of": "2024-06"},
    {"as_of": "2024", "status": "all"},
    {"status": "completed,announced", "temporal": True},
    {"count_only": True},
    {"top": None, "max_length": 4},
]


def assert_same(embedded: pd.DataFrame, cypher: pd.DataFrame, what: str) -> None:
    pd.testing.assert_frame_equal(embedded.reset_index(drop=True), cypher.reset_index(drop=True),
                                  check_dtype=False, obj=what)


def compare(store, driver, database, name, options, engine=None):
    emb = run_query(name, store, **options)
    extra = {"engine": engine} if engine else {}
    cy = run_cypher_query(name, driver, database=database, **options, **extra)
    assert_same(emb, cy, f"{name} {options}")
    for key in ("total_cycles", "counts_by_length"):
        if key in emb.attrs:
            assert emb.attrs[key] == cy.attrs[key], (name, options, key)
    return emb


@pytest.fixture(scope="module")
def sample_pushed(neo4j_target, neo4j_driver, tmp_path_factory):
    """The sample data without its observations: Neo4j holds each row's own figures, not
    other sources' (docs/neo4j.md), so the server's valuation views are compared with
    the embedded ones on the rows alone."""
    from pathlib import Path

    data = Path(__file__).resolve().parent.parent / "data"
    store = open_store(tmp_path_factory.mktemp("sample") / "s.db", seed=False)
    store.add([data / f"{kind}.csv" for kind in ("entities", "fx", "deals", "metrics")])
    push(store, neo4j_driver, database=neo4j_target.database, replace=True)
    return store


ENGINES = ["projection", "cypher"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("options", CIRCULAR_OPTIONS, ids=str)
def test_circular_flows_parity_on_sample(sample_pushed, neo4j_target, neo4j_driver, options, engine):
    emb = compare(sample_pushed, neo4j_driver, neo4j_target.database, "circular-flows", options, engine)
    if not options:
        assert len(emb) > 5  # the sample data has the article's circular web


FLOW_CASES = [
    ("concentration", {}),
    ("concentration", {"without": "nvidia"}),
    ("concentration", {"without": "microsoft", "as_of": "2025-06"}),
    ("concentration", {"entity": "openai", "status": "all"}),
    ("round-trip", {}),
    ("round-trip", {"max_length": 2}),
    ("round-trip", {"max_length": 3, "as_of": "2025-06", "status": "completed"}),
    ("round-trip", {"entity": "nvidia"}),
    ("multiples", {}),
    ("multiples", {"all_deals": True}),
    ("multiples", {"as_of": "2024", "status": "all"}),
    ("returns", {}),
    ("returns", {"entity": "groq"}),
    ("returns", {"as_of": "2025-06"}),
    ("rounds", {"entity": "groq"}),
    ("rounds", {"entity": "openai", "status": "all"}),
    ("deal-comparisons", {}),
]


@pytest.mark.parametrize("name,options", FLOW_CASES, ids=str)
def test_server_queries_parity_on_sample(sample_pushed, neo4j_target, neo4j_driver, name, options):
    for engine in (ENGINES if name == "round-trip" else [None]):
        emb = compare(sample_pushed, neo4j_driver, neo4j_target.database, name, options, engine)
    assert len(emb) > 0


def random_store(path, seed: int):
    """A small random money graph: few entities so cycles and parallel deals are common."""
    rng = np.random.default_rng(seed)
    n_ent = int(rng.integers(3, 9))
    ids = [f"e{i}" for i in range(n_ent)]
    ents = pd.DataFrame({"id": ids, "name": [i.upper() for i in ids], "kind": "company"})
    rows = []
    for j in range(int(rng.integers(4, 30))):
        payer, payee = rng.choice(ids, 2, replace=False)
        y, mo, d = int(rng.integers(2022, 2026)), int(rng.integers(1, 13)), int(rng.integers(1, 29))
        date = rng.choice([f"{y}", f"{y}-{mo:02d}", f"{y}-{mo:02d}-{d:02d}", f"{y}-{mo:02d}-{d:02d}"])
        amount = "" if rng.random() < 0.2 else f"{int(rng.integers(1, 50)) * 10}m"
        rows.append({"deal_id": f"d{j:03d}", "date": date, "type": rng.choice(["investment", "compute_contract",
                                                                               "chip_purchase", "license"]),
                     "payer": "" if rng.random() < 0.05 else payer, "payee": payee, "amount": amount,
                     "status": rng.choice(["completed"] * 6 + ["announced", "in_talks", "rumoured", "terminated"])})
    deals = pd.DataFrame(rows)
    deals.loc[deals["payer"] == "", "type"] = "funding_round"
    store = open_store(path, seed=False)
    store.import_frames({"entities": ents, "deals": deals})
    return store


@pytest.mark.parametrize("seed", range(12))
def test_circular_flows_parity_on_random_graphs(neo4j_target, neo4j_driver, tmp_path, seed):
    store = random_store(tmp_path / "r.db", seed)
    push(store, neo4j_driver, database=neo4j_target.database, replace=True)
    db = neo4j_target.database
    for engine in ENGINES:
        every = compare(store, neo4j_driver, db, "circular-flows", {"top": None}, engine)
        assert len(every) > 0  # each seed's graph has at least one cycle (checked when the seeds were chosen)
        for options in ({"temporal": True, "top": None}, {"window": 200, "max_length": 3},
                        {"as_of": "2024-07", "status": "all"}):
            compare(store, neo4j_driver, db, "circular-flows", options, engine)
        for options in ({}, {"max_length": 3, "as_of": "2024-07", "status": "all"}):
            compare(store, neo4j_driver, db, "round-trip", options, engine)
    for options in ({}, {"without": "e1"}):
        compare(store, neo4j_driver, db, "concentration", options)


def test_every_cypher_query_is_a_registered_query():
    from dealgraph.queries.registry import QUERIES

    assert set(CYPHER_QUERIES) <= set(QUERIES)
    assert set(CYPHER_QUERIES) == set(QUERIES)  # every canned query runs on the server


#: The queries whose search has no Cypher: the projection engine (money hops from the server,
#: embedded kernels) must give the local table, under the filters that change the hops.
PROJECTION_CASES = [
    ("circularity", {"samples": 60}),
    ("circularity", {"samples": 40, "max_length": 3, "as_of": "2025-06", "status": "completed"}),
    ("hubs", {}),
    ("hubs", {"entity": "nvidia", "max_length": 3}),
    ("hubs", {"as_of": "2024", "status": "all"}),
    ("timeline", {}),
    ("timeline", {"freq": "year", "as_of": "2025-06"}),
    ("sensitivity", {}),
    ("sensitivity", {"status": "completed", "as_of": "2025-06", "max_length": 3}),
    ("concentration", {}),
    ("concentration", {"without": "nvidia", "status": "all"}),
]


@pytest.mark.parametrize("name,options", PROJECTION_CASES, ids=str)
def test_projection_engine_parity_on_sample(sample_pushed, neo4j_target, neo4j_driver, name, options):
    # other tests push other graphs into the shared server: make it the sample again (prune: exactly it)
    push(sample_pushed, neo4j_driver, database=neo4j_target.database, prune=True)
    engines = ENGINES if name == "concentration" else [None]
    for engine in engines:
        emb = compare(sample_pushed, neo4j_driver, neo4j_target.database, name, options, engine)
        assert len(emb) > 0
    if name != "concentration":  # the projection says what it read
        df = run_cypher_query(name, neo4j_driver, database=neo4j_target.database, **options)
        assert "projection:" in df.attrs["message"] and df.attrs["read_s"] >= 0


@pytest.mark.parametrize("seed", range(4))
def test_projection_engine_parity_on_random_graphs(neo4j_target, neo4j_driver, tmp_path, seed):
    store = random_store(tmp_path / "r.db", seed)
    push(store, neo4j_driver, database=neo4j_target.database, replace=True)
    db = neo4j_target.database
    for name, options in (("hubs", {}), ("timeline", {"freq": "year"}), ("circularity", {"samples": 30}),
                          ("sensitivity", {"max_length": 3}), ("concentration", {"status": "all"})):
        compare(store, neo4j_driver, db, name, options, "projection" if name == "concentration" else None)
