"""multiples, returns, rounds and deal-comparisons on a Neo4j server.

These queries are per-deal formulas (ratios, implied valuations, annualised
returns; definitions in ``queries/multiples.py`` and ``queries/returns.py``)
over a small part of the graph. The server does the selection: one Cypher
statement returns the deals the query sees -- ``--status`` / ``--as-of`` applied
on the server, only the relevant deal types (exit-like deals, rounds, deals that
carry a stake, revenue or market cap) -- and another the metric observations
(``:Metric`` nodes and the figures deal relationships / ``:Round`` nodes carry).
The formulas then run on those rows with the embedded backend's own functions,
so both backends give the same table by construction and a definition lives in
one place. What travels is the selected deals and the observations, not the graph.
"""

from __future__ import annotations

import types

import neo4j
import pandas as pd

from dealgraph.graph.schema import DEAL_METRIC_COLUMNS, DEAL_TYPES, TABLES
from dealgraph.neo4j_backend import model as m
from dealgraph.neo4j_backend.cypher_common import ALL_DEALS_PATTERN, Statement, deal_filter, filter_params, read
from dealgraph.queries.common import EXIT_TYPES, ROUND_TYPES

_FIGURES = tuple(DEAL_METRIC_COLUMNS)  # target_revenue, acquirer_market_cap, post_money_valuation


def _deals_query(selected: bool) -> str:
    """Deal relationships and payer-less rounds; ``selected``: the query's deals
    (filters, wanted types or figures), else every deal carrying a figure."""
    if selected:
        want = ("(d.type IN $types OR d.stake_pct IS NOT NULL OR "
                + " OR ".join(f"d.{c} IS NOT NULL" for c in _FIGURES) + f") AND {deal_filter('d')}")
    else:
        want = "(" + " OR ".join(f"d.{c} IS NOT NULL" for c in _FIGURES) + ")"
    return (f"MATCH (a:{m.ENTITY})-[d:{ALL_DEALS_PATTERN}]->(b:{m.ENTITY})\nWHERE {want}\n"
            f"RETURN a.id AS payer, b.id AS payee, properties(d) AS p\n"
            f"UNION ALL\n"
            f"MATCH (b:{m.ENTITY})-[:{m.RAISED}]->(d:{m.ROUND})\nWHERE {want}\n"
            f"RETURN null AS payer, b.id AS payee, properties(d) AS p")


_METRICS_Q = f"MATCH (x:{m.METRIC}) RETURN properties(x) AS p"
_ENTITIES_Q = f"MATCH (e:{m.ENTITY}) RETURN e.id AS id, e.name AS name, e.kind AS kind"


def _table(rows: list[dict], table: str) -> pd.DataFrame:
    """Rows as a frame with the store table's columns and dtypes."""
    from dealgraph.graph.store import as_table

    return as_table(pd.DataFrame.from_records(rows, columns=list(TABLES[table].names)), table)


def _deal_frame(records: list[dict]) -> pd.DataFrame:
    rows = [{**r["p"], "payer": r["payer"], "payee": r["payee"]} for r in records]
    df = _table(rows, "deals")
    for col in (f"{c}_usd{e}" for c in _FIGURES for e in ("", "_low", "_high")):
        # the store's deals also carry each figure (and its interval) in US dollars
        df[col] = pd.to_numeric(pd.Series([r["p"].get(col) for r in records], dtype=object),
                                errors="coerce").astype("float64").to_numpy()
    # store order (primary key): queries that keep "the first" of equals rely on it
    return df.sort_values("deal_id", kind="stable").reset_index(drop=True)


