"""Figures about one side of a deal: the deal's own column first, else the
latest metric observation on or before the deal date.

A *figure* is a number with where it came from, or the reason it is missing:

* ``deal_figure(index, deal, "target_revenue")`` -> the payee's revenue,
* ``deal_figure(index, deal, "acquirer_market_cap")`` -> the payer's market cap,
* ``deal_figure(index, deal, "post_money_valuation")`` -> the payee's post-money,
* ``deal_figure(index, deal, "amount")`` -> the deal amount itself.

Lookup order (why: the row that records the deal is the most specific source):

1. the deal's own column (``target_revenue`` ...) when it is filled in;
2. else the **latest** observation of the matching metric
   (:data:`dealgraph.graph.schema.DEAL_METRIC_COLUMNS`) for the matching side
   dated **on or before** the deal date. Partial dates compare at their common
   precision, so revenue dated ``2025`` counts for a deal dated ``2025-12-24``.
   "Latest" orders by date key, then precision (``2025-06`` is later than
   ``2025``); ties prefer an ``exact`` value over a qualified one, then the row
   listed last.
3. else the figure is missing and ``reason`` says why. Nothing is ever
   replaced by 0.

A figure keeps its value in its own currency and in US dollars;
:func:`ratio` divides two figures in their common currency when they share one
(so no FX rate is needed for two columns of the same deal) and in US dollars
otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dealgraph.graph.schema import DEAL_METRIC_COLUMNS
from dealgraph.queries import intervals
from dealgraph.queries.common import column_nums, column_texts, num as _num, text as _text

NAN = float("nan")


@dataclass(frozen=True)
class Figure:
    """A number with its provenance, or the reason there is none."""

    value: float = NAN          # in ``currency``
    currency: str = ""
    value_usd: float = NAN
    qualifier: str = ""         # exact | approx | up_to | at_least
    origin: str = ""            # "deal" or "metric <date> (<source>)"
    reason: str = ""            # why the figure is missing ("" when present)

    @property
    def known(self) -> bool:
        return not math.isnan(self.value)


def missing(reason: str) -> Figure:
    return Figure(reason=reason)


class MetricIndex:
    """Metric observations grouped by ``(entity, metric)`` for fast lookups.

    Observations are held as numpy arrays sorted by entity, metric, date key,
    precision, exactness and store order, so a lookup touches only the few
    observations of one entity's metric.
    """

    _FIELDS = ("date", "value", "value_qualifier", "currency", "value_usd", "source", "deal_id", "value_low",
               "value_high", "value_usd_low", "value_usd_high")
    _NUMBERS = ("value", "value_usd", "value_low", "value_high", "value_usd_low", "value_usd_high")

    def __init__(self, metrics: pd.DataFrame | None):
        self._by_metric: dict[str, tuple[pd.Index, int]] = {}
        self._by_deal: dict[str, pd.Series] = {}
        self._cols: dict[str, np.ndarray] = {}
        if metrics is None or len(metrics) == 0:
            return
        m = metrics.reset_index(drop=True)
        order = np.arange(len(m))
        exact = (m["value_qualifier"].astype("string").fillna("exact") == "exact").to_numpy(dtype=bool).astype(int)
        m = m.assign(_order=order, _exact=exact).sort_values(
            ["date_key", "date_precision", "_exact", "_order"], kind="stable").reset_index(drop=True)
        self._key = m["date_key"].to_numpy(dtype=np.int64)
        self._prec = m["date_precision"].to_numpy(dtype=np.int64)
        self._cols = {}
        for f in self._FIELDS:
            if f in m.columns:
                col = m[f]
                self._cols[f] = (col.to_numpy(dtype=float, na_value=np.nan) if f in self._NUMBERS
                                 else col.astype(object).where(col.notna(), None).to_numpy())
        ents = m["entity"].astype(str).to_numpy()
        mets = m["metric"].astype(str).to_numpy()
        self._ents = ents.astype(object)
        # For lookups of many deals at once: positions grouped by (metric, entity),
        # each group in the order above, with a sortable key group * _SPAN + date key.
        gcode = np.empty(len(m), np.int64)
        base = 0
        for met in sorted(set(mets.tolist())):
            sel = np.flatnonzero(mets == met)
            codes, uniq = pd.factorize(ents[sel])
            self._by_metric[met] = (pd.Index(uniq, dtype=object), base)
            gcode[sel] = codes + base
            base += len(uniq)
        self._sorted = np.lexsort((np.arange(len(m)), gcode))      # stable by group
        self._sgroup = gcode[self._sorted]
        self._skey = self._sgroup * _SPAN + self._key[self._sorted]

    def record(self, i: int) -> dict:
        """Observation ``i`` as a dict (date, value, value_qualifier, currency, value_usd, source, deal_id)."""
        return {f: c[i] for f, c in self._cols.items()}

    def positions(self, entity: str, metric: str) -> np.ndarray:
        """Positions of one entity's observations of one metric, earliest first."""
        g = self._group_codes([entity], metric)
        if g[0] < 0:
            return np.empty(0, dtype=np.int64)
        lo, hi = np.searchsorted(self._sgroup, [g[0], g[0] + 1])
        return self._sorted[lo:hi]

    def latest(self, entity: str, metric: str, date_key: int | None = None,
               date_precision: int | None = None) -> dict | None:
        """The latest observation on or before the date (any date if ``None``)."""
        pos = self.positions(entity, metric)
        if len(pos) == 0:
            return None
        if date_key is not None:
            ok = _on_or_before(self._key[pos], self._prec[pos], int(date_key), int(date_precision))
            pos = pos[ok]
            if len(pos) == 0:
                return None
        return self.record(int(pos[-1]))

    def for_deal_or_date(self, entity: str, metric: str, deal_id: str, date_key: int,
                         date_precision: int) -> dict | None:
        """The last observation recorded for ``deal_id``, else the last one dated
        the same as ``date_key`` at the common precision."""
        pos = self.positions(entity, metric)
        if len(pos) == 0:
            return None
        ids = self._cols.get("deal_id")
        if ids is not None:
            same = [int(i) for i in pos if ids[i] == deal_id]
            if same:
                return self.record(same[-1])
        div = _DIVS[np.minimum(self._prec[pos], int(date_precision))]
        eq = self._key[pos] // div == int(date_key) // div
        pos = pos[eq]
        return self.record(int(pos[-1])) if len(pos) else None


    # --- many lookups at once (the vectorised form of the two methods above) ---

    def _group_codes(self, entities, metric: str) -> np.ndarray:
        entry = self._by_metric.get(metric)
        if entry is None:
            return np.full(len(entities), -1, np.int64)
        idx, base = entry
        codes = idx.get_indexer(np.asarray(entities, dtype=object))
        return np.where(codes >= 0, codes + base, -1).astype(np.int64)

    def _last_at_or_below(self, g: np.ndarray, bound: np.ndarray) -> np.ndarray:
        """Sorted position of group ``g``'s last observation with key <= ``bound`` (-1: none)."""
        if len(self._by_metric) == 0:
            return np.full(len(g), -1, np.int64)
        pos = np.searchsorted(self._skey, g * _SPAN + bound, side="right") - 1
        ok = (g >= 0) & (pos >= 0)
        ok[ok] = self._sgroup[pos[ok]] == g[ok]
        return np.where(ok, pos, -1)

    def _row(self, sorted_pos: np.ndarray) -> np.ndarray:
        return np.where(sorted_pos >= 0, self._sorted[np.maximum(sorted_pos, 0)], -1) if len(self._by_metric) \
            else np.full(len(sorted_pos), -1, np.int64)

    def latest_many(self, entities, metric: str, keys, precisions) -> np.ndarray:
        """:meth:`latest` for many (entity, date) pairs: observation positions, -1 for none.

        Why a binary search works: within one entity's metric, ordered by date key,
        the observations on or before a date at common precision are exactly those
        with key <= date key + ``_PAD[precision]`` (a prefix), and the order above
        breaks ties on one key like :meth:`latest` does."""
        keys = np.asarray(keys, dtype=np.int64)
        precs = np.asarray(precisions, dtype=np.int64)
        g = self._group_codes(entities, metric)
        return self._row(self._last_at_or_below(g, keys + _PAD[precs]))

    def for_deal_or_date_many(self, entities, metric: str, deal_ids, keys, precisions) -> np.ndarray:
        """:meth:`for_deal_or_date` for many deals: observation positions, -1 for none.

        An observation dated the same as a date at common precision has its key in
        ``[key, key + _PAD[precision]]`` (same or finer precision), or is the date's
        month (for a day) or year (for a day or a month); the later of those wins."""
        n = len(keys)
        keys = np.asarray(keys, dtype=np.int64)
        precs = np.asarray(precisions, dtype=np.int64)
        out = np.full(n, -1, np.int64)
        if n == 0 or len(self._by_metric) == 0:
            return out
        ents = np.asarray(entities, dtype=object)
        by_deal = self._deal_positions(metric)
        if len(by_deal):
            hit = by_deal.index.get_indexer(pd.Index(ents + "\x00" + np.asarray(deal_ids, dtype=object), dtype=object))
            out = np.where(hit >= 0, by_deal.to_numpy()[np.maximum(hit, 0)], -1)
        g = self._group_codes(ents, metric)
        skeys = self._key[self._sorted]
        todo = out < 0
        p = self._last_at_or_below(g, keys + _PAD[precs])
        ok = todo & (p >= 0) & (skeys[np.maximum(p, 0)] >= keys)
        out = np.where(ok, self._row(p), out)
        todo &= ~ok
        for prec, div in ((3, 100), (2, 10000)):   # the month of a day, the year of a day or month
            coarse = keys // div * div
            p = self._last_at_or_below(g, coarse)
            ok = todo & (precs >= prec) & (p >= 0) & (skeys[np.maximum(p, 0)] == coarse)
            out = np.where(ok, self._row(p), out)
            todo &= ~ok
        return out

    def _deal_positions(self, metric: str) -> pd.Series:
        """``entity + NUL + deal_id`` -> the last observation of ``metric`` recorded for that deal."""
        if metric not in self._by_deal:
            ids = self._cols.get("deal_id")
            s = pd.Series([], dtype=np.int64)
            entry = self._by_metric.get(metric)
            if ids is not None and entry is not None:
                rows = self._sorted[(self._sgroup >= entry[1]) & (self._sgroup < entry[1] + len(entry[0]))]
                rows = rows[np.array([x is not None for x in ids[rows]], dtype=bool)]
                if len(rows):
                    k = self._ents[rows].astype(object) + "\x00" + ids[rows].astype(str).astype(object)
                    s = pd.Series(rows, index=pd.Index(k, dtype=object)).groupby(level=0, sort=False).max()
            self._by_deal[metric] = s
        return self._by_deal[metric]

    def records_many(self, positions: np.ndarray) -> dict[str, np.ndarray]:
        """Columns of the observations at ``positions`` (-1 -> None / NaN)."""
        out = {}
        ok = positions >= 0
        safe = np.maximum(positions, 0)
        for f in self._FIELDS:
            if f in self._NUMBERS:
                col = self._cols.get(f)
                out[f] = np.where(ok, col[safe], np.nan) if col is not None and len(col) else np.full(len(positions), np.nan)
            else:
                col = self._cols.get(f)
                v = np.full(len(positions), None, dtype=object)
                if col is not None and len(col):
                    v[ok] = col[safe[ok]]
                out[f] = v
        return out


