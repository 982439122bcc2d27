"""The projection engine: Cypher selects and streams the money hops, the embedded kernels compute.

For the graph searches (circular-flows, concentration, circularity, hubs, timeline,
sensitivity) the server does what it is good at -- selecting the deals with the
``--status`` / ``--as-of`` filter applied in the database -- and sends them as a few
parallel columns; the embedded query (the same function ``dealgraph query NAME`` runs)
computes the table on them. Same code, so the same table; what travels is the money
hops (:data:`HOP_COLUMNS` of every selected deal), not the graph.

What is read (:func:`hop_statements`), in one read transaction (one snapshot):

1. the selected deal relationships, ``collect`` per column (one record: about ten times
   faster than a record per deal), payer and payee as Neo4j's internal node ids (no
   property read per end); an absent float travels as NaN (``collect`` skips nulls, which
   would misalign the columns);
2. the selected payer-less rounds (``(:Entity)-[:RAISED]->(:Round)``), the same columns;
3. the entities: internal node id, ``id``, ``name``, ``kind`` (names for the tables).

The frame is then put in the store's order (by ``deal_id``), so "first of equals" rules
of the embedded code see what they see locally.
"""

from __future__ import annotations

import time
import types

import neo4j
import numpy as np
import pandas as pd

from dealgraph.errors import QueryError
from dealgraph.graph.schema import TABLES
from dealgraph.neo4j_backend import model as m
from dealgraph.neo4j_backend.cypher_common import DEAL_TYPES_PATTERN, Statement, deal_filter, filter_params, read_all

#: Queries that run only as a projection (no search in Cypher): the money hops from the server,
#: the embedded compiled kernels compute.
PROJECTED: tuple[str, ...] = ("circularity", "hubs", "timeline", "sensitivity")

#: What the graph searches read of a deal (plus payer and payee): id, money, status, date;
#: and any amount-range column the schema declares for the USD amount (``amount_usd_low`` ...).
HOP_COLUMNS: tuple[str, ...] = ("deal_id", "amount_usd", "status", "date_key", "date_precision") + tuple(
    c for c in TABLES["deals"].names if c.startswith("amount_usd_"))
#: Of those, the ones that may be absent (sent as NaN): the money.
_FLOAT_COLUMNS = tuple(c for c in HOP_COLUMNS if c.startswith("amount_usd"))


def _columns(var: str) -> str:
    return ", ".join(f"collect(coalesce({var}.{c}, toFloat('NaN'))) AS {c}" if c in _FLOAT_COLUMNS
                     else f"collect({var}.{c}) AS {c}" for c in HOP_COLUMNS)


_HOPS = (f"MATCH (a:{m.ENTITY})-[d:{DEAL_TYPES_PATTERN}]->(b:{m.ENTITY})\nWHERE {deal_filter('d')}\n"
         f"RETURN collect(id(a)) AS payer, collect(id(b)) AS payee,\n       {_columns('d')}")
_ROUNDS = (f"MATCH (b:{m.ENTITY})-[:{m.RAISED}]->(d:{m.ROUND})\nWHERE {deal_filter('d')}\n"
           f"RETURN collect(id(b)) AS payee,\n       {_columns('d')}")
_ENTITIES = (f"MATCH (e:{m.ENTITY}) RETURN collect(id(e)) AS node, collect(e.id) AS id, "
             f"collect(coalesce(e.name, e.id)) AS name, collect(coalesce(e.kind, '')) AS kind")


def hop_statements(as_of=None, status=None) -> list[Statement]:
    """The three reads of the projection (``--status`` / ``--as-of`` applied on the server)."""
    params = filter_params(as_of, status)
    return [Statement("the selected money hops (deals with a payer), as parallel columns", _HOPS, params),
            Statement("the selected payer-less rounds, as parallel columns", _ROUNDS, params),
            Statement("the entities (internal node id, id, name, kind)", _ENTITIES)]


