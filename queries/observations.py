"""Which figure a query uses when several sources give one: the value-choice rule.

A **fact** is a deal field (``amount``, ``stake_pct``, ``post_money_valuation``,
``target_revenue``, ``acquirer_market_cap`` of one deal) or an entity metric at a date
(Scale AI's ``revenue`` as of ``2024``). Its **candidates** are

* the stored row's own value: the deal row's cell (its ``source`` and the deal's
  ``confidence``), or each metrics-file row of that entity, metric and date (its ``source``,
  confidence :data:`~dealgraph.graph.schema.DEFAULT_CONFIDENCE`); neither has a publication date;
* every observation of the fact (``observations`` files: ``loaders.observations``).

Candidates below ``--min-confidence`` are left out. The figure used is the first by:

1. **higher confidence** (:data:`~dealgraph.graph.schema.CONFIDENCES`, best first);
2. **later publication**: by date key, then precision (``2025-06-08`` after ``2025-06`` after
   ``2025``); a candidate without a publication date is older than any with one;
3. the stored row's own value before an observation;
4. an ``exact`` figure before a qualified one (``~``, ``up to``, ``at least``);
5. the source's text, in byte order (so the choice never depends on the order of adds).

``--min-confidence LEVEL`` also keeps only deals whose own ``confidence`` is LEVEL or better
(as ``--status`` keeps deals by status), and metrics-file rows only when the default
confidence passes.

:func:`choose` is the pure function (deals, metrics, observations -> the deals and metrics a
query sees, and the provenance of every fact with more than one candidate); :func:`effective`
gives a query the store seen through it. With no observations and no ``--min-confidence`` the
store is returned as it is: nothing is copied on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from dealgraph.errors import QueryError
from dealgraph.graph.schema import CONFIDENCES, DEFAULT_CONFIDENCE, OBSERVED_DEAL_FIELDS

#: Confidence -> rank, 0 the best.
RANK: dict[str, int] = {c: i for i, c in enumerate(CONFIDENCES)}

#: The columns of a provenance frame: one row per candidate of each fact with several.
PROVENANCE_COLUMNS = ("subject", "field", "as_of", "value", "value_qualifier", "currency", "value_usd", "source",
                      "url", "published", "confidence", "quote", "own", "chosen")


def allowed_confidences(min_confidence: str | None) -> tuple[str, ...]:
    """The levels ``--min-confidence LEVEL`` keeps: LEVEL and the better ones (all for None)."""
    if min_confidence is None:
        return CONFIDENCES
    level = str(min_confidence).strip().lower()
    if level not in RANK:
        raise QueryError(f"unknown confidence {min_confidence!r}; expected one of {', '.join(CONFIDENCES)}")
    return CONFIDENCES[:RANK[level] + 1]


def rank_candidates(c: pd.DataFrame) -> pd.DataFrame:
    """``c`` (candidates with ``subject, field, as_of, confidence, published_key,
    published_precision, own, value_qualifier, source``) sorted so each fact's figure of
    the rule comes first, with ``chosen`` set on it."""
    order = c.assign(
        _conf=c["confidence"].map(RANK).fillna(RANK[DEFAULT_CONFIDENCE]).astype(int),
        _pub=-c["published_key"].fillna(0).astype("int64"), _prec=-c["published_precision"].fillna(0).astype("int64"),
        _own=~c["own"].astype(bool), _qual=c["value_qualifier"].fillna("exact").astype(str) != "exact",
        _src=c["source"].fillna("").astype(str))
    order = order.sort_values(["subject", "field", "as_of", "_conf", "_pub", "_prec", "_own", "_qual", "_src"],
                              kind="stable")
    order["chosen"] = ~order.duplicated(["subject", "field", "as_of"])
    return order.drop(columns=["_conf", "_pub", "_prec", "_own", "_qual", "_src"]).reset_index(drop=True)


@dataclass
class Choice:
    """What :func:`choose` gives: the deals and metric rows a query sees, and the
    provenance (:data:`PROVENANCE_COLUMNS`) of every fact that had observations."""

    deals: pd.DataFrame
    metrics: pd.DataFrame | None
    provenance: pd.DataFrame


def choose(deals: pd.DataFrame, observations: pd.DataFrame, metrics: pd.DataFrame | None = None, *,
           min_confidence: str | None = None) -> Choice:
    """Apply the rule of the module docstring. ``deals``: the store's deals (with ``*_usd``
    columns); ``metrics``: the metrics table (without the deal-embedded rows), or None;
    ``observations``: the observations table. Nothing given is modified."""
    allowed = allowed_confidences(min_confidence)
    if min_confidence is not None:
        deals = deals[_among(deals["confidence"], allowed)]
        if metrics is not None and DEFAULT_CONFIDENCE not in allowed:
            metrics = metrics.iloc[0:0]
    obs = observations[_among(observations["confidence"], allowed)] if len(observations) else observations
    empty = pd.DataFrame(columns=list(PROVENANCE_COLUMNS))
    if not len(obs):
        return Choice(deals, metrics, empty)
    at = _positions(obs["subject"], deals["deal_id"])  # each observation's deal row, -1: none
    on_deal = (at >= 0) & (obs["as_of"].fillna("") == "").to_numpy()
    parts = []
    if on_deal.any():
        parts.append(_deal_candidates(deals, obs[on_deal], at[on_deal]))
    ent_obs = obs[~on_deal & (obs["as_of"].fillna("") != "").to_numpy()]
    if len(ent_obs) and metrics is not None:
        parts.append(_metric_candidates(metrics, ent_obs))
    if not parts:
        return Choice(deals, metrics, empty)
    prov = rank_candidates(pd.concat(parts, ignore_index=True))
    won = prov[prov["chosen"] & ~prov["own"].astype(bool)]
    row_of = dict(zip(obs["subject"].to_numpy(dtype=object)[on_deal], at[on_deal]))
    deals = _apply_to_deals(deals, won[won["as_of"] == ""], row_of)
    if metrics is not None:
        metrics = _apply_to_metrics(metrics, prov[prov["as_of"] != ""])
    return Choice(deals, metrics, prov[list(PROVENANCE_COLUMNS) + ["published_key", "published_precision"]])


def _among(values: pd.Series, allowed: tuple[str, ...]) -> np.ndarray:
    """Where ``values`` (empty: the default confidence) is one of ``allowed``, decided once
    per distinct value (a million deals carry four)."""
    codes, uniques = pd.factorize(values.fillna(DEFAULT_CONFIDENCE), use_na_sentinel=True)
    ok = np.array([u in allowed for u in uniques] + [False], dtype=bool)
    return ok[codes]


def _positions(keys: pd.Series, ids: pd.Series) -> np.ndarray:
    """The row of each of ``keys`` among ``ids`` (-1: none), one hash of ``ids`` in Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def arrow(s: pd.Series):
        try:
            return pa.array(s).cast(pa.string())  # Arrow-backed text: no copy through Python
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return pa.array(s.astype(str).to_numpy(dtype=object), pa.string())
    found = pc.index_in(arrow(keys), value_set=arrow(ids))
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _observation_rows(obs: pd.DataFrame) -> pd.DataFrame:
    cols = ["subject", "field", "as_of", "value", "value_qualifier", "currency", "value_usd", "source", "url",
            "published", "published_key", "published_precision", "confidence", "quote"]
    return obs[cols].assign(own=False, as_of=obs["as_of"].fillna("").astype(str))