def view_statements(*, as_of=None, status=None, types_=None) -> list[Statement]:
    """The four reads :func:`server_view` runs; ``types_``: deal types the query needs."""
    params = {**filter_params(as_of, status), "types": list(types_ or DEAL_TYPES)}
    return [Statement("the deals the query sees (filters and wanted types or figures on the server)",
                      _deals_query(True), params),
            Statement("every deal carrying a metric figure (they become metric observations)",
                      _deals_query(False)),
            Statement("the :Metric nodes", _METRICS_Q),
            Statement("the entities (ids, names, kinds)", _ENTITIES_Q)]


def server_view(driver: neo4j.Driver, *, database=None, as_of=None, status=None, types_=None,
                timeout=None):
    """A read-only store-like object (``deals``, ``metrics``, ``entities``) holding
    what the server selected; ``types_``: deal types the query needs."""
    from dealgraph.graph.store import observations

    sel, carry, mets, ents_ = (read(driver, s.text, s.params, database=database, timeout=timeout)
                               for s in view_statements(as_of=as_of, status=status, types_=types_))
    deals = _deal_frame(sel)
    carriers = _deal_frame(carry)
    own = _table([r["p"] for r in mets], "metrics")
    ents = pd.DataFrame(ents_, columns=["id", "name", "kind"]).astype("string")
    # the store's own rule turns deal-carried figures into observations; run it on the carriers
    metrics = observations(own, carriers)
    return types.SimpleNamespace(deals=deals, metrics=metrics, entities=ents)


def _types(name: str, options: dict) -> list[str]:
    """The deal types query ``name`` reads from the server."""
    if name == "multiples":
        return list(DEAL_TYPES) if options.get("all_deals") or options.get("deal") else list(EXIT_TYPES)
    return list(EXIT_TYPES + ROUND_TYPES)


def statements_for(name: str):
    """``statements(**options)`` of query ``name`` (multiples, returns, rounds, deal-comparisons)."""
    def statements(*, as_of=None, status=None, **options) -> list[Statement]:
        return view_statements(as_of=as_of, status=status, types_=_types(name, options))
    statements.__doc__ = f"The Cypher {name} runs on the server (the formulas run on its rows)."
    return statements


def _run(embedded, types_, driver, *, database=None, as_of=None, status=None, timeout=None, **options):
    view = server_view(driver, database=database, as_of=as_of, status=status, types_=types_, timeout=timeout)
    return embedded(view, as_of=as_of, status=status, **options)


multiples_statements = statements_for("multiples")
returns_statements = statements_for("returns")
rounds_statements = statements_for("rounds")
deal_comparisons_statements = statements_for("deal-comparisons")


def multiples(driver, *, database=None, as_of=None, status=None, timeout=None, **options) -> pd.DataFrame:
    """Same table as :func:`dealgraph.queries.multiples.multiples`."""
    from dealgraph.queries.multiples import multiples as embedded

    return _run(embedded, _types("multiples", options), driver, database=database, as_of=as_of, status=status,
                timeout=timeout,                **options)


def returns(driver, *, database=None, as_of=None, status=None, timeout=None, **options) -> pd.DataFrame:
    """Same table as :func:`dealgraph.queries.returns.returns`."""
    from dealgraph.queries.returns import returns as embedded

    return _run(embedded, _types("returns", options), driver, database=database, as_of=as_of,
                status=status, timeout=timeout, **options)


def rounds(driver, *, database=None, as_of=None, status=None, timeout=None, **options) -> pd.DataFrame:
    """Same table as :func:`dealgraph.queries.returns.rounds`."""
    from dealgraph.queries.returns import rounds as embedded

    return _run(embedded, _types("returns", options), driver, database=database, as_of=as_of,
                status=status, timeout=timeout, **options)


def deal_comparisons(driver, *, database=None, as_of=None, status=None, timeout=None, **options) -> pd.DataFrame:
    """Same table as :func:`dealgraph.queries.comparisons.deal_comparisons`."""
    from dealgraph.queries.comparisons import deal_comparisons as embedded

    return _run(embedded, _types("returns", options), driver, database=database, as_of=as_of,
                status=status, timeout=timeout, **options)