def _frame(row: dict, node: np.ndarray, ids: np.ndarray, payer: bool) -> pd.DataFrame:
    n = len(row["deal_id"])
    bad = [c for c in HOP_COLUMNS if len(row[c]) != n]
    if bad:  # a deal without one of them: collect skipped it, the columns would misalign
        raise QueryError(f"deals on the server lack {', '.join(bad)} (push the store again to repair them)")

    def entity_ids(nodes: list) -> pd.arrays.StringArray:
        want = np.array(nodes, np.int64)
        pos = np.minimum(np.searchsorted(node, want), max(len(node) - 1, 0))
        return pd.array(ids[pos] if len(want) else [], dtype="string")

    cols = {"deal_id": pd.array(row["deal_id"], dtype="string"),
            "payer": entity_ids(row["payer"]) if payer else pd.array([pd.NA] * n, dtype="string"),
            "payee": entity_ids(row["payee"])}
    for c in HOP_COLUMNS[1:]:
        cols[c] = (np.array(row[c], np.float64) if c in _FLOAT_COLUMNS else
                   np.array(row[c], np.int64) if c.startswith("date_") else pd.array(row[c], dtype="string"))
    return pd.DataFrame(cols)


def read_view(driver: neo4j.Driver, statements: list[Statement], *, database=None, timeout=None):
    """The rows of :func:`hop_statements` as a read-only store-like object: ``deals`` (the
    columns the graph searches read, store order) and ``entities`` (id, name, kind);
    ``read_s``: seconds the read took."""
    t = time.perf_counter()
    ((hops,), (rounds,), (ent,)) = read_all(driver, statements, database=database, timeout=timeout)
    node = np.array(ent["node"], np.int64)
    order = np.argsort(node)
    node, ids = node[order], np.array(ent["id"], dtype=object)[order]
    deals = pd.concat([_frame(hops, node, ids, True), _frame(rounds, node, ids, False)], ignore_index=True)
    deals = deals.sort_values("deal_id", kind="stable").reset_index(drop=True)
    entities = pd.DataFrame({"id": ent["id"], "name": ent["name"], "kind": ent["kind"]}).astype("string")
    return types.SimpleNamespace(deals=deals, entities=entities, read_s=time.perf_counter() - t)


def run(embedded, driver: neo4j.Driver, *, database=None, as_of=None, status=None, **options):
    """Read the money hops and run ``embedded(view, as_of=..., status=..., **options)`` on them;
    the read and total seconds in ``attrs`` (``read_s``, ``elapsed_s``) and the message. A
    ``timeout`` option (seconds) also bounds the read on the server."""
    t = time.perf_counter()
    view = read_view(driver, hop_statements(as_of, status), database=database, timeout=options.get("timeout"))
    df = embedded(view, as_of=as_of, status=status, **options)
    elapsed = time.perf_counter() - t
    note = f"projection: {len(view.deals)} deals read in {view.read_s:.2f} s, {elapsed:.2f} s in all"
    message = df.attrs.get("message")
    df.attrs.update(read_s=view.read_s, elapsed_s=elapsed, message=f"{message} ({note})" if message else note)
    return df


def statements(*, as_of=None, status=None, **_options) -> list[Statement]:
    """The Cypher a projection query runs (its other options shape the table afterwards)."""
    return hop_statements(as_of, status)


def _query(name: str):
    """``view, **options -> table``: the registered embedded query ``name`` (its option checks too)."""
    from dealgraph.queries.registry import run_query

    return lambda view, **options: run_query(name, view, **options)


def circularity(driver, **options) -> pd.DataFrame:
    """Same table as ``dealgraph query circularity`` (null ensemble on the projected hops)."""
    return run(_query("circularity"), driver, **options)


def hubs(driver, **options) -> pd.DataFrame:
    """Same table as ``dealgraph query hubs`` (max-flows on the projected hops)."""
    return run(_query("hubs"), driver, **options)


def timeline(driver, **options) -> pd.DataFrame:
    """Same table as ``dealgraph query timeline``."""
    return run(_query("timeline"), driver, **options)


def sensitivity(driver, *, status=None, **options) -> pd.DataFrame:
    """Same table as ``dealgraph query sensitivity``: its scenarios need every status, so the
    server selects by ``--as-of`` only and the query applies ``--status`` itself."""
    query = _query("sensitivity")

    def on_view(view, status=None, **o):  # `status` here is "all", what the server selected
        return query(view, status=wanted, **o)

    wanted = status
    return run(on_view, driver, status="all", **options)


def sensitivity_statements(*, as_of=None, **_options) -> list[Statement]:
    """The Cypher sensitivity runs: every status (its scenarios filter by status themselves)."""
    return hop_statements(as_of, "all")


def concentration(driver, **options) -> pd.DataFrame:
    """Same table as ``dealgraph query concentration`` (flows collapsed from the projected deals)."""
    return run(_query("concentration"), driver, **options)
