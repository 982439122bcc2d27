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

#: Entity kind -> node colour (node fills): pale colours from Paul Tol's "light"
#: scheme, so labels and the highlight border read on top of them, and none near
#: the highlight (:data:`CYCLE_COLOUR`).
KIND_COLOURS: dict[str, str] = {
    "company": "#77aadd",
    "investor": "#44bb99",
    "fund": "#99ddff",
    "lender": "#aa99dd",
    "person": "#eedd88",
    "government": "#dddddd",
}
UNKNOWN_KIND_COLOUR = "#f7f7f7"

#: Deal type -> edge colour: Paul Tol's "muted" scheme, nine colours told apart
#: under every common colour-vision deficiency (https://personal.sron.nl/~pault/).
#: A new deal type needs one entry here (the assert below says so).
TYPE_COLOURS: dict[str, str] = {
    "funding_round": "#117733",
    "investment": "#44aa99",
    "acquisition": "#882255",
    "stake": "#cc6677",
    "license": "#aa4499",
    "acquihire": "#ddcc77",
    "chip_purchase": "#332288",
    "compute_contract": "#999933",
    "debt_financing": "#88ccee",
    "partnership": "#000000",  # Tol's nine are taken: the two non-money kinds are picked to keep
                               # CIEDE2000 >= 10 from every colour here, also for colour-blind eyes
    "warrant": "#9900ff",
}
UNKNOWN_TYPE_COLOUR = "#444444"

#: The highlight of circular flows (glow on their deals, border on their
#: entities): a saturated amber that no deal type and no kind uses. Chosen so
#: its CIEDE2000 distance to every type colour is at least 10 for normal vision
#: and for simulated protan, deutan and tritan vision (tests/test_viz_network.py
#: measures it), i.e. as far apart as the type colours are from one another.
CYCLE_COLOUR = "#ffb000"
#: "+ N more" nodes and the deals drawn between them and the entities shown.
AGGREGATE_COLOUR = "#bbbbbb"

MIN_NODE, MAX_NODE = 8.0, 48.0
#: Node labels: size in canvas units (the layout keeps them clear of other nodes
#: at that size, see :func:`dealgraph.viz.layout.place_labels`); on screen a label
#: smaller than LABEL_MIN_PX is not drawn (zoom in to read it) and none is drawn
#: larger than LABEL_MAX_PX. Views with more nodes label only the LABEL_LIMIT largest
#: (plus the members of circular flows and the "+ N more" nodes).
FONT_SIZE = 18
FONT_FACE = "DejaVu Sans, Verdana, Arial, sans-serif"
LABEL_MIN_PX, LABEL_MAX_PX = 7, 30
LABEL_LIMIT = 300
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


def money_range(low, high, point) -> str:
    """A range as the tables write it (:func:`dealgraph.queries.common.money_interval`:
    ``$1.0–2.0bn``); ``undisclosed`` when neither end is known."""
    from dealgraph.queries.common import money_interval

    return money_interval(low, high, point) if known(low) or known(high) else "undisclosed"


def qualified_money(usd, qualifier) -> str:
    """Amount with its qualifier as the input writes it: ``~$6.0bn``, ``up to $100.0bn``."""
    return common_money(usd, qualifier) if known(usd) else "undisclosed"
