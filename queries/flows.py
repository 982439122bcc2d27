"""Money flows between named entities, collapsed per ordered pair.

Shared by :mod:`concentration` and :mod:`roundtrip`. A *flow* ``payer -> payee``
is the sum of the known US-dollar amounts of the selected deals from payer to
payee. Deals without a payer (payer-less funding rounds) are not flows: their
known amounts are *unattributed inflow* of the payee. Deals of a type that moves no
money (partnership, warrant; ``graph.arrays.money_edges``) are not flows either. Deals from an entity to
itself are ignored. Undisclosed amounts add nothing to a flow but are counted
(``undisclosed``) so a reader knows the sum is a lower bound.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealgraph.graph.arrays import money_edges
from dealgraph.graph.schema import TENTATIVE_STATUSES
from dealgraph.queries.common import as_float_array


def pair_flows(deals: pd.DataFrame) -> pd.DataFrame:
    """Columns ``payer, payee, amount_usd, deals, undisclosed, tentative`` — one
    row per ordered pair with at least one deal (amount 0.0 when all are
    undisclosed; ``tentative`` counts in_talks / rumoured deals)."""
    payer = deals["payer"].astype("string")
    payee = deals["payee"].astype("string")
    ok = pd.Series(money_edges(deals), index=deals.index) & (payer != payee).fillna(False)
    ok = ok.astype(bool)
    amt = as_float_array(deals["amount_usd"])
    df = pd.DataFrame({"payer": payer[ok].astype(str).to_numpy(), "payee": payee[ok].astype(str).to_numpy(),
                       "amount_usd": amt[ok.to_numpy()]})
    df["undisclosed"] = np.isnan(df["amount_usd"].to_numpy()).astype(np.int64)
    df["tentative"] = deals["status"][ok].isin(TENTATIVE_STATUSES).to_numpy(dtype=bool).astype(np.int64)
    df["deals"] = 1
    df["amount_usd"] = df["amount_usd"].fillna(0.0)
    if len(df) == 0:
        return pd.DataFrame({"payer": pd.Series([], dtype=object), "payee": pd.Series([], dtype=object),
                             "amount_usd": pd.Series([], dtype=float), "deals": pd.Series([], dtype=np.int64),
                             "undisclosed": pd.Series([], dtype=np.int64),
                             "tentative": pd.Series([], dtype=np.int64)})
    return df.groupby(["payer", "payee"], as_index=False, sort=True)[
        ["amount_usd", "deals", "undisclosed", "tentative"]].sum()


def unattributed_inflow(deals: pd.DataFrame) -> pd.Series:
    """Known amounts of payer-less deals, summed per payee."""
    noname = deals["payer"].isna().to_numpy()
    amt = as_float_array(deals["amount_usd"])
    sel = noname & ~np.isnan(amt)
    if not sel.any():
        return pd.Series(dtype=float)
    return pd.Series(amt[sel], index=deals["payee"].astype(str).to_numpy()[sel]).groupby(level=0).sum()
