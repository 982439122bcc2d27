"""Round histories and returns on exit.

**Rounds.** A round of entity X is a group of deals of a round type
(``funding_round``, ``investment``: equity raised without buying owners out)
with payee X and the same date (same date key and precision). Why group: a
round is often recorded as one payer-less ``funding_round`` row plus
``investment`` rows for named participants. The round's

* ``amount_usd`` is the sum of known ``funding_round`` amounts when the group
  has one (the participants' rows are part of that total, adding them would
  double count), else the sum of the known ``investment`` amounts;
* post-money valuation comes from its deals' ``post_money_valuation`` column,
  else a ``post_money_valuation`` metric observation of X recorded for one of
  its deals (``deal_id``) or dated the same as the round (common precision).
  Conflicting values: the first deal's (``funding_round`` rows first) is used
  and the conflict is noted;
* ``step_up = post-money / post-money of the previous round that has one``.

**Exit value.** An exit is a deal of an exit-like type (``DEAL_TYPES[t].exit_like``:
acquisition, stake, license, acquihire) with payee X. Its value is

* ``amount / (stake_pct / 100)`` (the implied valuation) when it buys a stake;
* else the deal ``amount``: an acquisition buys the whole company, and a
  licence/acquihire that takes the company's capability is priced as the
  company (this is how the article values Groq–Nvidia at $20bn).

**Returns** of exit E against each round R of X strictly earlier than E (at
the dates' common precision; equal dates are not earlier) that has a
post-money valuation, plus the latest earlier round even without one (so the
time from the last raise is always shown):

* ``multiple m = exit value / post-money of R``;
* ``months t`` = calendar months from R to E with both dates cut to their
  common precision (``2025-09`` -> ``2025-12-24`` is 3 months);
* ``annualised_compound_pct = 100 * (m^(12/t) - 1)``;
* ``annualised_simple_pct = 100 * (m - 1) * 12 / t``;
* ``last_round``: R is the latest round before E ("time from last raise").

n/a with a reason: exit value unknown, R has no post-money, ``t = 0``
(annualised figures only), ``m <= 0``.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

import pandas as pd

from dealgraph.queries.common import (EXIT_TYPES, NAN, ROUND_TYPES, cmp_dates, date_of, deals_of, entity_names,
                                      join, months_common, num, records, text)
from dealgraph.queries.metrics import Figure, MetricIndex, deal_figure, metric_index, observation_figure, ratio


@dataclass
class Round:
    """One round of an entity (one or more deals on one date)."""

    entity: str
    date: str
    date_key: int
    date_precision: int
    deal_ids: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    investors: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    amount_usd: float = NAN
    post_money: Figure = field(default_factory=lambda: Figure(reason="no post-money valuation"))
    note: str = ""


_NO_OWN = MetricIndex(None)


def deal_figure_own(deal, column: str) -> Figure:
    """The deal's own column only (no metric fallback)."""
    return deal_figure(_NO_OWN, deal, column)


def _post_money(index: MetricIndex, deal) -> Figure:
    f = deal_figure_own(deal, "post_money_valuation")
    if f.known:
        return f
    obs = index.for_deal_or_date(text(deal.get("payee")), "post_money_valuation", text(deal.get("deal_id")),
                                 int(deal["date_key"]), int(deal["date_precision"]))
    return observation_figure(obs) if obs is not None else Figure(reason="no post-money valuation")


def _round_deals(deals: pd.DataFrame) -> pd.DataFrame:
    d = deals[deals["type"].isin(ROUND_TYPES).to_numpy(dtype=bool)]
    d = d.assign(_fr=(d["type"] != "funding_round").to_numpy(dtype=bool).astype(int))
    return d.sort_values(["payee", "date_key", "date_precision", "_fr"], kind="stable")


def _build_rounds(recs, index: MetricIndex) -> dict[str, list[Round]]:
    """Rounds from round-type deal records sorted by payee, date, funding_round first."""
    out: dict[str, list[Round]] = {}
    cur: Round | None = None
    fr_amounts: list[float] = []
    inv_amounts: list[float] = []
    pms: list[Figure] = []

    def close():
        if cur is None:
            return
        if fr_amounts:
            cur.amount_usd = sum(fr_amounts)
        elif inv_amounts:
            cur.amount_usd = sum(inv_amounts)
        if pms:
            cur.post_money = pms[0]
            distinct = {round(x.value_usd if not math.isnan(x.value_usd) else x.value, 6) for x in pms}
            if len(distinct) > 1:
                cur.note = f"conflicting post-money values; using the one from {cur.deal_ids[0]}"
        out.setdefault(cur.entity, []).append(cur)

    for rec in recs:
        entity, k, p = text(rec.get("payee")), int(rec["date_key"]), int(rec["date_precision"])
        if cur is None or (cur.entity, cur.date_key, cur.date_precision) != (entity, k, p):
            close()
            cur = Round(entity, date_of(rec), k, p)
            fr_amounts, inv_amounts, pms = [], [], []
        cur.deal_ids.append(text(rec.get("deal_id")))
        cur.types.append(text(rec.get("type")))
        if text(rec.get("status")) not in cur.statuses:
            cur.statuses.append(text(rec.get("status")))
        if text(rec.get("payer")):
            cur.investors.append(text(rec.get("payer")))
        a = num(rec.get("amount_usd"))
        if not math.isnan(a):
            (fr_amounts if rec["type"] == "funding_round" else inv_amounts).append(a)
        pm = _post_money(index, rec)
        if pm.known:
            pms.append(pm)
    close()
    return out


