"""Push a store into Neo4j (the layout is in :mod:`dealgraph.neo4j_backend.model`).

Order: constraints first (they create the indexes every MERGE looks up), then
entities, FX rates, deals (relationships and payer-less :Round nodes), metrics.
Each batch of rows is one ``UNWIND $rows ... MERGE`` statement in a managed
write transaction (``execute_write``: the driver retries it on transient errors).

Convergence: every statement is written so that applying it again changes
nothing (a node's or relationship's properties are only written when they differ
-- ``SET x = row.props`` replaces them whole, so a property the store no longer
has disappears too), and a deal whose type, payer or payee changed has its old
relationship removed first. So a push interrupted anywhere (server killed, network
gone) converges to exactly the intended graph when it is run again, and a second
push reports zero changes. Without ``replace`` nodes the store no longer has are
kept (a push adds and updates, like ``dealgraph add``); ``replace`` first deletes
dealgraph's own nodes -- nothing else on the server.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import neo4j
import pandas as pd

from dealgraph.graph.schema import relationship_type
from dealgraph.neo4j_backend import model as m

BATCH = 5000


@dataclass
class PushSummary:
    """Counters summed over every statement of a push."""

    counters: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    def add(self, c: neo4j.SummaryCounters) -> None:
        for name in ("nodes_created", "nodes_deleted", "relationships_created", "relationships_deleted",
                     "properties_set", "labels_added", "labels_removed", "constraints_added"):
            self.counters[name] = self.counters.get(name, 0) + getattr(c, name)

    @property
    def changed(self) -> bool:
        return any(v for k, v in self.counters.items() if k != "constraints_added")


def clean_props(row: dict, skip=()) -> dict:
    """A row as Neo4j properties: missing values (None/NaN/NA) and ``extra == "{}"`` dropped."""
    out = {}
    for k, v in row.items():
        if k in skip or v is None or v is pd.NA:
            continue
        if isinstance(v, float) and math.isnan(v):
            continue
        if k == "extra" and (v == "{}" or v == ""):
            continue
        out[k] = v
    return out


def _records(df: pd.DataFrame) -> list[dict]:
    return df.astype(object).where(df.notna(), None).to_dict("records")


# --------------------------------------------------------------------------- statements
# Labels and types in these texts come from model/schema constants only.

def _entity_statement(label: str) -> str:
    others = ":".join(lb for lb in m.KIND_LABELS.values() if lb != label)
    other_test = " OR ".join(f"e:{lb}" for lb in m.KIND_LABELS.values() if lb != label)
    return (f"UNWIND $rows AS row MERGE (e:{m.ENTITY} {{id: row.id}}) "
            f"WITH e, row WHERE properties(e) <> row.props OR NOT e:{label} OR {other_test} "
            f"SET e = row.props, e:{label} REMOVE e:{others}")


def _key_pattern(key: tuple[str, ...]) -> str:
    """``{k1: row.props.k1, ...}``: a node's composite key as a MERGE pattern."""
    return "{" + ", ".join(f"{k}: row.props.{k}" for k in key) + "}"


_FX_STATEMENT = (f"UNWIND $rows AS row MERGE (x:{m.FXRATE} {_key_pattern(m.FX_KEY)}) "
                 f"WITH x, row WHERE properties(x) <> row.props SET x = row.props")

# A deal may have moved (other type, payer or payee, or between a relationship and a
# :Round): find where each deal_id of the batch is now (index seeks on the deal_id
# uniqueness constraints), and delete what is in the wrong place before merging.
_DEAL_WHERE = " UNION ALL ".join(
    [f"MATCH (a)-[r:{rel}]->(b) WHERE r.deal_id IN $ids "
     f"RETURN r.deal_id AS deal_id, '{rel}' AS rel, a.id AS payer, b.id AS payee, elementId(r) AS eid"
     for rel in m.DEAL_REL_TYPES]
    + [f"MATCH (d:{m.ROUND}) WHERE d.deal_id IN $ids OPTIONAL MATCH (e)-[:{m.RAISED}]->(d) "
       f"RETURN d.deal_id AS deal_id, null AS rel, null AS payer, e.id AS payee, elementId(d) AS eid"]
)
_DELETE_RELS = "UNWIND $eids AS eid MATCH ()-[r]->() WHERE elementId(r) = eid DELETE r"
_DELETE_ROUNDS = "UNWIND $eids AS eid MATCH (d) WHERE elementId(d) = eid DETACH DELETE d"


def _delete_misplaced(tx, rows: list[dict]) -> list[neo4j.SummaryCounters]:
    want = {r["deal_id"]: (r["rel"], r["payer"], r["payee"]) for r in rows}
    rels, rounds = [], []
    for rec in tx.run(_DEAL_WHERE, ids=list(want)):
        if want.get(rec["deal_id"]) != (rec["rel"], rec["payer"], rec["payee"]):
            (rels if rec["rel"] is not None else rounds).append(rec["eid"])
    out = []
    if rels:
        out.append(tx.run(_DELETE_RELS, eids=rels).consume().counters)
    if rounds:
        out.append(tx.run(_DELETE_ROUNDS, eids=rounds).consume().counters)
    return out


def _deal_statement(rel: str) -> str:
    return (f"UNWIND $rows AS row MATCH (a:{m.ENTITY} {{id: row.payer}}), (b:{m.ENTITY} {{id: row.payee}}) "
            f"MERGE (a)-[r:{rel} {{deal_id: row.deal_id}}]->(b) "
            f"WITH r, row WHERE properties(r) <> row.props SET r = row.props")