def _deal_candidates(deals: pd.DataFrame, obs: pd.DataFrame, at: np.ndarray) -> pd.DataFrame:
    """The deal row's own value of each (deal, field) observed, and the observations
    (``at``: each observation's row in ``deals``)."""
    rows = []
    fields = obs["field"].astype(str).to_numpy()
    for field in OBSERVED_DEAL_FIELDS:
        pos = np.unique(at[fields == field])
        if not len(pos):
            continue
        d = deals.iloc[pos].set_index("deal_id")
        d = d[d[field].notna()]
        qual = d[field + "_qualifier"] if field + "_qualifier" in d.columns else pd.Series("exact", index=d.index)
        usd = d[field + "_usd"] if field + "_usd" in d.columns else d[field]
        rows.append(pd.DataFrame({
            "subject": d.index.astype(str), "field": field, "as_of": "", "value": d[field].to_numpy(),
            "value_qualifier": qual.to_numpy(), "currency": d["currency"].to_numpy(), "value_usd": usd.to_numpy(),
            "source": d["source"].to_numpy(), "url": "", "published": "", "published_key": 0,
            "published_precision": 0, "confidence": d["confidence"].fillna(DEFAULT_CONFIDENCE).to_numpy(),
            "quote": "", "own": True}))
    own = pd.concat(rows, ignore_index=True) if rows else None
    theirs = _observation_rows(obs)
    if "stake_pct" in set(theirs["field"]):  # a percentage, not money: no USD figure
        theirs.loc[theirs["field"] == "stake_pct", "value_usd"] = theirs.loc[theirs["field"] == "stake_pct", "value"]
    return theirs if own is None else pd.concat([own, theirs], ignore_index=True)


