"""The canned queries by name: function, one-line description, options.

Used by the CLI (``dealgraph queries`` / ``dealgraph query NAME``), the HTML
report and the Neo4j backend, so a query is declared once. Every query is a
function ``f(store, *, <options>, as_of=None, status=None) -> DataFrame``; the
options listed here are the ones besides ``as_of`` / ``status``
(:data:`COMMON_OPTIONS`), which every query takes.

An option's ``type`` is one of ``int``, ``float``, ``bool`` (a flag), ``str``
or ``entity`` (an entity id; the CLI also accepts a name or alias and resolves
it). ``argument=True`` makes it positional on the command line
(``dealgraph query rounds groq``).

Each query also declares its terminal-table :class:`~dealgraph.queries.output.Layout`:
which columns matter most when the terminal is narrow, which hold entity ids to show
as names, what a row is called and which money column the summary line totals.

Definitions and formulas: ``docs/queries.md`` (a test fails when a query
registered here is not documented there) and each module's docstring.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd

from dealgraph.errors import QueryError
from dealgraph.queries.output import Layout


@dataclass(frozen=True)
class Option:
    """One keyword option of a query."""

    name: str                # Python keyword, e.g. "max_length"
    type: str                # int | float | bool | str | entity
    default: Any = None
    help: str = ""
    argument: bool = False   # positional on the CLI
    required: bool = False
    minimum: float | None = None  # smallest value allowed (checked by Query.run: a QueryError below it)

    @property
    def flag(self) -> str:
        """The CLI spelling, ``--max-length``."""
        return "--" + self.name.replace("_", "-")

    def convert(self, value: Any) -> Any:
        """``value`` (e.g. text from a form) as this option's Python type."""
        if value is None or value == "":
            return None if self.type != "bool" else False
        if self.type == "int":
            return int(value)
        if self.type == "float":
            return float(value)
        if self.type == "bool":
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        return str(value)


@dataclass(frozen=True)
class Query:
    """A canned query: ``name`` -> ``target`` (``"module:function"``)."""

    name: str
    target: str
    description: str
    options: tuple[Option, ...] = ()
    layout: Layout = Layout()

    @property
    def function(self) -> Callable[..., pd.DataFrame]:
        # imported on use: a query module is loaded only when that query runs
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)

    def defaults(self) -> dict[str, Any]:
        return {o.name: o.default for o in self.options}

    def run(self, store, **options) -> pd.DataFrame:
        """Run on ``store`` with ``options`` (unknown names raise ``TypeError``)."""
        known = {o.name for o in self.options} | {o.name for o in COMMON_OPTIONS}
        unknown = set(options) - known
        if unknown:
            raise TypeError(f"query {self.name!r} has no option(s) {', '.join(sorted(unknown))}")
        for o in self.options:
            if o.required and options.get(o.name) is None:
                raise TypeError(f"query {self.name!r} needs {o.name}")
            value = options.get(o.name)
            if o.minimum is not None and value is not None and value < o.minimum:
                raise QueryError(f"{o.name} must be at least {o.minimum:g}, not {value:g}")
        from dealgraph.queries.observations import effective

        return self.function(effective(store, options.pop("min_confidence", None)), **options)


COMMON_OPTIONS: tuple[Option, ...] = (
    Option("as_of", "str", None, "Only deals dated on or before DATE (YYYY, YYYY-MM or YYYY-MM-DD; "
                                 "partial dates compare at their common precision)."),
    Option("status", "str", None, "Comma-separated deal statuses, or 'all' (default: everything except "
                                  "terminated; in_talks/rumoured included and marked)."),
    Option("min_confidence", "str", None, "Only deals and sourced figures of this confidence or better "
                                          "(confirmed > reported > estimated > rumoured; default: all)."),
)

_ENTITY_ROWS = Option("entity", "entity", None, "Only this entity's row.")

