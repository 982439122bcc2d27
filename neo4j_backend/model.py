"""How dealgraph's data is laid out in Neo4j (labels, types, constraints).

::

    (:Entity:Company {id, name, kind, aliases, ticker, country, source, notes})
        -[:INVESTED_IN | ACQUIRED | BOUGHT_STAKE_IN | LICENSED | ACQUIHIRED |
          BOUGHT_CHIPS_FROM | BUYS_COMPUTE_FROM | LENT_TO {deal_id, type, date, amount_usd, ...}]->
    (:Entity:Company)                                    one relationship per deal, payer -> payee

    (:Entity)-[:PARTNERS_WITH {deal_id, type, date, ...}]->(:Entity)
                                                         a partnership: undirected, stored from the
                                                         smaller id to the other; match it as -[]-
    (:Entity)-[:HOLDS_WARRANT_IN {...}]->(:Entity)       a warrant: holder -> issuer, no money

    (:Entity)-[:RAISED]->(:Round {deal_id, type, date, post_money_valuation, ...})
                                                         a funding round with no named payer
    (:Entity)-[:HAS_METRIC]->(:Metric {entity, metric, date, source, value, value_usd, ...})
    (:FxRate {currency, date, usd_per_unit, source})

* Every label and relationship type here comes from :mod:`dealgraph.graph.schema`
  (an allow-list) or is a constant of this module: user text never becomes a label
  or a type, it is only ever a parameter value.
* A deal's relationship (or :Round node) carries every deal column of the store
  under the same name; missing values are absent properties (Neo4j has no null).
  Dates are the stored text (``2024-08``) plus ``date_key`` (yyyymmdd, zeros for
  missing parts) and ``date_precision`` (1 year, 2 month, 3 day) for comparisons.
  ``extra`` is a JSON object of non-schema CSV columns, absent when empty.
* "dealgraph's own nodes" (what ``push --replace`` deletes) are exactly the nodes
  labelled ``Entity``, ``Round``, ``Metric`` or ``FxRate`` (deleting them removes
  their relationships too); nothing else on the server is touched.
"""

from __future__ import annotations

from dealgraph.graph.schema import DEAL_TYPES, ENTITY_KINDS, MONEY_TYPES, TABLES, entity_label, relationship_type

ENTITY = "Entity"
ROUND = "Round"
METRIC = "Metric"
FXRATE = "FxRate"
RAISED = "RAISED"
HAS_METRIC = "HAS_METRIC"
OWN_LABELS: tuple[str, ...] = (ENTITY, ROUND, METRIC, FXRATE)
#: Property holding a row's fingerprint (``push.fingerprints``): what an incremental push
#: compares to send only changed rows. Not a store column (pull ignores it).
FINGERPRINT = "_fp"
#: Part of every fingerprint: bump it when the layout of pushed rows changes, so the next push
#: rewrites every row.
FINGERPRINT_VERSION = 1

KIND_LABELS: dict[str, str] = {k: entity_label(k) for k in ENTITY_KINDS}
#: Distinct relationship types of deals (funding_round and investment share INVESTED_IN).
DEAL_REL_TYPES: tuple[str, ...] = tuple(dict.fromkeys(relationship_type(t) for t in DEAL_TYPES))
#: Those of the deal types in which money flows: what the Cypher money queries match
#: (``PARTNERS_WITH`` and ``HOLDS_WARRANT_IN`` move no money and are left out).
MONEY_REL_TYPES: tuple[str, ...] = tuple(dict.fromkeys(relationship_type(t) for t in MONEY_TYPES))

#: Composite keys of :Metric and :FxRate nodes: the store's keys of those tables.
METRIC_KEY: tuple[str, ...] = TABLES["metrics"].key
FX_KEY: tuple[str, ...] = TABLES["fx"].key


def constraints() -> list[str]:
    """``CREATE CONSTRAINT ... IF NOT EXISTS`` statements (all Community-edition features:
    node and relationship property uniqueness, single or composite). Uniqueness also
    creates the index every ``MERGE`` below looks up."""
    out = [
        f"CREATE CONSTRAINT dealgraph_entity_id IF NOT EXISTS FOR (n:{ENTITY}) REQUIRE n.id IS UNIQUE",
        f"CREATE CONSTRAINT dealgraph_round_deal_id IF NOT EXISTS FOR (n:{ROUND}) REQUIRE n.deal_id IS UNIQUE",
        f"CREATE CONSTRAINT dealgraph_metric_key IF NOT EXISTS FOR (n:{METRIC}) "
        f"REQUIRE ({', '.join('n.' + k for k in METRIC_KEY)}) IS UNIQUE",
        f"CREATE CONSTRAINT dealgraph_fxrate_key IF NOT EXISTS FOR (n:{FXRATE}) "
        f"REQUIRE ({', '.join('n.' + k for k in FX_KEY)}) IS UNIQUE",
    ]
    for rel in DEAL_REL_TYPES:
        out.append(f"CREATE CONSTRAINT dealgraph_{rel.lower()}_deal_id IF NOT EXISTS "
                   f"FOR ()-[r:{rel}]-() REQUIRE r.deal_id IS UNIQUE")
    return out