def _metric_candidates(metrics: pd.DataFrame, obs: pd.DataFrame) -> pd.DataFrame:
    """The metrics-file rows of each (entity, metric, date) observed, and the observations."""
    key = metrics["entity"].astype(str) + "\x1f" + metrics["metric"].astype(str) + "\x1f" + metrics["date"].astype(str)
    want = set(obs["subject"].astype(str) + "\x1f" + obs["field"].astype(str) + "\x1f" + obs["as_of"].astype(str))
    m = metrics[key.isin(want)]
    own = pd.DataFrame({
        "subject": m["entity"].astype(str), "field": m["metric"].astype(str), "as_of": m["date"].astype(str),
        "value": m["value"], "value_qualifier": m["value_qualifier"], "currency": m["currency"],
        "value_usd": m["value_usd"], "source": m["source"], "url": "", "published": "", "published_key": 0,
        "published_precision": 0, "confidence": DEFAULT_CONFIDENCE, "quote": "", "own": True})
    return pd.concat([own, _observation_rows(obs)], ignore_index=True)


def _apply_to_deals(deals: pd.DataFrame, won: pd.DataFrame, row_of: dict) -> pd.DataFrame:
    """``deals`` with each chosen observation's value in its field (a copy when any;
    ``row_of``: deal id -> its row)."""
    if not len(won):
        return deals
    deals = deals.copy(deep=False)  # the columns changed are replaced below; the others are shared
    pos = np.array([row_of[s] for s in won["subject"].to_numpy(dtype=object)], dtype=np.int64)
    for field in pd.unique(won["field"]):
        sel = (won["field"] == field).to_numpy()
        rows = pos[sel]
        value = deals[field].to_numpy(dtype=float, na_value=np.nan, copy=True)
        value[rows] = won["value"].to_numpy(dtype=float)[sel]
        deals[field] = value
        if field + "_qualifier" in deals.columns:
            q = deals[field + "_qualifier"].to_numpy(dtype=object, copy=True)
            q[rows] = won["value_qualifier"].to_numpy(dtype=object)[sel]
            deals[field + "_qualifier"] = pd.array(q, dtype=deals[field + "_qualifier"].dtype)
        if field + "_usd" in deals.columns:
            usd = deals[field + "_usd"].to_numpy(dtype=float, na_value=np.nan, copy=True)
            usd[rows] = value[rows] * deals["fx_rate"].to_numpy(dtype=float)[rows]
            deals[field + "_usd"] = usd
    return deals