QUERIES: dict[str, Query] = {q.name: q for q in (
    Query("circular-flows", "dealgraph.queries.circular:circular_flows",
          "Directed money cycles of length 2..k (parallel deals collapsed per hop), by bottleneck amount.",
          (Option("max_length", "int", 5, "Longest cycle, in hops (k)."),
           Option("temporal", "bool", False, "Only time-ordered cycles (a witness deal per hop, dates non-decreasing)."),
           Option("window", "int", None, "With --temporal: first-to-last deal within DAYS days (implies --temporal)."),
           Option("top", "int", 100, "Show the best N cycles by bottleneck."),
           Option("count_only", "bool", False, "Only count cycles per length."),
           Option("timeout", "float", 30.0, "Stop searching after SECONDS (results are then marked partial).",
                  minimum=0),
           Option("include", "str", None, "Also pass links that move no money: partnerships (either way) "
                                          "and/or warrants, comma-separated; marked ~ in the cycle and in 'via'.")),
          layout=Layout(("cycle", "bottleneck_usd", "length", "total_usd", "links", "time_ordered", "tentative",
                         "undisclosed_hops", "cycles", "via", "deal_ids", "witness", "hops"), names=("cycle", "via"),
                        noun="cycles")),
    Query("multiples", "dealgraph.queries.multiples:multiples",
          "Deal value / target revenue (the article's \"EV/revenue\"), implied valuation, % of acquirer market cap.",
          (Option("all_deals", "bool", False, "Every deal, not only exit-like deals and deals with the figures."),
           Option("deal", "str", None, "Only this deal id.")),
          layout=Layout(("payee", "amount_usd", "deal_to_revenue", "share_of_acquirer_cap_pct",
                         "implied_valuation_usd", "payer", "date", "deal_id", "target_revenue_usd",
                         "implied_ev_to_revenue", "acquirer_market_cap_usd", "type", "stake_pct", "status"),
                        names=("payer", "payee"), noun="deals", total="amount_usd")),
    Query("deal-comparisons", "dealgraph.queries.comparisons:deal_comparisons",
          "The article's comparison table: value, structure, multiple, % of acquirer cap, months from last raise.",
          (),
          layout=Layout(("deal", "value_usd", "deal_to_revenue", "share_of_acquirer_cap_pct",
                         "months_from_last_raise", "date", "structure", "target_revenue_usd",
                         "acquirer_market_cap_usd", "deal_id", "last_raise_date", "status"), noun="deals",
                        total="value_usd")),
    Query("returns", "dealgraph.queries.returns:returns",
          "Exit value vs each earlier round's post-money: multiple, months, annualised (compound and simple).",
          (Option("entity", "entity", None, "Only exits of this entity (the payee)."),
           Option("exit_deal", "str", None, "Only this exit deal id.")),
          layout=Layout(("entity", "exit_value_usd", "round_date", "round_post_money_usd", "multiple",
                         "months", "annualised_compound_pct", "exit_date", "exit_type", "last_round",
                         "annualised_simple_pct", "round_step_up", "exit_deal_id", "exit_status", "exit_basis",
                         "round_deal_ids"), names=("entity",), noun="exit/round pairs")),
    Query("rounds", "dealgraph.queries.returns:rounds",
          "An entity's round history with post-money valuations, step-ups and exits.",
          (Option("entity", "entity", None, "The entity.", argument=True, required=True),),
          layout=Layout(("date", "kind", "amount_usd", "valuation_usd", "step_up", "months_since_previous",
                         "investors", "valuation_basis", "status", "deal_ids", "types", "entity"),
                        names=("entity", "investors"),
                        noun="rounds")),
    Query("concentration", "dealgraph.queries.concentration:concentration",
          "Inflow by counterparty, top share, Herfindahl; --without X: what others lose if X stops paying.",
          (Option("without", "entity", None, "Show what each other entity loses without this payer "
                                              "(directly and via one intermediate)."),
           _ENTITY_ROWS),
          layout=Layout(("entity", "inflow_usd", "top_counterparty", "top_share_pct", "hhi", "counterparties",
                         "direct_loss_usd", "indirect_loss_usd", "loss_share_pct", "max_loss_share_pct",
                         "indirect_max_usd", "breakdown", "via", "without"),
                        names=("entity", "top_counterparty", "without"), noun="entities")),
    Query("round-trip", "dealgraph.queries.roundtrip:round_trip",
          "Share of each entity's inflow paid by entities it has paid (directly or within k-1 hops).",
          (Option("max_length", "int", 5, "Longest money cycle counted, in hops (k)."),
           _ENTITY_ROWS),
          layout=Layout(("entity", "share_pct", "returning_inflow_usd", "inflow_usd", "returning_payers",
                         "counterparties"), names=("entity",), noun="entities")),
    Query("circularity", "dealgraph.queries.circularity:circularity",
          "Cycles and circular volume vs a degree-preserving random rewiring: null mean, sd, exact p, z.",
          (Option("max_length", "int", 4, "Longest cycle, in hops (k)."),
           Option("samples", "int", 1000, "Null graphs drawn from the edge-swap chain (N)."),
           Option("seed", "int", 0, "Random seed (the same seed gives the same samples and p-values)."),
           Option("swaps", "float", 1.0, "Swap proposals per hop between two samples."),
           Option("burn_in", "float", 20.0, "Swap proposals per hop before the first sample."),
           Option("amounts", "str", "keep", "keep: a hop's amount stays with its payer through the swaps; "
                                            "permute: amounts shuffled over the hops in each sample."),
           Option("alpha", "float", 0.05, "Significance level of the verdict."),
           Option("top", "int", 20, "Show the N entities with the highest z (0: none)."),
           Option("timeout", "float", 300.0, "Stop sampling after SECONDS (the result says how many were drawn).")),
          layout=Layout(("scope", "figure", "observed", "null_mean", "p_value", "z", "verdict", "null_sd"),
                        names=("scope",), noun="figures", units="figure", in_units=("observed", "null_mean", "null_sd"),
                        group="scope")),
    Query("hubs", "dealgraph.queries.hubs:hubs",
          "Entities at the centre of the circular web: cycles through each, circular capacity (max flow back to "
          "itself), share of its flows on cycles, rank.",
          (Option("max_length", "int", 4, "Longest cycle counted, in hops (k)."),
           Option("top", "int", 50, "Show the best N by circular capacity."),
           _ENTITY_ROWS),
          layout=Layout(("entity", "capacity_usd", "cycles", "rank", "out_on_cycles_pct", "in_on_cycles_pct",
                         "out_usd", "in_usd", "undisclosed"), names=("entity",), noun="entities")),
    Query("timeline", "dealgraph.queries.timeline:timeline",
          "How the circular web formed: per period, deals and money added, cycles, new cycles and the deal that "
          "closed each, top circular capacity, share of money on cycles.",
          (Option("freq", "str", "quarter", "Period: month, quarter or year."),
           Option("max_length", "int", 4, "Longest cycle counted, in hops (k)."),
           Option("top", "int", 1, "New cycles named per period (largest bottleneck first)."),
           Option("max_listed", "int", 20000, "Assign at most this many cycles (the largest) to the period that "
                                              "closed them.")),
          layout=Layout(("period", "new_cycles", "cycles", "money_added_usd", "capacity_usd", "top_hub",
                         "deals_added", "on_cycles_pct", "closed_by", "deals", "as_of"),
                        names=("top_hub", "closed_by"), noun="periods", total="money_added_usd", details=("closed_by",))),
    Query("sensitivity", "dealgraph.queries.sensitivity:sensitivity",
          "Headline figures (cycles, top cycle, top hubs' capacity, round-trip shares) under status scenarios and "
          "leave-one-deal-out; names the key deals.",
          (Option("max_length", "int", 4, "Longest cycle, in hops (k)."),
           Option("top", "int", 10, "Leave out, one at a time, each deal on the best N cycles."),
           Option("hubs", "int", 3, "Follow the capacity and round-trip share of this many top entities."),
           Option("key_deals", "int", 5, "Name this many key deals.")),
          layout=Layout(("scenario", "figure", "value", "baseline", "change_pct", "change", "detail"),
                        names=("figure", "detail"), noun="figures", units="figure",
                        in_units=("value", "baseline", "change"), sections="scenario")),
)}

