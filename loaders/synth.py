"""Synthetic deal data shaped like the AI industry, for scale tests and benchmarks.

``dealgraph synth --deals N --entities M --seed S -o DIR`` writes ``DIR/entities.csv``
and ``DIR/deals.csv`` in the CSV schema of graph/schema.py. The same seed gives the
same files, byte for byte.

Shape of the data (all proportions below are the generator's parameters):

* **Entities**: hubs (0.1 %, min 5: chip makers / clouds / big tech, kind
  company), funds and investors (8 %), lenders (1 %), governments (0.2 %), people
  (1 %), startups (the rest, kind company).
* **Power-law degrees**: within each group an entity of rank r is picked with
  weight ``r^-alpha`` (hubs alpha 1.1, funds 0.9, startups 0.8), so a few hubs have
  huge degree and most startups appear in one or two deals.
* **Deal types** (share of deals): funding_round 30 %, investment 14 %,
  chip_purchase 12 %, compute_contract 16 %, acquisition 4 %, stake 3 %,
  license 4 %, acquihire 1 %, debt_financing 16 %, each with the payer/payee roles
  of the schema (investors pay startups, startups pay hubs for chips and compute,
  lenders pay borrowers...). 5 % of funding rounds have no payer.
* **Round trips**: 40 % of chip and compute purchases are made by a startup from
  a hub that paid it earlier (the reverse of an existing hub -> startup deal);
  hubs also invest in funds and buy from each other, so short cycles through hubs
  are everywhere.
* **Parallel deals**: 8 % of deals repeat the (payer, payee, type) of another
  deal (follow-on rounds, repeat orders).
* **Amounts**: log-normal per type (median $5m-$150m, sigma 1.2-1.8), x3 when a
  hub pays; 12 % undisclosed (50 % for acquihires); 5 % written ``~`` (approx).
* **Dates**: 2016-01-01 .. 2025-12-31, density rising linearly with time (the
  boom); 80 % day precision, 15 % month (``YYYY-MM``), 5 % year (``YYYY``).
* **Status**: completed 85 %, announced 8 %, in_talks 2.5 %, rumoured 2.5 %,
  terminated 2 %. Some rounds carry post-money valuations and stakes, some
  acquisitions target revenue and acquirer market cap. All amounts in USD.

Generation is vectorised numpy and the files are written with pyarrow: a
million deals take a few seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from dealgraph.graph.schema import DEAL_COLUMNS, ENTITY_COLUMNS

TYPE_SHARES = {
    "funding_round": 0.36, "investment": 0.14, "chip_purchase": 0.08, "compute_contract": 0.12,
    "acquisition": 0.04, "stake": 0.03, "license": 0.04, "acquihire": 0.01, "debt_financing": 0.18,
}
# (median USD, sigma) of log-normal amounts per type
AMOUNTS = {
    "funding_round": (15e6, 1.6), "investment": (40e6, 1.8), "chip_purchase": (8e6, 1.7),
    "compute_contract": (5e6, 1.8), "acquisition": (150e6, 1.8), "stake": (80e6, 1.5),
    "license": (20e6, 1.6), "acquihire": (30e6, 1.2), "debt_financing": (30e6, 1.5),
}
# payer and payee groups per type: [(group, share), ...]; group None = no payer
PAYERS = {
    "funding_round": [("fund", 0.87), ("hub", 0.03), ("person", 0.05), (None, 0.05)],
    "investment": [("hub", 0.3), ("fund", 0.7)],
    "chip_purchase": [("startup", 0.97), ("hub", 0.03)],
    "compute_contract": [("startup", 0.93), ("hub", 0.02), ("government", 0.05)],
    "acquisition": [("hub", 0.4), ("startup", 0.6)],
    "stake": [("hub", 0.4), ("startup", 0.6)],
    "license": [("hub", 0.4), ("startup", 0.6)],
    "acquihire": [("hub", 0.4), ("startup", 0.6)],
    "debt_financing": [("lender", 0.85), ("hub", 0.05), ("government", 0.1)],
}
PAYEES = {
    "funding_round": [("startup", 1.0)],
    "investment": [("startup", 0.9), ("fund", 0.1)],
    "chip_purchase": [("hub", 1.0)],
    "compute_contract": [("hub", 1.0)],
    "acquisition": [("startup", 1.0)],
    "stake": [("startup", 1.0)],
    "license": [("startup", 0.95), ("hub", 0.05)],
    "acquihire": [("startup", 1.0)],
    "debt_financing": [("startup", 0.85), ("hub", 0.15)],
}
#: power-law exponent of the popularity of entities within each group
ALPHA = {"hub": 1.1, "fund": 0.9, "lender": 0.8, "government": 0.5, "person": 0.5, "startup": 0.8}
#: share of chip/compute purchases that reverse an earlier hub -> startup payment
ROUND_TRIP_SHARE = 0.4
BUYERS_INDEPENDENT = True
HUB_SHARE = 0.001  # hubs per entity (at least 5)
#: How sure synthetic deals are (``schema.CONFIDENCES``): most cite the press.
CONFIDENCE_SHARES = {"confirmed": 0.3, "reported": 0.6, "estimated": 0.07, "rumoured": 0.03}
STATUS_SHARES = {"completed": 0.85, "announced": 0.08, "in_talks": 0.025, "rumoured": 0.025,
                 "terminated": 0.02}
COUNTRIES = np.array(["US", "US", "US", "US", "CN", "GB", "FR", "DE", "CA", "IL", "IN", "JP", "KR", "SG"])
START = np.datetime64("2016-01-01", "D")
DAYS = int((np.datetime64("2025-12-31", "D") - START).astype(np.int64)) + 1


def _groups(n_entities: int) -> dict[str, tuple[str, str, int, float]]:
    """group -> (id prefix, entity kind, count, power-law alpha)."""
    hubs = max(5, int(n_entities * HUB_SHARE))
    funds = max(3, int(n_entities * 0.08))
    lenders = max(2, n_entities // 100)
    govs = max(1, n_entities // 500)
    people = max(1, n_entities // 100)
    startups = n_entities - hubs - funds - lenders - govs - people
    if startups < 5:
        raise ValueError(f"need at least {n_entities - startups + 5} entities")
    return {"hub": ("hub", "company", hubs, ALPHA["hub"]), "fund": ("fund", "fund", funds, ALPHA["fund"]),
            "lender": ("lender", "lender", lenders, ALPHA["lender"]),
            "government": ("gov", "government", govs, ALPHA["government"]),
            "person": ("person", "person", people, ALPHA["person"]),
            "startup": ("startup", "company", startups, ALPHA["startup"])}


def _constant(text: str, n: int) -> pa.Array:
    """A string column repeating one value, built from buffers (np.full of text is slow)."""
    data = text.encode()
    offsets = (np.arange(n + 1, dtype=np.int64) * len(data)).astype(np.int64)
    return pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data * n)])


def _numbered(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    txt = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, txt, "")


def _categorical(names: list[str], codes: np.ndarray) -> pa.Array:
    return pa.array(names, pa.string()).take(pa.array(codes.astype(np.int32)))


def _ids(prefix: str, count: int) -> np.ndarray:
    width = max(4, len(str(count)))
    return np.char.add(f"{prefix}-", np.char.zfill(np.arange(1, count + 1).astype(str), width)).astype(object)


def _pick(rng, count: int, alpha: float, size: int) -> np.ndarray:
    """Ranks 0..count-1 with weight (rank+1)^-alpha (inverse CDF, vectorised)."""
    w = np.arange(1, count + 1, dtype=np.float64) ** -alpha
    cdf = np.cumsum(w)
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), count - 1)


def _choice_codes(rng, options: dict[str, float], size: int) -> np.ndarray:
    p = np.array(list(options.values()), dtype=np.float64)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(size), side="right").clip(max=len(p) - 1)


def _choice(rng, options: dict[str, float], size: int) -> np.ndarray:
    names = np.array(list(options), dtype=object)
    p = np.array(list(options.values()), dtype=np.float64)
    return names[rng.choice(len(names), size=size, p=p / p.sum())]


def generate(n_deals: int, n_entities: int, seed: int = 0):
    """``(entities, deals)`` as dicts of column -> numpy/pyarrow arrays (text, CSV schema)."""
    rng = np.random.default_rng(seed)
    groups = _groups(n_entities)
    # global entity numbering: group blocks in this order
    offset, base = 0, {}
    for g, (_p, _k, c, _a) in groups.items():
        base[g] = offset
        offset += c
    ids = np.concatenate([_ids(p, c) for p, _k, c, _a in groups.values()])
    kinds = np.concatenate([np.full(c, k, dtype=object) for _p, k, c, _a in groups.values()])
    # funds are "fund" or "investor" (an angel group, a corporate VC arm...)
    fb, fc = base["fund"], groups["fund"][2]
    kinds[fb:fb + fc] = np.where(rng.random(fc) < 0.7, "fund", "investor")
    names = np.char.add(np.char.add(np.char.capitalize(np.char.replace(ids.astype(str), "-", " ")), ""), "")
    entities = {
        "id": ids, "name": names.astype(object), "kind": kinds, "aliases": np.full(len(ids), "", dtype=object),
        "ticker": np.where(np.arange(len(ids)) < groups["hub"][2], np.char.add("H", np.arange(len(ids)).astype(str)),
                           "").astype(object),
        "country": COUNTRIES[rng.integers(0, len(COUNTRIES), len(ids))].astype(object),
        "source": np.full(len(ids), f"synthetic (dealgraph synth --seed {seed})", dtype=object),
        "notes": np.full(len(ids), "", dtype=object),
    }

    n = int(n_deals)
    type_names = list(TYPE_SHARES)
    tcode = _choice_codes(rng, TYPE_SHARES, n)
    T = {t: i for i, t in enumerate(type_names)}
    is_type = lambda *names: np.isin(tcode, [T[x] for x in names])  # noqa: E731
    payer = np.full(n, -1, np.int64)
    payee = np.full(n, -1, np.int64)
    # a startup's popularity as a buyer is its own (a permutation of its rank as a
    # payee): the big spenders are not automatically the most funded
    buyer_rank = rng.permutation(groups["startup"][2]) if BUYERS_INDEPENDENT else np.arange(groups["startup"][2])
    for t in TYPE_SHARES:
        rows = np.flatnonzero(tcode == T[t])
        if not len(rows):
            continue
        for col, spec in ((payer, PAYERS[t]), (payee, PAYEES[t])):
            grp = _choice(rng, dict(spec), len(rows)) if len(spec) > 1 else np.full(len(rows), spec[0][0], object)
            for g, _share in spec:  # fixed order: the same seed draws the same numbers
                sel = rows[grp == g]
                if g is None or not len(sel):
                    continue
                _p, _k, count, alpha = groups[g]
                ranks = _pick(rng, count, alpha, len(sel))
                if g == "startup" and col is payer:
                    ranks = buyer_rank[ranks]
                col[sel] = base[g] + ranks
    hub_lo, hub_hi = base["hub"], base["hub"] + groups["hub"][2]
    is_hub = lambda x: (x >= hub_lo) & (x < hub_hi)  # noqa: E731
    # round trips: chip/compute purchases reversing an earlier hub -> startup payment
    funded = np.flatnonzero(is_hub(payer) & (payee >= base["startup"]))
    buys = np.flatnonzero(is_type("chip_purchase", "compute_contract"))
    if len(funded) and len(buys):
        rt = buys[rng.random(len(buys)) < ROUND_TRIP_SHARE]
        src = funded[rng.integers(0, len(funded), len(rt))]
        payer[rt], payee[rt] = payee[src], payer[src]
    # parallel deals: repeat another deal's (payer, payee, type)
    rep = np.flatnonzero(rng.random(n) < 0.08)
    if len(rep):
        src = rng.integers(0, n, len(rep))
        payer[rep], payee[rep], tcode[rep] = payer[src], payee[src], tcode[src]
    # a hub never pays itself: move such rows to the next hub
    same = payer == payee
    payee[same] = hub_lo + (payee[same] - hub_lo + 1) % (hub_hi - hub_lo)
    # payer-less rows must be funding rounds (the schema allows no payer only there)
    tcode[payer < 0] = T["funding_round"]

    # dates: density rising with time; precision day 80 %, month 15 %, year 5 %
    day = np.floor(DAYS * np.sqrt(rng.random(n))).astype(np.int64)
    full = pc.cast(pa.array((START + day).astype("datetime64[D]")), pa.string())  # YYYY-MM-DD
    prec = rng.choice(3, size=n, p=[0.05, 0.15, 0.80]) + 1
    date = pc.if_else(pa.array(prec == 3), full,
                      pc.if_else(pa.array(prec == 2), pc.utf8_slice_codeunits(full, 0, 7),
                                 pc.utf8_slice_codeunits(full, 0, 4)))

    # amounts
    amount = np.empty(n)
    for t, (median, sigma) in AMOUNTS.items():
        rows = tcode == T[t]
        amount[rows] = median * np.exp(sigma * rng.standard_normal(rows.sum()))
    amount *= np.where(is_hub(payer), 3.0, 1.0)
    amount = np.maximum(np.round(amount, -3), 1000.0)
    undisclosed = rng.random(n) < np.where(tcode == T["acquihire"], 0.5, 0.12)
    approx = rng.random(n) < 0.05

    def money_text(values: np.ndarray, missing: np.ndarray, tilde: np.ndarray | None = None) -> pa.Array:
        # at least $1,000: a zero would be read as "undisclosed written as 0" and refused
        arr = pc.cast(pa.array(np.maximum(values, 1000).astype(np.int64), mask=missing), pa.string())
        if tilde is not None:
            arr = pc.if_else(pa.array(tilde & ~missing), pc.binary_join_element_wise("~", arr, ""), arr)
        return arr

    scode = _choice_codes(rng, STATUS_SHARES, n)
    is_round = is_type("funding_round", "investment")
    stake = np.full(n, np.nan)
    stake[tcode == T["stake"]] = np.round(rng.uniform(1, 49, (tcode == T["stake"]).sum()), 1)
    stake[is_type("acquisition", "acquihire")] = 100.0
    some_inv = (tcode == T["investment"]) & (rng.random(n) < 0.3)
    stake[some_inv] = np.round(rng.uniform(0.5, 20, some_inv.sum()), 2)
    post = np.where(is_round & (rng.random(n) < 0.4), amount * rng.uniform(4, 25, n), np.nan)
    revenue = np.where(is_type("acquisition", "license") & (rng.random(n) < 0.3),
                       amount / rng.uniform(5, 60, n), np.nan)
    mcap = np.where((tcode == T["acquisition"]) & is_hub(payer) & (rng.random(n) < 0.3),
                    np.exp(rng.uniform(np.log(1e11), np.log(4e12), n)), np.nan)
    ids_pa = pa.array(ids.tolist(), pa.string())
    source = f"synthetic (dealgraph synth --seed {seed})"
    deals = {
        "deal_id": _numbered("syn-", np.arange(1, n + 1), max(7, len(str(n)))),
        "date": date, "type": _categorical(type_names, tcode), "payer": ids_pa.take(pa.array(payer, mask=payer < 0)),
        "payee": ids_pa.take(pa.array(payee)), "amount": money_text(amount, undisclosed, approx),
        "currency": _constant("USD", n), "status": _categorical(list(STATUS_SHARES), scode),
        "stake_pct": pc.cast(pa.array(stake, mask=np.isnan(stake)), pa.string()),
        "post_money_valuation": money_text(np.nan_to_num(np.round(post, -3)), np.isnan(post)),
        "target_revenue": money_text(np.nan_to_num(np.round(revenue, -3)), np.isnan(revenue)),
        "acquirer_market_cap": money_text(np.nan_to_num(np.round(mcap, -6)), np.isnan(mcap)),
        "source": _constant(source, n), "notes": _constant("", n),
        # drawn from a generator of its own, so every column above stays what it was for a seed
        "confidence": _categorical(list(CONFIDENCE_SHARES),
                                   _choice_codes(np.random.default_rng(seed + 1), CONFIDENCE_SHARES, n)),
    }
    return entities, deals


def _table(columns: dict, order) -> pa.Table:
    arrays = []
    for c in order:
        v = columns[c]
        if isinstance(v, (pa.Array, pa.ChunkedArray)):
            arrays.append(pc.fill_null(v, ""))
        else:
            arrays.append(pa.array(np.asarray(v).astype(str) if np.asarray(v).dtype != object else v, pa.string()))
    return pa.table(arrays, names=list(order))


def write(out_dir: str | Path, n_deals: int, n_entities: int, seed: int = 0) -> tuple[Path, Path]:
    """Generate and write ``entities.csv`` and ``deals.csv`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    entities, deals = generate(n_deals, n_entities, seed)
    opts = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    ep, dp = out / "entities.csv", out / "deals.csv"
    pacsv.write_csv(_table(entities, ENTITY_COLUMNS), ep, opts)
    pacsv.write_csv(_table(deals, DEAL_COLUMNS), dp, opts)
    return ep, dp


def deals_frame(n_deals: int, n_entities: int, seed: int = 0):
    """The generated deals as a DataFrame in the store's ``deals`` layout (the columns
    the graph queries read: deal_id, date, date_key, date_precision, type, payer,
    payee, amount_usd, status), without writing or loading CSV -- for benchmarks
    and tests that do not exercise the loader."""
    import pandas as pd

    from dealgraph.graph.dates import parse_date

    _entities, deals = generate(n_deals, n_entities, seed)
    date = pd.Series(deals["date"].to_numpy(zero_copy_only=False))
    uniq = pd.unique(date)
    parsed = {u: parse_date(u) for u in uniq}
    amount = pc.utf8_ltrim(deals["amount"], "~")
    amount = pc.cast(pc.if_else(pc.equal(amount, ""), None, amount), pa.float64())
    df = pd.DataFrame({
        "deal_id": deals["deal_id"].to_pandas(), "date": date,
        "date_key": date.map({u: p[0] for u, p in parsed.items()}).astype("int64"),
        "date_precision": date.map({u: p[1] for u, p in parsed.items()}).astype("int64"),
        "type": deals["type"].to_pandas(), "payer": deals["payer"].to_pandas(),
        "payee": deals["payee"].to_pandas(), "amount_usd": amount.to_numpy(zero_copy_only=False),
        "status": deals["status"].to_pandas(),
    })
    return df
