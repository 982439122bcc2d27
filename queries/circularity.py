"""circularity: is the money web more circular than a random web of the same shape?

Definitions
-----------
* **Graph**: the collapsed money graph of circular-flows (graph/arrays.py): one hop per
  ordered pair (payer, payee), amount = the sum of its known deal amounts. Self-deals
  are left out (they are on no cycle of length >= 2 and are not swapped).
* **Statistics** of a graph: ``C_L`` = directed simple cycles of length L (2..k, the
  cycles of circular-flows), ``C`` = their sum; **circular volume** V = the sum of the
  known amounts of the hops that lie on some directed cycle (of any length: both ends in
  one strongly connected component), in $bn in the table; per entity, ``C(x)`` = cycles
  of length 2..k through x.
* **Null ensemble**: ``samples`` graphs from the degree-preserving directed edge-swap
  chain of queries/swaps.py (every entity keeps its in- and out-degree; no self-loop or
  repeated hop is ever created; 2-swaps plus 3-rotations so that triangle reversals are
  possible; uniform over such graphs at stationarity). The chain starts from the observed
  graph, runs ``burn_in`` x m proposals, then ``swaps`` x m proposals between samples
  (m = hops). Amounts (``amounts``): ``keep`` -- a hop's amount stays with its payer's
  out-stub through the swaps (each entity's total outflow is kept); ``permute`` -- in each
  sample the hop amounts are shuffled over all hops (only the amount distribution kept).
  Cycle counts do not depend on amounts; only V does.
* For each statistic X with observed value x and null values x_1..x_N:
  ``null_mean``, ``null_sd`` (N - 1 in the denominator), ``z = (x - mean) / sd`` (n/a when
  sd = 0), and the exact one-sided empirical **p-value** ``p = (1 + #{i: x_i >= x}) / (1 + N)``
  (Davison & Hinkley 1997; North, Curtis & Sham 2002): under the null the observed graph is
  one more draw, so P(p <= a) <= a for every a, without a normality assumption. The web is
  **more circular than chance** at level ``alpha`` (0.05) when p <= alpha for C.
* **Mixing**: swaps per hop (proposals / m between samples and for burn-in), acceptance
  rate (proposals that changed the graph / proposals), and the lag-1 autocorrelation of C
  along the sampled chain (near 0: consecutive samples are close to independent; near 1:
  raise ``swaps``).

References: Maslov & Sneppen (2002), Science 296:910; Rao, Jana & Bandyopadhyay (1996),
Sankhya A 58:225 (triangle moves for directed graphs); Erdős, Miklós & Toroczkai (2010),
Electron. J. Combin. 17:R66; Berger & Müller-Hannemann (2010), arXiv:0912.0685;
Fosdick, Larremore, Nishimura & Ugander (2018), SIAM Review 60:315.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dealgraph.errors import QueryError
from dealgraph.graph.arrays import MoneyArrays, build_arrays, strong_components
from dealgraph.graph.kernels import kernel
from dealgraph.queries.circular import HopDeals, SearchGraph, _Prepared, prepare, run_search
from dealgraph.queries.common import deals_of
from dealgraph.queries.swaps import SwapChain

COLUMNS = ["scope", "figure", "observed", "null_mean", "null_sd", "z", "p_value", "verdict"]
AMOUNT_MODES = ("keep", "permute")


def hop_arrays(ids: np.ndarray, src: np.ndarray, dst: np.ndarray, amount: np.ndarray) -> MoneyArrays:
    """A :class:`MoneyArrays` of bare hops (one pseudo-deal per hop, no dates): what
    :func:`~dealgraph.queries.circular.prepare` needs to search a rewired graph.

    ``src`` must be sorted (the hops grouped by source, as the swap chain keeps them);
    unlike :func:`~dealgraph.graph.arrays.build_arrays` the targets of one source are not
    sorted (``prepare`` sorts for itself; ``hop_index`` is not available on these arrays).
    """
    n, m = len(ids), len(src)
    src, dst = src.astype(np.int32), dst.astype(np.int32)
    zeros = np.zeros(m, np.int64)
    return MoneyArrays(ids=ids, indptr=np.r_[0, np.cumsum(np.bincount(src, minlength=n))].astype(np.int64),
                       hop_src=src, hop_dst=dst, hop_amount=amount.astype(np.float64),
                       hop_undisclosed=np.isnan(amount), hop_tentative=np.zeros(m, bool),
                       hop_deal_ptr=np.arange(m + 1, dtype=np.int64), deal_order=np.arange(m, dtype=np.int64),
                       deal_lo=zeros, deal_hi=zeros, source=pd.DataFrame(), rows=np.arange(m, dtype=np.int64))


@dataclass
class GraphStats:
    """The statistics of one graph (see the module docstring)."""

    counts: np.ndarray  # (k+1,) counts[L] = cycles of length L
    volume: float  # circular volume, USD
    node: np.ndarray  # (n,) cycles of length 2..k through each entity index

    @property
    def total(self) -> int:
        return int(self.counts[2:].sum())


def graph_stats(arrays: MoneyArrays, k: int) -> GraphStats:
    """Cycle counts by length, circular volume and per-entity cycle counts of ``arrays``."""
    prep = prepare(arrays)
    res = run_search(prep, k, per_node=True)
    vol = float(np.nansum(arrays.hop_amount[prep.graph.hop])) if len(prep.graph.hop) else 0.0
    return GraphStats(counts=res.counts[:k + 1].copy(), volume=vol, node=res.node_cycles[:, 2:k + 1].sum(axis=1))


@kernel
def _rows(n, indptr, rindptr, s, t):  # pragma: no cover - compiled
    """The search rows of a rewired graph: hop h = s[h] -> t[h] (internal numbers). Out-rows
    (``dst``/``hop``) in slot order, the same rows target-ascending (``sdst``/``shop``), and
    in-rows (``rsrc``/``rhop``); ``indptr``/``rindptr`` are fixed by the degrees."""
    m = len(s)
    dst = np.empty(m, np.int64)
    hop = np.empty(m, np.int64)
    fill = indptr[:-1].copy()
    rsrc = np.empty(m, np.int64)
    rhop = np.empty(m, np.int64)
    rfill = rindptr[:-1].copy()
    for h in range(m):
        p = fill[s[h]]
        fill[s[h]] += 1
        dst[p] = t[h]
        hop[p] = h
        q = rfill[t[h]]
        rfill[t[h]] += 1
        rsrc[q] = s[h]
        rhop[q] = h
    sdst = dst.copy()
    shop = hop.copy()
    for v in range(n):
        lo, hi = indptr[v], indptr[v + 1]
        if hi - lo > 1:
            o = np.argsort(dst[lo:hi])
            for i in range(hi - lo):
                sdst[lo + i] = dst[lo + o[i]]
                shop[lo + i] = hop[lo + o[i]]
    return dst, hop, sdst, shop, rsrc, rhop


class NullGraphs:
    """Searches rewired versions of one graph without rebuilding everything per sample.

    The swap chain keeps every degree, so the hubs-first numbering (by total degree), the
    row offsets and the per-hop deal arrays are computed once; each sample only refills
    the rows (:func:`_rows`) and runs the same compiled search as circular-flows
    (:func:`~dealgraph.queries.circular.run_search`, count-only with per-entity counts).
    Unlike :func:`~dealgraph.queries.circular.prepare` it keeps hops between strongly
    connected components, which no cycle uses (the search prunes them by distance); a
    test checks that both give the same counts.
    """

    def __init__(self, ids: np.ndarray, src: np.ndarray, dst: np.ndarray):
        n, m = len(ids), len(src)
        self.n, self.m, self.ids = n, m, ids
        self.src = np.asarray(src, np.int64)
        deg = np.bincount(self.src, minlength=n) + np.bincount(np.asarray(dst, np.int64), minlength=n)
        order = np.lexsort((np.arange(n), -deg))  # internal -> entity index, hubs first
        self.inv = np.empty(n, np.int64)
        self.inv[order] = np.arange(n)
        self.code = order.astype(np.int64)
        self.si = self.inv[self.src]
        self.indptr = np.r_[0, np.cumsum(np.bincount(self.si, minlength=n))].astype(np.int64)
        self.rindptr = np.r_[0, np.cumsum(np.bincount(self.inv[np.asarray(dst, np.int64)], minlength=n))].astype(
            np.int64)
        self.eindptr = np.r_[0, np.cumsum(np.bincount(self.src, minlength=n))].astype(np.int64)  # src is sorted
        z = np.zeros(m, np.int64)
        self.deals = HopDeals(ptr=np.arange(m + 1, dtype=np.int64), order=np.arange(m, dtype=np.int64), lo=z, hi=z,
                              minlo=z, maxhi=z)
        self.zeros = np.zeros(m)
        self.arrays = hop_arrays(ids, self.src, np.asarray(dst, np.int64), np.zeros(m))

    def stats(self, dst: np.ndarray, amount: np.ndarray, k: int) -> GraphStats:
        dst = np.asarray(dst, np.int64)
        out, hop, sdst, shop, rsrc, rhop = _rows(self.n, self.indptr, self.rindptr, self.si, self.inv[dst])
        z = self.zeros
        graph = SearchGraph(indptr=self.indptr, dst=out, hop=hop, amt=z, sdst=sdst, shop=shop, samt=z,
                            rindptr=self.rindptr, rsrc=rsrc, rhop=rhop, ramt=z, code=self.code)
        prep = _Prepared(arrays=self.arrays, graph=graph, deals=self.deals,
                         n_roots=int((np.diff(self.indptr) > 0).sum()), max_parallel=1)
        res = run_search(prep, k, per_node=True)
        comp = strong_components(self.n, self.eindptr, dst) if self.m else np.zeros(0, np.int64)
        on = comp[self.src] == comp[dst]
        vol = float(np.nansum(amount[on])) if self.m else 0.0
        return GraphStats(counts=res.counts[:k + 1].copy(), volume=vol, node=res.node_cycles[:, 2:k + 1].sum(axis=1))


class _Moments:
    """Streaming mean / sd / #{x_i >= observed} of one statistic (scalar or vector)."""

    def __init__(self, observed):
        self.obs = np.asarray(observed, dtype=np.float64)
        self.n = 0
        self.s = np.zeros_like(self.obs)
        self.s2 = np.zeros_like(self.obs)
        self.ge = np.zeros_like(self.obs)

    def add(self, x) -> None:
        x = np.asarray(x, dtype=np.float64)
        self.n += 1
        self.s += x
        self.s2 += x * x
        # a tolerance for sums of amounts taken in another order (volume under `keep`)
        self.ge += x >= self.obs - 1e-9 * np.abs(self.obs)

    def summary(self):
        n = self.n
        mean = self.s / n if n else np.full_like(self.obs, np.nan)
        var = (self.s2 - n * mean * mean) / (n - 1) if n > 1 else np.full_like(self.obs, np.nan)
        sd = np.sqrt(np.maximum(var, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(sd > 1e-12 * np.maximum(np.abs(mean), 1.0), (self.obs - mean) / sd, np.nan)
        p = (1.0 + self.ge) / (1.0 + n)
        return mean, sd, z, p


def lag1_autocorrelation(x: np.ndarray) -> float:
    """Lag-1 sample autocorrelation of a series (n/a for fewer than 3 values or no variance)."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) < 3:
        return float("nan")
    d = x - x.mean()
    den = float((d * d).sum())
    return float((d[:-1] * d[1:]).sum() / den) if den > 0 else float("nan")


def check_options(max_length, samples, swaps, burn_in, amounts, alpha) -> int:
    k = int(max_length)
    if k < 2:
        raise QueryError("max_length must be at least 2")
    if int(samples) < 1:
        raise QueryError("samples must be at least 1")
    if float(swaps) <= 0 or float(burn_in) < 0:
        raise QueryError("swaps must be positive and burn_in non-negative (proposals per hop)")
    if amounts not in AMOUNT_MODES:
        raise QueryError(f"amounts must be one of {', '.join(AMOUNT_MODES)}, not {amounts!r}")
    if not 0 < float(alpha) < 1:
        raise QueryError("alpha must be between 0 and 1")
    return k


def null_ensemble(arrays: MoneyArrays, k: int, *, samples: int = 1000, seed: int = 0, swaps: float = 1.0,
                  burn_in: float = 20.0, amounts: str = "keep", timeout: float | None = None):
    """Observed statistics and the null ensemble's summaries; see the module docstring.

    Returns ``(observed GraphStats, dict of summaries)``: per statistic ``counts``
    (lengths 2..k), ``total``, ``volume`` and ``node`` (per entity index) a tuple
    ``(mean, sd, z, p)``, plus ``samples`` (drawn), ``series`` (C per sample),
    ``acceptance``, ``swaps``, ``burn_in`` and ``complete`` (False when ``timeout`` cut
    the sampling short).
    """
    keep = arrays.hop_src != arrays.hop_dst
    src = arrays.hop_src[keep].astype(np.int64)
    dst = arrays.hop_dst[keep].astype(np.int64)
    amount = arrays.hop_amount[keep]
    base = hop_arrays(arrays.ids, src, dst, amount)
    obs = graph_stats(base, k)
    m = len(src)
    rng = np.random.default_rng(seed)
    chain = SwapChain(src, dst, arrays.n, seed_value=int(rng.integers(0, 2**31 - 1)))
    per_sample = max(int(round(swaps * m)), 1)
    if m:
        chain.run(int(round(burn_in * m)))
    null = NullGraphs(arrays.ids, src, dst)
    mom_counts, mom_total = _Moments(obs.counts[2:]), _Moments(obs.total)
    mom_vol, mom_node = _Moments(obs.volume), _Moments(obs.node)
    series = []
    t0 = time.perf_counter()
    complete = True
    for i in range(int(samples)):
        if timeout is not None and i > 0 and time.perf_counter() - t0 > timeout:
            complete = False
            break
        if m:
            chain.run(per_sample)
        amt = rng.permutation(amount) if amounts == "permute" else amount
        st = null.stats(chain.dst, amt, k)
        mom_counts.add(st.counts[2:])
        mom_total.add(st.total)
        mom_vol.add(st.volume)
        mom_node.add(st.node)
        series.append(st.total)
    summary = {"counts": mom_counts.summary(), "total": mom_total.summary(), "volume": mom_vol.summary(),
               "node": mom_node.summary(), "samples": len(series), "series": np.asarray(series),
               "acceptance": chain.acceptance, "swaps": per_sample / m if m else 0.0,
               "burn_in": round(burn_in * m) / m if m else 0.0, "complete": complete, "hops": m}
    return obs, summary


def _verdict(p: float, alpha: float) -> str:
    if np.isnan(p):
        return "n/a"
    return "more than chance" if p <= alpha else "not more than chance"


def circularity(store_or_deals, *, max_length: int = 4, samples: int = 1000, seed: int = 0, swaps: float = 1.0,
                burn_in: float = 20.0, amounts: str = "keep", alpha: float = 0.05, top: int | None = 20,
                timeout: float | None = 300.0, as_of=None, status=None) -> pd.DataFrame:
    """Observed cycle counts and circular volume against the degree-preserving null.

    One row per figure: ``scope`` ``web`` (cycles of each length 2..k, all cycles,
    circular volume in $bn), ``chain`` (mixing diagnostics, value in ``observed``), and
    one row per entity on a cycle (observed or in the null mean; the ``top`` by z, None
    = all) for the cycles through it. ``attrs``: ``message`` (the verdict in words),
    ``p_value``, ``z``, ``more_circular`` (bool), ``samples``, ``complete``.
    """
    k = check_options(max_length, samples, swaps, burn_in, amounts, alpha)
    alpha = float(alpha)
    deals = deals_of(store_or_deals, as_of=as_of, status=status, slim=True)
    arrays = build_arrays(deals)
    t0 = time.perf_counter()
    obs, s = null_ensemble(arrays, k, samples=int(samples), seed=int(seed), swaps=float(swaps),
                           burn_in=float(burn_in), amounts=amounts, timeout=timeout)
    rows = []

    def row(scope, figure, observed, stats=None, scale=1.0):
        mean, sd, z, p = stats if stats is not None else (np.nan,) * 4
        rows.append({"scope": scope, "figure": figure, "observed": float(observed) / scale,
                     "null_mean": float(mean) / scale, "null_sd": float(sd) / scale, "z": float(z),
                     "p_value": float(p), "verdict": _verdict(float(p), alpha) if stats is not None else ""})

    cm, csd, cz, cp = s["counts"]
    for i, L in enumerate(range(2, k + 1)):
        row("web", f"cycles of length {L}", obs.counts[L], (cm[i], csd[i], cz[i], cp[i]))
    row("web", f"cycles of length 2..{k}", obs.total, s["total"])
    row("web", "circular volume ($bn)", obs.volume, s["volume"], scale=1e9)
    ac = lag1_autocorrelation(s["series"])
    row("chain", "samples", s["samples"])
    row("chain", "hops (swapped)", s["hops"])
    row("chain", "burn-in proposals per hop", s["burn_in"])
    row("chain", "proposals per hop between samples", s["swaps"])
    row("chain", "acceptance rate", s["acceptance"])
    row("chain", f"lag-1 autocorrelation of cycles 2..{k}", ac)
    nm, nsd, nz, npv = s["node"]
    on = np.flatnonzero((obs.node > 0) | (nm > 0))
    order = sorted(on.tolist(), key=lambda i: (-(nz[i] if not np.isnan(nz[i]) else -np.inf), npv[i],
                                                -obs.node[i], str(arrays.ids[i])))
    if top is not None:
        order = order[:max(int(top), 0)]
    for i in order:
        row(str(arrays.ids[i]), f"cycles through it (2..{k})", obs.node[i], (nm[i], nsd[i], nz[i], npv[i]))
    df = pd.DataFrame(rows, columns=COLUMNS)

    mean, sd, z, p = (float(x) for x in s["total"])
    more = p <= alpha
    n = s["samples"]
    ztext = "n/a" if np.isnan(z) else f"{z:.2f}"
    message = (f"{obs.total} cycles of length 2..{k} observed; in {n} degree-preserving rewirings "
               f"(amounts {amounts}) the mean is {mean:.2f} (sd {sd:.2f}): p = {p:.4f}, z = {ztext}. "
               + (f"The web is more circular than chance at the {alpha:.0%} level."
                  if more else f"The web is not more circular than chance at the {alpha:.0%} level.")
               + f" Chain: acceptance {s['acceptance']:.0%}, lag-1 autocorrelation "
               + ("n/a" if np.isnan(ac) else f"{ac:.2f}") + f"; {time.perf_counter() - t0:.1f} s.")
    if not s["complete"]:
        message += f" Stopped at the {timeout:g} s timeout after {n} of {int(samples)} samples."
    df.attrs.update(message=message, p_value=p, z=z, more_circular=bool(more), samples=n,
                    complete=s["complete"], max_length=k, acceptance=s["acceptance"], autocorrelation=ac)
    return df
