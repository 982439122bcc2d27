"""circular-flows: directed simple cycles in the collapsed money graph.

Definitions
-----------
* **Graph**: entities are nodes; all deals on one ordered pair (payer, payee)
  collapse into one **hop** (graph/arrays.py). Hop amount = sum of the known
  ``amount_usd`` of its deals; a hop "includes undisclosed" deals when any deal on
  it has no amount, and is "fully undisclosed" (amount NaN) when none has one.
* **Cycle**: a directed simple cycle of length 2..k (k = ``max_length``); exactly
  the cycles of ``networkx.simple_cycles(G, length_bound=k)`` of length >= 2 on the
  collapsed graph. Written from its smallest entity id:
  ``"amazon -> anthropic -> amazon"``.
* **bottleneck_usd** = smallest hop amount on the cycle (the most money that can
  have gone all the way round); NaN when any hop is fully undisclosed.
  ``bottleneck_usd_low/high``: its interval when amounts are ranges or bounds, each
  hop's interval being the sums of its disclosed deals' ends, the bottleneck's
  ``[min of the hops' lows, min of their highs]`` (:func:`intervals.minimum`);
  ``total_usd_low/high`` the sums of the hops' ends. Ranking uses the point figures.
  **total_usd** = sum of the known hop amounts (a lower bound when
  ``undisclosed_hops`` > 0). ``undisclosed_hops`` counts hops that include an
  undisclosed deal. ``tentative``: any deal on the cycle is in_talks / rumoured.
* **Ranking**: bottleneck descending; a NaN bottleneck sorts after every known one
  (it is still counted and listed when it reaches the top N); ties by total_usd
  descending, then by the entity ids of the cycle (sorted id order).
* **Time-ordered** (``temporal``): one can choose a starting hop and one deal per
  hop such that, going round once from that hop, no deal is earlier than any deal
  before it. Partial dates compare at their common precision (graph/dates.py):
  equal is not earlier, so ``2024-08`` then ``2024-08-05`` is fine. (For day-precise
  dates this is "dates non-decreasing". With partial dates the consecutive test is
  not transitive -- ``2024-08-20, 2024-08, 2024-08-05`` passes it pairwise but
  ends before it starts -- so every pair is compared.)
  ``window`` (days) additionally requires that the chosen deals span at most that
  many days, each partial date taken at its first day (``max - min`` of first
  days); ``window`` implies ``temporal``. ``witness`` lists such a sequence of
  deal ids, from its first deal; ``time_ordered``/``witness`` are reported for
  every returned cycle, also without ``temporal``.

Engine
------
A compiled (numba) bounded depth-first search over CSR arrays:
  1. hops between different strongly connected components (and self-deals) are
     dropped: no cycle uses them;
  2. nodes are renumbered hubs-first (degree descending) and each cycle is found
     once, from its lowest-numbered node (the "root"), visiting only
     higher-numbered nodes -- after the hubs are done the remaining graph is sparse;
  3. a backward BFS from each root gives every node its distance back to the
     root; a path is cut when its length plus that distance exceeds k. Nodes at
     distance 1 close a cycle through their hop to the root, so the root is never
     searched for in adjacency lists; the last node of a k-cycle is not pushed, and
     at the next-to-last node the search walks whichever is shorter: the node's
     successors or the root's predecessors (looked up by binary search);
  4. counting (no ranking, no dates) does not visit the last node at all: the
     number of a node's successors at distance 1, minus those already on the path,
     is the number of k-cycles it closes;
  5. top-N pass: adjacency is sorted by hop amount descending and a path whose
     bottleneck is already below the current N-th best bottleneck is cut; a second
     pass counts every cycle by length without materialising it -- so the top N is
     exact even when counting runs out of time (when the first pass cut nothing,
     its counts are used and the second pass is skipped);
  6. temporal: each path carries the Pareto set of its partial deal choices (a
     state = latest first day so far, earliest last day of the deals that must come
     later, whether the starting hop has been passed, and for the window the
     min/max first day) and is cut when that set is empty -- pruning happens during
     the search, not after it. The last two hops are tested together without
     building the intermediate set. With day-precise dates this is the usual
     "non-decreasing dates" test; partial dates use their first/last day
     (graph/arrays.py).
The search is resumable: it runs in slices of ``_STEP_BUDGET`` steps and stops at
``timeout`` with partial results (``attrs["complete"] = False`` and a message).
Property tests check cycle sets and counts against ``networkx.simple_cycles`` and
the temporal test against a brute force over rotations and deal choices.

The kernel's inputs are named: :class:`SearchGraph` (the CSR arrays),
:class:`HopDeals` (deal dates per hop), :class:`SearchParams` (what the pass
computes), :class:`Workspace` (scratch arrays, kept between slices) and a
:data:`CURSOR` record (where the search stopped, for the next slice).

Compilation: the kernels are ``@kernel`` functions (graph/kernels.py): compiled
by numba on first call, with ``cache=True`` into ``__pycache__``; the first call
on a fresh install compiles them (seconds, see BENCHMARKS.md), later processes
load the cached machine code (~0.2-0.6 s). Importing this module does not import
numba.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from dealgraph.errors import QueryError
from dealgraph.graph.arrays import LINK, MoneyArrays, build_arrays, strong_components, with_included
from dealgraph.graph.kernels import kernel
from dealgraph.graph.schema import DEAL_TYPES, NON_MONEY_TYPES, TENTATIVE_STATUSES
from dealgraph.queries.filters import select_deals
from dealgraph.queries import intervals

NEG = -(1 << 60)
POS = 1 << 60
BIG = 1 << 30
_STEP_BUDGET = 3_000_000  # DFS steps per compiled slice (~10 ms) between timeout checks
_STATE_CAP = None  # override of the initial Pareto-set capacity (tests force overflow with it)


# ---------------------------------------------------------------------------
# the search's inputs and state, by name
# ---------------------------------------------------------------------------

class SearchGraph(NamedTuple):
    """The collapsed graph as the search walks it (built by :func:`prepare`): hops inside
    one strongly connected component only, nodes renumbered hubs-first (internal numbers).
    Hop ids index the hops of :class:`MoneyArrays`; amounts are -inf when undisclosed."""

    indptr: np.ndarray  # (n+1,) out-hops of node v are positions indptr[v]:indptr[v+1] of:
    dst: np.ndarray  # target, hop id and amount, amount descending within a node (pruning)
    hop: np.ndarray
    amt: np.ndarray
    sdst: np.ndarray  # the same rows, target ascending within a node (edge look-ups)
    shop: np.ndarray
    samt: np.ndarray
    rindptr: np.ndarray  # (n+1,) in-hops of node v are positions rindptr[v]:rindptr[v+1] of:
    rsrc: np.ndarray  # source, hop id and amount
    rhop: np.ndarray
    ramt: np.ndarray
    code: np.ndarray  # internal node -> entity index (MoneyArrays.ids)


class HopDeals(NamedTuple):
    """The deals of every hop as date intervals (first/last day numbers, graph/arrays.py),
    for the temporal test."""

    ptr: np.ndarray  # deals of hop h: order[ptr[h]:ptr[h+1]], in date order
    order: np.ndarray
    lo: np.ndarray  # per deal: first day / last day
    hi: np.ndarray
    minlo: np.ndarray  # per hop: earliest first day / latest last day of its deals
    maxhi: np.ndarray


class SearchParams(NamedTuple):
    """What one search pass computes (fixed for the pass)."""

    k: int  # longest cycle length
    temporal: bool  # time-ordered cycles only
    use_window: bool  # ... whose chosen deals span at most `window` days
    window: int
    use_heap: bool  # rank: keep the best len(heap) cycles (and prune by the N-th best)
    fast_count: bool  # count only (no ranking, no dates): the last node is never visited
    per_node: bool  # also count the cycles through each entity, by length (Workspace.node_cycles)
    budget: int  # DFS steps per kernel call before returning to Python (timeout checks)


class TopHeap(NamedTuple):
    """Min-heap of the best cycles found so far; entry 0 = the worst one kept."""

    bottleneck: np.ndarray  # (N,)
    total: np.ndarray  # (N,)
    codes: np.ndarray  # (N, k) entity indexes from the cycle's smallest id, -1 padded


class Workspace(NamedTuple):
    """Scratch arrays of one search pass, allocated once and kept between kernel calls."""

    path: np.ndarray  # (k+1,) nodes of the current path; path[0] = root
    ptr: np.ndarray  # (k+1,) next out-hop position to try at each depth
    onpath: np.ndarray  # (n,) node is on the current path
    dist: np.ndarray  # (n,) hops back to the root (BIG when farther than k-1)
    touched: np.ndarray  # (n,) nodes reached by the backward BFS, nearest first
    cnt1: np.ndarray  # (n,) fast count: successors at distance 1
    touched2: np.ndarray  # (n,) nodes with cnt1 > 0 (to clear them)
    lasthop: np.ndarray  # (n,) hop id / amount of a distance-1 node's hop to the root
    lastamt: np.ndarray
    bott: np.ndarray  # (k+1,) bottleneck / total of the path up to each depth
    tot: np.ndarray
    states: np.ndarray  # (k+2, cap, 5) Pareto set of deal-choice states per depth (KIND..MX)
    nstates: np.ndarray  # (k+2,) states in use per depth
    counts: np.ndarray  # (k+2,) cycles found by length
    heap: TopHeap
    ctmp: np.ndarray  # (k,) codes of the cycle being ranked
    node_cycles: np.ndarray  # (n, k+2) with SearchParams.per_node: cycles through entity index i of length L
    visits: np.ndarray  # (n,) fast count with per_node: paths of k-2 hops from the root ending at node v
    vlist: np.ndarray  # (n,) nodes with visits > 0 (vcount[0] of them)
    vcount: np.ndarray  # (1,)


#: Where a search stopped (one record, written when a kernel call returns, read on resume).
CURSOR = np.dtype([
    ("root", np.int64),  # current start node
    ("depth", np.int64),  # depth of the current path
    ("phase", np.int64),  # 0: the root's backward BFS is still to do; 1: walking paths
    ("n_touched", np.int64),  # nodes in Workspace.touched
    ("n_touched2", np.int64),  # nodes in Workspace.touched2
    ("n_dist1", np.int64),  # touched[1..n_dist1] are the nodes at distance 1
    ("heap_size", np.int64),  # entries in use in the heap
    ("pruned", np.int64),  # 1 once the N-th best bottleneck cut a path
])

# the fields of a deal-choice state (last axis of Workspace.states; see _extend)
KIND, A, B, MN, MX = 0, 1, 2, 3, 4

# kernel call results
DONE, PAUSED, OVERFLOW = 0, 1, 2


# ---------------------------------------------------------------------------
# compiled kernels
# ---------------------------------------------------------------------------

@kernel(inline="always")
def _take(kind, a, b, din, lo, hi, option):  # pragma: no cover - compiled
    """One transition of a path state (kind, a, b) that takes a deal with first day
    ``lo`` and last day ``hi`` (states as in :func:`_extend`). ``option`` 0 keeps an
    unwrapped path unwrapped or extends a wrapped one; option 1 wraps an unwrapped
    path here (this deal comes first in time, so the path must be non-empty:
    ``din`` > 0). Returns ``(ok, kind, a, b)`` of the new state."""
    if kind == 0:
        if option == 0:
            return hi >= a, 0, max(a, lo), min(b, hi)
        return din > 0 and lo <= b, 1, lo, b
    return option == 0 and hi >= a and lo <= b, 1, max(a, lo), b


@kernel(inline="always")
def _span(mn, mx, lo, use_window, window):  # pragma: no cover - compiled
    """Min/max first day of the chosen deals after taking one with first day ``lo``, and
    whether they still fit ``window`` (always, and unchanged, without a window)."""
    if not use_window:
        return True, mn, mx
    nmn = min(mn, lo)
    nmx = max(mx, lo)
    return nmx - nmn <= window, nmn, nmx


@kernel(inline="always")
def _state(states, d, i):  # pragma: no cover - compiled
    """State ``i`` of the Pareto set at depth ``d``: (kind, a, b, mn, mx), see :func:`_extend`."""
    return states[d, i, KIND], states[d, i, A], states[d, i, B], states[d, i, MN], states[d, i, MX]


@kernel
def _extend(states, nin, din, hop, deal_ptr, deal_order, deal_lo, deal_hi, use_window, window,
            check_only):  # pragma: no cover - compiled
    """Pareto set of deal-choice states after appending ``hop`` to a path of ``din`` hops.

    A state is (kind, a, b, mn, mx): kind 0 = the starting hop is still ahead or is
    hop 0 ("unwrapped": a = max first day, b = min last day over chosen deals);
    kind 1 = the path has passed the starting hop ("wrapped": the deals after it
    come first in time; a = their max first day, b = min last day of the deals
    before it, which all come later). mn/mx = min/max first day (window only).
    Reads the ``nin`` states at ``states[din]``, writes the new set to
    ``states[din + 1]`` and returns its size; -1 on overflow; with ``check_only``
    returns 1 as soon as any state is feasible.
    """
    cap = states.shape[1]
    dout = din + 1
    nout = 0
    for i in range(nin):
        kind, a, b, mn, mx = _state(states, din, i)
        for p in range(deal_ptr[hop], deal_ptr[hop + 1]):
            x = deal_order[p]
            lo = deal_lo[x]
            hi = deal_hi[x]
            fits, nmn, nmx = _span(mn, mx, lo, use_window, window)
            if not fits:
                continue
            for option in range(2):
                ok, ck, ca, cb = _take(kind, a, b, din, lo, hi, option)
                if not ok:
                    continue
                if check_only:
                    return 1
                # Pareto insert: skip if dominated, drop states it dominates
                dominated = False
                j = 0
                while j < nout:
                    if states[dout, j, KIND] == ck:
                        oa = states[dout, j, A]
                        ob = states[dout, j, B]
                        omn = states[dout, j, MN]
                        omx = states[dout, j, MX]
                        if oa <= ca and ob >= cb and omn >= nmn and omx <= nmx:
                            dominated = True
                            break
                        if ca <= oa and cb >= ob and nmn >= omn and nmx <= omx:
                            nout -= 1
                            for f in range(5):
                                states[dout, j, f] = states[dout, nout, f]
                            continue
                    j += 1
                if dominated:
                    continue
                if nout >= cap:
                    return -1
                states[dout, nout, KIND] = ck
                states[dout, nout, A] = ca
                states[dout, nout, B] = cb
                states[dout, nout, MN] = nmn
                states[dout, nout, MX] = nmx
                nout += 1
    return nout


@kernel
def _feasible2(states, nin, din, hop1, hop2, deal_ptr, deal_order, deal_lo, deal_hi, hop_minlo, hop_maxhi,
               use_window, window):  # pragma: no cover - compiled
    """Can some state at depth ``din`` take one deal of ``hop1`` and then one of
    ``hop2`` (the closing hop)? Same transitions as :func:`_extend`, without
    building the intermediate Pareto set (the hot path for the last node)."""
    for i in range(nin):
        kind, a, b, mn, mx = _state(states, din, i)
        for p in range(deal_ptr[hop1], deal_ptr[hop1 + 1]):
            x = deal_order[p]
            lo = deal_lo[x]
            hi = deal_hi[x]
            fits, nmn, nmx = _span(mn, mx, lo, use_window, window)
            if not fits:
                continue
            for option in range(2):
                ok, ck, ca, cb = _take(kind, a, b, din, lo, hi, option)
                if not ok:
                    continue
                # O(1) answers from the closing hop's earliest first day / latest last day
                if hop_maxhi[hop2] < ca and (ck == 1 or hop_minlo[hop2] > cb):
                    continue
                if ck == 1 and hop_minlo[hop2] > cb:
                    continue
                if not use_window and ck == 0:
                    return True
                for q in range(deal_ptr[hop2], deal_ptr[hop2 + 1]):
                    y = deal_order[q]
                    ylo = deal_lo[y]
                    yhi = deal_hi[y]
                    if use_window and (max(nmx, ylo) - min(nmn, ylo) > window):
                        continue
                    if ck == 0:
                        if yhi >= ca or ylo <= cb:  # continue in order, or wrap (path non-empty)
                            return True
                    elif yhi >= ca and ylo <= cb:
                        return True
    return False


@kernel
def _cmp(b1, t1, c1, b2, t2, c2):  # pragma: no cover - compiled
    """1 if cycle 1 ranks before cycle 2, -1 if after (see module docstring)."""
    if b1 > b2:
        return 1
    if b1 < b2:
        return -1
    if t1 > t2:
        return 1
    if t1 < t2:
        return -1
    for i in range(len(c1)):
        if c1[i] < c2[i]:
            return 1
        if c1[i] > c2[i]:
            return -1
    return 0


@kernel
def _heap_push(heap, size, b, t, c):  # pragma: no cover - compiled
    """Offer cycle (bottleneck ``b``, total ``t``, codes ``c``) to the heap of the best
    ``len(heap.bottleneck)`` cycles; returns the new size."""
    hb = heap.bottleneck
    ht = heap.total
    hc = heap.codes
    cap = len(hb)
    if size < cap:
        i = size
        size += 1
    else:
        if _cmp(b, t, c, hb[0], ht[0], hc[0]) <= 0:
            return size
        # replace root, sift down
        i = 0
        while True:
            l = 2 * i + 1
            if l >= size:
                break
            r = l + 1
            s = l
            if r < size and _cmp(hb[r], ht[r], hc[r], hb[l], ht[l], hc[l]) < 0:
                s = r
            if _cmp(hb[s], ht[s], hc[s], b, t, c) < 0:
                hb[i] = hb[s]
                ht[i] = ht[s]
                hc[i, :] = hc[s, :]
                i = s
            else:
                break
        hb[i] = b
        ht[i] = t
        hc[i, :] = c
        return size
    # sift up
    while i > 0:
        p = (i - 1) // 2
        if _cmp(b, t, c, hb[p], ht[p], hc[p]) < 0:
            hb[i] = hb[p]
            ht[i] = ht[p]
            hc[i, :] = hc[p, :]
            i = p
        else:
            break
    hb[i] = b
    ht[i] = t
    hc[i, :] = c
    return size


@kernel
def _find_edge(indptr, sdst, v, w):  # pragma: no cover - compiled
    """Position of hop v -> w in the target-sorted rows ``sdst`` (SearchGraph), or -1.
    (Takes the two arrays, not the whole SearchGraph: it runs in the innermost loop,
    and a call that is not inlined passes every array of a NamedTuple.)"""
    lo = indptr[v]
    hi = indptr[v + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if sdst[mid] < w:
            lo = mid + 1
        else:
            hi = mid
    if lo < indptr[v + 1] and sdst[lo] == w:
        return lo
    return -1


@kernel(inline="always")
def _close(counts, path, bott, tot, code, heap, ctmp, k, use_heap, D, w, a, hsize, per_node,
           node_cycles):  # pragma: no cover
    """Count (and, with ``use_heap``, rank) the cycle path[0..D-1] + w -> root, whose
    last hop (w to the root) has amount ``a``; with ``per_node`` count it for each of its
    entities too. Returns the heap size."""
    L = D + 1
    counts[L] += 1
    if per_node:
        for i in range(D):
            node_cycles[code[path[i]], L] += 1
        node_cycles[code[w], L] += 1
    if use_heap:
        b = min(bott[D], a)
        t = tot[D] + (a if a > -np.inf else 0.0)
        path[D] = w
        best = 0
        for i in range(1, L):
            if code[path[i]] < code[path[best]]:
                best = i
        for i in range(L):
            ctmp[i] = code[path[(best + i) % L]]
        for i in range(L, k):
            ctmp[i] = -1
        hsize = _heap_push(heap, hsize, b, t, ctmp)
    return hsize


@kernel
def _search(g, deals, opt, ws, cursor):  # pragma: no cover - compiled
    """Resumable bounded DFS; see the module docstring.

    Starts where ``cursor[0]`` (a :data:`CURSOR` record) says and writes back where it
    stopped. For each start (root) a backward BFS over higher-numbered nodes gives
    ``ws.dist`` (hops back to the root); a node with dist 1 closes a cycle through its
    hop ``ws.lasthop`` to the root, so the root is never searched for in adjacency
    lists. With ``opt.fast_count`` (no ranking, no dates) the last node of a k-cycle
    is not visited at all: ``ws.cnt1[v]`` = number of v's successors with dist 1,
    minus those already on the path. Returns DONE, PAUSED when the step budget ran
    out (call again to resume), OVERFLOW when a deal-state set outgrew its buffer."""
    cur = cursor[0]
    k = opt.k
    temporal = opt.temporal
    use_heap = opt.use_heap
    fast_count = opt.fast_count
    # The fields as locals, and the helpers below take arrays, not the structures: a
    # field read, or a structure passed to a call, updates reference counts of its
    # arrays each time (measured 30 % slower).
    indptr, dst, hop, amt = g.indptr, g.dst, g.hop, g.amt
    sdst, shop, samt = g.sdst, g.shop, g.samt
    rindptr, rsrc, rhop, ramt = g.rindptr, g.rsrc, g.rhop, g.ramt
    path, ptr, onpath, dist, touched = ws.path, ws.ptr, ws.onpath, ws.dist, ws.touched
    cnt1, touched2, lasthop, lastamt = ws.cnt1, ws.touched2, ws.lasthop, ws.lastamt
    bott, tot, states, nstates, counts = ws.bott, ws.tot, ws.states, ws.nstates, ws.counts
    heap, ctmp, code = ws.heap, ws.ctmp, g.code
    per_node, node_cycles = opt.per_node, ws.node_cycles
    visits, vlist, vcount = ws.visits, ws.vlist, ws.vcount
    hb = heap.bottleneck
    deal_ptr, deal_order, deal_lo, deal_hi = deals.ptr, deals.order, deals.lo, deals.hi
    hop_minlo, hop_maxhi = deals.minlo, deals.maxhi
    use_window, window = opt.use_window, opt.window
    budget = opt.budget
    n = len(indptr) - 1
    ntop = len(hb)
    root = cur.root
    d = cur.depth
    phase = cur.phase
    nt = cur.n_touched
    nt2 = cur.n_touched2
    n1 = cur.n_dist1
    hsize = cur.heap_size
    steps = 0
    while root < n:
        if phase == 0:
            if indptr[root + 1] == indptr[root] or rindptr[root + 1] == rindptr[root]:
                root += 1
                continue
            dist[root] = 0
            touched[0] = root
            nt = 1
            head = 0
            while head < nt:
                v = touched[head]
                head += 1
                dv = dist[v]
                if dv >= k - 1:
                    continue
                for e in range(rindptr[v], rindptr[v + 1]):
                    u = rsrc[e]
                    if u > root and dist[u] > dv + 1:
                        dist[u] = dv + 1
                        touched[nt] = u
                        nt += 1
                        if dv == 0:
                            lasthop[u] = rhop[e]
                            lastamt[u] = ramt[e]
            steps += nt
            n1 = 0
            while n1 + 1 < nt and dist[touched[n1 + 1]] == 1:
                n1 += 1
            if fast_count:
                nt2 = 0
                for e in range(rindptr[root], rindptr[root + 1]):
                    u = rsrc[e]
                    if u <= root:
                        continue
                    for e2 in range(rindptr[u], rindptr[u + 1]):
                        v = rsrc[e2]
                        if v >= root:
                            if cnt1[v] == 0:
                                touched2[nt2] = v
                                nt2 += 1
                            cnt1[v] += 1
                    steps += rindptr[u + 1] - rindptr[u]
            d = 0
            path[0] = root
            ptr[0] = indptr[root]
            onpath[root] = True
            bott[0] = np.inf
            tot[0] = 0.0
            if temporal:
                nstates[0] = 1
                states[0, 0, KIND] = 0
                states[0, 0, A] = NEG
                states[0, 0, B] = POS
                states[0, 0, MN] = POS
                states[0, 0, MX] = NEG
            phase = 1
        while d >= 0:
            if steps >= budget:
                cur.root = root
                cur.depth = d
                cur.phase = phase
                cur.n_touched = nt
                cur.n_touched2 = nt2
                cur.n_dist1 = n1
                cur.heap_size = hsize
                return PAUSED
            v = path[d]
            if fast_count and d == k - 2:
                # every successor with dist 1 closes a k-cycle, except those on the path
                c = cnt1[v]
                for j in range(1, d):
                    p = path[j]
                    if dist[p] == 1 and _find_edge(indptr, sdst, v, p) >= 0:
                        c -= 1
                        if per_node:
                            node_cycles[code[p], k] -= 1  # undo p's share of visits[v] (below)
                counts[k] += c
                if per_node and cnt1[v] > 0:
                    # the path's entities are on the c cycles; each closing node w is credited
                    # once per visit of each predecessor v at the end of the root
                    for j in range(d + 1):
                        node_cycles[code[path[j]], k] += c
                    if visits[v] == 0:
                        vlist[vcount[0]] = v
                        vcount[0] += 1
                    visits[v] += 1
                steps += d + 1
                onpath[v] = False
                d -= 1
                continue
            e = ptr[d]
            end = indptr[v + 1]
            if d == k - 2 and e == indptr[v] and n1 < end - e and d > 0:
                # only successors with dist 1 matter here: walk the (shorter) list of the
                # root's predecessors and look each edge up, instead of v's adjacency
                if use_heap and hsize == ntop and bott[d] < hb[0]:
                    cur.pruned = 1  # cut by the N-th best bottleneck
                else:
                    for i in range(1, n1 + 1):
                        w = touched[i]
                        if onpath[w]:
                            continue
                        pos = _find_edge(indptr, sdst, v, w)
                        if pos < 0:
                            continue
                        a = samt[pos]
                        bott[d + 1] = min(bott[d], a)
                        tot[d + 1] = tot[d] + (a if a > -np.inf else 0.0)
                        if temporal and not _feasible2(states, nstates[d], d, shop[pos], lasthop[w], deal_ptr,
                                                       deal_order, deal_lo, deal_hi, hop_minlo, hop_maxhi,
                                                       use_window, window):
                            continue
                        hsize = _close(counts, path, bott, tot, code, heap, ctmp, k, use_heap, d + 1, w,
                                       lastamt[w], hsize, per_node, node_cycles)
                steps += n1 + 1
                onpath[v] = False
                d -= 1
                continue
            if e >= end:
                onpath[v] = False
                d -= 1
                continue
            ptr[d] = e + 1
            steps += 1
            w = dst[e]
            a = amt[e]
            if use_heap and hsize == ntop:
                thr = hb[0]
                if bott[d] < thr or a < thr:
                    # adjacency is sorted by amount descending: the rest is smaller
                    ptr[d] = end
                    cur.pruned = 1
                    continue
            if w < root or onpath[w] or dist[w] + d + 1 > k:
                continue
            if temporal and d + 1 == k - 1:
                # w can only close the cycle: test both remaining hops at once
                if _feasible2(states, nstates[d], d, hop[e], lasthop[w], deal_ptr, deal_order, deal_lo, deal_hi,
                              hop_minlo, hop_maxhi, use_window, window):
                    bott[d + 1] = min(bott[d], a)
                    tot[d + 1] = tot[d] + (a if a > -np.inf else 0.0)
                    hsize = _close(counts, path, bott, tot, code, heap, ctmp, k, use_heap, d + 1, w,
                                   lastamt[w], hsize, per_node, node_cycles)
                continue
            if temporal:
                ns = _extend(states, nstates[d], d, hop[e], deal_ptr, deal_order, deal_lo, deal_hi, use_window,
                             window, False)
                if ns == -1:
                    cur.root = root
                    return OVERFLOW
                if ns == 0:
                    continue
                nstates[d + 1] = ns
            bott[d + 1] = min(bott[d], a)
            tot[d + 1] = tot[d] + (a if a > -np.inf else 0.0)
            if dist[w] == 1:
                # the closing hop's deals must fit the path's deal states too
                if not temporal or _extend(states, nstates[d + 1], d + 1, lasthop[w], deal_ptr, deal_order,
                                           deal_lo, deal_hi, use_window, window, True) > 0:
                    hsize = _close(counts, path, bott, tot, code, heap, ctmp, k, use_heap, d + 1, w,
                                   lastamt[w], hsize, per_node, node_cycles)
            if d + 1 == k - 1:
                continue  # w could only close the cycle, done above
            d += 1
            path[d] = w
            ptr[d] = indptr[w]
            onpath[w] = True
        for i in range(nt):
            dist[touched[i]] = BIG
        if per_node and fast_count:
            for i in range(1, n1 + 1):
                w = touched[i]
                c = 0
                for e in range(rindptr[w], rindptr[w + 1]):
                    c += visits[rsrc[e]]
                node_cycles[code[w], k] += c
            for i in range(vcount[0]):
                visits[vlist[i]] = 0
            vcount[0] = 0
        for i in range(nt2):
            cnt1[touched2[i]] = 0
        nt = 0
        nt2 = 0
        root += 1
        phase = 0
        d = 0
    cur.root = root
    cur.depth = 0
    cur.phase = 0
    cur.n_touched = 0
    cur.n_touched2 = 0
    cur.heap_size = hsize
    return DONE


# ---------------------------------------------------------------------------
# preparation and driver
# ---------------------------------------------------------------------------

@dataclass
class _Prepared:
    arrays: MoneyArrays
    graph: SearchGraph
    deals: HopDeals
    n_roots: int  # internal nodes with at least one search hop
    max_parallel: int  # most deals on one hop


def prepare(arrays: MoneyArrays) -> _Prepared:
    """Search arrays: intra-SCC hops only, nodes renumbered hubs-first."""
    n, m = arrays.n, arrays.m
    src = arrays.hop_src.astype(np.int64)
    dst = arrays.hop_dst.astype(np.int64)
    comp = strong_components(n, arrays.indptr, dst) if n else np.zeros(0, np.int64)
    keep = (src != dst) & (comp[src] == comp[dst]) if m else np.zeros(0, bool)
    hops = np.flatnonzero(keep)
    s, t = src[hops], dst[hops]
    deg = np.bincount(s, minlength=n) + np.bincount(t, minlength=n)
    order = np.lexsort((np.arange(n), -deg))  # internal -> code, hubs first
    inv = np.empty(n, np.int64)
    inv[order] = np.arange(n)
    si, ti = inv[s], inv[t]
    amt = arrays.hop_amount[hops]
    amt = np.where(np.isnan(amt), -np.inf, amt)
    o = np.lexsort((-amt, si))  # by source, amount descending
    si, ti, hops, amt = si[o], ti[o], hops[o], amt[o]
    indptr = np.r_[0, np.cumsum(np.bincount(si, minlength=n))].astype(np.int64)
    ro = np.argsort(ti, kind="stable")
    rindptr = np.r_[0, np.cumsum(np.bincount(ti, minlength=n))].astype(np.int64)
    so = np.lexsort((ti, si))
    par = np.diff(arrays.hop_deal_ptr)
    if m:
        starts = arrays.hop_deal_ptr[:-1]
        hop_minlo = np.minimum.reduceat(arrays.deal_lo[arrays.deal_order], starts)
        hop_maxhi = np.maximum.reduceat(arrays.deal_hi[arrays.deal_order], starts)
    else:
        hop_minlo = hop_maxhi = np.zeros(0, np.int64)
    i64 = lambda x: np.ascontiguousarray(x, dtype=np.int64)  # noqa: E731
    f64 = lambda x: np.ascontiguousarray(x, dtype=np.float64)  # noqa: E731
    graph = SearchGraph(indptr=i64(indptr), dst=i64(ti), hop=i64(hops), amt=f64(amt),
                        sdst=i64(ti[so]), shop=i64(hops[so]), samt=f64(amt[so]),
                        rindptr=i64(rindptr), rsrc=i64(si[ro]), rhop=i64(hops[ro]), ramt=f64(amt[ro]),
                        code=i64(order))
    deals = HopDeals(ptr=i64(arrays.hop_deal_ptr), order=i64(arrays.deal_order), lo=i64(arrays.deal_lo),
                     hi=i64(arrays.deal_hi), minlo=i64(hop_minlo), maxhi=i64(hop_maxhi))
    return _Prepared(arrays=arrays, graph=graph, deals=deals, n_roots=int((np.diff(indptr) > 0).sum()),
                     max_parallel=int(par.max()) if len(par) else 1)


def _workspace(n: int, k: int, cap: int, temporal: bool, ntop: int, per_node: bool = False) -> Workspace:
    """Fresh scratch arrays for a pass over ``n`` nodes (Pareto sets of ``cap`` states)."""
    size = max(ntop, 1)
    return Workspace(
        path=np.zeros(k + 1, np.int64), ptr=np.zeros(k + 1, np.int64), onpath=np.zeros(n, np.bool_),
        dist=np.full(n, BIG, np.int64), touched=np.zeros(max(n, 1), np.int64), cnt1=np.zeros(n, np.int64),
        touched2=np.zeros(max(n, 1), np.int64), lasthop=np.zeros(n, np.int64), lastamt=np.zeros(n),
        bott=np.zeros(k + 1), tot=np.zeros(k + 1), states=np.zeros((k + 2, cap if temporal else 1, 5), np.int64),
        nstates=np.zeros(k + 2, np.int64), counts=np.zeros(k + 2, np.int64),
        heap=TopHeap(bottleneck=np.zeros(size), total=np.zeros(size), codes=np.full((size, k), -1, np.int64)),
        ctmp=np.zeros(k, np.int64), node_cycles=np.zeros((n if per_node else 1, k + 2), np.int64),
        visits=np.zeros(n if per_node else 1, np.int64), vlist=np.zeros(n if per_node else 1, np.int64),
        vcount=np.zeros(1, np.int64))


@dataclass
class SearchResult:
    counts: np.ndarray  # counts[L] = cycles of length L found
    cycles: list  # [(bottleneck, total, [id codes...]), ...] best first (top-N pass)
    complete: bool
    roots_done: int
    n_roots: int
    pruned: bool
    elapsed: float
    node_cycles: np.ndarray | None = None  # (n, k+2) with per_node: cycles through entity i of length L


def run_search(prep: _Prepared, k: int, *, temporal=False, window=None, top=None,
               deadline=None, per_node=False) -> SearchResult:
    """Run one pass. ``top`` = heap size (None: count only). ``per_node``: also count the
    cycles through each entity by length (``SearchResult.node_cycles``, rows = entity index)."""
    t0 = time.perf_counter()
    n = len(prep.graph.indptr) - 1
    use_window = window is not None
    temporal = temporal or use_window
    cap = 2 * (k * max(prep.max_parallel, 1) + 2)
    if use_window:
        cap = min(4 * cap * cap, 1 << 16)
    if _STATE_CAP is not None:
        cap = _STATE_CAP
    ntop = int(top) if top else 0
    opt = SearchParams(k=int(k), temporal=bool(temporal), use_window=use_window,
                       window=int(window) if use_window else 0, use_heap=ntop > 0,
                       fast_count=not temporal and ntop == 0, budget=int(_STEP_BUDGET),
                       per_node=bool(per_node))
    while True:
        ws = _workspace(n, k, cap, temporal, ntop, per_node)
        cursor = np.zeros(1, CURSOR)
        while True:
            status = _search(prep.graph, prep.deals, opt, ws, cursor)
            if status != PAUSED:
                complete = True
                break
            if deadline is not None and time.perf_counter() > deadline:
                complete = False
                break
        if status == OVERFLOW:  # a Pareto set outgrew its buffer: start again with more room
            cap *= 4
            continue
        break
    cur = cursor[0]
    heap = ws.heap
    cyc = ([(float(heap.bottleneck[i]), float(heap.total[i]), [int(c) for c in heap.codes[i] if c >= 0])
            for i in range(int(cur["heap_size"]))] if ntop else [])
    cyc.sort(key=lambda r: (-r[0], -r[1], r[2]))
    done = min(int(cur["root"]), n)
    roots = prep.graph.indptr[1:done + 1] - prep.graph.indptr[:done]
    return SearchResult(counts=ws.counts, cycles=cyc, complete=complete,
                        roots_done=int((roots > 0).sum()), n_roots=prep.n_roots, pruned=bool(cur["pruned"]),
                        elapsed=time.perf_counter() - t0, node_cycles=ws.node_cycles if per_node else None)

# ---------------------------------------------------------------------------
# witnesses (for the returned cycles only)
# ---------------------------------------------------------------------------

def witness(arrays: MoneyArrays, hops: list[int], window=None) -> list[int] | None:
    """A time-ordered deal sequence for the cycle with these hops (in cycle order),
    as deal row positions from its first deal in time, or None.

    Tries starting hops in cycle order; within a start, a depth-first search over
    one deal per hop (deals in date order) that keeps every deal not earlier than
    any before it, and the first-day span within ``window``.
    """
    L = len(hops)
    lo, hi = arrays.deal_lo, arrays.deal_hi
    options = [arrays.hop_deals(h) for h in hops]
    for s in range(L):
        seq = [options[(s + i) % L] for i in range(L)]
        seen = set()

        def dfs(i, m, mn, mx, chosen):
            if i == L:
                return list(chosen)
            key = (i, m, mn, mx)
            if key in seen:
                return None
            seen.add(key)
            for x in seq[i]:
                if hi[x] < m:
                    continue
                nmn, nmx = min(mn, lo[x]), max(mx, lo[x])
                if window is not None and nmx - nmn > window:
                    continue
                chosen.append(int(x))
                got = dfs(i + 1, max(m, lo[x]), nmn if window is not None else 0,
                          nmx if window is not None else 0, chosen)
                if got is not None:
                    return got
                chosen.pop()
            return None

        got = dfs(0, NEG, POS if window is not None else 0, NEG if window is not None else 0, [])
        if got is not None:
            return got
    return None


# ---------------------------------------------------------------------------
# public function
# ---------------------------------------------------------------------------

RESULT_COLUMNS = ["cycle", "length", "bottleneck_usd", "bottleneck_usd_low", "bottleneck_usd_high", "total_usd",
                  "total_usd_low", "total_usd_high", "undisclosed_hops", "tentative", "time_ordered", "witness",
                  "hops", "deal_ids"]


def _hop_interval(arrays: MoneyArrays, h: int) -> tuple[float, float]:
    """A hop's interval: the sums of its disclosed deals' low and high ends
    (:func:`dealgraph.queries.intervals.total`); NaN when no deal is disclosed."""
    ds = arrays.hop_deals(h)
    if "amount_usd_low" not in arrays.source.columns:
        v = float(arrays.hop_amount[h])
        return v, v
    point = np.asarray(arrays.column("amount_usd", ds), dtype=float)
    known = ~np.isnan(point)
    if not known.any():
        return np.nan, np.nan
    return intervals.total(np.asarray(arrays.column("amount_usd_low", ds), dtype=float)[known],
                           np.asarray(arrays.column("amount_usd_high", ds), dtype=float)[known])


def _deals_frame(store_or_deals) -> pd.DataFrame:
    return store_or_deals if isinstance(store_or_deals, pd.DataFrame) else store_or_deals.deals


def _rows(arrays: MoneyArrays, cycles, window) -> pd.DataFrame:
    ids = arrays.ids
    hop_lists = [[arrays.hop_index(c[i], c[(i + 1) % len(c)]) for i in range(len(c))] for _b, _t, c in cycles]
    # look up ids and statuses of the listed deals only (not of every deal)
    wanted = np.unique(np.concatenate([arrays.hop_deals(h) for hl in hop_lists for h in hl] or [np.zeros(0, int)]))
    deal_id = dict(zip(wanted.tolist(), map(str, arrays.column("deal_id", wanted))))
    status = (dict(zip(wanted.tolist(), map(str, arrays.column("status", wanted))))
              if "status" in arrays.source.columns else None)
    rows = []
    for (_b, _t, codes), hop_list in zip(cycles, hop_lists):
        L = len(codes)
        amounts = arrays.hop_amount[hop_list]
        hop_texts, all_deals, tentative = [], [], False
        for i, h in enumerate(hop_list):
            ds = arrays.hop_deals(h)
            names = [deal_id[x] for x in ds]
            all_deals.extend(names)
            if status is not None and any(status[x] in TENTATIVE_STATUSES for x in ds):
                tentative = True
            hop_texts.append(f"{ids[codes[i]]}->{ids[codes[(i + 1) % L]]}: {', '.join(names)}")
        w = witness(arrays, hop_list, window)
        ends = np.array([_hop_interval(arrays, h) for h in hop_list], dtype=float).reshape(-1, 2)
        disclosed = ~np.isnan(amounts)
        b_lo, b_hi = intervals.minimum(ends[:, 0], ends[:, 1]) if disclosed.all() else (np.nan, np.nan)
        t_lo, t_hi = intervals.total(ends[disclosed, 0], ends[disclosed, 1])
        rows.append({
            "cycle": " -> ".join([str(ids[c]) for c in codes] + [str(ids[codes[0]])]),
            "length": L,
            "bottleneck_usd": float("nan") if np.isnan(amounts).any() else float(amounts.min()),
            "bottleneck_usd_low": b_lo, "bottleneck_usd_high": b_hi,
            "total_usd": float(np.nansum(amounts)),
            "total_usd_low": t_lo, "total_usd_high": t_hi,
            "undisclosed_hops": int(arrays.hop_undisclosed[hop_list].sum()),
            "tentative": bool(tentative),
            "time_ordered": w is not None,
            "witness": ", ".join(deal_id[x] for x in w) if w else "",
            "hops": "; ".join(hop_texts),
            "deal_ids": ", ".join(all_deals),
            "_key": codes,
        })
    df = pd.DataFrame(rows, columns=RESULT_COLUMNS + ["_key"])
    return df.drop(columns="_key")


# ---------------------------------------------------------------------------
# --include: links that move no money (partnerships, warrants)
# ---------------------------------------------------------------------------

#: The columns a result gains with ``include``.
LINK_COLUMNS = ["links", "via"]


def included_types(include) -> tuple[str, ...]:
    """The non-money deal types named by ``include`` (``"partnerships"``, ``"partnership,warrant"``,
    a list; a plural ``s`` is optional); ``()`` for None. Anything else is a QueryError."""
    if include is None or include == "":
        return ()
    words = [w.strip() for w in (include.split(",") if isinstance(include, str) else include) if w.strip()]
    out = []
    for w in words:
        t = w if w in NON_MONEY_TYPES else w[:-1] if w.endswith("s") and w[:-1] in NON_MONEY_TYPES else None
        if t is None:
            raise QueryError(f"--include: unknown link kind {w!r}; expected one of "
                             f"{', '.join(n + 's' for n in NON_MONEY_TYPES)} (deal types that move no money)")
        out.append(t)
    return tuple(dict.fromkeys(out))


def hop_links(arrays: MoneyArrays) -> np.ndarray:
    """Per hop: the deal type of its links when it is a link hop (:func:`with_included`), else ""."""
    if LINK not in arrays.source.columns or not arrays.m:
        return np.full(arrays.m, "", dtype=object)
    first = arrays.rows[arrays.deal_order[arrays.hop_deal_ptr[:-1]]]
    link = arrays.source[LINK].to_numpy(dtype=bool)[first]
    types = arrays.source["type"].to_numpy(dtype=object)[first]
    return np.where(link, types, "").astype(object)


def _link_rows(arrays: MoneyArrays, df: pd.DataFrame, cycles) -> pd.DataFrame:
    """Cycles with link hops marked: in ``cycle`` a link is ``~`` (undirected) or ``~>``
    (directed) instead of ``->``; ``links`` counts them; ``via`` lists them; the money
    figures count money hops only (``undisclosed_hops``)."""
    kind = hop_links(arrays)
    ids = arrays.ids
    cyc, n_links, via, undisclosed = [], [], [], []
    for (_b, _t, codes), row in zip(cycles, df.itertuples(index=False)):
        L = len(codes)
        hops = [arrays.hop_index(codes[i], codes[(i + 1) % L]) for i in range(L)]
        text, listed = str(ids[codes[0]]), []
        for i, h in enumerate(hops):
            a, b = str(ids[codes[i]]), str(ids[codes[(i + 1) % L]])
            arrow = " -> " if not kind[h] else (" ~> " if DEAL_TYPES[kind[h]].directed else " ~ ")
            text += arrow + b
            if kind[h]:
                listed.append(f"{a}{arrow.strip()}{b} ({kind[h]})")
        cyc.append(text)
        n_links.append(len(listed))
        via.append("; ".join(listed))
        undisclosed.append(int(sum(bool(arrays.hop_undisclosed[h]) for h in hops if not kind[h])))
    out = df.assign(cycle=cyc, undisclosed_hops=undisclosed, links=n_links, via=via) if len(df) else \
        df.assign(links=pd.Series([], dtype=np.int64), via=pd.Series([], dtype=object))
    return out[RESULT_COLUMNS[:5] + LINK_COLUMNS + RESULT_COLUMNS[5:]]


def _money_free(arrays: MoneyArrays, cycles) -> np.ndarray:
    """Which cycles have no money hop (all links): not circular flows, left out."""
    kind = hop_links(arrays)
    return np.array([all(kind[arrays.hop_index(c[i], c[(i + 1) % len(c)])] for i in range(len(c)))
                     for _b, _t, c in cycles], dtype=bool)


def check_options(max_length, window, temporal: bool, top) -> tuple[int, int | None, bool]:
    """Validated ``(k, window, temporal)``; a window implies a temporal search."""
    k = int(max_length)
    if k < 2:
        raise QueryError("max_length must be at least 2")
    if window is not None:
        window = int(window)
        if window < 0:
            raise QueryError("window must be a non-negative number of days")
        temporal = True
    if top is not None and int(top) < 1:
        raise QueryError("top must be a positive number (or None for every cycle)")
    return k, window, temporal


def circular_flows(store_or_deals, *, max_length: int = 5, temporal: bool = False, window=None,
                   top: int | None = 100, count_only: bool = False, timeout: float | None = 30.0,
                   include=None, as_of=None, status=None, count: bool = True) -> pd.DataFrame:
    """Directed simple cycles of length 2..``max_length`` in the collapsed money graph.

    See the module docstring for every definition. Returns one row per cycle
    (the best ``top`` by bottleneck; ``top=None`` = all) or, with ``count_only``,
    one row per length (``length``, ``cycles``). ``attrs``: ``total_cycles``,
    ``counts_by_length`` ({length: count}), ``complete`` (False when ``timeout``
    seconds ran out: results are then partial and counts are lower bounds),
    ``searched`` (start nodes finished / start nodes with a hop) and ``message``.

    ``include`` (``"partnerships"``, ``"warrants"``, both comma-separated): deals of those
    types, which move no money, become **links** a cycle may pass (a partnership either
    way; :func:`~dealgraph.graph.arrays.with_included`). A cycle needs at least one money
    hop; one through a link has no bottleneck (NaN: no money is known to pass the link),
    its ``total_usd`` and ``undisclosed_hops`` count its money hops, and it gains
    ``links`` (how many) and ``via`` (which, ``a~b (partnership)``); ``cycle`` writes a
    link ``~`` (undirected) or ``~>``. The money-only cycles are the same as without it.

    ``count=False`` skips the counting pass when the top search was cut short
    (what a view listing the top cycles needs): ``attrs["counted"]`` is then
    False and the counts are those the top search saw (lower bounds).
    """
    k, window, temporal = check_options(max_length, window, temporal, top)
    include = included_types(include)
    t0 = time.perf_counter()
    deadline = None if timeout is None else t0 + float(timeout)
    deals = select_deals(_deals_frame(store_or_deals), as_of=as_of, status=status)
    money_free = np.zeros(k + 2, np.int64)  # cycles of links only, by length: counted, then taken off
    if include:
        deals = with_included(deals, include)
        only_links = deals[deals[LINK].to_numpy(dtype=bool)]
        if len(only_links):
            free = run_search(prepare(build_arrays(only_links, include)), k, temporal=temporal, window=window,
                              deadline=deadline)
            money_free = free.counts.copy()
    arrays = build_arrays(deals, include)
    prep = prepare(arrays)
    extra = int(money_free.sum())

    cycles: list = []
    count_res = None
    top_res = None
    if not count_only:
        ntop = None if top is None else top + extra  # room for the money-free cycles taken off
        if top is None:  # every cycle: count first, then keep that many
            count_res = run_search(prep, k, temporal=temporal, window=window, deadline=deadline)
            ntop = max(int(count_res.counts.sum()), 1)
        top_res = run_search(prep, k, temporal=temporal, window=window, top=ntop, deadline=deadline)
        cycles = top_res.cycles
        if include:
            cycles = [c for c, free in zip(cycles, _money_free(arrays, cycles)) if not free][:top]
        if count_res is None and top_res.complete and not top_res.pruned:
            count_res = top_res  # nothing was cut: its counts are exact
    if count_res is None and (top_res is None or top_res.complete) and (count or count_only):
        count_res = run_search(prep, k, temporal=temporal, window=window, deadline=deadline)
    counter = count_res if count_res is not None else top_res
    complete = counter.complete and (top_res is None or top_res.complete)
    counts = {L: int(counter.counts[L] - money_free[L]) for L in range(2, k + 1)}
    total = sum(counts.values())
    searched = f"{counter.roots_done}/{counter.n_roots} start entities"
    elapsed = time.perf_counter() - t0
    if complete and count_res is None:
        message = f"the top {len(cycles)} cycles of length 2..{k} in {elapsed:.2f} s (not counted)"
    elif complete:
        message = f"{total} cycles of length 2..{k} ({'time-ordered' if temporal else 'all'}) in {elapsed:.2f} s"
    elif top_res is not None and not top_res.complete:
        message = (f"timeout after {elapsed:.1f} s: searched {top_res.roots_done}/{top_res.n_roots} start "
                   f"entities; the cycles shown are the best found so far and the counts are lower bounds "
                   f"(raise --timeout or lower --max-length)")
    else:
        message = (f"timeout after {elapsed:.1f} s while counting: the top cycles are exact, but only "
                   f"{searched} were counted, so the total ({total}) is a lower bound")

    if count_only:
        df = pd.DataFrame({"length": list(counts), "cycles": list(counts.values())})
    else:
        df = _rows(arrays, cycles, window)
        if include:
            df = _link_rows(arrays, df, cycles)
    if include:
        message += f" (with {', '.join(t + 's' for t in include)} as links)"
    df.attrs.update(total_cycles=total, counts_by_length=counts, complete=complete, searched=searched,
                    counted=count_res is not None,
                    message=message, elapsed_s=elapsed, max_length=k, temporal=bool(temporal), window=window)
    return df
