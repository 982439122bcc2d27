"""Helpers for the circular-flows tests: deal frames in the store layout and
brute-force reference answers (networkx + itertools, independent of the engine)."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandas as pd

from dealgraph.graph.dates import compare, first_day, parse_date


def deals_frame(rows) -> pd.DataFrame:
    """rows: (deal_id, date, payer, payee, amount_usd or None[, status])."""
    recs = []
    for r in rows:
        deal_id, date, payer, payee, amount = r[:5]
        status = r[5] if len(r) > 5 else "completed"
        key, prec = parse_date(date)
        recs.append({"deal_id": deal_id, "date": date, "date_key": key, "date_precision": prec,
                     "type": "investment", "payer": payer, "payee": payee,
                     "amount_usd": np.nan if amount is None else float(amount), "status": status})
    df = pd.DataFrame(recs, columns=["deal_id", "date", "date_key", "date_precision", "type", "payer",
                                     "payee", "amount_usd", "status"])
    return df.astype({"date_key": "int64", "date_precision": "int64", "amount_usd": "float64"})


def canonical(cycle) -> tuple:
    i = cycle.index(min(cycle))
    return tuple(cycle[i:] + cycle[:i])


def collapsed(df: pd.DataFrame) -> nx.DiGraph:
    g = nx.DiGraph()
    for _, r in df.iterrows():
        if pd.notna(r["payer"]):
            g.add_edge(r["payer"], r["payee"])
    return g


def nx_cycles(df: pd.DataFrame, k: int) -> set[tuple]:
    g = collapsed(df)
    return {canonical(c) for c in nx.simple_cycles(g, length_bound=k) if len(c) >= 2}


def cycle_key_of(text: str) -> tuple:
    parts = text.split(" -> ")
    return tuple(parts[:-1])


def hop_deals(df: pd.DataFrame, cycle: tuple) -> list[list[dict]]:
    out = []
    L = len(cycle)
    for i in range(L):
        a, b = cycle[i], cycle[(i + 1) % L]
        sub = df[(df["payer"] == a) & (df["payee"] == b)]
        out.append(sub.to_dict("records"))
    return out


def brute_time_ordered(df: pd.DataFrame, cycle: tuple, window=None) -> bool:
    """Definition, literally: some starting hop and one deal per hop such that no deal
    is earlier (at common precision) than any deal before it; window on first days."""
    hops = hop_deals(df, cycle)
    L = len(hops)
    for s in range(L):
        seq = [hops[(s + i) % L] for i in range(L)]
        for choice in itertools.product(*seq):
            dates = [c["date"] for c in choice]
            if any(compare(dates[j], dates[i]) < 0 for i in range(L) for j in range(i + 1, L)):
                continue
            if window is not None:
                days = [first_day(*parse_date(x)).toordinal() for x in dates]
                if max(days) - min(days) > window:
                    continue
            return True
    return False


def witness_ok(df: pd.DataFrame, cycle: tuple, witness: str, window=None) -> bool:
    """The witness is one deal per hop, starting at some hop, in time order."""
    ids = [w.strip() for w in witness.split(",")]
    by_id = df.set_index("deal_id")
    L = len(cycle)
    if len(ids) != L:
        return False
    rows = [by_id.loc[i] for i in ids]
    start = cycle.index(rows[0]["payer"])
    for i, r in enumerate(rows):
        if (r["payer"], r["payee"]) != (cycle[(start + i) % L], cycle[(start + i + 1) % L]):
            return False
    dates = [r["date"] for r in rows]
    if any(compare(dates[j], dates[i]) < 0 for i in range(L) for j in range(i + 1, L)):
        return False
    if window is not None:
        days = [first_day(*parse_date(x)).toordinal() for x in dates]
        return max(days) - min(days) <= window
    return True


def hop_amounts(df: pd.DataFrame, cycle: tuple) -> list[float]:
    """Collapsed hop amounts: sum of known amounts, NaN if none known."""
    out = []
    for deals in hop_deals(df, cycle):
        known = [d["amount_usd"] for d in deals if not np.isnan(d["amount_usd"])]
        out.append(sum(known) if known else float("nan"))
    return out


def rank_key(df: pd.DataFrame, cycle: tuple):
    """Documented ranking: bottleneck desc (NaN last), total desc, then ids."""
    am = hop_amounts(df, cycle)
    b = -np.inf if any(np.isnan(a) for a in am) else min(am)
    t = sum(a for a in am if not np.isnan(a))
    return (-b, -t, cycle)