_DIVS = np.array([1, 10000, 100, 1], dtype=np.int64)  # precision -> divisor of the yyyymmdd key
#: precision -> the largest key offset still inside a date's period: an observation
#: is on or before a date (at common precision) iff its key <= date key + _PAD[precision]
#: (a day: itself; a month: up to day 99 of it; a year: up to 12-99 of it).
_PAD = np.array([0, 9999, 99, 0], dtype=np.int64)
_SPAN = 10 ** 8  # above any yyyymmdd key: group * _SPAN + key sorts by group, then date


def _on_or_before(keys: np.ndarray, precs: np.ndarray, key: int, prec: int) -> np.ndarray:
    div = _DIVS[np.minimum(precs, prec)]
    return keys // div <= key // div


def metric_index(store_or_metrics) -> MetricIndex:
    """A :class:`MetricIndex` from a store (``.metrics``) or a metrics DataFrame."""
    if isinstance(store_or_metrics, MetricIndex):
        return store_or_metrics
    if isinstance(store_or_metrics, pd.DataFrame):
        # a bare deals frame has no metrics; a metrics frame has a "metric" column
        return MetricIndex(store_or_metrics if "metric" in store_or_metrics.columns else None)
    return MetricIndex(getattr(store_or_metrics, "metrics", None))


