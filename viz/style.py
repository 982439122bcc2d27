"""Visual encoding of the deal graph: colours, sizes, widths, money labels.

Definitions (used by the network view, its legend and the report):

* **Money through an entity** = known USD it paid + known USD it received over
  the deals in the view (undisclosed amounts count as 0; they are unknown, not
  small). Node size = ``MIN_NODE + (MAX_NODE - MIN_NODE) * sqrt(flow / max_flow)``
  so that node *area* grows with money; an entity with no known flow gets the
  minimum size. Colour = entity kind.
* **Edge width** (log scale) = ``1 + (MAX_WIDTH - 1) * log10(1 + usd/1e6) /
  log10(1 + max_usd/1e6)``: $1M and $100B differ visibly but the big deals do
  not swamp the picture. An undisclosed amount is drawn dashed at width 1.
  Colour = deal type.
"""

from __future__ import annotations

import math

from dealgraph.graph.schema import DEAL_TYPES, ENTITY_KINDS
from dealgraph.queries.common import money as common_money

#: Entity kind -> node colour (colour-blind-friendly Okabe-Ito-ish palette).
KIND_COLOURS: dict[str, str] = {
    "company": "#4e79a7",
    "investor": "#59a14f",
    "fund": "#8cd17d",
    "lender": "#b07aa1",
    "person": "#f1ce63",
    "government": "#9c755f",
}
UNKNOWN_KIND_COLOUR = "#bab0ac"

#: Deal type -> edge colour.
TYPE_COLOURS: dict[str, str] = {
    "funding_round": "#2ca02c",
    "investment": "#17becf",
    "acquisition": "#d62728",
    "stake": "#ff7f0e",
    "license": "#9467bd",
    "acquihire": "#e377c2",
    "chip_purchase": "#1f77b4",
    "compute_contract": "#8c564b",
    "debt_financing": "#7f7f7f",
}
UNKNOWN_TYPE_COLOUR = "#444444"

#: Highlight for edges on a circular flow.
CYCLE_COLOUR = "#ff1744"

MIN_NODE, MAX_NODE = 8.0, 48.0
MAX_WIDTH = 10.0

assert set(KIND_COLOURS) == set(ENTITY_KINDS), "every entity kind needs a colour"
assert set(TYPE_COLOURS) == set(DEAL_TYPES), "every deal type needs a colour"


def kind_colour(kind) -> str:
    return KIND_COLOURS.get(kind, UNKNOWN_KIND_COLOUR) if isinstance(kind, str) else UNKNOWN_KIND_COLOUR


def type_colour(deal_type) -> str:
    return TYPE_COLOURS.get(deal_type, UNKNOWN_TYPE_COLOUR) if isinstance(deal_type, str) else UNKNOWN_TYPE_COLOUR


def known(x) -> bool:
    """A usable positive-or-zero number (not None/NaN/NA)."""
    try:
        return x is not None and not math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def node_size(flow_usd: float, max_flow_usd: float) -> float:
    """Node radius for money through an entity (area proportional to flow)."""
    if not known(flow_usd) or flow_usd <= 0 or not known(max_flow_usd) or max_flow_usd <= 0:
        return MIN_NODE
    return MIN_NODE + (MAX_NODE - MIN_NODE) * math.sqrt(min(flow_usd / max_flow_usd, 1.0))


def edge_width(amount_usd, max_usd: float) -> float:
    """Edge width on a log scale; 1 for undisclosed or non-positive amounts."""
    if not known(amount_usd) or amount_usd <= 0 or not known(max_usd) or max_usd <= 0:
        return 1.0
    top = math.log10(1 + max_usd / 1e6)
    if top <= 0:
        return 1.0
    return 1.0 + (MAX_WIDTH - 1.0) * min(math.log10(1 + amount_usd / 1e6) / top, 1.0)


def money(usd) -> str:
    """The shared money text (:func:`dealgraph.queries.common.money`: ``$20.0bn``);
    ``undisclosed`` for a missing amount."""
    return common_money(usd) if known(usd) else "undisclosed"


def qualified_money(usd, qualifier) -> str:
    """Amount with its qualifier as the input writes it: ``~$6.0bn``, ``up to $100.0bn``."""
    return common_money(usd, qualifier) if known(usd) else "undisclosed"