def all_rounds(deals: pd.DataFrame, index: MetricIndex) -> dict[str, list[Round]]:
    """Entity id -> its rounds, earliest first, for every entity with a round."""
    return _build_rounds(records(_round_deals(deals)), index)


def entity_rounds(deals: pd.DataFrame, index: MetricIndex, entity: str) -> list[Round]:
    """The rounds of ``entity`` among ``deals``, earliest first (see module doc)."""
    d = deals[(deals["payee"] == entity).to_numpy(dtype=bool)]
    return _build_rounds(records(_round_deals(d)), index).get(entity, [])


def earlier_rounds(rs: list[Round], key: int, prec: int) -> list[Round]:
    """The rounds in ``rs`` (sorted by date key) strictly earlier than the date
    ``(key, prec)`` at their common precision.

    Why bisect: a round whose key is above the date's cannot be earlier, and one
    from an earlier year is earlier at any precision, so only rounds from the
    date's own year need the precision-aware comparison.
    """
    hi = bisect_right(rs, int(key), key=_round_key)
    safe = bisect_left(rs, (int(key) // 10000) * 10000, key=_round_key)
    return rs[:safe] + [r for r in rs[safe:hi] if cmp_dates(r.date_key, r.date_precision, key, prec) < 0]


def _round_key(r: Round) -> int:
    return r.date_key


def exit_value(deal) -> tuple[Figure, str]:
    """``(value, basis)`` of an exit-like deal (see module doc)."""
    amount = deal_figure_own(deal, "amount")
    if not amount.known:
        return amount, ""
    stake = num(deal.get("stake_pct"))
    if not math.isnan(stake):
        if not 0 < stake <= 100:
            return Figure(reason="stake out of (0, 100]"), ""
        f = 100.0 / stake
        return (Figure(amount.value * f, amount.currency, amount.value_usd * f, amount.qualifier, "amount / stake"),
                "implied valuation (amount / stake)")
    return amount, "deal amount"


def annualised(m: float, months: float) -> tuple[float, float, str]:
    """``(compound_pct, simple_pct, reason)`` for multiple ``m`` over ``months``."""
    if math.isnan(m):
        return NAN, NAN, "no multiple"
    if not months > 0:
        return NAN, NAN, "no time between round and exit at their common precision"
    if m <= 0:
        return NAN, NAN, "multiple is not positive"
    years = months / 12.0
    try:
        comp = 100.0 * (math.pow(m, 1.0 / years) - 1.0)
    except OverflowError:
        comp = math.inf
    return comp, 100.0 * (m - 1.0) / years, ""


ROUND_COLUMNS = ["entity", "kind", "date", "status", "deal_ids", "types", "investors", "amount_usd", "valuation_usd",
                 "valuation_basis", "step_up", "months_since_previous", "reason"]


def rounds(store, *, entity: str, as_of: str | None = None, status=None) -> pd.DataFrame:
    """Round history of ``entity``: rounds (post-money, step-ups) and exits.

    One row per round (``kind = round``) and per exit-like deal of the entity
    (``kind = exit``, valuation = exit value), by date. ``step_up`` divides a
    row's valuation by that of the previous row that has one;
    ``months_since_previous`` counts from that row at common precision.
    """
    deals = deals_of(store, as_of=as_of, status=status)
    index = metric_index(store)
    items = []
    for r in entity_rounds(deals, index, entity):
        pm_usd = r.post_money.value_usd if r.post_money.known else NAN
        no_usd = "post-money has no US-dollar value (missing FX rate)" if r.post_money.known and math.isnan(pm_usd) else ""
        items.append(dict(entity=entity, kind="round", date=r.date, _k=r.date_key, _p=r.date_precision,
                          status=", ".join(r.statuses), deal_ids=", ".join(r.deal_ids), types=", ".join(sorted(set(r.types))),
                          investors=", ".join(r.investors), amount_usd=r.amount_usd,
                          valuation_usd=pm_usd,
                          valuation_basis=f"post-money ({r.post_money.origin})" if r.post_money.known else "",
                          reason=join([r.post_money.reason, no_usd, r.note])))
    ex = deals[(deals["payee"] == entity) & deals["type"].isin(EXIT_TYPES)]
    for rec in records(ex.sort_values(["date_key", "date_precision"], kind="stable")):
        v, basis = exit_value(rec)
        items.append(dict(entity=entity, kind="exit", date=date_of(rec), status=text(rec.get("status")),
                          _k=int(rec["date_key"]),
                          _p=int(rec["date_precision"]), deal_ids=text(rec.get("deal_id")), types=text(rec.get("type")),
                          investors=text(rec.get("payer")), amount_usd=num(rec.get("amount_usd")),
                          valuation_usd=v.value_usd if v.known else NAN, valuation_basis=f"exit: {basis}" if basis else "exit",
                          reason=v.reason))
    items.sort(key=lambda x: (x["_k"], x["_p"], x["kind"] == "exit"))
    prev = None
    for it in items:
        it["step_up"], it["months_since_previous"] = NAN, NAN
        if not math.isnan(it["valuation_usd"]):
            if prev is not None:
                it["step_up"] = it["valuation_usd"] / prev["valuation_usd"] if prev["valuation_usd"] > 0 else NAN
                it["months_since_previous"] = months_common(prev["_k"], prev["_p"], it["_k"], it["_p"])
            prev = it
    return pd.DataFrame(items, columns=ROUND_COLUMNS)


RETURN_COLUMNS = [
    "exit_deal_id", "entity", "exit_date", "exit_type", "exit_status", "exit_value_usd", "exit_basis",
    "round_date", "round_deal_ids", "round_post_money_usd", "round_step_up", "last_round", "multiple", "months",
    "annualised_compound_pct", "annualised_simple_pct", "reason",
]


def exit_returns(deals: pd.DataFrame, index: MetricIndex, rec, rounds: dict | None = None, *,
                 every_round: bool = False) -> list[dict]:
    """Return rows for one exit-like deal ``rec`` (see module doc): one per
    earlier round with a post-money valuation, plus the last earlier round
    (``every_round``: one per earlier round).

    ``rounds``: entity -> rounds for every entity (:func:`all_rounds`); computed
    for the payee alone when ``None``.
    """
    entity = text(rec.get("payee"))
    rs = entity_rounds(deals, index, entity) if rounds is None else rounds.get(entity, [])
    v, basis = exit_value(rec)
    ek, ep = int(rec["date_key"]), int(rec["date_precision"])
    base = dict(exit_deal_id=text(rec.get("deal_id")), entity=entity, exit_date=date_of(rec),
                exit_type=text(rec.get("type")), exit_status=text(rec.get("status")),
                exit_value_usd=v.value_usd if v.known else NAN, exit_basis=basis)
    earlier = earlier_rounds(rs, ek, ep)
    if not earlier:
        return [dict(base, round_date="", round_deal_ids="", round_post_money_usd=NAN, round_step_up=NAN,
                     last_round=False, multiple=NAN, months=NAN, annualised_compound_pct=NAN,
                     annualised_simple_pct=NAN, reason=f"no round of {entity} before the exit")]
    out = []
    prev_pm = None
    for i, r in enumerate(earlier):
        pm = r.post_money
        step = NAN
        if pm.known:
            if prev_pm is not None:
                step, _ = ratio(pm, prev_pm, what="step_up", num_name="post-money", den_name="previous post-money")
            prev_pm = pm
        months = months_common(r.date_key, r.date_precision, ek, ep)
        if not v.known:
            m, why = NAN, f"exit value: {v.reason}"
        elif not pm.known:
            m, why = NAN, f"round {r.date}: {pm.reason}"
        else:
            m, why = ratio(v, pm, what="multiple", num_name="exit value", den_name="post-money")
        last = i == len(earlier) - 1
        if not (pm.known or last or every_round):
            continue
        comp, simple, awhy = annualised(m, months)
        out.append(dict(base, round_date=r.date, round_deal_ids=", ".join(r.deal_ids),
                        round_post_money_usd=pm.value_usd if pm.known else NAN, round_step_up=step,
                        last_round=last, multiple=m, months=months,
                        annualised_compound_pct=comp, annualised_simple_pct=simple,
                        reason=why or (f"annualised: {awhy}" if awhy else "")))
    return out


def returns(store, *, entity: str | None = None, exit_deal: str | None = None, as_of: str | None = None,
            status=None) -> pd.DataFrame:
    """Returns of every exit-like deal (of ``entity`` / the deal ``exit_deal``)
    against each earlier round of its payee; see the module docstring."""
    deals = deals_of(store, as_of=as_of, status=status)
    index = metric_index(store)
    ex = deals[deals["type"].isin(EXIT_TYPES)]
    if entity is not None:
        ex = ex[ex["payee"] == entity]
    if exit_deal is not None:
        ex = ex[ex["deal_id"] == exit_deal]
    rs = all_rounds(deals, index) if entity is None and exit_deal is None else None
    rows = []
    for rec in records(ex.sort_values(["date_key", "date_precision", "deal_id"], kind="stable")):
        rows.extend(exit_returns(deals, index, rec, rs))
    return pd.DataFrame(rows, columns=RETURN_COLUMNS)


__all__ = ["returns", "rounds", "entity_rounds", "exit_value", "exit_returns", "annualised", "Round",
           "entity_names"]
