"""The aggregated network view: hubs and the entities of circular flows drawn, every
other entity folded into a "+ N more" node.

Used when a view has more entities than its node limit. Pure functions of the
entities and deals frames (numpy/pandas group-bys, no graph library), so a
million deals aggregate in about a second.

Definitions:

* **Money through an entity** = known US$ it paid + received (as
  :func:`dealgraph.viz.network.money_through`; undisclosed amounts count 0).
* **Shown entities** = the ``keep`` entities (the members of every listed
  circular flow), then the largest by money through them (ties by id) until
  ``hubs`` entities are shown -- or fewer, so that shown entities plus "+ N more"
  nodes stay within ``max_nodes`` (a group per shown entity at most, plus one).
  ``keep`` is never cut, so the view can exceed ``max_nodes`` only when the
  cycle members alone do.
* **Groups**: every other entity is folded into the group of the shown entity
  it exchanges the most known money with (deals either way; ties: more deals,
  then the smaller id). An entity with no deal with a shown entity goes into the
  one group ``elsewhere``. Every entity is either shown or in exactly one group,
  so ``len(shown) + sum(group sizes) == len(entities)``.
* **Links**: the deals between a folded entity and a shown one, summed per
  (group, shown entity, direction) into one drawn link: its deal count, its
  known US$ total and its count of undisclosed deals. Deals between two shown
  entities stay single deals; deals between two folded entities are not drawn
  (counted in :attr:`Aggregation.hidden_deals`).
* **Edge limit**: at most ``max_edges`` single deals and links are drawn: the
  ``keep_deals`` (the deals of listed circular flows) first, then each group's
  largest link (most deals, then most money), then the largest known amounts
  (undisclosed last; ties by id); the others are counted in
  ``cut_deals`` (deals of the links and single deals left out). So
  ``len(deals_shown) + links.deals.sum() + cut_deals + hidden_deals == len(deals)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Node id prefix of a "+ N more" node (``+more:HUB``; ``+more:`` for the group
#: of entities with no deal with a shown entity). Entity ids are slugs, which
#: never contain ``+`` or ``:``, so these cannot collide with an entity.
GROUP_PREFIX = "+more:"
#: Entities shown in an aggregated view besides the members of circular flows.
DEFAULT_HUBS = 200
#: Members named in a group's tooltip (the largest by money through them).
TOP_MEMBERS = 8


@dataclass
class Aggregation:
    """What an aggregated view draws (see the module docstring for each rule)."""

    shown: list[str]             # entity ids drawn as themselves
    groups: pd.DataFrame         # group_id, hub (None for elsewhere), members, flow_usd, kinds, top
    group_of: pd.Series          # folded entity id -> group_id
    deals_shown: pd.DataFrame    # the deals between two shown entities (all their columns)
    links: pd.DataFrame          # from, to, deals, amount_usd (known sum or NaN), undisclosed, types
    hidden_deals: int            # deals between two folded entities
    cut_deals: int               # deals (single or in links) left out by the edge limit
    total_entities: int
    total_deals: int


def group_id(hub) -> str:
    return GROUP_PREFIX + ("" if hub is None else str(hub))


def money_through_codes(n: int, payer, payee, amount_usd) -> np.ndarray:
    """Known US$ paid + received per entity code ``0..n-1`` (``payer``/``payee``:
    entity codes of each deal)."""
    amt = np.where(np.isfinite(amount_usd) & (amount_usd > 0), amount_usd, 0.0)
    return np.bincount(payer, weights=amt, minlength=n) + np.bincount(payee, weights=amt, minlength=n)


def aggregate(entities: pd.DataFrame, deals: pd.DataFrame, *, keep=(), keep_deals=(), hubs: int = DEFAULT_HUBS,
              max_nodes: int = 5000, max_edges: int = 20000) -> Aggregation:
    """Fold ``entities`` (columns ``id``, ``name``, ``kind``) and the money edges
    ``deals`` (``deal_id``, ``payer``, ``payee``, ``amount_usd``, ``type``; every
    payer and payee an entity id) into shown entities, groups and links."""
    ids = pd.Index(entities["id"].astype(object))
    names = ids.to_numpy(dtype=object)
    n = len(ids)
    deals = deals[deals["payer"].notna()]
    pc = ids.get_indexer(deals["payer"])
    qc = ids.get_indexer(deals["payee"])
    if (pc < 0).any() or (qc < 0).any():
        raise ValueError("every deal's payer and payee must be one of the entities")
    amt = pd.to_numeric(deals["amount_usd"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    flow = money_through_codes(n, pc, qc, amt)
    keep_set = {k for k in keep if k in ids}
    room = max(0, (max_nodes - 1) // 2)
    target = max(len(keep_set), min(hubs, room))
    # largest first, ties by id: lexsort's last key is the primary one
    order = np.lexsort((names.astype(str), -flow))
    is_shown = np.zeros(n, dtype=bool)
    is_shown[ids.get_indexer(list(keep_set))] = True
    extra = target - len(keep_set)
    if extra > 0:
        free = order[~is_shown[order]]
        is_shown[free[:extra]] = True

    ps, qs = is_shown[pc], is_shown[qc]
    both = ps & qs
    one = ps ^ qs
    hidden = int((~ps & ~qs).sum())

    # each folded entity's group: the shown entity it exchanges the most known money with
    other = np.where(ps, qc, pc)[one]
    hub = np.where(ps, pc, qc)[one]
    a1 = amt[one]
    pair = pd.DataFrame({"other": other, "hub": hub, "amt": np.nan_to_num(a1, nan=0.0)})
    best = (pair.groupby(["other", "hub"], sort=False).agg(amt=("amt", "sum"), n=("amt", "size")).reset_index()
            .sort_values(["other", "amt", "n", "hub"], ascending=[True, False, False, True])
            .drop_duplicates("other"))
    # node codes: entity i is i; the group of shown entity h is n + h; "elsewhere" is 2n
    node_of = np.arange(n, dtype=np.int64)
    node_of[~is_shown] = 2 * n
    node_of[best["other"].to_numpy()] = n + best["hub"].to_numpy()
    node_name = np.concatenate([names, GROUP_PREFIX + names.astype(str), np.array([GROUP_PREFIX], dtype=object)])
    folded = np.flatnonzero(~is_shown)
    gid = node_name[node_of[folded]]
    group_of = pd.Series(gid, index=pd.Index(names[folded], name="id"), name="group_id")

    # groups: size, money through the members, kinds, the largest members by name
    kinds = entities["kind"].astype(object).fillna("").to_numpy()[folded]
    disp = entities["name"].astype(object).where(entities["name"].notna(), entities["id"]).to_numpy()[folded]
    mem = pd.DataFrame({"group_id": gid, "flow": flow[folded], "kind": kinds, "name": disp})
    groups = []
    if len(mem):
        mem = mem.sort_values(["group_id", "flow"], ascending=[True, False], kind="stable")
        size = mem.groupby("group_id", sort=True).agg(members=("flow", "size"), flow_usd=("flow", "sum"))
        kind_counts: dict[str, dict] = {}
        for (g, k), c in mem.groupby(["group_id", "kind"], sort=True).size().items():
            kind_counts.setdefault(g, {})[str(k)] = int(c)
        top = mem.groupby("group_id", sort=True).head(TOP_MEMBERS).groupby("group_id")["name"].agg(list)
        for g, row in size.iterrows():
            groups.append({"group_id": g, "hub": g[len(GROUP_PREFIX):] or None, "members": int(row["members"]),
                           "flow_usd": float(row["flow_usd"]), "kinds": kind_counts[g], "top": list(top.loc[g])})
    groups = pd.DataFrame(groups, columns=["group_id", "hub", "members", "flow_usd", "kinds", "top"])

    # links: the deals between a folded entity and a shown one, per (group, shown, direction)
    src = node_of[pc[one]]
    dst = node_of[qc[one]]
    ty = pd.Categorical(deals["type"].to_numpy()[one])
    lk = pd.DataFrame({"src": src, "dst": dst, "amt": a1, "type": ty.codes, "undisclosed": np.isnan(a1)})
    links = (lk.groupby(["src", "dst"], sort=True)
             .agg(deals=("amt", "size"), amount_usd=("amt", "sum"), known=("amt", "count"),
                  undisclosed=("undisclosed", "sum"))
             .reset_index())
    links.loc[links["known"] == 0, "amount_usd"] = np.nan
    by_type: dict[tuple, dict] = {}
    cats = list(ty.categories)
    for (f, t, c), k in lk.groupby(["src", "dst", "type"], sort=True).size().items():
        by_type.setdefault((f, t), {})[str(cats[c]) if c >= 0 else ""] = int(k)
    links["types"] = [by_type[(f, t)] for f, t in zip(links["src"], links["dst"])]
    links.insert(0, "from", node_name[links["src"].to_numpy()])
    links.insert(1, "to", node_name[links["dst"].to_numpy()])
    links = links.drop(columns=["src", "dst", "known"])
    shown = [str(x) for x in names[order][is_shown[order]]]
    single = deals[both]
    cut = 0
    if len(single) + len(links) > max_edges:
        on = single["deal_id"].isin(set(keep_deals)).to_numpy()
        a_s = pd.to_numeric(single["amount_usd"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        # each group's largest link (by deals, then money) ranks right after the cycle deals,
        # so no "+ N more" node is left floating unconnected
        g_end = np.where(links["from"].str.startswith(GROUP_PREFIX), links["from"], links["to"])
        best = (pd.DataFrame({"g": g_end, "n": links["deals"].to_numpy(),
                              "a": np.nan_to_num(links["amount_usd"].to_numpy(dtype=float), nan=-1.0)})
                .sort_values(["g", "n", "a"], ascending=[True, False, False]).drop_duplicates("g").index)
        tier_l = np.full(len(links), 2)
        tier_l[best.to_numpy()] = 1
        rank = pd.DataFrame({
            "link": np.r_[np.zeros(len(single), bool), np.ones(len(links), bool)],
            "row": np.r_[np.arange(len(single)), np.arange(len(links))],
            "off": np.r_[np.where(on, 0, 2), tier_l],
            "amt": np.nan_to_num(np.r_[a_s, links["amount_usd"].to_numpy(dtype=float)], nan=-1.0),
            "id": np.r_[single["deal_id"].astype(str).to_numpy(), (links["from"] + ">" + links["to"]).to_numpy()],
        }).sort_values(["off", "amt", "id"], ascending=[True, False, True]).iloc[:max_edges]
        keep_s = np.sort(rank.loc[~rank["link"], "row"].to_numpy())
        keep_l = np.sort(rank.loc[rank["link"], "row"].to_numpy())
        cut = (len(single) - len(keep_s)) + int(links["deals"].sum() - links["deals"].iloc[keep_l].sum())
        single = single.iloc[keep_s]
        links = links.iloc[keep_l].reset_index(drop=True)
    return Aggregation(shown=shown, groups=groups, group_of=group_of, deals_shown=single, links=links,
                       hidden_deals=hidden, cut_deals=cut, total_entities=n, total_deals=len(deals))