def _apply_to_metrics(metrics: pd.DataFrame, prov: pd.DataFrame) -> pd.DataFrame:
    """``metrics`` with each observed (entity, metric, date) down to the one figure chosen."""
    if not len(prov):
        return metrics
    key = metrics["entity"].astype(str) + "\x1f" + metrics["metric"].astype(str) + "\x1f" + metrics["date"].astype(str)
    pkey = prov["subject"].astype(str) + "\x1f" + prov["field"].astype(str) + "\x1f" + prov["as_of"].astype(str)
    kept_own = set(pkey[prov["chosen"] & prov["own"].astype(bool)])
    # a metrics row of an observed fact stays when it is the one chosen (ties between own rows: the first)
    observed = key.isin(set(pkey))
    keep = ~observed | (key.isin(kept_own) & ~key.duplicated())
    from dealgraph.graph.dates import parse_date

    won = prov[prov["chosen"] & ~prov["own"].astype(bool)]
    dates = [parse_date(d) for d in won["as_of"]]
    new = pd.DataFrame({
        "entity": won["subject"].to_numpy(), "metric": won["field"].to_numpy(), "date": won["as_of"].to_numpy(),
        "date_key": [k for k, _ in dates], "date_precision": [p for _, p in dates], "value": won["value"].to_numpy(),
        "value_qualifier": won["value_qualifier"].to_numpy(), "currency": won["currency"].to_numpy(),
        "fx_rate": (won["value_usd"] / won["value"]).to_numpy(), "value_usd": won["value_usd"].to_numpy(),
        "source": won["source"].to_numpy(), "notes": "", "extra": "{}"})
    out = pd.concat([metrics[keep], new.astype({c: metrics[c].dtype for c in new.columns if c in metrics.columns},
                                                errors="ignore")], ignore_index=True)
    return out


class Effective:
    """A store as a query sees it: ``deals`` and ``metrics`` after the rule (and
    ``--min-confidence``), ``provenance`` of the facts with several candidates; everything
    else is the store's own (``entities``, ``fx``, ``columns`` ...)."""

    def __init__(self, store, min_confidence: str | None = None):
        self._store = store
        choice = choose(store.deals, store.observations, store._table("metrics"), min_confidence=min_confidence)
        self.deals = choice.deals
        self._metrics = choice.metrics
        self.provenance = choice.provenance
        self.min_confidence = min_confidence

    @cached_property
    def metrics(self) -> pd.DataFrame:
        """Every metric observation queries see (``Store.metrics`` over the chosen figures)."""
        from dealgraph.graph.store import observations as metric_rows

        return metric_rows(self._metrics, self.deals)

    def graph(self, **options):
        """``Store.graph`` over the chosen figures (and ``--min-confidence``)."""
        return type(self._store).graph(self, **options)

    def __getattr__(self, name):
        return getattr(self._store, name)


def effective(store, min_confidence: str | None = None):
    """``store`` as queries see it (:class:`Effective`), or ``store`` itself when there is
    nothing to choose (no observations, no ``min_confidence``) or it is a DataFrame."""
    if isinstance(store, pd.DataFrame):  # deals given as a frame: only the confidence filter applies
        if min_confidence is None or "confidence" not in store.columns:
            return store
        return store[store["confidence"].fillna(DEFAULT_CONFIDENCE).isin(allowed_confidences(min_confidence))]
    if isinstance(store, Effective) or not hasattr(store, "columns"):
        return store
    if min_confidence is None and store.columns("observations").num_rows == 0:
        return store
    return Effective(store, min_confidence)


# -- what a result used, and where the sources disagree ------------------------------------

def figure_text(field: str, value, qualifier, usd) -> str:
    """A candidate figure as people read it: ``$14.3bn``, ``~$750m``, a stake as ``49%``."""
    from dealgraph.queries.common import money

    if field == "stake_pct":
        return f"{value:g}%"
    return money(usd if pd.notna(usd) else value, qualifier)