_ROUND_STATEMENT = (
    f"UNWIND $rows AS row MATCH (e:{m.ENTITY} {{id: row.payee}}) "
    f"MERGE (d:{m.ROUND} {{deal_id: row.deal_id}}) "
    f"WITH d, e, row "
    f"OPTIONAL MATCH (other:{m.ENTITY})-[old:{m.RAISED}]->(d) WHERE other <> e DELETE old "
    f"WITH DISTINCT d, e, row "
    f"MERGE (e)-[:{m.RAISED}]->(d) "
    f"WITH d, row WHERE properties(d) <> row.props SET d = row.props"
)

_METRIC_STATEMENT = (
    f"UNWIND $rows AS row MATCH (e:{m.ENTITY} {{id: row.props.entity}}) "
    f"MERGE (x:{m.METRIC} {_key_pattern(m.METRIC_KEY)}) "
    f"MERGE (e)-[:{m.HAS_METRIC}]->(x) "
    f"WITH x, row WHERE properties(x) <> row.props SET x = row.props"
)


# --------------------------------------------------------------------------- rows

def entity_rows(store) -> dict[str, list[dict]]:
    """Entity rows grouped by kind label."""
    out: dict[str, list[dict]] = {}
    for r in _records(store.entities):
        out.setdefault(m.KIND_LABELS[r["kind"]], []).append({"id": r["id"], "props": clean_props(r)})
    return out


def fx_rows(store) -> list[dict]:
    fx = store.fx
    return [{"props": clean_props(r)} for r in _records(fx)]


def deal_rows(store) -> list[dict]:
    rows = []
    for r in _records(store.deals):
        rows.append({"deal_id": r["deal_id"], "payer": r["payer"], "payee": r["payee"],
                     "rel": relationship_type(r["type"]) if r["payer"] is not None else None,
                     "props": clean_props(r, skip=("payer", "payee"))})
    return rows


def metric_rows(store) -> list[dict]:
    """The metrics table only: observations that deal rows carry stay on the deals."""
    own = store.metrics
    if "deal_id" in own.columns:
        own = own[own["deal_id"].isna()].drop(columns=["deal_id"])
    rows = []
    for r in _records(own):
        props = clean_props(r)
        props.setdefault("source", "")  # part of the key: never absent
        rows.append({"props": props})
    return rows


# --------------------------------------------------------------------------- push

def _run(tx, statement: str, rows: list[dict]) -> neo4j.SummaryCounters:
    return tx.run(statement, rows=rows).consume().counters


def ensure_constraints(driver: neo4j.Driver, database: str | None, summary: PushSummary | None = None) -> None:
    with driver.session(database=database) as session:
        for stmt in m.constraints():
            c = session.run(stmt).consume().counters
            if summary is not None:
                summary.add(c)


def delete_own(driver: neo4j.Driver, database: str | None, summary: PushSummary | None = None,
               batch: int = 10_000) -> int:
    """Delete dealgraph's own nodes (labels :data:`model.OWN_LABELS`) and their
    relationships, in batches of managed transactions; returns the node count."""
    total = 0
    with driver.session(database=database) as session:
        for label in m.OWN_LABELS:
            stmt = f"MATCH (n:{label}) WITH n LIMIT $batch DETACH DELETE n"
            while True:
                c = session.execute_write(lambda tx: tx.run(stmt, batch=batch).consume().counters)
                if summary is not None:
                    summary.add(c)
                total += c.nodes_deleted
                if c.nodes_deleted == 0:
                    break
    return total


def push(store, driver: neo4j.Driver, *, database: str | None = None, replace: bool = False,
         batch: int = BATCH, progress: Callable[[int, int], None] | None = None) -> PushSummary:
    """Write ``store`` into Neo4j; returns the summed counters.

    ``progress(done, total)`` is called after every batch (rows of all kinds).
    """
    summary = PushSummary()
    ensure_constraints(driver, database, summary)
    if replace:
        delete_own(driver, database, summary)

    ents = entity_rows(store)
    fx = fx_rows(store)
    deals = deal_rows(store)
    metrics = metric_rows(store)
    summary.rows = {"entities": sum(map(len, ents.values())), "fx": len(fx), "deals": len(deals),
                    "metrics": len(metrics)}
    total = sum(summary.rows.values())
    done = 0

    def step(statements: list[tuple[str, list[dict]]], n: int) -> None:
        nonlocal done

        def work(tx):
            out = []
            for s, r in statements:
                if s is _delete_misplaced:
                    out.extend(_delete_misplaced(tx, r))
                elif r:
                    out.append(_run(tx, s, r))
            return out

        with driver.session(database=database) as session:
            for c in session.execute_write(work):
                summary.add(c)
        done += n
        if progress:
            progress(done, total)

    for label, rows in ents.items():
        for i in range(0, len(rows), batch):
            chunk = rows[i:i + batch]
            step([(_entity_statement(label), chunk)], len(chunk))
    for i in range(0, len(fx), batch):
        step([(_FX_STATEMENT, fx[i:i + batch])], len(fx[i:i + batch]))
    for i in range(0, len(deals), batch):
        chunk = deals[i:i + batch]
        # stale placements and the merge of this batch in one transaction
        stmts = [(_delete_misplaced, chunk)]
        by_rel: dict[str | None, list[dict]] = {}
        for r in chunk:
            by_rel.setdefault(r["rel"], []).append(r)
        for rel in m.DEAL_REL_TYPES:  # allow-list order, never a type taken from the row
            if rel in by_rel:
                stmts.append((_deal_statement(rel), by_rel[rel]))
        if None in by_rel:
            stmts.append((_ROUND_STATEMENT, by_rel[None]))
        step(stmts, len(chunk))
    for i in range(0, len(metrics), batch):
        step([(_METRIC_STATEMENT, metrics[i:i + batch])], len(metrics[i:i + batch]))
    return summary
