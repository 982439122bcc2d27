"""The article's deal comparison tables, computed from the store.

One row per deal that is exit-like (acquisition, stake, license, acquihire) or
whose own row carries ``target_revenue`` or ``acquirer_market_cap`` (e.g. a big
strategic investment the article compares with the exits):

* ``value_usd`` — the deal amount (``value_qualifier`` as stated);
* ``structure`` — the types of every selected deal between the same payer and
  payee on the same date (at equal date key and precision), joined with
  ``+``, largest known amount first, with ``NN% stake`` for a stake (e.g.
  ``license + acquihire``). One row per such transaction: a deal without an
  amount in a group where another deal carries the money (the acquihire part
  of a licence + acquihire) has no row of its own;
* ``deal_to_revenue`` — amount / target revenue, the article's "EV/revenue"
  (see :mod:`dealgraph.queries.multiples`);
* ``share_of_acquirer_cap_pct`` — 100 * amount / acquirer market cap;
* ``last_raise_date``, ``months_from_last_raise`` — the payee's latest round
  (funding_round / investment, any post-money) strictly before the deal at
  common precision, and the calendar months between them at common precision.
  Only for exit-like deals: "time from last raise to exit".

Rows are sorted by date, then deal id. Missing inputs -> NaN (n/a) with the
reason in ``reasons``.
"""

from __future__ import annotations

import math

import pandas as pd

from dealgraph.queries.common import (EXIT_TYPES, NAN, date_of, deals_of, entity_names, join,
                                      months_common, num, records, text)
from dealgraph.queries.metrics import metric_index
from dealgraph.queries.multiples import deal_multiples
from dealgraph.queries.returns import all_rounds, earlier_rounds

COLUMNS = [
    "deal_id", "deal", "date", "status", "structure", "value_usd", "value_qualifier", "target_revenue_usd",
    "deal_to_revenue", "acquirer_market_cap_usd", "share_of_acquirer_cap_pct", "last_raise_date",
    "months_from_last_raise", "reasons",
]


def _structure(group: list[dict]) -> str:
    parts = []
    # the deal carrying the money first ("license + acquihire"), then by id
    group = sorted(group, key=lambda r: (-num(r.get("amount_usd")) if num(r.get("amount_usd")) == num(r.get("amount_usd"))
                                         else math.inf, text(r.get("deal_id"))))
    for rec in group:
        t = text(rec.get("type"))
        stake = num(rec.get("stake_pct"))
        parts.append(f"{stake:g}% {t}" if t == "stake" and not math.isnan(stake) else t)
    seen = []
    for p in parts:
        if p not in seen:
            seen.append(p)
    return " + ".join(seen)


def last_raise(rounds: dict, rec) -> tuple[str, float, str]:
    """``(date, months, reason)`` from the payee's last round before ``rec``
    (``rounds``: entity -> rounds, :func:`dealgraph.queries.returns.all_rounds`)."""
    entity = text(rec.get("payee"))
    k, p = int(rec["date_key"]), int(rec["date_precision"])
    earlier = earlier_rounds(rounds.get(entity, []), k, p)
    if not earlier:
        return "", NAN, f"months_from_last_raise: no round of {entity} before the deal"
    r = earlier[-1]
    return r.date, months_common(r.date_key, r.date_precision, k, p), ""


def deal_comparisons(store, *, as_of: str | None = None, status=None) -> pd.DataFrame:
    """The article's comparison table for every such deal (module docstring)."""
    deals = deals_of(store, as_of=as_of, status=status)
    index = metric_index(store)
    names = entity_names(store)
    keep = deals["type"].isin(EXIT_TYPES)
    for col in ("target_revenue", "acquirer_market_cap"):
        if col in deals:
            keep |= pd.to_numeric(deals[col], errors="coerce").notna()
    chosen = deals[keep].sort_values(["date_key", "date_precision", "deal_id"], kind="stable")
    recs = records(chosen)
    groups: dict[tuple, list[dict]] = {}
    for rec in recs:
        groups.setdefault((text(rec.get("payer")), text(rec.get("payee")), int(rec["date_key"]),
                           int(rec["date_precision"])), []).append(rec)
    rounds = all_rounds(deals, index)
    rows = []
    for rec in recs:
        key = (text(rec.get("payer")), text(rec.get("payee")), int(rec["date_key"]), int(rec["date_precision"]))
        if math.isnan(num(rec.get("amount_usd"))) and any(not math.isnan(num(r.get("amount_usd")))
                                                          for r in groups[key]):
            continue  # part of a transaction whose money is on another row (shown in its structure)
        m = deal_multiples(index, rec)
        payer, payee = key[0], key[1]
        label = f"{names.get(payer, payer)} → {names.get(payee, payee)}" if payer else names.get(payee, payee)
        if text(rec.get("type")) in EXIT_TYPES:
            lr_date, lr_months, lr_why = last_raise(rounds, rec)
        else:
            lr_date, lr_months, lr_why = "", NAN, "months_from_last_raise: not an exit-like deal"
        rows.append({
            "deal_id": m["deal_id"], "deal": label, "date": date_of(rec), "status": m["status"],
            "structure": _structure(groups[key]), "value_usd": m["amount_usd"],
            "value_qualifier": m["amount_qualifier"], "target_revenue_usd": m["target_revenue_usd"],
            "deal_to_revenue": m["deal_to_revenue"], "acquirer_market_cap_usd": m["acquirer_market_cap_usd"],
            "share_of_acquirer_cap_pct": m["share_of_acquirer_cap_pct"], "last_raise_date": lr_date,
            "months_from_last_raise": lr_months,
            "reasons": join([m["deal_to_revenue_reason"], m["share_of_acquirer_cap_reason"], lr_why]),
        })
    return pd.DataFrame(rows, columns=COLUMNS)
