"""The dealgraph data model, declared once.

Everything else (the CSV loader and validation, the store, export, the graph
builders, Neo4j push and pull, the views, the README) reads these declarations
instead of repeating them; ``tests/test_schema.py`` fails when a module restates
a table's column list, or when the README's data model or CSV reference drift
from what is declared here.

* An **entity** is a company, investor, fund, lender, person or government.
* A **deal** is a relation between ``payer`` and ``payee``. Each deal type declares
  its flows: what flows from payer to payee (money, or nothing), what flows back the
  other way (equity, a licence, ...), and whether it is directed. The nine money
  types send money payer -> payee; ``partnership`` is undirected and moves no money
  (its payer/payee columns name the two parties, order irrelevant); ``warrant``
  grants equity without cash. Money queries read only :data:`MONEY_TYPES`.
* A **metric observation** is a figure about an entity at a date (revenue,
  market cap, valuation) with its currency and source.
* An **FX rate** converts one unit of a currency to US dollars at a date.
* An **observation** is one source's figure for a deal field or an entity metric,
  with its publication date, confidence and quote: several sources per fact.

How to read a table below: one :class:`Column` a line, in declaration order.

* ``csv=REQUIRED`` / ``csv=OPTIONAL``: a column of the table's CSV file (the
  file's columns are these, in this order; a required one must be in its header).
  Columns without ``csv`` are computed when rows are validated or resolved.
* ``key``: the table's key (several: a composite key, in declaration order). The
  store keeps a table key columns first, then the others in declaration order.
* ``amount``: a money figure, typed as people write amounts (``~$20bn``, ``1-2bn``);
  the column named ``<name>_qualifier`` beside it says how the figure relates to the
  true one (:data:`QUALIFIERS`), and ``<name>_usd`` is the figure in US dollars.
  Every amount also gets two generated columns, ``<name>_low`` and ``<name>_high``
  (REAL, right after the qualifier; ``bound``): the figure's interval (a point has
  low = high; see ``loaders.amounts`` for what ``up_to``/``at_least`` mean). A
  segment stores them only for ``range`` figures; for the others they follow from
  the figure and its qualifier whenever rows are read. When ``<name>_usd`` is
  declared ``derived``, ``<name>_usd_low`` / ``<name>_usd_high`` are generated after
  it, derived from the bounds likewise.
* ``derived=(a, b)``: always ``a * b``, computed whenever rows are read or
  written, never stored in segments (the USD figures).
* ``encoded``: kept dictionary-encoded in Arrow: far fewer distinct values than
  rows, validation and resolution yield it encoded at little cost, and a
  dictionary column is a fraction of the bytes to compress, write and read back.
* ``narrowed``: the Arrow integer type a segment stores the column in (narrower
  than the table's int64; with derived columns left out, a tenth of the bytes).
* ``default``: the value of a row that lacks the column (else empty/null, 0 for
  INTEGER).
* ``identity``: part of the content a deal's id is derived from when the file
  leaves ``deal_id`` empty (see ``loaders.validate``): never change these.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

ENTITY_KINDS: tuple[str, ...] = ("company", "investor", "fund", "lender", "person", "government")


#: What flows from payer to payee on a deal type: money, or nothing (a partnership, a warrant).
MONEY, NOTHING = "money", "nothing"


@dataclass(frozen=True)
class DealType:
    """One kind of deal: its flows (what goes payer -> payee, what flows back) and
    whether it has a direction.

    ``flows = MONEY``: the payer pays the payee (a money edge of every money query).
    ``flows = NOTHING``: no money moves; such a deal is never a money edge, has no
    amount (refused), and only ``--include`` brings it into a query. ``directed =
    False``: payer and payee are just the two parties, in no order (the store keeps
    them in id order, and a deal's derived id does not depend on their order)."""

    name: str
    payer_role: str  # who pays (an undirected type: "party")
    payee_role: str  # who is paid
    flows_back: str  # what the payer receives in return ("nothing" when nothing does)
    neo4j_type: str  # relationship type in Neo4j (an allow-list: never user text)
    exit_like: bool  # does the payer buy out (part of) the payee's owners?
    payer_optional: bool = False  # may the payer be empty (a round with no single named investor)?
    flows: str = MONEY  # what flows payer -> payee: MONEY or NOTHING
    directed: bool = True  # False: the two parties in no order (a partnership)

    @property
    def flow_text(self) -> str:
        """What flows payer -> payee, for people: ``money``, ``nothing``, ``nothing, undirected``."""
        return self.flows + ("" if self.directed else ", undirected")

    @property
    def money(self) -> bool:
        """Does money flow payer -> payee (is the deal a money edge)?"""
        return self.flows == MONEY

    @property
    def is_round(self) -> bool:
        """Raises equity for the payee without buying owners out: a "round"."""
        return self.flows_back == "equity" and not self.exit_like


DEAL_TYPES: dict[str, DealType] = {
    t.name: t
    for t in (
        DealType("funding_round", "investor", "company", "equity", "INVESTED_IN", False, payer_optional=True),
        DealType("investment", "investor", "company", "equity", "INVESTED_IN", False),
        DealType("acquisition", "acquirer", "target", "ownership", "ACQUIRED", True),
        DealType("stake", "acquirer", "target", "equity stake", "BOUGHT_STAKE_IN", True),
        DealType("license", "licensee", "licensor", "IP licence", "LICENSED", True),
        DealType("acquihire", "acquirer", "target", "team", "ACQUIHIRED", True),
        DealType("chip_purchase", "buyer", "chip maker", "chips", "BOUGHT_CHIPS_FROM", False),
        DealType("compute_contract", "customer", "cloud provider", "compute", "BUYS_COMPUTE_FROM", False),
        DealType("debt_financing", "lender", "borrower", "debt claim", "LENT_TO", False),
        DealType("partnership", "party", "party", NOTHING, "PARTNERS_WITH", False, flows=NOTHING, directed=False),
        DealType("warrant", "holder", "issuer", "equity (warrant)", "HOLDS_WARRANT_IN", False, flows=NOTHING),
    )
}
#: Deal types in which money flows payer -> payee: the edges of every money query.
MONEY_TYPES: tuple[str, ...] = tuple(n for n, t in DEAL_TYPES.items() if t.money)
#: Deal types in which no money flows (partnership, warrant): links a query adds only on ``--include``.
NON_MONEY_TYPES: tuple[str, ...] = tuple(n for n, t in DEAL_TYPES.items() if not t.money)
#: Deal types whose two parties have no order (payer/payee name them in id order).
UNDIRECTED_TYPES: tuple[str, ...] = tuple(n for n, t in DEAL_TYPES.items() if not t.directed)
#: Deal types in which the payer buys out (part of) the payee's owners.
EXIT_TYPES: tuple[str, ...] = tuple(n for n, t in DEAL_TYPES.items() if t.exit_like)
#: Deal types that raise equity for the payee without buying owners out
#: (funding_round, investment): these are "rounds".
ROUND_TYPES: tuple[str, ...] = tuple(n for n, t in DEAL_TYPES.items() if t.is_round)
#: Deal types whose payer may be left empty.
PAYER_OPTIONAL_TYPES: tuple[str, ...] = tuple(n for n, t in DEAL_TYPES.items() if t.payer_optional)

STATUSES: tuple[str, ...] = ("completed", "announced", "in_talks", "rumoured", "terminated")
DEFAULT_STATUS = "completed"
#: Statuses that are reported but flagged as not (yet) real money.
TENTATIVE_STATUSES: tuple[str, ...] = ("in_talks", "rumoured")

#: How sure a figure is, from its kind of source, best first (distinct from ``status``, which
#: says where a deal is in its life): ``confirmed`` -- a filing or the parties' own
#: announcement; ``reported`` -- the press, citing documents or people; ``estimated`` -- a
#: figure the source itself calls an estimate or projection; ``rumoured`` -- talk, unconfirmed.
#: A deal's ``confidence`` covers its row's figures; an observation has its own.
CONFIDENCES: tuple[str, ...] = ("confirmed", "reported", "estimated", "rumoured")
#: The confidence of a deal or observation that leaves it empty: most rows cite the press.
DEFAULT_CONFIDENCE = "reported"

#: How a stated amount relates to the true one. Stored as a dictionary column over
#: these values, in this order.
QUALIFIERS: tuple[str, ...] = ("exact", "approx", "up_to", "at_least", "range")

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
# Tables: what the store keeps, and the CSV file of each kind.
# ---------------------------------------------------------------------------

TEXT, REAL, INTEGER = "TEXT", "REAL", "INTEGER"  # SQLite affinities (Arrow: string, float64, int64)
REQUIRED, OPTIONAL = "required", "optional"  # a CSV column's presence in the header


@dataclass(frozen=True)
class Column:
    """One column of a table (see the module docstring for each flag)."""

    name: str
    type: str  # TEXT, REAL or INTEGER
    csv: str | None = None  # REQUIRED, OPTIONAL, or None: not a CSV column
    key: bool = False
    amount: bool = False
    derived: tuple[str, str] | None = None
    encoded: bool = False
    narrowed: str | None = None  # an Arrow type alias: "int32", "int8"
    default: str | None = None
    identity: bool = False
    bound: str | None = None  # generated: "low" or "high" end of the amount this column's name starts with


def with_bounds(declared: tuple[Column, ...]) -> tuple[Column, ...]:
    """``declared`` with the generated interval columns of every amount (module docstring):
    ``X_low``, ``X_high`` after ``X_qualifier``; ``X_usd_low``, ``X_usd_high`` after a
    derived ``X_usd``."""
    amounts = {c.name for c in declared if c.amount}
    out: list[Column] = []
    for c in declared:
        out.append(c)
        base = c.name[:-len("_qualifier")] if c.name.endswith("_qualifier") else None
        if base in amounts:
            out += [Column(f"{base}_{end}", REAL, bound=end) for end in ("low", "high")]
        if c.derived and c.name.endswith("_usd") and c.name[:-4] in amounts:
            x, rate = c.derived
            out += [Column(f"{c.name}_{end}", REAL, derived=(f"{x}_{end}", rate)) for end in ("low", "high")]
    return tuple(out)


@dataclass(frozen=True)
class Table:
    """A store table, which is also a kind of CSV file (recognised by its header).
    The views below are computed once (the store reads them on every add)."""

    name: str
    declared: tuple[Column, ...]
    #: Validation refuses a key repeated with other values in one file and drops
    #: exact repeats, so validated rows have unique keys.
    unique_in_file: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "declared", with_bounds(self.declared))
        names = [c.name for c in self.declared]
        for c in self.declared:
            if c.amount and f"{c.name}_qualifier" not in names:
                raise ValueError(f"{self.name}.{c.name}: an amount needs a {c.name}_qualifier column")
            if c.derived and not set(c.derived) <= set(names):
                raise ValueError(f"{self.name}.{c.name}: derived from unknown columns {c.derived}")

    @cached_property
    def columns(self) -> tuple[Column, ...]:
        """The stored columns in storage order: the key, then the rest as declared."""
        return tuple(c for c in self.declared if c.key) + tuple(c for c in self.declared if not c.key)

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Names of the stored columns, in storage order."""
        return tuple(c.name for c in self.columns)

    @cached_property
    def types(self) -> dict[str, str]:
        """Stored column -> TEXT / REAL / INTEGER, in storage order."""
        return {c.name: c.type for c in self.columns}

    @cached_property
    def key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.declared if c.key)

    @cached_property
    def csv_columns(self) -> tuple[str, ...]:
        """The columns of this kind of CSV file, in file (and export) order."""
        return tuple(c.name for c in self.declared if c.csv)

    @cached_property
    def csv_required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.declared if c.csv == REQUIRED)

    @cached_property
    def amounts(self) -> tuple[str, ...]:
        """Money figures: each has ``<name>_qualifier`` and ``<name>_usd`` beside it."""
        return tuple(c.name for c in self.declared if c.amount)

    @cached_property
    def derived(self) -> dict[str, tuple[str, str]]:
        """Column -> its two factors, for the columns computed as a product."""
        return {c.name: c.derived for c in self.declared if c.derived}

    @cached_property
    def bounds(self) -> dict[str, tuple[str, str]]:
        """Generated interval column -> (its amount, ``low`` or ``high``)."""
        return {c.name: (c.name[:-len(c.bound) - 1], c.bound) for c in self.declared if c.bound}

    @cached_property
    def encoded(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.declared if c.encoded)

    @cached_property
    def narrowed(self) -> dict[str, str]:
        return {c.name: c.narrowed for c in self.declared if c.narrowed}

    @cached_property
    def identity(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.declared if c.identity)


# One line a column. Flags: see the module docstring.
DEALS = Table("deals", unique_in_file=True, declared=(
    Column("deal_id",                        TEXT,    csv=OPTIONAL, key=True),
    Column("date",                           TEXT,    csv=REQUIRED, encoded=True, identity=True),
    Column("date_key",                       INTEGER, narrowed="int32"),  # yyyymmdd, zeros for missing parts
    Column("date_precision",                 INTEGER, narrowed="int8"),  # 1 year, 2 month, 3 day
    Column("type",                           TEXT,    csv=REQUIRED, encoded=True, identity=True),
    Column("payer",                          TEXT,    csv=OPTIONAL, encoded=True, identity=True),
    Column("payee",                          TEXT,    csv=REQUIRED, encoded=True, identity=True),
    Column("amount",                         REAL,    csv=OPTIONAL, amount=True, identity=True),
    Column("amount_qualifier",               TEXT,    encoded=True, identity=True),
    Column("currency",                       TEXT,    csv=OPTIONAL, encoded=True, identity=True),
    Column("fx_rate",                        REAL),  # USD per unit of the currency at the deal date
    Column("fx_date",                        TEXT,    encoded=True),  # the date of that rate
    Column("amount_usd",                     REAL,    derived=("amount", "fx_rate")),
    Column("status",                         TEXT,    csv=OPTIONAL, encoded=True, identity=True),
    Column("stake_pct",                      REAL,    csv=OPTIONAL, identity=True),
    Column("post_money_valuation",           REAL,    csv=OPTIONAL, amount=True),
    Column("post_money_valuation_qualifier", TEXT,    encoded=True),
    Column("target_revenue",                 REAL,    csv=OPTIONAL, amount=True),
    Column("target_revenue_qualifier",       TEXT,    encoded=True),
    Column("acquirer_market_cap",            REAL,    csv=OPTIONAL, amount=True),
    Column("acquirer_market_cap_qualifier",  TEXT,    encoded=True),
    Column("source",                         TEXT,    csv=OPTIONAL, encoded=True),
    Column("notes",                          TEXT,    csv=OPTIONAL, encoded=True),
    Column("extra",                          TEXT,    encoded=True, default="{}"),  # other CSV columns, as JSON
    Column("confidence",                     TEXT,    csv=OPTIONAL, encoded=True, default=DEFAULT_CONFIDENCE),
))

ENTITIES = Table("entities", unique_in_file=True, declared=(
    Column("id",      TEXT, csv=REQUIRED, key=True),  # a lowercase slug
    Column("name",    TEXT, csv=REQUIRED),
    Column("kind",    TEXT, csv=REQUIRED),  # one of ENTITY_KINDS
    Column("aliases", TEXT, csv=OPTIONAL),  # ";"-separated
    Column("ticker",  TEXT, csv=OPTIONAL),
    Column("country", TEXT, csv=OPTIONAL),
    Column("source",  TEXT, csv=OPTIONAL),
    Column("notes",   TEXT, csv=OPTIONAL),
    Column("extra",   TEXT, default="{}"),
))

#: A sourced figure, as a metric observation and a sources-file observation both hold it:
#: the value as written, its currency, and the rate that makes it US dollars.
_VALUE_IN_USD = (
    Column("value",           REAL,    csv=REQUIRED, amount=True),
    Column("value_qualifier", TEXT),
    Column("currency",        TEXT,    csv=OPTIONAL),
    Column("fx_rate",         REAL),
    Column("value_usd",       REAL,    derived=("value", "fx_rate")),
)

METRIC_OBSERVATIONS = Table("metrics", declared=(
    Column("entity",          TEXT,    csv=REQUIRED, key=True),
    Column("metric",          TEXT,    csv=REQUIRED, key=True),  # one of METRICS
    Column("date",            TEXT,    csv=REQUIRED, key=True),
    Column("date_key",        INTEGER),
    Column("date_precision",  INTEGER),
    *_VALUE_IN_USD,
    Column("source",          TEXT,    csv=OPTIONAL, key=True),
    Column("notes",           TEXT,    csv=OPTIONAL),
    Column("extra",           TEXT,    default="{}"),
))

FX_RATES = Table("fx", declared=(
    Column("currency",       TEXT,    csv=REQUIRED, key=True),
    Column("date",           TEXT,    csv=REQUIRED, key=True),
    Column("date_key",       INTEGER),
    Column("date_precision", INTEGER),
    Column("usd_per_unit",   REAL,    csv=REQUIRED),
    Column("source",         TEXT,    csv=OPTIONAL),
))

#: Deal fields an observation may give (besides the entity metrics of METRICS).
OBSERVED_DEAL_FIELDS: tuple[str, ...] = ("amount", "stake_pct", "post_money_valuation", "target_revenue",
                                         "acquirer_market_cap")

#: One source's figure for a deal field or an entity metric (see ``queries.observations``
#: for which figure a query uses). ``subject``: a deal id, or an entity (id, name or alias;
#: stored as its id). ``as_of``: the date an entity metric is at (required for those, empty
#: for a deal field: the deal's date). ``value`` is in the deal's currency for a deal field.
OBSERVATIONS = Table("observations", declared=(
    Column("subject",             TEXT,    csv=REQUIRED, key=True),
    Column("field",               TEXT,    csv=REQUIRED, key=True),  # OBSERVED_DEAL_FIELDS or METRICS
    Column("as_of",               TEXT,    csv=OPTIONAL, key=True),
    Column("as_of_key",           INTEGER),
    Column("as_of_precision",     INTEGER),
    *_VALUE_IN_USD,
    Column("source",              TEXT,    csv=REQUIRED, key=True),  # the publisher (and title)
    Column("url",                 TEXT,    csv=OPTIONAL),
    Column("published",           TEXT,    csv=OPTIONAL),  # YYYY-MM-DD, YYYY-MM or YYYY
    Column("published_key",       INTEGER),
    Column("published_precision", INTEGER),
    Column("confidence",          TEXT,    csv=OPTIONAL, default=DEFAULT_CONFIDENCE),  # one of CONFIDENCES
    Column("quote",               TEXT,    csv=OPTIONAL),
    Column("notes",               TEXT,    csv=OPTIONAL),
    Column("extra",               TEXT,    default="{}"),
))

#: Every table (and kind of CSV file), in the order the README describes them.
TABLES: dict[str, Table] = {t.name: t for t in (DEALS, ENTITIES, METRIC_OBSERVATIONS, FX_RATES, OBSERVATIONS)}
#: Kinds in the order a batch applies them: what deals and metrics refer to comes first.
APPLY_ORDER: tuple[str, ...] = ("entities", "fx", "deals", "metrics", "observations")

DEAL_COLUMNS: tuple[str, ...] = DEALS.csv_columns
ENTITY_COLUMNS: tuple[str, ...] = ENTITIES.csv_columns
METRIC_COLUMNS: tuple[str, ...] = METRIC_OBSERVATIONS.csv_columns
FX_COLUMNS: tuple[str, ...] = FX_RATES.csv_columns
OBSERVATION_COLUMNS: tuple[str, ...] = OBSERVATIONS.csv_columns
#: kind -> (all CSV columns, required CSV columns).
FILE_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    k: (t.csv_columns, t.csv_required) for k, t in TABLES.items()}


def relationship_type(deal_type: str) -> str:
    """Neo4j relationship type for a deal type, from the allow-list only."""
    return DEAL_TYPES[deal_type].neo4j_type


def entity_label(kind: str) -> str:
    """Neo4j label for an entity kind (``company`` -> ``Company``), allow-listed."""
    if kind not in ENTITY_KINDS:
        raise ValueError(f"unknown entity kind {kind!r}")
    return kind.capitalize()