def deal_figure(index: MetricIndex, deal: Mapping, column: str) -> Figure:
    """The figure for ``column`` of ``deal`` (a deal row as a mapping).

    ``column`` is ``amount`` or one of ``DEAL_METRIC_COLUMNS``.
    """
    currency = _text(deal.get("currency")) or "USD"
    if column == "amount":
        v = _num(deal.get("amount"))
        if math.isnan(v):
            return missing("deal amount undisclosed")
        return Figure(v, currency, _num(deal.get("amount_usd")),
                      _text(deal.get("amount_qualifier")) or "exact", "deal")
    if column not in DEAL_METRIC_COLUMNS:
        raise ValueError(f"unknown deal figure {column!r}")
    v = _num(deal.get(column))
    if not math.isnan(v):
        return Figure(v, currency, _num(deal.get(f"{column}_usd")),
                      _text(deal.get(f"{column}_qualifier")) or "exact", "deal")
    metric, side = DEAL_METRIC_COLUMNS[column]
    entity = _text(deal.get(side))
    if not entity:
        return missing(f"no {side} to look up {metric} for")
    obs = index.latest(entity, metric, deal.get("date_key"), deal.get("date_precision"))
    if obs is None:
        return missing(f"no {metric} of {entity} on or before {_text(deal.get('date'))}")
    return observation_figure(obs)


