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
  ``tentative_deals`` counts incoming in_talks / rumoured deals (included by
  the default ``--status``).
* ``breakdown`` lists the largest counterparties with their shares (at most
  five, then ``+N more``).

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
* ``via`` lists the intermediates with their pro-rata contribution (at most
  five, then ``+N more``).
Only one intermediate hop is followed; dates are not considered. Rows with no
loss are left out; sorted by ``loss_share_pct`` descending.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealgraph.queries.common import deals_of, money, top_text
from dealgraph.queries.flows import pair_flows, unattributed_inflow

COLUMNS = ["entity", "inflow_usd", "counterparties", "top_counterparty", "top_share_pct", "hhi",
           "undisclosed_deals", "tentative_deals", "unattributed_inflow_usd", "breakdown", "reason"]
WITHOUT_COLUMNS = ["entity", "without", "inflow_usd", "direct_loss_usd", "indirect_loss_usd", "indirect_max_usd",
                   "loss_share_pct", "max_loss_share_pct", "via", "undisclosed_deals", "reason"]




def concentration(store, *, without: str | None = None, entity: str | None = None,
                  as_of: str | None = None, status=None) -> pd.DataFrame:
    """Inflow concentration per entity, or losses without ``without``."""
    deals = deals_of(store, as_of=as_of, status=status, slim=True)
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
    if len(flows) == 0:
        return pd.DataFrame(columns=COLUMNS)
    f = flows.sort_values(["payee", "amount_usd", "payer"], ascending=[True, False, True], kind="stable")
    g = f.groupby("payee", sort=False)
    total = g["amount_usd"].transform("sum").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, f["amount_usd"].to_numpy() / total, np.nan)
    f = f.assign(share=share, sq=share ** 2)
    g = f.groupby("payee", sort=False)
    first = g.head(1).set_index("payee")
    out = pd.DataFrame({
        "inflow_usd": g["amount_usd"].sum(),
        "counterparties": g.size(),
        "hhi": g["sq"].sum(min_count=1),
        "undisclosed_deals": g["undisclosed"].sum(),
        "tentative_deals": g["tentative"].sum(),
    })
    known = out["inflow_usd"] > 0
    out["top_counterparty"] = first["payer"].where(known, "")
    out["top_share_pct"] = (100.0 * first["share"]).where(known)
    out["hhi"] = out["hhi"].where(known)
    out["unattributed_inflow_usd"] = unattr.reindex(out.index).fillna(0.0).astype(float)
    pos = f[f["share"] > 0]
    out["breakdown"] = top_text(pos, "payee", "payer",
                                 lambda h: (100.0 * h["share"]).map(lambda x: f"{x:.1f}%")).reindex(out.index).fillna("")
    und = out["undisclosed_deals"]
    out["reason"] = np.where(~known, "no known inflow from named payers (amounts undisclosed)",
                             np.where(und > 0, und.astype(str) + " incoming deal(s) with undisclosed amount not counted",
                                      ""))
    out = out.rename_axis("entity").reset_index()[COLUMNS]
    return out.sort_values(["inflow_usd", "entity"], ascending=[False, True], kind="stable")


def _without(flows: pd.DataFrame, unattr: pd.Series, x: str) -> pd.DataFrame:
    inflow = flows.groupby("payee")["amount_usd"].sum()
    outflow = flows.groupby("payer")["amount_usd"].sum()
    funds = inflow.add(unattr, fill_value=0.0)
    base = pd.concat([funds, outflow], axis=1).max(axis=1)
    from_x = flows[flows["payer"] == x]
    direct = from_x.groupby("payee")["amount_usd"].sum()
    direct_und = from_x.groupby("payee")["undisclosed"].sum()
    # one intermediate hop: x -> z -> y with y != x (pairs never have payer == payee, so z != x, y != z)
    hop1 = from_x.rename(columns={"payee": "z", "amount_usd": "a", "undisclosed": "ua"})[["z", "a", "ua"]]
    hop2 = flows.rename(columns={"payer": "z", "payee": "y", "amount_usd": "b", "undisclosed": "ub"})
    two = hop1.merge(hop2[["z", "y", "b", "ub"]], on="z")
    two = two[two["y"] != x]
    fz = base.reindex(two["z"]).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        two = two.assign(pro=np.where(fz > 0, np.minimum(two["a"].to_numpy() / fz, 1.0) * two["b"].to_numpy(), 0.0),
                         mx=np.minimum(two["a"].to_numpy(), two["b"].to_numpy()),
                         und=two["ua"] + two["ub"])
    ind = two.groupby("y").agg(indirect_loss_usd=("pro", "sum"), indirect_max_usd=("mx", "sum"),
                               und=("und", "sum"))
    ys = direct.index.union(ind.index)
    out = pd.DataFrame(index=ys)
    out["direct_loss_usd"] = direct.reindex(ys).fillna(0.0)
    out["indirect_loss_usd"] = ind["indirect_loss_usd"].reindex(ys).fillna(0.0)
    out["indirect_max_usd"] = ind["indirect_max_usd"].reindex(ys).fillna(0.0)
    out["undisclosed_deals"] = (direct_und.reindex(ys).fillna(0) + ind["und"].reindex(ys).fillna(0)).astype(np.int64)
    out["inflow_usd"] = inflow.reindex(ys).fillna(0.0)
    tot = out["inflow_usd"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["loss_share_pct"] = np.where(tot > 0, 100.0 * (out["direct_loss_usd"] + out["indirect_loss_usd"]) / tot,
                                         np.nan)
        out["max_loss_share_pct"] = np.where(tot > 0, 100.0 * (out["direct_loss_usd"] + out["indirect_max_usd"]) / tot,
                                             np.nan)
    t = two.sort_values(["y", "pro", "z"], ascending=[True, False, True], kind="stable")
    out["via"] = top_text(t, "y", "z", lambda h: "(" + h["pro"].map(money) + ")").reindex(ys).fillna("")
    und = out["undisclosed_deals"]
    r1 = np.where(tot > 0, "", "no known inflow")
    r2 = np.where(und > 0, und.astype(str) + " deal(s) on these paths with undisclosed amount not counted", "")
    out["reason"] = ["; ".join(p for p in pair if p) for pair in zip(r1, r2)]
    out["without"] = x
    keep = (out["direct_loss_usd"] > 0) | (out["indirect_loss_usd"] > 0) | (out["indirect_max_usd"] > 0) | (und > 0)
    out = out[keep.to_numpy()].rename_axis("entity").reset_index()[WITHOUT_COLUMNS]
    return out.sort_values(["loss_share_pct", "entity"], ascending=[False, True], kind="stable", na_position="last")