def _candidate_text(r) -> str:
    """``$14.3bn: TheWrap [reported, published 2025-06] https://...`` (what --explain prints)."""
    from dealgraph.queries.common import text

    when = f", published {text(r['published'])}" if text(r["published"]) else ""
    own = "" if not r["own"] else " (the row's own)"
    url = f" {text(r['url'])}" if text(r["url"]) else ""
    return (f"{figure_text(r['field'], r['value'], r['value_qualifier'], r['value_usd'])}: "
            f"{text(r['source']) or '(no source)'} [{text(r['confidence'])}{when}]{own}{url}")


def disagreements(provenance: pd.DataFrame, tolerance: float) -> pd.DataFrame:
    """The facts whose candidates disagree: (largest - smallest) / largest > ``tolerance``
    (US dollars for money, the percentage for a stake). One row per fact: subject, field,
    as_of, spread (that ratio), chosen (its text) and others (the other candidates' texts,
    ``; ``-joined), the chosen first in rule order."""
    cols = ["subject", "field", "as_of", "spread", "chosen", "others"]
    if provenance is None or not len(provenance):
        return pd.DataFrame(columns=cols)
    out = []
    for (subject, field, as_of), g in provenance.groupby(["subject", "field", "as_of"], sort=True):
        v = g["value_usd"].where(g["value_usd"].notna(), g["value"]).astype(float).abs()
        hi, lo = v.max(), v.min()
        spread = (hi - lo) / hi if hi > 0 else 0.0
        if spread > tolerance + 1e-9:
            texts = [_candidate_text(r) for r in g.to_dict("records")]
            out.append({"subject": subject, "field": field, "as_of": as_of, "spread": spread,
                        "chosen": texts[0], "others": "; ".join(texts[1:])})
    return pd.DataFrame(out, columns=cols)


_TOKEN = r"[a-z0-9][a-z0-9._-]*"


def explain(result: pd.DataFrame, store) -> list[str]:
    """What ``--explain`` prints under a result: for each deal the result names (any text
    cell holding its id), the deal row's source and confidence, and for each of its figures
    that several sources give, the one used and the others; then the same for the entity
    metrics with several sources of the entities the result names. Lines, unwrapped."""
    import re

    from dealgraph.queries.common import text

    deals = store.deals
    prov = getattr(store, "provenance", None)
    prov = prov if prov is not None else pd.DataFrame(columns=list(PROVENANCE_COLUMNS))
    ids = set(deals["deal_id"].astype(str))
    ents = set(store.entities["id"].astype(str)) if hasattr(store, "entities") else set()
    seen: dict[str, None] = {}
    for c in result.columns:
        s = result[c]
        if pd.api.types.is_numeric_dtype(s.dtype):
            continue
        for cell in s.dropna().astype(str).unique():
            for tok in re.findall(_TOKEN, cell.lower()):
                if tok in ids or tok in ents:
                    seen.setdefault(tok, None)
    lines = ["Sources of the figures used (--explain; rule: docs/queries.md#sources):"]
    by_id = deals.set_index("deal_id")
    groups = {k: g for k, g in prov.groupby(["subject"], sort=False)} if len(prov) else {}
    for tok in seen:
        if tok in ids:
            d = by_id.loc[tok]
            lines.append(f"{tok}: the deal row: {text(d['source']) or '(no source)'} "
                         f"[{text(d.get('confidence')) or DEFAULT_CONFIDENCE}]")
        g = groups.get((tok,))
        if g is None:
            continue
        for (field, as_of), f in g.groupby(["field", "as_of"], sort=True):
            if tok not in ids and not as_of:
                continue
            recs = f.to_dict("records")
            what = f"{field}" + (f" as of {as_of}" if as_of else "")
            lines.append(f"  {(tok + ' ') if tok not in ids else ''}{what} used {_candidate_text(recs[0])}")
            lines += [f"    other source: {_candidate_text(r)}" for r in recs[1:]]
    if len(lines) == 1:
        lines.append("(the result names no deal or entity)")
    return lines
