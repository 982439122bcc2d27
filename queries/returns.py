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

import numpy as np
import pandas as pd

from dealgraph.queries.common import (EXIT_TYPES, NAN, ROUND_TYPES, cmp_dates, column_nums, column_texts, date_of,
                                      dates_of, deals_of, earlier_many, entity_names, join, months_common,
                                      months_common_many, num, records, text)
from dealgraph.queries.metrics import (Figure, Figures, MetricIndex, deal_figure, interval_ratios, metric_index,
                                       observation_figure, observation_figures, own_figures, ratio, ratios)


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
    """Rounds from round-type deal records sorted by payee, date, funding_round first.

    The scalar statement of the rules above, deal by deal. The queries use
    :class:`RoundTable` (the same rules on arrays); the tests check that both
    give the same rounds."""
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


class RoundTable:
    """Every round of every entity as arrays (the vectorised :func:`_build_rounds`).

    Rounds are ordered by entity, date key, precision, like the lists of
    :func:`all_rounds`; ``code`` numbers the entities (``entities[code]``) and
    ``sortkey = code * _SPAN + date key`` is non-decreasing, so the rounds of an
    entity up to a date are one binary search away.
    """

    def __init__(self, deals: pd.DataFrame, index: MetricIndex):
        d = _round_deals(deals)
        n = len(d)
        ent = column_texts(d, "payee")
        keys = d["date_key"].to_numpy(dtype=np.int64)
        precs = d["date_precision"].to_numpy(dtype=np.int64)
        new = np.ones(n, dtype=bool)
        if n:
            new[1:] = (ent[1:] != ent[:-1]) | (keys[1:] != keys[:-1]) | (precs[1:] != precs[:-1])
        start = np.flatnonzero(new)
        rid = np.cumsum(new) - 1
        self.n = r = len(start)
        self.deals = d
        self.deal_round = rid
        self.start = start
        self.stop = np.append(start[1:], n).astype(np.int64)
        self.entity = ent[start]
        self.key, self.prec = keys[start], precs[start]
        self.date = dates_of(d.iloc[start]) if r else np.empty(0, dtype=object)
        ids = column_texts(d, "deal_id")
        self.deal_ids_text = _group_join(ids, start, self.stop, ", ")
        self.first_deal_id = ids[start]

        # amount: the funding_round total when the round has one, else the investments' total
        amt = column_nums(d, "amount_usd")
        fr = column_texts(d, "type") == "funding_round"
        fr_sum, fr_any = _seq_sum(np.where(fr, amt, np.nan), rid, r)
        inv_sum, inv_any = _seq_sum(np.where(fr, np.nan, amt), rid, r)
        self.amount_usd = np.where(fr_any, fr_sum, np.where(inv_any, inv_sum, np.nan))

        self._index = index
        self._post_money: Figures | None = None
        self._note: np.ndarray | None = None
        self.entities = pd.Index(pd.unique(self.entity), dtype=object) if r else pd.Index([], dtype=object)
        self.code = self.entities.get_indexer(self.entity).astype(np.int64)
        self.sortkey = self.code * _SPAN + self.key

    @property
    def post_money(self) -> Figures:
        """Each round's post-money valuation (computed on first use)."""
        if self._post_money is None:
            self._compute_post_money()
        return self._post_money

    @property
    def note(self) -> np.ndarray:
        if self._note is None:
            self._compute_post_money()
        return self._note

    def _compute_post_money(self) -> None:
        # the first deal's (funding_round first) that has one
        d, index, r, n, rid = self.deals, self._index, self.n, len(self.deals), self.deal_round
        ent = column_texts(d, "payee")
        ids = column_texts(d, "deal_id")
        keys = d["date_key"].to_numpy(dtype=np.int64)
        precs = d["date_precision"].to_numpy(dtype=np.int64)
        own = own_figures(d, "post_money_valuation", "no post-money valuation")
        need = ~own.known
        pos = np.full(n, -1, np.int64)
        if need.any():
            pos[need] = index.for_deal_or_date_many(ent[need], "post_money_valuation", ids[need], keys[need],
                                                    precs[need])
        pm = own.where(own.known, observation_figures(index, pos, "no post-money valuation"))
        known = np.flatnonzero(pm.known)
        first = np.full(r, -1, np.int64)
        kr, kfirst, kcount = np.unique(rid[known], return_index=True, return_counts=True)
        first[kr] = known[kfirst]
        self._post_money = pm.take(np.maximum(first, 0)).where(first >= 0,
                                                               Figures.missing(r, "no post-money valuation"))
        self._note = np.empty(r, dtype=object)
        self._note[:] = ""
        for rr, k0, c in zip(kr[kcount > 1], kfirst[kcount > 1], kcount[kcount > 1]):
            rows = known[k0:k0 + c]
            distinct = {round(float(u) if not math.isnan(u) else float(v), 6)
                        for u, v in zip(pm.value_usd[rows], pm.value[rows])}
            if len(distinct) > 1:
                self._note[rr] = f"conflicting post-money values; using the one from {self.first_deal_id[rr]}"

    def rounds(self) -> dict[str, list[Round]]:
        """As :func:`all_rounds`: entity -> :class:`Round` list."""
        return self._objects(0, self.n)

    def entity_rounds(self, entity: str) -> list[Round]:
        """One entity's :class:`Round` list (as :func:`entity_rounds`)."""
        lo, _, hi = self.candidates([entity], [_SPAN - 1])
        return self._objects(int(lo[0]), int(hi[0])).get(entity, [])

    def _objects(self, lo: int, hi: int) -> dict[str, list[Round]]:
        """Rounds ``lo .. hi - 1`` as :class:`Round` objects, by entity."""
        out: dict[str, list[Round]] = {}
        if hi <= lo:
            return out
        first = int(self.start[lo])
        d = self.deals.iloc[first:int(self.stop[hi - 1])]   # their deals only
        ids = column_texts(d, "deal_id")
        types = column_texts(d, "type")
        statuses = column_texts(d, "status")
        payers = column_texts(d, "payer")
        pm = self.post_money
        for i in range(lo, hi):
            a, b = self.start[i] - first, self.stop[i] - first
            st: list[str] = []
            for x in statuses[a:b]:
                if x not in st:
                    st.append(x)
            out.setdefault(self.entity[i], []).append(Round(
                self.entity[i], self.date[i], int(self.key[i]), int(self.prec[i]), list(ids[a:b]), list(types[a:b]),
                [x for x in payers[a:b] if x], st, float(self.amount_usd[i]), pm.figure(i), self.note[i]))
        return out

    def candidates(self, entities, keys) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per date (entity, key): ``lo, safe, hi`` — the entity's rounds are
        ``[lo, ...)``, those from earlier years ``[lo, safe)`` (earlier at any
        precision), those with key <= the date's ``[lo, hi)``."""
        code = self.entities.get_indexer(np.asarray(entities, dtype=object)).astype(np.int64)
        keys = np.asarray(keys, dtype=np.int64)
        base = np.where(code >= 0, code, 0) * _SPAN
        lo = np.searchsorted(self.sortkey, base, side="left")
        safe = np.searchsorted(self.sortkey, base + keys // 10000 * 10000, side="left")
        hi = np.searchsorted(self.sortkey, base + keys, side="right")
        none = code < 0
        return np.where(none, 0, lo), np.where(none, 0, safe), np.where(none, 0, hi)

    def earlier_pairs(self, entities, keys, precs) -> tuple[np.ndarray, np.ndarray]:
        """``(date index, round index)`` for every round strictly earlier than each
        date at common precision (:func:`earlier_rounds`), by date, then round."""
        keys = np.asarray(keys, dtype=np.int64)
        precs = np.asarray(precs, dtype=np.int64)
        lo, safe, hi = self.candidates(entities, keys)
        i, j = _ranges(lo, hi)
        ok = (j < safe[i]) | earlier_many(self.key[j], self.prec[j], keys[i], precs[i])
        return i[ok], j[ok]

    def last_earlier(self, entities, keys, precs) -> np.ndarray:
        """Per date: the latest round strictly earlier at common precision (-1: none)."""
        keys = np.asarray(keys, dtype=np.int64)
        precs = np.asarray(precs, dtype=np.int64)
        lo, safe, hi = self.candidates(entities, keys)
        out = np.where(safe > lo, safe - 1, -1)
        i, j = _ranges(safe, hi)       # only the date's own year needs the comparison
        ok = earlier_many(self.key[j], self.prec[j], keys[i], precs[i])
        np.maximum.at(out, i[ok], j[ok])
        return out


_SPAN = 10 ** 8  # above any yyyymmdd key


def _ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ``(i, j)`` with ``lo[i] <= j < hi[i]``, by i then j."""
    cnt = np.maximum(hi - lo, 0)
    i = np.repeat(np.arange(len(lo), dtype=np.int64), cnt)
    offs = np.cumsum(cnt) - cnt
    j = np.arange(len(i), dtype=np.int64) - np.repeat(offs, cnt) + np.repeat(lo, cnt)
    return i, j


def _seq_sum(values: np.ndarray, group: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group: the sum of the non-NaN values added left to right (exactly
    like Python's ``sum`` of a list — no pairwise or compensated summation), and
    whether there was any."""
    ok = ~np.isnan(values)
    v, g = values[ok], group[ok]
    total = np.zeros(n)
    anyv = np.zeros(n, dtype=bool)
    anyv[g] = True
    if len(v) == 0:
        return total, anyv
    # rank of each value inside its group; add rank 0s, then rank 1s, ... (sequential per group)
    new = np.ones(len(g), dtype=bool)
    new[1:] = g[1:] != g[:-1]
    starts = np.flatnonzero(new)
    rank = np.arange(len(g)) - np.repeat(starts, np.diff(np.append(starts, len(g))))
    for k in range(int(rank.max()) + 1):
        sel = rank == k
        total[g[sel]] += v[sel]
    return total, anyv


def _group_join(values: np.ndarray, start: np.ndarray, stop: np.ndarray, sep: str) -> np.ndarray:
    """``sep.join(values[start[i]:stop[i]])`` per group (singletons without a join)."""
    out = values[start].copy() if len(start) else np.empty(0, dtype=object)
    multi = np.flatnonzero(stop - start > 1)
    for i in multi:
        out[i] = sep.join(values[start[i]:stop[i]])
    return out


def all_rounds(deals: pd.DataFrame, index: MetricIndex) -> dict[str, list[Round]]:
    """Entity id -> its rounds, earliest first, for every entity with a round."""
    return RoundTable(deals, index).rounds()


def entity_rounds(deals: pd.DataFrame, index: MetricIndex, entity: str) -> list[Round]:
    """The rounds of ``entity`` among ``deals``, earliest first (see module doc)."""
    d = deals[(deals["payee"] == entity).to_numpy(dtype=bool)]
    return RoundTable(d, index).rounds().get(entity, [])


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
    deals = deals_of(store, as_of=as_of, status=status, slim=True)
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


#: Return figures that carry an interval (``<figure>_low``, ``<figure>_high`` after each, in
#: :func:`returns_frame`; the scalar :func:`exit_returns` gives the points): a range's ends
#: divided (:func:`dealgraph.queries.intervals.divide`), the annualised returns at the
#: multiple's ends (increasing in the multiple at a fixed time).
INTERVAL_FIGURES = ("exit_value_usd", "round_post_money_usd", "multiple", "annualised_compound_pct",
                    "annualised_simple_pct")
POINT_COLUMNS = [
    "exit_deal_id", "entity", "exit_date", "exit_type", "exit_status", "exit_value_usd", "exit_basis",
    "round_date", "round_deal_ids", "round_post_money_usd", "round_step_up", "last_round", "multiple", "months",
    "annualised_compound_pct", "annualised_simple_pct", "reason",
]
RETURN_COLUMNS = [x for c in POINT_COLUMNS for x in ((c, f"{c}_low", f"{c}_high") if c in INTERVAL_FIGURES
                                                     else (c,))]


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
    deals = deals_of(store, as_of=as_of, status=status, slim=True)
    index = metric_index(store)
    ex = deals[deals["type"].isin(EXIT_TYPES)]
    if entity is not None:
        ex = ex[ex["payee"] == entity]
    if exit_deal is not None:
        ex = ex[ex["deal_id"] == exit_deal]
    ex = ex.sort_values(["date_key", "date_precision", "deal_id"], kind="stable")
    if len(ex) == 0:
        return pd.DataFrame([], columns=RETURN_COLUMNS)
    if entity is not None or exit_deal is not None:
        deals = deals[deals["payee"].isin(ex["payee"]).to_numpy(dtype=bool)]
    return returns_frame(RoundTable(deals, index), ex)


def exit_values(ex: pd.DataFrame) -> tuple[Figures, np.ndarray]:
    """:func:`exit_value` for every row: ``(values, bases)``."""
    amount = own_figures(ex, "amount", "deal amount undisclosed")
    stake = column_nums(ex, "stake_pct")
    ak = amount.known
    has = ak & ~np.isnan(stake)
    bad = has & ((stake <= 0) | (stake > 100))
    good = has & ~bad
    with np.errstate(invalid="ignore", divide="ignore"):
        f = 100.0 / stake
    scaled = Figures(amount.value * f, amount.currency, amount.value_usd * f, amount.qualifier,
                     np.full(len(ex), "amount / stake", dtype=object), amount.reason, *amount.scaled(f))
    v = scaled.where(good, amount).where(~bad, Figures.missing(len(ex), "stake out of (0, 100]"))
    basis = np.where(good, "implied valuation (amount / stake)", np.where(ak & ~has, "deal amount", ""))
    return v, basis.astype(object)


def _pow_pct(m: np.ndarray, years: np.ndarray) -> np.ndarray:
    """``100 * (m ** (1 / years) - 1)`` with :func:`math.pow` (the scalar path's
    function, so the digits match), ``inf`` on overflow."""
    # not numpy.power: its SIMD kernels may differ from libm's pow in the last digit
    inv = (1.0 / years).tolist()
    try:
        p = np.fromiter(map(math.pow, m.tolist(), inv), dtype=float, count=len(m))
    except OverflowError:
        p = np.empty(len(m))
        for i, (a, e) in enumerate(zip(m.tolist(), inv)):
            try:
                p[i] = math.pow(a, e)
            except OverflowError:
                p[i] = math.inf
    with np.errstate(invalid="ignore", over="ignore"):
        return 100.0 * (p - 1.0)


def returns_frame(table: RoundTable, ex: pd.DataFrame) -> pd.DataFrame:
    """:func:`exit_returns` for every exit-like deal in ``ex`` (in its order) at
    once, rows exactly as the scalar path gives them."""
    ne = len(ex)
    ent = column_texts(ex, "payee")
    ek = ex["date_key"].to_numpy(dtype=np.int64)
    ep = ex["date_precision"].to_numpy(dtype=np.int64)
    v, basis = exit_values(ex)
    v_usd = np.where(v.known, v.value_usd, np.nan)

    i, j = table.earlier_pairs(ent, ek, ep)          # exit i, earlier round j; by exit, then round
    npairs = len(i)
    first = np.ones(npairs, dtype=bool)
    first[1:] = i[1:] != i[:-1]
    last = np.ones(npairs, dtype=bool)
    last[:-1] = i[1:] != i[:-1]
    pm = table.post_money
    pk = pm.known[j]
    # step-up: vs the previous round with a post-money among this exit's earlier rounds
    marks = np.where(pk, np.arange(npairs), -1)
    run = np.maximum.accumulate(marks) if npairs else marks
    prev = np.full(npairs, -1, np.int64)
    prev[1:] = run[:-1]
    group_start = np.maximum.accumulate(np.where(first, np.arange(npairs), 0)) if npairs else marks
    has_prev = pk & (prev >= group_start)
    sel = np.flatnonzero(has_prev)
    step = np.full(npairs, np.nan)
    if len(sel):
        step[sel], _ = ratios(pm.take(j[sel]), pm.take(j[prev[sel]]), what="step_up", num_name="post-money",
                              den_name="previous post-money")

    keep = pk | last
    i, j, step, last = i[keep], j[keep], step[keep], last[keep]
    n = len(i)
    months = months_common_many(table.key[j], table.prec[j], ek[i], ep[i])
    m, code = _pair_multiples(v, pm, i, j)

    # annualised (see annualised()); their reasons apply only where the multiple has none
    comp = np.full(n, np.nan)
    simple = np.full(n, np.nan)
    mnan = np.isnan(m)
    notime = ~mnan & ~(months > 0)
    nonpos = ~mnan & ~notime & (m <= 0)
    ok = ~mnan & ~notime & ~nonpos
    years = months[ok] / 12.0
    comp[ok] = _pow_pct(m[ok], years)
    simple[ok] = 100.0 * (m[ok] - 1.0) / years
    m_lo, m_hi = interval_ratios(v.take(i), pm.take(j), m)
    ends = {"multiple": (m_lo, m_hi)}
    for name in ("annualised_compound_pct", "annualised_simple_pct"):
        ends[name] = tuple(np.full(n, np.nan) for _ in range(2))
    for k, mk in enumerate((m_lo, m_hi)):
        ends["annualised_compound_pct"][k][ok] = _pow_pct(mk[ok], years)
        ends["annualised_simple_pct"][k][ok] = 100.0 * (mk[ok] - 1.0) / years
    blank = code == _R_NONE
    code[blank & mnan] = _R_NO_MULTIPLE
    code[blank & notime] = _R_NO_TIME
    code[blank & nonpos] = _R_NOT_POSITIVE

    # output rows: each exit's pairs in order, or one row for an exit without an earlier round.
    # Text columns are taken (Arrow take) from small per-exit / per-round arrays.
    none = np.ones(ne, dtype=bool)
    none[i] = False
    ni = np.flatnonzero(none)
    nn = len(ni)
    nones_before = np.cumsum(none) - none                  # exits without rows before each exit
    pair_pos = np.arange(n) + nones_before[i]
    pairs_before = np.searchsorted(i, np.arange(ne))       # pair rows of earlier exits
    none_pos = pairs_before[ni] + nones_before[ni]
    total = n + nn
    xi = np.empty(total, np.int64)
    xi[pair_pos], xi[none_pos] = i, ni
    rj = np.empty(total, np.int64)                         # round row, table.n = none
    rj[pair_pos], rj[none_pos] = j, table.n

    def spread(pair_vals, none_val, dtype=float):
        out = np.empty(total, dtype=dtype)
        out[pair_pos] = pair_vals
        out[none_pos] = none_val
        return out

    def strs(small, idx):
        return pd.array(np.asarray(small, dtype=object), dtype="str").take(idx)

    # reason: constants, then per-exit "exit value: ...", per-round "round DATE: ...", per-exit "no round of ..."
    nconst = len(_REASONS)
    exit_why = "exit value: " + v.reason
    round_why = "round " + table.date + ": " + pm.reason
    no_round = "no round of " + ent + " before the exit"
    ridx = code.astype(np.int64)
    ridx[code == _R_EXIT] = nconst + i[code == _R_EXIT]
    ridx[code == _R_ROUND] = nconst + ne + j[code == _R_ROUND]
    reason_idx = spread(ridx, 0, np.int64)
    reason_idx[none_pos] = nconst + ne + table.n + ni
    reasons = np.concatenate([np.array(_REASONS, dtype=object), exit_why.astype(object), round_why.astype(object),
                              no_round.astype(object)])

    rd = np.append(table.date.astype(object), "")
    rids = np.append(table.deal_ids_text.astype(object), "")
    pmj_usd = np.where(pm.known[j], pm.value_usd[j], np.nan)
    cols = {
        "exit_deal_id": strs(column_texts(ex, "deal_id"), xi),
        "entity": strs(ent, xi),
        "exit_date": strs(dates_of(ex), xi),
        "exit_type": strs(column_texts(ex, "type"), xi),
        "exit_status": strs(column_texts(ex, "status"), xi),
        "exit_value_usd": v_usd[xi],
        "exit_basis": strs(basis, xi),
        "round_date": strs(rd, rj),
        "round_deal_ids": strs(rids, rj),
        "round_post_money_usd": spread(pmj_usd, np.nan),
        "round_step_up": spread(step, np.nan),
        "last_round": spread(last, False, bool),
        "multiple": spread(m, np.nan),
        "months": spread(months, np.nan),
        "annualised_compound_pct": spread(comp, np.nan),
        "annualised_simple_pct": spread(simple, np.nan),
        "reason": strs(reasons, reason_idx),
        "exit_value_usd_low": np.where(v.known, v.low_usd, np.nan)[xi],
        "exit_value_usd_high": np.where(v.known, v.high_usd, np.nan)[xi],
        "round_post_money_usd_low": spread(np.where(pm.known[j], pm.low_usd[j], np.nan), np.nan),
        "round_post_money_usd_high": spread(np.where(pm.known[j], pm.high_usd[j], np.nan), np.nan),
        **{f"{name}_{e}": spread(ends[name][k], np.nan) for name in ends for k, e in enumerate(("low", "high"))},
    }
    return pd.DataFrame(cols, columns=RETURN_COLUMNS)


# reason codes of a return row (indices into _REASONS; _R_EXIT / _R_ROUND point at per-exit / per-round text)
_REASONS = ("", "multiple: post-money is zero", "multiple: post-money is negative",
            "multiple: no US-dollar value for exit value (missing FX rate)",
            "multiple: no US-dollar value for post-money (missing FX rate)", "annualised: no multiple",
            "annualised: no time between round and exit at their common precision",
            "annualised: multiple is not positive")
(_R_NONE, _R_ZERO, _R_NEGATIVE, _R_FX_EXIT, _R_FX_ROUND, _R_NO_MULTIPLE, _R_NO_TIME,
 _R_NOT_POSITIVE) = range(len(_REASONS))
_R_EXIT, _R_ROUND = 100, 101


def _pair_multiples(v: Figures, pm: Figures, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``ratio(exit value i, post-money j)`` for each pair, as the scalar path words it
    (exit value missing -> its reason; post-money missing -> the round's), but
    without copying text per pair: ``(multiples, reason codes)``."""
    n = len(i)
    val = np.full(n, np.nan)
    code = np.full(n, _R_NONE, np.int16)
    vk, pk = v.known[i], pm.known[j]
    code[~vk] = _R_EXIT
    code[vk & ~pk] = _R_ROUND
    both = vk & pk
    den = pm.value[j]
    zero = both & (den == 0)
    neg = both & ~zero & (den < 0)
    code[zero] = _R_ZERO
    code[neg] = _R_NEGATIVE
    okk = both & ~zero & ~neg
    # one currency code space for both sides
    cur_codes, _ = pd.factorize(np.concatenate([v.currency.astype(object), pm.currency.astype(object)]))
    vc, pc = cur_codes[:len(v)], cur_codes[len(v):]
    vcur_named = (v.currency != "")
    same = okk & vcur_named[i] & (vc[i] == pc[j])
    with np.errstate(invalid="ignore", divide="ignore"):
        val[same] = v.value[i[same]] / den[same]
        other = okk & ~same
        nu, du = np.isnan(v.value_usd[i]), np.isnan(pm.value_usd[j])
        fx = other & (nu | du)
        code[fx & nu] = _R_FX_EXIT
        code[fx & ~nu] = _R_FX_ROUND
        uzero = other & ~fx & (pm.value_usd[j] == 0)
        code[uzero] = _R_ZERO
        good = other & ~fx & ~uzero
        val[good] = v.value_usd[i[good]] / pm.value_usd[j[good]]
    return val, code


__all__ = ["returns", "rounds", "entity_rounds", "exit_value", "exit_returns", "annualised", "Round",
           "entity_names"]
