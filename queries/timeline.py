"""timeline: how the circular web formed, period by period.

Definitions
-----------
* **Periods** (``freq``: ``month``, ``quarter`` or ``year``) run from the period of the
  earliest selected deal to the period of the latest. A row describes the web **as of the
  period's last day**, with the ``--as-of`` rule for partial dates (common precision): a
  deal dated ``2025`` or ``2025-05`` is in from the period holding its first day on (so a
  year-dated deal counts from the first period of its year).
* **deals_added** / **money_added_usd**: deals (with or without a payer) that enter in the
  period, and their known amounts; **deals** = all deals in by the period's end. Only deals of
  a money type count (``MONEY_TYPES``: partnerships and warrants move no money, and are left out).
* **cycles**: money cycles of length 2..k (``max_length``) in the collapsed graph as of the
  period's end (circular-flows' count); **new_cycles** = cycles minus the previous row's
  (deals only enter, so no cycle disappears).
* **capacity_usd** / **top_hub**: the largest circular capacity of any entity as of the
  period's end and that entity (hubs: max flow from the entity back to itself).
* **on_cycles_pct** = 100 x known money on hops that lie on some directed cycle (any length)
  / known money on all hops between two different entities (payer-less rounds are not
  hops), as of the period's end.
* **closed_by**: the new cycles of the period with the deal that closed each (at most
  ``top`` per row, largest bottleneck as of the period's end first, then ``+N more``).
  (``top_hub`` is empty while no capacity is known.) A cycle *closes* when its last hop appears; a hop appears with its first deal (earliest
  entry period, then earliest first day, then deal id), and the closing deal is the latest
  of the cycle's hops' first deals in that order. Every listed new cycle is also in
  ``attrs["new_cycles"]`` (period, cycle, length, closed_by, bottleneck_usd), a tidy frame
  for the report (``attrs["on_cycles_usd"]`` / ``attrs["hop_usd"]``: the last row's share as its
  two sums of money); cycles are listed from the ``max_listed`` largest by final bottleneck
  (all of them when there are fewer), and ``attrs["listed_complete"]`` says which.

The last row equals the whole-selection figures: circular-flows' total, hubs' top
capacity and the same share (tested).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealgraph.errors import QueryError
from dealgraph.graph.arrays import build_arrays
from dealgraph.graph.schema import MONEY_TYPES
from dealgraph.queries.circular import prepare, run_search
from dealgraph.queries.common import deals_of
from dealgraph.queries.hubs import Capacities, hop_flows, top_capacities

FREQS = ("month", "quarter", "year")
COLUMNS = ["period", "as_of", "deals_added", "money_added_usd", "deals", "cycles", "new_cycles", "capacity_usd",
           "top_hub", "on_cycles_pct", "closed_by"]


def period_index(date_key: np.ndarray, freq: str) -> np.ndarray:
    """Period number of each deal's first day (``yyyymmdd`` keys, zeros for missing parts)."""
    key = np.asarray(date_key, dtype=np.int64)
    y = key // 10000
    mo = np.maximum((key // 100) % 100, 1)
    if freq == "year":
        return y
    if freq == "quarter":
        return y * 4 + (mo - 1) // 3
    return y * 12 + (mo - 1)


def period_label(p: int, freq: str) -> tuple[str, str]:
    """(label, last day as YYYY-MM-DD) of period number ``p``."""
    if freq == "year":
        return f"{p}", f"{p}-12-31"
    if freq == "quarter":
        y, q = divmod(p, 4)
        end = pd.Timestamp(year=y, month=3 * q + 3, day=1) + pd.offsets.MonthEnd(0)
        return f"{y}-Q{q + 1}", end.strftime("%Y-%m-%d")
    y, m = divmod(p, 12)
    end = pd.Timestamp(year=y, month=m + 1, day=1) + pd.offsets.MonthEnd(0)
    return f"{y}-{m + 1:02d}", end.strftime("%Y-%m-%d")


def web_figures(deals: pd.DataFrame, k: int) -> dict:
    """Cycles 2..k, top circular capacity (and its entity), the share of money on cycles and
    the two sums it divides (``on_cycles_usd`` / ``hop_usd``) of ``deals`` (already selected)."""
    arrays = build_arrays(deals)
    res = run_search(prepare(arrays), k)
    caps = Capacities(arrays)
    flows = hop_flows(arrays, caps.fg.on_cycle)
    cand = np.flatnonzero(np.bincount(arrays.hop_src[caps.fg.on_cycle], minlength=arrays.n) > 0)
    got = top_capacities(caps, flows, cand, 1)
    best = sorted(got.items(), key=lambda kv: (-kv[1], str(arrays.ids[kv[0]])))[:1]
    amt = arrays.hop_amount
    other = (arrays.hop_src != arrays.hop_dst) & ~np.isnan(amt)
    total = float(amt[other].sum())
    on = float(amt[other & caps.fg.on_cycle].sum())
    return {"cycles": int(res.counts[2:k + 1].sum()), "capacity_usd": best[0][1] if best else 0.0,
            "top_hub": str(arrays.ids[best[0][0]]) if best and best[0][1] > 0 else "",
            "on_cycles_pct": 100.0 * on / total if total > 0 else np.nan, "on_cycles_usd": on, "hop_usd": total,
            "arrays": arrays}


def _listed_cycles(arrays, k: int, cap: int):
    """The cycles of the final graph (all, or the ``cap`` largest by bottleneck), as hop lists."""
    prep = prepare(arrays)
    total = int(run_search(prep, k).counts[2:k + 1].sum())
    if total == 0:
        return [], True
    res = run_search(prep, k, top=min(total, cap))
    out = []
    for _b, _t, codes in res.cycles:
        L = len(codes)
        out.append((codes, [arrays.hop_index(codes[i], codes[(i + 1) % L]) for i in range(L)]))
    return out, total <= cap


def timeline(store_or_deals, *, freq: str = "quarter", max_length: int = 4, top: int = 1,
             max_listed: int = 20000, as_of=None, status=None) -> pd.DataFrame:
    """One row per period (see the module docstring)."""
    if freq not in FREQS:
        raise QueryError(f"freq must be one of {', '.join(FREQS)}, not {freq!r}")
    k = int(max_length)
    if k < 2:
        raise QueryError("max_length must be at least 2")
    deals = deals_of(store_or_deals, as_of=as_of, status=status, slim=True)
    if "type" in deals.columns:  # a hop view projected from Neo4j holds money hops only
        deals = deals[deals["type"].isin(MONEY_TYPES).to_numpy(dtype=bool)].reset_index(drop=True)
    if not len(deals):
        df = pd.DataFrame(columns=COLUMNS)
        df.attrs.update(new_cycles=pd.DataFrame(columns=["period", "cycle", "length", "closed_by",
                                                         "bottleneck_usd"]), listed_complete=True)
        return df
    pidx = period_index(deals["date_key"].to_numpy(dtype=np.int64, na_value=0), freq)
    amount = pd.to_numeric(deals["amount_usd"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    periods = np.arange(pidx.min(), pidx.max() + 1)

    # the final graph's cycles, each assigned to the period its closing deal enters
    final = build_arrays(deals)
    listed, complete = _listed_cycles(final, k, int(max_listed))
    rows_of = final.rows  # deal numbering -> row of `deals`
    dp = pidx[rows_of]
    lo = final.deal_lo
    did = deals["deal_id"].astype(str).to_numpy()[rows_of]
    first_deal = {}

    def first(h):
        if h not in first_deal:
            ds = final.hop_deals(h)
            first_deal[h] = min(ds.tolist(), key=lambda x: (dp[x], lo[x], did[x]))
        return first_deal[h]

    new_by_period: dict[int, list] = {}
    for codes, hops in listed:
        closers = [first(h) for h in hops]
        c = max(closers, key=lambda x: (dp[x], lo[x], did[x]))
        new_by_period.setdefault(int(dp[c]), []).append((codes, hops, c))

    rows, listing = [], []
    prev = None
    for p in periods:
        label, end = period_label(int(p), freq)
        added = pidx == p
        if prev is not None and not added.any():
            fig = dict(prev)
        else:
            fig = web_figures(deals[pidx <= p], k)
        new_cycles = fig["cycles"] - (prev["cycles"] if prev is not None else 0)
        texts = []
        if p in new_by_period:
            # bottleneck as of the period's end: only the hop's deals in by then count
            items = []
            for codes, hops, c in new_by_period[int(p)]:
                hop_amounts = []
                for h in hops:
                    ds = final.hop_deals(h)
                    a = amount[rows_of[ds[dp[ds] <= p]]]
                    hop_amounts.append(float(np.nansum(a)) if (~np.isnan(a)).any() else np.nan)
                b = np.nan if np.isnan(hop_amounts).any() else min(hop_amounts)
                name = " -> ".join([str(final.ids[x]) for x in codes] + [str(final.ids[codes[0]])])
                items.append((b, name, len(codes), did[c]))
            items.sort(key=lambda t: (-(t[0] if not np.isnan(t[0]) else -np.inf), t[1]))
            for b, name, L, d in items:
                listing.append({"period": label, "cycle": name, "length": L, "closed_by": d, "bottleneck_usd": b})
            texts = [f"{name} ({d})" for b, name, L, d in items[:max(int(top), 0)]]
            if len(items) > len(texts):
                texts.append(f"+{len(items) - len(texts)} more")
        rows.append({"period": label, "as_of": end, "deals_added": int(added.sum()),
                     "money_added_usd": float(np.nansum(amount[added])) if (added & ~np.isnan(amount)).any()
                     else (0.0 if not added.any() else np.nan),
                     "deals": int((pidx <= p).sum()), "cycles": fig["cycles"], "new_cycles": int(new_cycles),
                     "capacity_usd": fig["capacity_usd"], "top_hub": fig["top_hub"],
                     "on_cycles_pct": fig["on_cycles_pct"], "closed_by": "; ".join(texts)})
        prev = fig
    df = pd.DataFrame(rows, columns=COLUMNS)
    df.attrs.update(new_cycles=pd.DataFrame(listing, columns=["period", "cycle", "length", "closed_by",
                                                              "bottleneck_usd"]),
                    listed_complete=complete, freq=freq, max_length=k,
                    on_cycles_usd=prev["on_cycles_usd"] if prev else np.nan,
                    hop_usd=prev["hop_usd"] if prev else np.nan)
    if not complete:
        df.attrs["message"] = (f"closed_by lists new cycles among the {max_listed:,} largest by final bottleneck "
                               f"only (--max-listed); the cycle counts are exact")
    return df
