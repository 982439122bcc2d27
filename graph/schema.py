"""The dealgraph data model, declared once.

Everything else (the CSV loader, the SQLite store, the graph builders, the
Neo4j backend, the views) reads these declarations instead of repeating them.

* An **entity** is a company, investor, fund, lender, person or government.
* A **deal** is money flowing from ``payer`` to ``payee``. Each deal type says
  who pays whom and what flows back the other way (equity, a licence, ...).
* A **metric observation** is a figure about an entity at a date (revenue,
  market cap, valuation) with its currency and source.
* An **FX rate** converts one unit of a currency to US dollars at a date.
"""

from __future__ import annotations

from dataclasses import dataclass

ENTITY_KINDS: tuple[str, ...] = ("company", "investor", "fund", "lender", "person", "government")


@dataclass(frozen=True)
class DealType:
    """One kind of deal: the direction of its money and what flows back."""

    name: str
    payer_role: str  # who pays
    payee_role: str  # who is paid
    flows_back: str  # what the payer receives in return
    neo4j_type: str  # relationship type in Neo4j (an allow-list: never user text)
    exit_like: bool  # does the payer buy out (part of) the payee's owners?


DEAL_TYPES: dict[str, DealType] = {
    t.name: t
    for t in (
        DealType("funding_round", "investor", "company", "equity", "INVESTED_IN", False),
        DealType("investment", "investor", "company", "equity", "INVESTED_IN", False),
        DealType("acquisition", "acquirer", "target", "ownership", "ACQUIRED", True),
        DealType("stake", "acquirer", "target", "equity stake", "BOUGHT_STAKE_IN", True),
        DealType("license", "licensee", "licensor", "IP licence", "LICENSED", True),
        DealType("acquihire", "acquirer", "target", "team", "ACQUIHIRED", True),
        DealType("chip_purchase", "buyer", "chip maker", "chips", "BOUGHT_CHIPS_FROM", False),
        DealType("compute_contract", "customer", "cloud provider", "compute", "BUYS_COMPUTE_FROM", False),
        DealType("debt_financing", "lender", "borrower", "debt claim", "LENT_TO", False),
    )
}

STATUSES: tuple[str, ...] = ("completed", "announced", "in_talks", "rumoured", "terminated")
DEFAULT_STATUS = "completed"
#: Statuses that are reported but flagged as not (yet) real money.
TENTATIVE_STATUSES: tuple[str, ...] = ("in_talks", "rumoured")

#: How a stated amount relates to the true one.
QUALIFIERS: tuple[str, ...] = ("exact", "approx", "up_to", "at_least")

METRICS: tuple[str, ...] = ("revenue", "market_cap", "post_money_valuation", "valuation")

#: Deal columns that are really observations about one side of the deal at the
#: deal date: column -> (metric, which side).
DEAL_METRIC_COLUMNS: dict[str, tuple[str, str]] = {
    "target_revenue": ("revenue", "payee"),
    "acquirer_market_cap": ("market_cap", "payer"),
    "post_money_valuation": ("post_money_valuation", "payee"),
}

DEFAULT_CURRENCY = "USD"

# ---------------------------------------------------------------------------
# CSV files. A file's kind is recognised by its header (loaders.csv.detect_kind).
# ---------------------------------------------------------------------------

DEAL_COLUMNS: tuple[str, ...] = (
    "deal_id", "date", "type", "payer", "payee", "amount", "currency", "status", "stake_pct",
    "post_money_valuation", "target_revenue", "acquirer_market_cap", "source", "notes",
)
DEAL_REQUIRED: tuple[str, ...] = ("date", "type", "payee")

ENTITY_COLUMNS: tuple[str, ...] = ("id", "name", "kind", "aliases", "ticker", "country", "source", "notes")
ENTITY_REQUIRED: tuple[str, ...] = ("id", "name", "kind")

METRIC_COLUMNS: tuple[str, ...] = ("entity", "metric", "date", "value", "currency", "source", "notes")
METRIC_REQUIRED: tuple[str, ...] = ("entity", "metric", "date", "value")

FX_COLUMNS: tuple[str, ...] = ("currency", "date", "usd_per_unit", "source")
FX_REQUIRED: tuple[str, ...] = ("currency", "date", "usd_per_unit")

FILE_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (all columns, required columns)
    "deals": (DEAL_COLUMNS, DEAL_REQUIRED),
    "entities": (ENTITY_COLUMNS, ENTITY_REQUIRED),
    "metrics": (METRIC_COLUMNS, METRIC_REQUIRED),
    "fx": (FX_COLUMNS, FX_REQUIRED),
}

def relationship_type(deal_type: str) -> str:
    """Neo4j relationship type for a deal type, from the allow-list only."""
    return DEAL_TYPES[deal_type].neo4j_type


def entity_label(kind: str) -> str:
    """Neo4j label for an entity kind (``company`` -> ``Company``), allow-listed."""
    if kind not in ENTITY_KINDS:
        raise ValueError(f"unknown entity kind {kind!r}")
    return kind.capitalize()
