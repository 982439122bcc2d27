"""Push a store into Neo4j (the layout is in :mod:`dealgraph.neo4j_backend.model`).

Order: constraints first (they create the indexes every lookup uses), then entities,
FX rates, deals (relationships and payer-less :Round nodes), metrics; with ``prune``,
rows gone locally are deleted last (deals first, entities last).

What is sent: every row carries a **fingerprint** (:func:`fingerprints`, a 64-bit hash
of the store row, stored as the property :data:`model.FINGERPRINT`). For each kind the
push first reads the keys and fingerprints the server holds, then

* rows the server does not hold at all are written with batched ``UNWIND $rows ...
  CREATE`` (no lookup, no comparison: a first push into an empty database is all
  CREATE; the uniqueness constraints still refuse a duplicate);
* rows whose fingerprint differs (or that the server holds twice) are written with the
  idempotent ``MERGE`` statements below, which also move a deal whose type, payer or
  payee changed (its old relationship or :Round is deleted in the same transaction);
* equal rows are not sent: an unchanged re-push reads the fingerprints and writes nothing.

Each batch of rows is one managed write transaction (``execute_write``: the driver
retries it on transient errors). Convergence: a batch commits whole or not at all, and
a re-run reads what did commit, so a push interrupted anywhere (server killed, network
gone) converges to exactly the intended graph when it is run again, and a second push
reports zero changes. A property the store no longer has disappears (``SET x =
row.props`` replaces the map whole). A fingerprint is trusted: a node edited on the
server by hand with its fingerprint left alone is not rewritten (``replace`` rewrites
everything). Without ``replace`` or ``prune`` rows the store no longer has are kept (a
push adds and updates, like ``dealgraph add``); ``replace`` first deletes dealgraph's
own nodes -- nothing else on the server.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import neo4j
import numpy as np
import pandas as pd

from dealgraph.graph.schema import relationship_type
from dealgraph.neo4j_backend import model as m

BATCH = 10_000
#: statements of ``BATCH`` rows per transaction, and parallel sessions for new rows (measured)
TX_BATCHES = 1
WORKERS = 1


@dataclass
class PushSummary:
    """Counters summed over every statement of a push."""

    counters: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    #: per kind: rows created, updated (fingerprint differed), unchanged (not sent), pruned
    sent: dict[str, dict[str, int]] = field(default_factory=dict)
    #: seconds per phase, where a push reports them (the bulk import: csv_s, import_s, ...)
    timings: dict[str, float] = field(default_factory=dict)

    def add(self, c: neo4j.SummaryCounters) -> None:
        for name in ("nodes_created", "nodes_deleted", "relationships_created", "relationships_deleted",
                     "properties_set", "labels_added", "labels_removed", "constraints_added"):
            self.counters[name] = self.counters.get(name, 0) + getattr(c, name)

    @property
    def changed(self) -> bool:
        return any(v for k, v in self.counters.items() if k != "constraints_added")


#: Values of ``extra`` (the JSON of non-schema columns) that mean "none": sent as no property.
EMPTY_EXTRA: tuple[str, ...] = ("{}", "")


def clean_props(row: dict, skip=()) -> dict:
    """A row as Neo4j properties: missing values (None/NaN/NA) and ``extra == "{}"`` dropped."""
    out = {}
    for k, v in row.items():
        if k in skip or v is None or v is pd.NA:
            continue
        if isinstance(v, float) and math.isnan(v):
            continue
        if k == "extra" and v in EMPTY_EXTRA:
            continue
        out[k] = v
    return out


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


# --------------------------------------------------------------------------- CREATE (rows not on the server)
# Only for rows whose key the server does not hold at all (read just before): no MERGE
# lookup, no property comparison. The uniqueness constraints still refuse a duplicate.

def _entity_create(label: str) -> str:
    return f"UNWIND $rows AS row CREATE (e:{m.ENTITY}:{label}) SET e = row.props"


_FX_CREATE = f"UNWIND $rows AS row CREATE (x:{m.FXRATE}) SET x = row.props"


def _deal_create(rel: str) -> str:
    return (f"UNWIND $rows AS row MATCH (a:{m.ENTITY} {{id: row.payer}}), (b:{m.ENTITY} {{id: row.payee}}) "
            f"CREATE (a)-[r:{rel}]->(b) SET r = row.props")


_ROUND_CREATE = (f"UNWIND $rows AS row MATCH (e:{m.ENTITY} {{id: row.payee}}) "
                 f"CREATE (e)-[:{m.RAISED}]->(d:{m.ROUND}) SET d = row.props")

_METRIC_CREATE = (f"UNWIND $rows AS row MATCH (e:{m.ENTITY} {{id: row.props.entity}}) "
                  f"CREATE (e)-[:{m.HAS_METRIC}]->(x:{m.METRIC}) SET x = row.props")


# --------------------------------------------------------------------------- prune (rows gone locally)

def _prune_deals_statements() -> list[str]:
    return ([f"UNWIND $keys AS k MATCH ()-[r:{rel} {{deal_id: k}}]->() DELETE r" for rel in m.DEAL_REL_TYPES]
            + [f"UNWIND $keys AS k MATCH (d:{m.ROUND} {{deal_id: k}}) DETACH DELETE d"])


def _prune_key_statement(label: str, key: tuple[str, ...]) -> str:
    match = ", ".join(f"{c}: k[{i}]" for i, c in enumerate(key))
    return f"UNWIND $keys AS k MATCH (x:{label} {{{match}}}) DETACH DELETE x"


_PRUNE_ENTITIES = f"UNWIND $keys AS k MATCH (e:{m.ENTITY} {{id: k}}) DETACH DELETE e"


# --------------------------------------------------------------------------- fingerprints on the server

#: Keys and fingerprints of what the server holds, per kind (a deal is a relationship or a
#: :Round), each as one row of two parallel lists: ``collect`` on the server is about ten
#: times faster than streaming a record per row (1M relationships: 1.2 s vs 15 s measured).
_SERVER_KEYS = {
    "entities": [f"MATCH (e:{m.ENTITY}) RETURN collect(e.id) AS k, collect(coalesce(e.{m.FINGERPRINT}, 0)) AS fp"],
    "fx": [f"MATCH (x:{m.FXRATE}) RETURN collect([{', '.join('x.' + c for c in m.FX_KEY)}]) AS k, "
           f"collect(coalesce(x.{m.FINGERPRINT}, 0)) AS fp"],
    "deals": [f"MATCH ()-[r:{rel}]->() RETURN collect(r.deal_id) AS k, collect(coalesce(r.{m.FINGERPRINT}, 0)) AS fp"
              for rel in m.DEAL_REL_TYPES]
             + [f"MATCH (d:{m.ROUND}) RETURN collect(d.deal_id) AS k, collect(coalesce(d.{m.FINGERPRINT}, 0)) AS fp"],
    "metrics": [f"MATCH (x:{m.METRIC}) RETURN collect([{', '.join('x.' + c for c in m.METRIC_KEY)}]) AS k, "
                f"collect(coalesce(x.{m.FINGERPRINT}, 0)) AS fp"],
}


def server_fingerprints(driver: neo4j.Driver, database: str | None, kind: str) -> dict:
    """key -> fingerprint of what the server holds of ``kind`` (0: none stored); a key held
    twice (a deal both a relationship and a :Round, say) maps to None, so it is rewritten."""
    out: dict = {}
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        for q in _SERVER_KEYS[kind]:
            rec = session.run(q).single()
            for k, fp in zip(rec["k"], rec["fp"]):
                k = tuple(k) if isinstance(k, list) else k
                out[k] = None if k in out else fp
    return out


# --------------------------------------------------------------------------- rows

def fingerprints(df: pd.DataFrame) -> np.ndarray:
    """One int64 per row: a hash of every column of the row (``pandas.util.hash_pandas_object``,
    deterministic across runs and machines), salted with the column names and
    :data:`model.FINGERPRINT_VERSION`. Equal rows, equal fingerprints; a changed value, type,
    payer or payee changes it (a 64-bit hash: collisions are negligible)."""
    if len(df) == 0:
        return np.zeros(0, np.int64)
    h = pd.util.hash_pandas_object(df, index=False).to_numpy(np.uint64)
    salt = np.uint64(int(hashlib.sha256(f"{m.FINGERPRINT_VERSION}|{'|'.join(df.columns)}".encode())
                         .hexdigest()[:16], 16))
    return (h ^ salt).view(np.int64)


def prop_rows(df: pd.DataFrame, skip=(), fp: np.ndarray | None = None) -> list[dict]:
    """The rows of ``df`` as Neo4j property maps, built column by column: what
    :func:`clean_props` gives for each row (missing values and an empty ``extra`` absent),
    plus the fingerprint under :data:`model.FINGERPRINT` when ``fp`` is given."""
    cols = [c for c in df.columns if c not in skip]
    lists = []
    for c in cols:
        s = df[c]
        vals = s.astype(object).where(s.notna(), None).tolist()
        if c == "extra":
            vals = [None if v in EMPTY_EXTRA else v for v in vals]
        lists.append(vals)
    if fp is not None:
        cols.append(m.FINGERPRINT)
        lists.append(fp.tolist())
    return [{k: v for k, v in zip(cols, row) if v is not None} for row in zip(*lists)]


def _own_metrics(store) -> pd.DataFrame:
    """The metrics table only: observations that deal rows carry stay on the deals."""
    own = store.metrics
    if "deal_id" in own.columns:
        own = own[own["deal_id"].isna()].drop(columns=["deal_id"])
    own = own.copy()
    own["source"] = own["source"].fillna("")  # part of the key: never absent
    return own.reset_index(drop=True)


@dataclass
class _Kind:
    """One kind of row to push: the frame, its keys and fingerprints, how to write it."""

    name: str
    df: pd.DataFrame
    keys: list
    fp: np.ndarray
    skip: tuple = ()


def _kinds(store) -> list[_Kind]:
    ents = store.entities.reset_index(drop=True)
    fx = store.fx.reset_index(drop=True)
    deals = store.deals.reset_index(drop=True)
    mets = _own_metrics(store)
    return [
        _Kind("entities", ents, ents["id"].tolist(), fingerprints(ents)),
        _Kind("fx", fx, list(zip(*(fx[c].tolist() for c in m.FX_KEY))), fingerprints(fx)),
        _Kind("deals", deals, deals["deal_id"].tolist(), fingerprints(deals), ("payer", "payee")),
        _Kind("metrics", mets, list(zip(*(mets[c].tolist() for c in m.METRIC_KEY))), fingerprints(mets)),
    ]


def _statement_rows(kind: _Kind, idx: np.ndarray) -> list[dict]:
    """The rows at positions ``idx`` as statement parameters (``props`` plus what each
    statement matches on)."""
    part = kind.df.iloc[idx]
    props = prop_rows(part, skip=kind.skip, fp=kind.fp[idx])
    if kind.name == "entities":
        return [{"id": p["id"], "label": m.KIND_LABELS[p["kind"]], "props": p} for p in props]
    if kind.name == "deals":
        payer, payee, types_ = part["payer"].tolist(), part["payee"].tolist(), part["type"].tolist()
        return [{"deal_id": p["deal_id"], "payer": None if a is pd.NA else a, "payee": b,
                 "rel": None if a is pd.NA or a is None else relationship_type(t), "props": p}
                for p, a, b, t in zip(props, payer, payee, types_)]
    return [{"props": p} for p in props]


def _grouped(rows: list[dict], field_: str, order) -> list[tuple[object, list[dict]]]:
    """Rows grouped by ``row[field_]``, groups in ``order`` (an allow-list, never row text)."""
    by: dict = {}
    for r in rows:
        by.setdefault(r[field_], []).append(r)
    return [(g, by[g]) for g in order if g in by]


def _create_statements(kind: _Kind, rows: list[dict]) -> list[tuple[str, list[dict]]]:
    if kind.name == "entities":
        return [(_entity_create(lb), rs) for lb, rs in _grouped(rows, "label", m.KIND_LABELS.values())]
    if kind.name == "fx":
        return [(_FX_CREATE, rows)]
    if kind.name == "deals":
        return [(_deal_create(rel) if rel else _ROUND_CREATE, rs)
                for rel, rs in _grouped(rows, "rel", [*m.DEAL_REL_TYPES, None])]
    return [(_METRIC_CREATE, rows)]


def _merge_statements(kind: _Kind, rows: list[dict]) -> list[tuple[object, list[dict]]]:
    if kind.name == "entities":
        return [(_entity_statement(lb), rs) for lb, rs in _grouped(rows, "label", m.KIND_LABELS.values())]
    if kind.name == "fx":
        return [(_FX_STATEMENT, rows)]
    if kind.name == "deals":
        # stale placements and the merge of this batch in one transaction
        return [(_delete_misplaced, rows)] + [(_deal_statement(rel) if rel else _ROUND_STATEMENT, rs)
                                              for rel, rs in _grouped(rows, "rel", [*m.DEAL_REL_TYPES, None])]
    return [(_METRIC_STATEMENT, rows)]


def _prune_statements(kind: _Kind) -> list[str]:
    if kind.name == "entities":
        return [_PRUNE_ENTITIES]
    if kind.name == "fx":
        return [_prune_key_statement(m.FXRATE, m.FX_KEY)]
    if kind.name == "deals":
        return _prune_deals_statements()
    return [_prune_key_statement(m.METRIC, m.METRIC_KEY)]


# --------------------------------------------------------------------------- push

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
         prune: bool = False, batch: int = BATCH, tx_batches: int = TX_BATCHES, workers: int = WORKERS,
         progress: Callable[[int, int], None] | None = None) -> PushSummary:
    """Write ``store`` into Neo4j; returns the summed counters and what was sent.

    For each kind (entities, FX rates, deals, metrics, in that order) the server's keys and
    fingerprints are read first; rows the server lacks are written with ``CREATE``, rows
    whose fingerprint differs with ``MERGE`` (moving a deal whose type, payer or payee
    changed), equal rows are not sent. ``prune``: rows the server holds but the store does
    not are deleted (deals first, entities last). ``progress(done, total)`` is called after
    every transaction (rows sent and deleted).

    ``batch``: rows per ``UNWIND`` statement; ``tx_batches``: statements per transaction
    (a transaction commits ``batch * tx_batches`` rows whole); ``workers``: sessions writing
    the ``CREATE`` transactions of one kind in parallel (the driver retries a transaction
    that meets a lock conflict). Defaults chosen by measurement (BENCHMARKS-neo4j.md,
    "Batch size and transactions").
    """
    summary = PushSummary()
    ensure_constraints(driver, database, summary)
    if replace:
        delete_own(driver, database, summary)

    kinds = _kinds(store)
    summary.rows = {k.name: len(k.df) for k in kinds}
    plans = []
    for kind in kinds:
        have = server_fingerprints(driver, database, kind.name)
        held = np.fromiter((k in have for k in kind.keys), bool, len(kind.keys))
        same = np.fromiter((have.get(k) == fp for k, fp in zip(kind.keys, kind.fp.tolist())), bool, len(kind.keys))
        gone = [k for k in set(have).difference(kind.keys)] if prune else []
        plans.append((kind, np.flatnonzero(~held), np.flatnonzero(held & ~same), sorted(gone)))
        summary.sent[kind.name] = {"created": int((~held).sum()), "updated": int((held & ~same).sum()),
                                   "unchanged": int(same.sum()), "pruned": len(gone)}
    total = sum(len(c) + len(u) + len(g) for _, c, u, g in plans)
    done = 0
    lock = threading.Lock()

    def step(statements: list[tuple[object, list]], n: int, param: str = "rows") -> None:
        """One managed write transaction running ``statements`` (``n`` rows)."""
        nonlocal done

        def work(tx):
            out = []
            for s, r in statements:
                if s is _delete_misplaced:
                    out.extend(_delete_misplaced(tx, r))
                elif r:
                    out.append(tx.run(s, {param: r}).consume().counters)
            return out

        with driver.session(database=database) as session:
            counters = session.execute_write(work)
        with lock:
            for c in counters:
                summary.add(c)
            done += n
            if progress:
                progress(done, total)

    def transactions(kind: _Kind, idx: np.ndarray, make) -> list:
        per_tx = batch * max(1, tx_batches)
        return [lambda part=idx[i:i + per_tx]: step(
                    [s for j in range(0, len(part), batch) for s in make(kind, _statement_rows(kind, part[j:j + batch]))],
                    len(part))
                for i in range(0, len(idx), per_tx)]

    for kind, create, update, _ in plans:
        run_all(transactions(kind, create, _create_statements), workers)  # new rows: order does not matter
        run_all(transactions(kind, update, _merge_statements), 1)  # moves: one at a time
    for kind, _, _, gone in reversed(plans):  # deals before the entities they join
        for i in range(0, len(gone), batch):
            keys = [list(k) if isinstance(k, tuple) else k for k in gone[i:i + batch]]
            step([(s, keys) for s in _prune_statements(kind)], len(keys), param="keys")
    return summary


def run_all(jobs: list[Callable[[], None]], workers: int) -> None:
    """Run ``jobs`` one after another, or on ``workers`` threads (the first failure is raised)."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            job()
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for f in [pool.submit(job) for job in jobs]:
            f.result()
