"""Who each entity's money comes from, and what it loses without one payer.

**Concentration** (default). For each entity Y with at least one incoming deal
from a named payer (flows: :mod:`dealgraph.queries.flows`):

* ``inflow_usd`` = Σ known amounts from named payers (payer-less rounds are
  shown apart as ``unattributed_inflow_usd`` and excluded from the shares: their
  money has no counterparty);
* ``share_i = flow(i -> Y) / inflow_usd`` per payer i;
  ``top_counterparty`` / ``top_share_pct`` = the largest (ties: by id);
* ``hhi = Σ share_i²`` (Herfindahl index on a 0–1 scale: 1 = one payer,
  1/n = n equal payers; multiply by 10,000 for the antitrust convention);
* ``undisclosed_deals`` counts incoming named deals without an amount: they
  are missing from every share. With no known inflow the shares are n/a.

**Without X** (``without="x"``). For each entity Y ≠ X, what Y loses if X stops
paying, assuming nothing else changes:

* ``direct_loss_usd = flow(X -> Y)``;
* ``indirect_loss_usd = Σ_Z flow(X -> Z) / base(Z) · flow(Z -> Y)`` over
  intermediates Z ∉ {X, Y}: each dollar Z pays is funded pro rata by where Z's
  money comes from (money is fungible), with
  ``base(Z) = max(funds(Z), outflow(Z))`` — ``funds(Z)`` is Z's known inflow
  from named payers plus its unattributed inflow, ``outflow(Z)`` the known
  amounts Z pays. Why the max: when Z pays out more than its recorded inflow,
  the rest is Z's own money (revenue, cash), so X cannot fund more than
  ``flow(X -> Z)`` of Z's payments in total. Hence ``indirect <= indirect_max``
  and Σ_Y (X's money via Z) ``<= flow(X -> Z)``;
* ``indirect_max_usd = Σ_Z min(flow(X -> Z), flow(Z -> Y))`` — the most of Z's
  payments to Y that could be X's money (an upper bound);
* ``loss_share_pct = 100 · (direct + indirect) / inflow_usd(Y)`` and
  ``max_loss_share_pct`` with the upper bound;
* ``via`` lists the intermediates with their pro-rata contribution.
Only one intermediate hop is followed; dates are not considered. Rows with no
loss are left out; sorted by ``loss_share_pct`` descending.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealgraph.queries.common import NAN, deals_of, money
from dealgraph.queries.flows import pair_flows, unattributed_inflow

COLUMNS = ["entity", "inflow_usd", "counterparties", "top_counterparty", "top_share_pct", "hhi",
           "undisclosed_deals", "unattributed_inflow_usd", "breakdown", "reason"]
WITHOUT_COLUMNS = ["entity", "without", "inflow_usd", "direct_loss_usd", "indirect_loss_usd", "indirect_max_usd",
                   "loss_share_pct", "max_loss_share_pct", "via", "undisclosed_deals", "reason"]


def _pct(x: float) -> str:
    return f"{x:.1f}%"


def concentration(store, *, without: str | None = None, entity: str | None = None,
                  as_of: str | None = None, status=None) -> pd.DataFrame:
    """Inflow concentration per entity, or losses without ``without``."""
    deals = deals_of(store, as_of=as_of, status=status)
    flows = pair_flows(deals)
    unattr = unattributed_inflow(deals)
    if without is not None:
        out = _without(flows, unattr, without)
    else:
        out = _concentration(flows, unattr)
    if entity is not None:
        out = out[out["entity"] == entity]
    return out.reset_index(drop=True)


def _concentration(flows: pd.DataFrame, unattr: pd.Series) -> pd.DataFrame:
    rows = []
    for y, g in flows.groupby("payee", sort=True):
        g = g.sort_values(["amount_usd", "payer"], ascending=[False, True], kind="stable")
        total = float(g["amount_usd"].sum())
        und = int(g["undisclosed"].sum())
        row = dict(entity=y, inflow_usd=total, counterparties=len(g), undisclosed_deals=und,
                   unattributed_inflow_usd=float(unattr.get(y, 0.0)))
        if total > 0:
            shares = g["amount_usd"].to_numpy() / total
            row.update(top_counterparty=str(g["payer"].iloc[0]), top_share_pct=100.0 * shares[0],
                       hhi=float(np.sum(shares ** 2)),
                       breakdown="; ".join(f"{p} {_pct(100 * s)}" for p, s in zip(g["payer"], shares) if s > 0),
                       reason="" if und == 0 else f"{und} incoming deal(s) with undisclosed amount not counted")
        else:
            row.update(top_counterparty="", top_share_pct=NAN, hhi=NAN, breakdown="",
                       reason="no known inflow from named payers (amounts undisclosed)")
        rows.append(row)
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.sort_values(["inflow_usd", "entity"], ascending=[False, True], kind="stable")


def _without(flows: pd.DataFrame, unattr: pd.Series, x: str) -> pd.DataFrame:
    inflow = flows.groupby("payee")["amount_usd"].sum()
    outflow = flows.groupby("payer")["amount_usd"].sum()
    funds = inflow.add(unattr, fill_value=0.0)
    base = pd.concat([funds, outflow], axis=1).max(axis=1)
    from_x = flows[flows["payer"] == x][["payee", "amount_usd", "undisclosed"]]
    direct = from_x.set_index("payee")["amount_usd"]
    direct_und = from_x.set_index("payee")["undisclosed"]
    # one intermediate hop: x -> z -> y, z, y != x, y != z (pairs never have payer == payee)
    hop1 = from_x.rename(columns={"payee": "z", "amount_usd": "a", "undisclosed": "ua"})
    hop2 = flows[flows["payer"] != x].rename(columns={"payer": "z", "payee": "y", "amount_usd": "b",
                                                      "undisclosed": "ub"})
    two = hop1.merge(hop2[["z", "y", "b", "ub"]], on="z")
    two = two[two["y"] != x]
    fz = base.reindex(two["z"]).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        two["pro"] = np.where(fz > 0, np.minimum(two["a"].to_numpy() / fz, 1.0) * two["b"].to_numpy(), 0.0)
    two["max"] = np.minimum(two["a"].to_numpy(), two["b"].to_numpy())
    ys = sorted(set(direct.index) | set(two["y"]))
    rows = []
    for y in ys:
        t = two[two["y"] == y].sort_values(["pro", "z"], ascending=[False, True], kind="stable")
        d = float(direct.get(y, 0.0))
        ind, mx = float(t["pro"].sum()), float(t["max"].sum())
        und = int(direct_und.get(y, 0)) + int((t["ua"] + t["ub"]).sum())
        tot = float(inflow.get(y, 0.0))
        reasons = []
        if tot > 0:
            share, mshare = 100.0 * (d + ind) / tot, 100.0 * (d + mx) / tot
        else:
            share = mshare = NAN
            reasons.append("no known inflow")
        if und:
            reasons.append(f"{und} deal(s) on these paths with undisclosed amount not counted")
        if d == 0 and ind == 0 and mx == 0 and not und:
            continue
        rows.append(dict(entity=y, without=x, inflow_usd=tot, direct_loss_usd=d, indirect_loss_usd=ind,
                         indirect_max_usd=mx, loss_share_pct=share, max_loss_share_pct=mshare,
                         via="; ".join(f"{z} ({money(p)})" for z, p in zip(t["z"], t["pro"])),
                         undisclosed_deals=und, reason="; ".join(reasons)))
    out = pd.DataFrame(rows, columns=WITHOUT_COLUMNS)
    return out.sort_values(["loss_share_pct", "entity"], ascending=[False, True], kind="stable", na_position="last")
