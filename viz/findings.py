"""The report's lead: the headline findings in words, built from query results.

Pure functions of the query DataFrames (nothing here reads the store): every figure
in the text is a value of a result, formatted with the shared money formatter
(:func:`dealgraph.queries.common.money`). :func:`findings` returns one
:class:`Finding` per topic that the data supports; a topic whose query found
nothing (no cycles, no multiples, no claims file) is left out rather than written
as "0".

Topics, in order, and the figures each states:

* **money** — deals, date span and disclosed total of the selection (``deals``);
  the money on hops that lie on a directed cycle and its share of the money on all
  hops between two different entities (``timeline``'s last row and its
  ``attrs["on_cycles_usd"]`` / ``attrs["hop_usd"]``).
* **loops** — how many money cycles of length 2..k ``circular-flows`` found, and
  the ``top`` largest by bottleneck: members, bottleneck, money moved around it.
* **hub** — the entity with the largest circular capacity (``hubs`` rank 1).
* **key deals** — ``sensitivity``'s key deals (``attrs["key_deals"]``): removing
  one changes a headline figure most; each with payer, payee, type, amount, date.
* **multiples** — the ``top`` highest deal-value / target-revenue multiples
  (``multiples``).
* **claims** — the claims check: how many stated figures hold, and each one that
  does not (stated vs recomputed); how many cannot be checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import pandas as pd

from dealgraph.queries.common import money

#: How many cycles, key deals and multiples the lead names.
TOP = 3


@dataclass(frozen=True)
class Finding:
    """One sentence (or two) of the lead and the figures it states (name -> value)."""

    topic: str
    text: str
    figures: dict = field(default_factory=dict)


def _num(x) -> float:
    v = pd.to_numeric(x, errors="coerce")
    return float("nan") if v is None or pd.isna(v) else float(v)


def _pct(x: float) -> str:
    return f"{x:.0f}%" if abs(x) >= 10 or x == 0 else f"{x:.1f}%"


def _multiple(x: float) -> str:
    return f"{x:.1f}x" if x < 100 else f"{x:,.0f}x"


def _name(names: Mapping[str, str], x) -> str:
    return names.get(str(x), str(x))


def _path(names: Mapping[str, str], cycle: str) -> str:
    """``a -> b -> a`` as ``A → B → A`` (display names)."""
    return " → ".join(_name(names, p.strip()) for p in str(cycle).split("->"))


def _list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def deal_phrase(deal: Mapping, names: Mapping[str, str]) -> str:
    """``Nvidia → OpenAI investment of $100.0bn (2025-09)``: a deal in words."""
    kind = str(deal.get("type") or "deal").replace("_", " ")
    amt = _num(deal.get("amount_usd"))
    payer = deal.get("payer")
    who = (f"{_name(names, payer)} → " if isinstance(payer, str) and payer else "") + _name(names, deal.get("payee"))
    text = f"{who} {kind}"
    if not math.isnan(amt):
        text += f" of {money(amt, deal.get('amount_qualifier'))}"
    if deal.get("date"):
        text += f" ({deal['date']})"
    return text


def money_finding(deals: pd.DataFrame, timeline: pd.DataFrame | None) -> Finding | None:
    if deals is None or not len(deals):
        return None
    known = pd.to_numeric(deals["amount_usd"], errors="coerce").dropna()
    first = deals.loc[deals["date_key"].idxmin(), "date"]
    last = deals.loc[deals["date_key"].idxmax(), "date"]
    figs = {"deals": len(deals), "first": first, "last": last, "known_usd": float(known.sum()),
            "undisclosed": int(len(deals) - len(known))}
    text = (f"The data holds {len(deals):,} deals from {first} to {last} with {money(known.sum())} of "
            f"disclosed amounts ({figs['undisclosed']:,} undisclosed).")
    if timeline is not None and len(timeline):
        on, total = _num(timeline.attrs.get("on_cycles_usd")), _num(timeline.attrs.get("hop_usd"))
        pct = _num(timeline["on_cycles_pct"].iloc[-1])
        if not math.isnan(on) and not math.isnan(pct) and total > 0:
            figs.update(on_cycles_usd=on, hop_usd=total, on_cycles_pct=pct)
            text += (f" {money(on)} of the {money(total)} paid between two different entities — "
                     f"{_pct(pct)} — moves along payer-to-payee links that lie on a money cycle: money that can "
                     f"come back to where it started.")
    return Finding("money", text, figs)


def loops_finding(cycles: pd.DataFrame | None, names: Mapping[str, str], top: int = TOP) -> Finding | None:
    if cycles is None or not len(cycles):
        return None
    total = int(cycles.attrs.get("total_cycles") or len(cycles))
    k = cycles.attrs.get("max_length")
    best = cycles.head(top)
    parts, listed = [], []
    for r in best.to_dict("records"):
        b, t = _num(r["bottleneck_usd"]), _num(r["total_usd"])
        path = _path(names, r["cycle"])
        listed.append({"cycle": path, "bottleneck_usd": b, "total_usd": t})
        parts.append(f"{path} (bottleneck {money(b) if not math.isnan(b) else 'undisclosed'}, "
                     f"{money(t)} around the loop)")
    span = f" of length 2 to {k}" if k else ""
    text = (f"{_plural(total, 'money cycle', 'money cycles')}{span} run through the deals. "
            f"The largest by bottleneck (the least that can go all the way round): {_list(parts)}.")
    return Finding("loops", text, {"total_cycles": total, "cycles": listed})


def hub_finding(hubs: pd.DataFrame | None, names: Mapping[str, str]) -> Finding | None:
    if hubs is None or not len(hubs):
        return None
    r = hubs.iloc[0]
    cap = _num(r["capacity_usd"])
    if math.isnan(cap) or cap <= 0:
        return None
    name = _name(names, r["entity"])
    text = (f"{name} sits at the centre of the web: up to {money(cap)} can flow from it through others and back "
            f"to it (its circular capacity), on {int(r['cycles']):,} cycles.")
    return Finding("hub", text, {"entity": str(r["entity"]), "capacity_usd": cap, "cycles": int(r["cycles"])})


def _figure_words(figure: str, names: Mapping[str, str]) -> str:
    """``capacity of nvidia ($bn)`` as ``capacity of Nvidia``."""
    words = str(figure).rsplit(" (", 1)[0] if str(figure).endswith(")") else str(figure)
    return " ".join(_name(names, w) for w in words.split(" "))


def key_deals_finding(sensitivity: pd.DataFrame | None, deals: pd.DataFrame, names: Mapping[str, str],
                      top: int = TOP) -> Finding | None:
    key = None if sensitivity is None else sensitivity.attrs.get("key_deals")
    if key is None or not len(key):
        return None
    by_id = deals.set_index("deal_id", drop=False)
    parts, listed = [], []
    for r in key.head(top).to_dict("records"):
        change = _num(r["change_pct"])
        if math.isnan(change) or change == 0:
            continue
        did = str(r["deal_id"])
        phrase = deal_phrase(by_id.loc[did].to_dict(), names) if did in by_id.index else did
        listed.append({"deal_id": did, "figure": str(r["figure"]), "change_pct": change})
        parts.append(f"{phrase}: without it the {_figure_words(r['figure'], names)} changes by "
                     f"{'+' if change > 0 else '−'}{_pct(abs(change))}")
    if not parts:
        return None
    text = "The picture rests on a few deals. " + "; ".join(parts) + "."
    return Finding("key deals", text, {"deals": listed})


def multiples_finding(multiples: pd.DataFrame | None, names: Mapping[str, str], top: int = TOP) -> Finding | None:
    if multiples is None or not len(multiples) or "deal_to_revenue" not in multiples:
        return None
    m = multiples[pd.to_numeric(multiples["deal_to_revenue"], errors="coerce").notna()]
    m = m.sort_values("deal_to_revenue", ascending=False, kind="stable").head(top)
    if not len(m):
        return None
    parts, listed = [], []
    for r in m.to_dict("records"):
        x = float(r["deal_to_revenue"])
        listed.append({"deal_id": r["deal_id"], "deal_to_revenue": x})
        parts.append(f"{deal_phrase(r, names)}, {_multiple(x)} {_name(names, r['payee'])}'s revenue "
                     f"of {money(_num(r['target_revenue_usd']))}")
    text = "The highest prices for revenue: " + "; ".join(parts) + "."
    return Finding("multiples", text, {"multiples": listed})


def _stated(claim: Mapping) -> str:
    return str(claim.get("stated") or "").strip()


def _recomputed(claim: Mapping) -> str:
    v = _num(claim.get("recomputed"))
    if math.isnan(v):
        return "n/a"
    unit = str(claim.get("unit") or "")
    text = f"{v:,.1f}" if abs(v) < 1000 else f"{v:,.0f}"
    return {"x": text + "x", "%": text + "%", "months": text + " months", "usd": money(v)}.get(unit, text)


def claims_finding(check: pd.DataFrame | None, deals: pd.DataFrame, names: Mapping[str, str]) -> Finding | None:
    if check is None or not len(check):
        return None
    by_id = deals.set_index("deal_id", drop=False)
    verdict = check["verdict"].astype(str)
    held = int((verdict == "supported").sum())
    bad = check[verdict == "not supported"]
    unknown = int((verdict == "cannot check").sum())
    text = f"Of {len(check):,} figures stated in the sources, {held:,} hold when recomputed from the deals"
    if len(bad):
        fails = [f"{_claim_subject(r, by_id, names)}: stated {_stated(r)}, recomputed {_recomputed(r)}"
                 for r in bad.to_dict("records")]
        text += f"; {_plural(len(bad), 'does', 'do')} not — " + "; ".join(fails)
    if unknown:
        text += f"; {unknown:,} cannot be checked from the data"
    text += "."
    return Finding("claims", text, {"claims": len(check), "supported": held, "not_supported": int(len(bad)),
                                    "cannot_check": unknown})


def _claim_subject(claim: Mapping, by_id: pd.DataFrame, names: Mapping[str, str]) -> str:
    """The claim's metric in words and what it is about: its first deal in words
    (:func:`deal_phrase`), or the entity by name."""
    metric = str(claim.get("metric") or "").replace("_", " ")
    subject = str(claim.get("subject") or "").split("@")[0]
    what = deal_phrase(by_id.loc[subject].to_dict(), names) if subject in by_id.index else _name(names, subject)
    return f"{metric} of {what}"


def findings(results: Mapping[str, pd.DataFrame | None], deals: pd.DataFrame, names: Mapping[str, str],
             *, top: int = TOP) -> list[Finding]:
    """The lead's findings from the query results by name (``timeline``,
    ``circular-flows``, ``hubs``, ``sensitivity``, ``multiples``, ``check``; a missing
    or failed one is ``None``), the selected ``deals`` and entity display names."""
    out = [money_finding(deals, results.get("timeline")),
           loops_finding(results.get("circular-flows"), names, top),
           hub_finding(results.get("hubs"), names),
           key_deals_finding(results.get("sensitivity"), deals, names, top),
           multiples_finding(results.get("multiples"), names, top),
           claims_finding(results.get("check"), deals, names)]
    return [f for f in out if f is not None]

