"""sensitivity: how much each headline figure hangs on the selection and on single deals.

Headline figures (of a set of deals; k = ``max_length``)
-------------------------------------------------------
* ``cycles 2..k`` -- money cycles of length 2..k (circular-flows' total);
* ``top cycle bottleneck ($bn)`` -- the bottleneck of the best cycle by bottleneck
  (circular-flows' first row; ``detail`` names it);
* ``capacity of X ($bn)`` -- circular capacity (hubs) of each of the ``hubs`` entities with
  the largest capacity in the baseline (the same entities in every scenario; 0 where the
  entity has no deal left);
* ``round-trip share of X (%)`` -- round-trip ``share_pct`` (k as above) of each of the
  ``hubs`` entities with the largest share in the baseline.
Money is in $bn so that one ``value`` column holds every figure; n/a when a figure does
not exist in a scenario (no cycle at all, or the entity has no inflow).

Scenarios (one row per scenario x figure)
-----------------------------------------
* ``baseline``: the deals selected by ``--as-of`` / ``--status`` (default: all but
  terminated);
* ``all deals`` (every status, terminated included), ``completed only``, ``no in-talks /
  rumoured`` (the baseline's statuses minus in_talks and rumoured) -- each within ``--as-of``;
* ``amounts at range low`` / ``high``: each deal's amount at that end of its interval
  (``amount_usd_low`` / ``amount_usd_high``; an unknown end, as of ``up to X``, keeps the
  point); when no selected deal's amount has an interval wider than its point these two
  scenarios are left out (``attrs["skipped"]`` says so);
* ``without DEAL``: leave-one-deal-out, for every deal on the ``top`` best cycles of the
  baseline (by bottleneck): the baseline minus that one deal.

``change`` = value - baseline value; ``change_pct`` = 100 x change / |baseline| (n/a when the
baseline is 0 or n/a). **Key deals**: the leave-one-out deals ranked by their largest
|change_pct| over the figures (a figure that disappears counts as -100%), ties by the sum
of |change_pct| over the figures; the ``key_deals``
best are in ``attrs["key_deals"]`` and named in the message.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealgraph.errors import QueryError
from dealgraph.graph.arrays import build_arrays
from dealgraph.graph.schema import TENTATIVE_STATUSES
from dealgraph.queries.circular import circular_flows
from dealgraph.queries.common import deals_of
from dealgraph.queries.filters import normalise_statuses
from dealgraph.queries.hubs import Capacities
from dealgraph.queries.roundtrip import round_trip

COLUMNS = ["scenario", "figure", "value", "baseline", "change", "change_pct", "detail"]


def headline_figures(deals: pd.DataFrame, k: int, *, hub_ids=None, share_ids=None, n_hubs: int = 3) -> list[dict]:
    """The headline figures of ``deals`` (already selected) as ``{figure, value, detail}``
    rows. ``hub_ids`` / ``share_ids`` fix the entities (default: the ``n_hubs`` best here)."""
    out = []
    cf = circular_flows(deals, max_length=k, top=1, timeout=None, status="all")
    out.append({"figure": f"cycles 2..{k}", "value": float(cf.attrs["total_cycles"]), "detail": ""})
    if len(cf):
        out.append({"figure": "top cycle bottleneck ($bn)", "value": float(cf["bottleneck_usd"].iloc[0]) / 1e9,
                    "detail": str(cf["cycle"].iloc[0])})
    else:
        out.append({"figure": "top cycle bottleneck ($bn)", "value": np.nan, "detail": "no cycle"})
    arrays = build_arrays(deals)
    caps = Capacities(arrays)
    index = {str(e): i for i, e in enumerate(arrays.ids)}
    if hub_ids is None:
        on = np.flatnonzero(np.bincount(arrays.hop_src[caps.fg.on_cycle], minlength=arrays.n) > 0)
        vals = sorted(((caps(int(x)), str(arrays.ids[x])) for x in on), key=lambda t: (-t[0], t[1]))
        hub_ids = [e for c, e in vals[:n_hubs] if c > 0]
    for e in hub_ids:
        v = caps(index[e]) / 1e9 if e in index else 0.0  # no deals left: no money can go round
        out.append({"figure": f"capacity of {e} ($bn)", "value": v, "detail": ""})
    rt = round_trip(deals, max_length=k, status="all")
    shares = dict(zip(rt["entity"].astype(str), rt["share_pct"].astype(float))) if len(rt) else {}
    if share_ids is None:
        ranked = sorted(((s, e) for e, s in shares.items() if not np.isnan(s) and s > 0), key=lambda t: (-t[0], t[1]))
        share_ids = [e for s, e in ranked[:n_hubs]]
    for e in share_ids:
        out.append({"figure": f"round-trip share of {e} (%)", "value": shares.get(e, np.nan), "detail": ""})
    return out


def _scenario_rows(name: str, figs: list[dict], base: dict[str, float]) -> list[dict]:
    rows = []
    for f in figs:
        b = base.get(f["figure"], np.nan)
        v = f["value"]
        change = v - b
        pct = 100.0 * change / abs(b) if not np.isnan(b) and b != 0 and not np.isnan(v) else np.nan
        if np.isnan(v) and not np.isnan(b) and b != 0:
            pct = -100.0  # the figure disappears
        rows.append({"scenario": name, "figure": f["figure"], "value": v, "baseline": b, "change": change,
                     "change_pct": pct, "detail": f["detail"]})
    return rows


def sensitivity(store_or_deals, *, max_length: int = 4, top: int = 10, hubs: int = 3, key_deals: int = 5,
                as_of=None, status=None) -> pd.DataFrame:
    """Headline figures under each scenario (see the module docstring)."""
    k = int(max_length)
    if k < 2:
        raise QueryError("max_length must be at least 2")
    if int(top) < 0 or int(hubs) < 0:
        raise QueryError("top and hubs must not be negative")
    everything = deals_of(store_or_deals, as_of=as_of, status="all")
    base_statuses = normalise_statuses(status)
    baseline = everything[everything["status"].isin(base_statuses)]
    base_figs = headline_figures(baseline, k, n_hubs=int(hubs))
    hub_ids = [f["figure"][len("capacity of "):-len(" ($bn)")] for f in base_figs if f["figure"].startswith("capacity of ")]
    share_ids = [f["figure"][len("round-trip share of "):-len(" (%)")] for f in base_figs
                 if f["figure"].startswith("round-trip share of ")]
    base = {f["figure"]: f["value"] for f in base_figs}

    def figures(deals):
        return headline_figures(deals, k, hub_ids=hub_ids, share_ids=share_ids)

    rows = _scenario_rows("baseline", base_figs, base)
    scenarios = [("all deals", everything),
                 ("completed only", everything[everything["status"] == "completed"]),
                 ("no in-talks / rumoured", baseline[~baseline["status"].isin(TENTATIVE_STATUSES)])]
    skipped = []
    ranged = {"amount_usd_low", "amount_usd_high"} <= set(baseline.columns) and bool(
        ((baseline["amount_usd_low"] != baseline["amount_usd"]) & baseline["amount_usd_low"].notna()).any() or
        ((baseline["amount_usd_high"] != baseline["amount_usd"]) & baseline["amount_usd_high"].notna()).any())
    if ranged:
        for end in ("low", "high"):
            d = baseline.copy()
            col = d[f"amount_usd_{end}"]
            d["amount_usd"] = col.where(col.notna(), d["amount_usd"])
            scenarios.append((f"amounts at range {end}", d))
    else:
        skipped.append("amounts at range low/high: no selected deal's amount is a range")
    for name, d in scenarios:
        rows += _scenario_rows(name, figures(d), base)

    # leave one deal out: every deal on the top cycles of the baseline
    top_cycles = circular_flows(baseline, max_length=k, top=max(int(top), 1), timeout=None, status="all")
    ids: list[str] = []
    if int(top) > 0:
        for text in top_cycles["deal_ids"].head(int(top)):
            for d in str(text).split(", "):
                if d and d not in ids:
                    ids.append(d)
    loo = []
    deal_id = baseline["deal_id"].astype(str)
    for d in ids:
        r = _scenario_rows(f"without {d}", figures(baseline[deal_id != d]), base)
        changes = [abs(x["change_pct"]) for x in r if not np.isnan(x["change_pct"])]
        worst = max(changes, default=0.0)
        fig = max(r, key=lambda x: abs(x["change_pct"]) if not np.isnan(x["change_pct"]) else -1.0)
        loo.append((worst, sum(changes), d, fig, r))
    loo.sort(key=lambda t: (-t[0], -t[1], t[2]))
    for _w, _s, _d, _f, r in loo:
        rows += r
    df = pd.DataFrame(rows, columns=COLUMNS)
    key = pd.DataFrame([{"deal_id": d, "figure": f["figure"], "change_pct": f["change_pct"], "largest_abs_change_pct": w}
                        for w, _s, d, f, _r in loo[:max(int(key_deals), 0)] if w > 0],
                       columns=["deal_id", "figure", "change_pct", "largest_abs_change_pct"])
    if len(key):
        named = "; ".join(f"{r.deal_id} ({r.figure} {r.change_pct:+.0f}%)" for r in key.itertuples())
        message = f"key deals (removing one changes a headline most): {named}"
    else:
        message = "no single deal on the top cycles changes a headline figure"
    if skipped:
        message += ". Not run: " + "; ".join(skipped)
    df.attrs.update(key_deals=key, skipped=skipped, message=message, max_length=k)
    return df