def observation_figure(obs: dict) -> Figure:
    """A :class:`Figure` from a metric observation record."""
    src = _text(obs.get("source"))
    origin = f"metric {_text(obs.get('date'))}" + (f" ({src})" if src else "")
    return Figure(_num(obs.get("value")), _text(obs.get("currency")) or "USD", _num(obs.get("value_usd")),
                  _text(obs.get("value_qualifier")) or "exact", origin)


def ratio(num: Figure, den: Figure, *, what: str, num_name: str, den_name: str) -> tuple[float, str]:
    """``num / den`` as ``(value, reason)``; value NaN with a reason when undefined.

    Undefined when either side is missing, the denominator is zero (e.g.
    "negligible revenue" recorded as 0) or negative, or the figures are in
    different currencies and one lacks a US-dollar value (no FX rate).
    """
    if not num.known:
        return NAN, f"{what}: {num.reason}"
    if not den.known:
        return NAN, f"{what}: {den.reason}"
    if den.value == 0:
        return NAN, f"{what}: {den_name} is zero"
    if den.value < 0:
        return NAN, f"{what}: {den_name} is negative"
    if num.currency and num.currency == den.currency:
        return num.value / den.value, ""
    if math.isnan(num.value_usd) or math.isnan(den.value_usd):
        which = num_name if math.isnan(num.value_usd) else den_name
        return NAN, f"{what}: no US-dollar value for {which} (missing FX rate)"
    if den.value_usd == 0:
        return NAN, f"{what}: {den_name} is zero"
    return num.value_usd / den.value_usd, ""


def combined_qualifier(*figures: Figure) -> str:
    """``exact`` if every input is exact, else ``approx`` (a ratio of qualified
    figures is only approximately known; bounds do not survive division)."""
    quals = {f.qualifier for f in figures if f.known}
    return "exact" if quals <= {"exact", ""} else "approx"


# --- vectorised figures: the same rules as above, for many deals at once -------------------------


