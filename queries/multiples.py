"""Valuation multiples of deals.

For each selected deal (every exit-like deal — acquisition, stake, license,
acquihire — plus any deal whose own row carries ``stake_pct``,
``target_revenue`` or ``acquirer_market_cap``; ``all_deals=True`` takes every
deal):

* ``deal_to_revenue = amount / target revenue`` — the deal value over the
  payee's revenue. This is what the article's comparison table calls
  "EV/revenue" (e.g. Groq–Nvidia $20bn / $500m = 40x), although the deal amount
  is not an enterprise value; the column is named for what it computes.
* ``implied_valuation = amount / (stake_pct / 100)`` when the deal buys a stake;
  for an ``acquisition`` without a stake the whole company is bought, so
  ``implied_valuation = amount``; otherwise n/a.
* ``implied_ev_to_revenue = implied_valuation / target revenue``.
* ``share_of_acquirer_cap_pct = 100 * amount / payer's market cap``.

Inputs: the deal's own column first, else the latest metric observation on or
before the deal date (:mod:`dealgraph.queries.metrics`). A ratio of two figures
in one currency is computed in that currency (no FX needed), else in US dollars.
Missing, zero or negative denominators give NaN (shown as n/a) and the reason
goes into the ``reasons`` column — never 0. ``qualifier`` is ``approx`` when any
input is qualified (approx/up_to/at_least), else ``exact``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dealgraph.queries.common import (EXIT_TYPES, NAN, column_nums, column_texts, date_of, dates_of, deals_of, join,
                                      join_many, num, text)
from dealgraph.queries.metrics import (Figure, Figures, MetricIndex, combined_qualifier, deal_figure, deal_figures,
                                       interval_ratios, metric_index, qualified, ratio, ratios)

#: The figures that carry an interval: each has ``<figure>_low`` and ``<figure>_high`` after it.
FIGURES = ("amount_usd", "target_revenue_usd", "deal_to_revenue", "implied_valuation_usd", "implied_ev_to_revenue",
           "acquirer_market_cap_usd", "share_of_acquirer_cap_pct")


def with_intervals(columns: list[str], figures=FIGURES) -> list[str]:
    """``columns`` with ``<figure>_low``, ``<figure>_high`` after each of ``figures``."""
    return [x for c in columns for x in ((c, f"{c}_low", f"{c}_high") if c in figures else (c,))]


COLUMNS = with_intervals([
    "deal_id", "date", "type", "status", "payer", "payee", "amount_usd", "amount_qualifier", "stake_pct",
    "target_revenue_usd", "revenue_origin", "deal_to_revenue", "implied_valuation_usd", "implied_ev_to_revenue",
    "acquirer_market_cap_usd", "market_cap_origin", "share_of_acquirer_cap_pct", "qualifier", "reasons",
])


def _usd(f: Figure) -> float:
    return f.value_usd if f.known else NAN


def deal_multiples(index: MetricIndex, deal) -> dict:
    """All multiples of one deal (a mapping of deal columns).

    Returns the output row plus ``<figure>_reason`` keys (one per figure) that
    :mod:`dealgraph.queries.claims` reads.
    """
    amount = deal_figure(index, deal, "amount")
    revenue = deal_figure(index, deal, "target_revenue")
    cap = deal_figure(index, deal, "acquirer_market_cap")
    stake = num(deal.get("stake_pct"))

    d2r, d2r_why = ratio(amount, revenue, what="deal_to_revenue", num_name="amount", den_name="target revenue")

    # implied valuation: a figure in the deal currency (scales the amount).
    if not amount.known:
        iv, iv_why = Figure(reason=amount.reason), f"implied_valuation: {amount.reason}"
    elif not math.isnan(stake):
        if stake <= 0 or stake > 100:
            iv, iv_why = Figure(reason="stake out of (0, 100]"), "implied_valuation: stake out of (0, 100]"
        else:
            f = 100.0 / stake
            iv = Figure(amount.value * f, amount.currency, amount.value_usd * f, amount.qualifier, "amount / stake")
            iv_why = ""
    elif text(deal.get("type")) == "acquisition":
        iv, iv_why = amount, ""
    else:
        iv = Figure(reason="no stake_pct (the deal does not buy a stated share)")
        iv_why = f"implied_valuation: {iv.reason}"

    if iv.known:
        iev, iev_why = ratio(iv, revenue, what="implied_ev_to_revenue", num_name="implied valuation",
                             den_name="target revenue")
    else:
        iev, iev_why = NAN, f"implied_ev_to_revenue: {iv.reason}"

    share, share_why = ratio(amount, cap, what="share_of_acquirer_cap", num_name="amount",
                             den_name="acquirer market cap")
    share_pct = share * 100.0

    used = [amount, revenue] if not math.isnan(d2r) else [amount]
    if not math.isnan(share):
        used.append(cap)
    return {
        "deal_id": text(deal.get("deal_id")),
        "date": date_of(deal),
        "type": text(deal.get("type")),
        "status": text(deal.get("status")),
        "payer": text(deal.get("payer")),
        "payee": text(deal.get("payee")),
        "amount_usd": _usd(amount),
        "amount_qualifier": amount.qualifier if amount.known else "",
        "stake_pct": stake,
        "target_revenue_usd": _usd(revenue),
        "revenue_origin": revenue.origin,
        "deal_to_revenue": d2r,
        "implied_valuation_usd": _usd(iv),
        "implied_ev_to_revenue": iev,
        "acquirer_market_cap_usd": _usd(cap),
        "market_cap_origin": cap.origin,
        "share_of_acquirer_cap_pct": share_pct,
        "qualifier": combined_qualifier(*used),
        "reasons": join([d2r_why, iv_why, iev_why, share_why]),
        "deal_to_revenue_reason": d2r_why,
        "implied_valuation_reason": iv_why,
        "implied_ev_to_revenue_reason": iev_why,
        "share_of_acquirer_cap_reason": share_why,
    }


def multiples_frame(index: MetricIndex, deals: pd.DataFrame) -> pd.DataFrame:
    """:func:`deal_multiples` for every row of ``deals`` at once (same values, same
    reasons): :data:`COLUMNS` plus the ``<figure>_reason`` columns, in the deals' order."""
    n = len(deals)
    amount = deal_figures(index, deals, "amount")
    revenue = deal_figures(index, deals, "target_revenue")
    cap = deal_figures(index, deals, "acquirer_market_cap")
    stake = column_nums(deals, "stake_pct")
    types = column_texts(deals, "type")

    d2r, d2r_why = ratios(amount, revenue, what="deal_to_revenue", num_name="amount", den_name="target revenue")

    ak = amount.known
    has_stake = ak & ~np.isnan(stake)
    bad_stake = has_stake & ((stake <= 0) | (stake > 100))
    good_stake = has_stake & ~bad_stake
    acq = ak & np.isnan(stake) & (types == "acquisition")
    none = ak & np.isnan(stake) & ~acq
    with np.errstate(invalid="ignore", divide="ignore"):
        f = 100.0 / stake
    iv_reason = np.where(~ak, amount.reason,
                         np.where(bad_stake, "stake out of (0, 100]",
                                  np.where(none, "no stake_pct (the deal does not buy a stated share)", "")))
    scaled = amount.scaled(f)
    iv = Figures(np.where(good_stake, amount.value * f, np.where(acq, amount.value, np.nan)),
                 np.where(good_stake | acq, amount.currency, ""),
                 np.where(good_stake, amount.value_usd * f, np.where(acq, amount.value_usd, np.nan)),
                 np.where(good_stake | acq, amount.qualifier, ""),
                 np.where(good_stake, "amount / stake", np.where(acq, amount.origin, "")),
                 iv_reason.astype(object),
                 *(np.where(good_stake, sc, np.where(acq, getattr(amount, e), np.nan))
                   for sc, e in zip(scaled, ("low", "high", "low_usd", "high_usd"))))
    iv_why = np.where(iv_reason != "", "implied_valuation: " + iv_reason, "")
    iev, iev_why = ratios(iv, revenue, what="implied_ev_to_revenue", num_name="implied valuation",
                          den_name="target revenue")
    ivk = iv.known
    iev = np.where(ivk, iev, np.nan)
    iev_why = np.where(ivk, iev_why, "implied_ev_to_revenue: " + iv.reason)

    share, share_why = ratios(amount, cap, what="share_of_acquirer_cap", num_name="amount",
                              den_name="acquirer market cap")
    approx = qualified(amount) | (~np.isnan(d2r) & qualified(revenue)) | (~np.isnan(share) & qualified(cap))

    def usd(fig: Figures) -> np.ndarray:
        return np.where(fig.known, fig.value_usd, np.nan)

    def usd_ends(name: str, fig: Figures) -> dict[str, np.ndarray]:
        return {f"{name}_low": np.where(fig.known, fig.low_usd, np.nan),
                f"{name}_high": np.where(fig.known, fig.high_usd, np.nan)}

    def ends(name: str, value: np.ndarray, num: Figures, den: Figures, times: float = 1.0) -> dict[str, np.ndarray]:
        lo, hi = interval_ratios(num, den, value)
        return {f"{name}_low": lo * times, f"{name}_high": hi * times}

    amount_q = np.where(ak, amount.qualifier, "")
    cols = {
        "deal_id": column_texts(deals, "deal_id"),
        "date": dates_of(deals),
        "type": types,
        "status": column_texts(deals, "status"),
        "payer": column_texts(deals, "payer"),
        "payee": column_texts(deals, "payee"),
        "amount_usd": usd(amount),
        "amount_qualifier": amount_q,
        "stake_pct": stake,
        "target_revenue_usd": usd(revenue),
        "revenue_origin": revenue.origin,
        "deal_to_revenue": d2r,
        "implied_valuation_usd": usd(iv),
        "implied_ev_to_revenue": iev,
        "acquirer_market_cap_usd": usd(cap),
        "market_cap_origin": cap.origin,
        "share_of_acquirer_cap_pct": share * 100.0,
        "qualifier": np.where(approx, "approx", "exact"),
        "reasons": join_many(d2r_why, iv_why, iev_why, share_why),
        "deal_to_revenue_reason": d2r_why,
        "implied_valuation_reason": iv_why,
        "implied_ev_to_revenue_reason": iev_why,
        "share_of_acquirer_cap_reason": share_why,
        **usd_ends("amount_usd", amount), **usd_ends("target_revenue_usd", revenue),
        **ends("deal_to_revenue", d2r, amount, revenue), **usd_ends("implied_valuation_usd", iv),
        **ends("implied_ev_to_revenue", iev, iv, revenue), **usd_ends("acquirer_market_cap_usd", cap),
        **ends("share_of_acquirer_cap_pct", share, amount, cap, 100.0),
    }
    cols = {k: cols[k] for k in COLUMNS + [c for c in cols if c not in COLUMNS]}
    return pd.DataFrame({k: (v.astype(object) if v.dtype.kind in "OU" else v) for k, v in cols.items()},
                        index=pd.RangeIndex(n))


def _wanted(deals: pd.DataFrame) -> pd.Series:
    """Exit-like deals, or deals whose own row has a stake, revenue or market cap."""
    keep = deals["type"].isin(EXIT_TYPES)
    for col in ("stake_pct", "target_revenue", "acquirer_market_cap"):
        if col in deals:
            keep |= pd.to_numeric(deals[col], errors="coerce").notna()
    return keep


def multiples(store, *, as_of: str | None = None, status=None, all_deals: bool = False,
              deal: str | None = None) -> pd.DataFrame:
    """Valuation multiples, one row per deal (see the module docstring)."""
    deals = deals_of(store, as_of=as_of, status=status, slim=True)
    if deal is not None:
        deals = deals[deals["deal_id"] == deal]
    elif not all_deals:
        deals = deals[_wanted(deals)]
    index = metric_index(store)
    if len(deals) == 0:
        return pd.DataFrame([], columns=COLUMNS)
    return multiples_frame(index, deals)[COLUMNS]
