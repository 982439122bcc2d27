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

import numpy as np
import pandas as pd

from dealgraph.queries.common import (EXIT_TYPES, NAN, column_nums, column_texts, dates_of, deals_of, entities_of,
                                      join_many, months_common, months_common_many, num, records, text)
from dealgraph.queries.metrics import metric_index
from dealgraph.queries.multiples import FIGURES, multiples_frame, with_intervals
from dealgraph.queries.returns import RoundTable, earlier_rounds

COLUMNS = with_intervals([
    "deal_id", "deal", "date", "status", "structure", "value_usd", "value_qualifier", "target_revenue_usd",
    "deal_to_revenue", "acquirer_market_cap_usd", "share_of_acquirer_cap_pct", "last_raise_date",
    "months_from_last_raise", "reasons",
], FIGURES + ("value_usd",))


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
    deals = deals_of(store, as_of=as_of, status=status, slim=True)
    index = metric_index(store)
    keep = deals["type"].isin(EXIT_TYPES)
    for col in ("target_revenue", "acquirer_market_cap"):
        if col in deals:
            keep |= pd.to_numeric(deals[col], errors="coerce").notna()
    chosen = deals[keep.to_numpy(dtype=bool)].sort_values(["date_key", "date_precision", "deal_id"], kind="stable")
    if len(chosen) == 0:
        return pd.DataFrame([], columns=COLUMNS)
    payer, payee = column_texts(chosen, "payer"), column_texts(chosen, "payee")
    keys = chosen["date_key"].to_numpy(dtype=np.int64)
    precs = chosen["date_precision"].to_numpy(dtype=np.int64)
    amt = column_nums(chosen, "amount_usd")
    # one transaction = the chosen deals on one (payer, payee, date key, precision)
    gid, _ = pd.factorize(pd.MultiIndex.from_arrays([payer, payee, keys, precs]))
    ng = int(gid.max()) + 1
    size = np.bincount(gid, minlength=ng)
    any_known = np.bincount(gid, weights=(~np.isnan(amt)).astype(float), minlength=ng) > 0
    # a deal without an amount whose transaction has the money on another row gets no row
    shown = ~(np.isnan(amt) & any_known[gid])
    structure = _structures(chosen, gid, size)

    rows = chosen[shown]
    m = multiples_frame(index, rows)
    ents = entities_of(store)
    p_, q_ = payer[shown], payee[shown]
    label = _names(ents, q_)
    named = p_ != ""
    label[named] = _names(ents, p_[named]) + " → " + label[named]
    exitlike = rows["type"].isin(EXIT_TYPES).to_numpy(dtype=bool)
    k, p = keys[shown], precs[shown]
    lr_date = np.empty(len(rows), dtype=object)
    lr_date[:] = ""
    lr_months = np.full(len(rows), NAN)
    lr_why = np.where(exitlike, "", "months_from_last_raise: not an exit-like deal").astype(object)
    if exitlike.any():
        table = RoundTable(deals, index)
        ex = np.flatnonzero(exitlike)
        last = table.last_earlier(q_[ex], k[ex], p[ex])
        found = last >= 0
        hit, miss = ex[found], ex[~found]
        lr_date[hit] = table.date[last[found]]
        lr_months[hit] = months_common_many(table.key[last[found]], table.prec[last[found]], k[hit], p[hit])
        lr_why[miss] = "months_from_last_raise: no round of " + q_[miss] + " before the deal"
    cols = {
        "deal_id": m["deal_id"].to_numpy(dtype=object), "deal": label, "date": dates_of(rows),
        "status": m["status"].to_numpy(dtype=object), "structure": structure[gid[shown]],
        "value_usd": m["amount_usd"].to_numpy(), "value_qualifier": m["amount_qualifier"].to_numpy(dtype=object),
        "target_revenue_usd": m["target_revenue_usd"].to_numpy(), "deal_to_revenue": m["deal_to_revenue"].to_numpy(),
        "acquirer_market_cap_usd": m["acquirer_market_cap_usd"].to_numpy(),
        "share_of_acquirer_cap_pct": m["share_of_acquirer_cap_pct"].to_numpy(), "last_raise_date": lr_date,
        "months_from_last_raise": lr_months,
        **{f"{mine}_{e}": m[f"{theirs}_{e}"].to_numpy() for e in ("low", "high") for mine, theirs in (
            ("value_usd", "amount_usd"), ("target_revenue_usd", "target_revenue_usd"),
            ("deal_to_revenue", "deal_to_revenue"), ("acquirer_market_cap_usd", "acquirer_market_cap_usd"),
            ("share_of_acquirer_cap_pct", "share_of_acquirer_cap_pct"))},
        "reasons": join_many(m["deal_to_revenue_reason"].to_numpy(dtype=object),
                             m["share_of_acquirer_cap_reason"].to_numpy(dtype=object), lr_why),
    }
    return pd.DataFrame(cols, columns=COLUMNS)


def _names(ents: pd.DataFrame, ids: np.ndarray) -> np.ndarray:
    """Display names of entity ids (the id itself when unknown), like :func:`entity_names`."""
    out = ids.astype(object).copy()
    if len(ents) and len(ids):
        idx = pd.Index(ents["id"].astype(str).to_numpy(dtype=object), dtype=object)
        names = ents["name"].astype(str).to_numpy(dtype=object)
        # entity_names() builds a dict: for a repeated id the last row wins
        idx_last = ~idx.duplicated(keep="last")
        idx, names = idx[idx_last], names[idx_last]
        pos = idx.get_indexer(ids.astype(object))
        out[pos >= 0] = names[pos[pos >= 0]]
    return out


def _structures(chosen: pd.DataFrame, gid: np.ndarray, size: np.ndarray) -> np.ndarray:
    """:func:`_structure` per transaction (singletons without sorting)."""
    types = column_texts(chosen, "type")
    stake = column_nums(chosen, "stake_pct")
    part = types.copy()
    st = np.flatnonzero((types == "stake") & ~np.isnan(stake))
    part[st] = [f"{x:g}% stake" for x in stake[st]]
    out = np.empty(len(size), dtype=object)
    single = size[gid] == 1
    out[gid[single]] = part[single]
    multi = np.flatnonzero(~single)
    if len(multi):
        recs = records(chosen.iloc[multi], ["deal_id", "type", "stake_pct", "amount_usd"])
        groups: dict[int, list[dict]] = {}
        for g, rec in zip(gid[multi], recs):
            groups.setdefault(int(g), []).append(rec)
        for g, grp in groups.items():
            out[g] = _structure(grp)
    return out