@dataclass
class Figures:
    """Many :class:`Figure` s as parallel arrays (``value`` NaN = missing, ``reason`` says why)."""

    value: np.ndarray
    currency: np.ndarray
    value_usd: np.ndarray
    qualifier: np.ndarray
    origin: np.ndarray
    reason: np.ndarray
    #: the interval of each figure, in its currency and in US dollars (NaN: an unknown
    #: end); left out (None), the figure is a point: low = high = value
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    low_usd: np.ndarray | None = None
    high_usd: np.ndarray | None = None

    def __post_init__(self) -> None:
        for end, point in (("low", "value"), ("high", "value"), ("low_usd", "value_usd"), ("high_usd", "value_usd")):
            if getattr(self, end) is None:
                setattr(self, end, np.asarray(getattr(self, point), dtype=float))

    @property
    def known(self) -> np.ndarray:
        return ~np.isnan(self.value)

    def scaled(self, factor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(low, high, low_usd, high_usd)`` times a positive factor."""
        return (*intervals.scale(self.low, self.high, factor), *intervals.scale(self.low_usd, self.high_usd, factor))

    def __len__(self) -> int:
        return len(self.value)

    def take(self, idx) -> "Figures":
        return Figures(*(getattr(self, f)[idx] for f in _FIGURE_FIELDS))

    def where(self, mask: np.ndarray, other: "Figures") -> "Figures":
        """Row-wise: this figure where ``mask``, else ``other``'s."""
        return Figures(*(np.where(mask, getattr(self, f), getattr(other, f)) for f in _FIGURE_FIELDS))

    def figure(self, i: int) -> Figure:
        return Figure(*(getattr(self, f)[i] for f in _FIGURE_FIELDS[:6]))

    @staticmethod
    def missing(n: int, reason) -> "Figures":
        r = np.empty(n, dtype=object)
        r[:] = reason
        return Figures(np.full(n, np.nan), _strs(n), np.full(n, np.nan), _strs(n), _strs(n), r)


_FIGURE_FIELDS = ("value", "currency", "value_usd", "qualifier", "origin", "reason", "low", "high", "low_usd",
                  "high_usd")


def _strs(n: int, v: str = "") -> np.ndarray:
    a = np.empty(n, dtype=object)
    a[:] = v
    return a


def _clean_missing(f: Figures) -> Figures:
    """Missing rows carry only their reason (like ``Figure(reason=...)``)."""
    k = f.known
    return Figures(f.value, np.where(k, f.currency, ""), np.where(k, f.value_usd, np.nan),
                   np.where(k, f.qualifier, ""), np.where(k, f.origin, ""), np.where(k, "", f.reason),
                   *(np.where(k, getattr(f, e), np.nan) for e in ("low", "high", "low_usd", "high_usd")))


def own_figures(deals: pd.DataFrame, column: str, reason) -> Figures:
    """The deal's own ``column`` (``amount`` or a :data:`DEAL_METRIC_COLUMNS` column); missing -> ``reason``."""
    n = len(deals)
    cur = column_texts(deals, "currency")
    cur[cur == ""] = "USD"
    v = column_nums(deals, column)
    q = column_texts(deals, f"{column}_qualifier")
    q[q == ""] = "exact"
    r = _strs(n)
    r[:] = reason
    ends = [column_nums(deals, f"{column}{e}") if f"{column}{e}" in deals.columns else None
            for e in ("_low", "_high", "_usd_low", "_usd_high")]
    return _clean_missing(Figures(v, cur, column_nums(deals, f"{column}_usd"), q, _strs(n, "deal"), r, *ends))


def observation_figures(index: MetricIndex, positions: np.ndarray, reason) -> Figures:
    """:func:`observation_figure` for many observation positions (-1 -> missing with ``reason``)."""
    rec = index.records_many(positions)
    n = len(positions)
    found = positions >= 0
    fi = np.flatnonzero(found)
    cur, qual, origin = _strs(n), _strs(n), _strs(n)
    if len(fi):
        # the text rules of observation_figure, on the found rows only
        cur[fi] = [_text(x) or "USD" for x in rec["currency"][fi]]
        qual[fi] = [_text(x) or "exact" for x in rec["value_qualifier"][fi]]
        origin[fi] = [f"metric {_text(d)}" + (f" ({_text(s)})" if _text(s) else "")
                      for d, s in zip(rec["date"][fi], rec["source"][fi])]
    r = _strs(n)
    r[~found] = np.asarray(reason, dtype=object)[~found] if not isinstance(reason, str) else reason
    f = Figures(rec["value"], cur, rec["value_usd"], qual, origin, r,
                *(rec.get(e) for e in ("value_low", "value_high", "value_usd_low", "value_usd_high")))
    # an observation without a value is a figure without a value and without a reason, like the scalar path
    return Figures(f.value, np.where(found, f.currency, ""), np.where(found, f.value_usd, np.nan),
                   np.where(found, f.qualifier, ""), np.where(found, f.origin, ""), f.reason,
                   *(np.where(found, getattr(f, e), np.nan) for e in ("low", "high", "low_usd", "high_usd")))


def deal_figures(index: MetricIndex, deals: pd.DataFrame, column: str) -> Figures:
    """:func:`deal_figure` for every row of ``deals`` (same rules, same reasons)."""
    if column == "amount":
        return own_figures(deals, "amount", "deal amount undisclosed")
    if column not in DEAL_METRIC_COLUMNS:
        raise ValueError(f"unknown deal figure {column!r}")
    own = own_figures(deals, column, "")
    metric, side = DEAL_METRIC_COLUMNS[column]
    ent = column_texts(deals, side)
    dates = column_texts(deals, "date")
    need = ~own.known & (ent != "")
    pos = np.full(len(deals), -1, np.int64)
    if need.any():
        pos[need] = index.latest_many(ent[need], metric, column_nums(deals, "date_key", np.int64)[need],
                                      column_nums(deals, "date_precision", np.int64)[need])
    why = np.where(ent == "", f"no {side} to look up {metric} for",
                   "no " + metric + " of " + ent + " on or before " + dates)
    return own.where(own.known, observation_figures(index, pos, why))


def ratios(num: Figures, den: Figures, *, what: str, num_name: str, den_name: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`ratio` row by row: ``(values, reasons)``."""
    n = len(num)
    val = np.full(n, np.nan)
    why = _strs(n)
    nk, dk = num.known, den.known
    a = ~nk
    why[a] = what + ": " + num.reason[a]
    b = nk & ~dk
    why[b] = what + ": " + den.reason[b]
    both = nk & dk
    zero = both & (den.value == 0)
    neg = both & ~zero & (den.value < 0)
    why[zero] = f"{what}: {den_name} is zero"
    why[neg] = f"{what}: {den_name} is negative"
    ok = both & ~zero & ~neg
    same = ok & (num.currency != "") & (num.currency == den.currency)
    with np.errstate(invalid="ignore", divide="ignore"):
        val[same] = num.value[same] / den.value[same]
        other = ok & ~same
        nu, du = np.isnan(num.value_usd), np.isnan(den.value_usd)
        fx = other & (nu | du)
        why[fx & nu] = f"{what}: no US-dollar value for {num_name} (missing FX rate)"
        why[fx & ~nu] = f"{what}: no US-dollar value for {den_name} (missing FX rate)"
        uzero = other & ~fx & (den.value_usd == 0)
        why[uzero] = f"{what}: {den_name} is zero"
        good = other & ~fx & ~uzero
        val[good] = num.value_usd[good] / den.value_usd[good]
    return val, why


def interval_ratios(num: Figures, den: Figures, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The interval of :func:`ratios`' ``value`` (NaN where it is NaN): the ends divided
    (:func:`dealgraph.queries.intervals.divide`) in the currency the value was computed in
    (the figures' own when they share one, else US dollars)."""
    same = (num.currency != "") & (num.currency == den.currency)
    lo, hi = intervals.divide(num.low, num.high, den.low, den.high)
    ulo, uhi = intervals.divide(num.low_usd, num.high_usd, den.low_usd, den.high_usd)
    known = ~np.isnan(value)
    return np.where(known, np.where(same, lo, ulo), np.nan), np.where(known, np.where(same, hi, uhi), np.nan)


def qualified(f: Figures) -> np.ndarray:
    """Rows where the figure is known and not exact (what makes :func:`combined_qualifier` ``approx``)."""
    return f.known & (f.qualifier != "exact") & (f.qualifier != "")