#: ``dealgraph check [CLAIMS.csv]`` (also ``dealgraph query check``) — not a function of the store alone (it
#: reads a file) but listed and documented with the queries.
CHECK = Query("check", "dealgraph.queries.claims:check_claims",
              "Stated figures from a claims CSV vs figures recomputed from the store, with a verdict.",
              (Option("claims", "str", None, "Claims CSV (subject,metric,stated,source); default: the sample "
                                             "claims.", argument=True),
               Option("tolerance", "float", 0.01, "Relative tolerance (beyond rounding of the stated digits)."),
               Option("approx_tolerance", "float", 0.10, "Relative tolerance for '~'/approx stated values.")),
              layout=Layout(("verdict", "subject", "metric", "stated", "recomputed", "difference_pct", "reason",
                             "difference", "tolerance"), noun="claims"))

#: ``dealgraph lint``'s findings (dealgraph.queries.lint): the check and severity whole, the message in the rest
#: of the width (shortened with ``…``), the fix command on its own line under it, whole (wrapped between words
#: on a narrow terminal), to copy.
LINT_LAYOUT = Layout(("check", "severity", "message"), noun="findings", details=("fix",))

#: ``dealgraph queries``: the listing itself.
QUERIES_LAYOUT = Layout(("query", "description", "options"), noun="queries")


def get_query(name: str) -> Query:
    try:
        return QUERIES[name]
    except KeyError:
        raise KeyError(f"no query {name!r}; known: {', '.join(QUERIES)}") from None


def run_query(name: str, store, **options) -> pd.DataFrame:
    """Run the query ``name`` on ``store``."""
    return get_query(name).run(store, **options)


def list_queries() -> pd.DataFrame:
    """Name, description and options of every query (what ``dealgraph queries`` prints)."""
    rows = []
    for q in list(QUERIES.values()) + [CHECK]:
        opts = [(o.name.upper() if o.argument else o.flag + ("" if o.type == "bool" else " " + o.type.upper()))
                for o in q.options]
        rows.append({"query": q.name, "description": q.description, "options": " ".join(opts)})
    return pd.DataFrame(rows, columns=["query", "description", "options"])
