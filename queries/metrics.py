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
from dealgraph.queries.common import num as _num, text as _text

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

    _FIELDS = ("date", "value", "value_qualifier", "currency", "value_usd", "source", "deal_id")

    def __init__(self, metrics: pd.DataFrame | None):
        self._groups: dict[tuple[str, str], np.ndarray] = {}
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
                self._cols[f] = (col.to_numpy(dtype=float, na_value=np.nan) if f in ("value", "value_usd")
                                 else col.astype(object).where(col.notna(), None).to_numpy())
        ents = m["entity"].astype(str).to_numpy()
        mets = m["metric"].astype(str).to_numpy()
        for key, pos in pd.DataFrame({"e": ents, "m": mets}).groupby(["e", "m"], sort=False).indices.items():
            self._groups[(str(key[0]), str(key[1]))] = np.sort(pos)

    def record(self, i: int) -> dict:
        """Observation ``i`` as a dict (date, value, value_qualifier, currency, value_usd, source, deal_id)."""
        return {f: c[i] for f, c in self._cols.items()}

    def positions(self, entity: str, metric: str) -> np.ndarray:
        """Positions of one entity's observations of one metric, earliest first."""
        return self._groups.get((entity, metric), np.empty(0, dtype=np.int64))

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


_DIVS = np.array([1, 10000, 100, 1], dtype=np.int64)  # precision -> divisor of the yyyymmdd key


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
