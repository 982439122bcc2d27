"""A degree-preserving directed edge-swap chain over the collapsed money graph (the null model).

State: a simple directed graph (no self-loops, no two hops on one ordered pair) as
``m`` slots, slot ``i`` = hop ``src[i] -> dst[i]``. A move only rewrites targets, so
each slot keeps its source (its payer) and every entity keeps its out-degree; each
target moves to another slot, so every entity keeps its in-degree.

Moves (proposed with fixed probabilities, whatever the state):

* **2-swap** (Maslov–Sneppen rewiring, with probability ``1 - p_triple``): an ordered
  pair of distinct slots ``i, j`` uniformly at random; ``a -> b, c -> d`` becomes
  ``a -> d, c -> b``.
* **3-rotation** (probability ``p_triple``): an ordered triple of distinct slots
  ``i, j, l`` uniformly; ``a -> b, c -> d, e -> f`` becomes ``a -> d, c -> f, e -> b``.
  It contains the reversal of a directed triangle (``a -> b, b -> c, c -> a`` with
  ``i, j, l`` = those hops becomes ``a -> c, b -> a, c -> b``), the move 2-swaps lack:
  without it the chain cannot leave a graph whose only alternatives differ by
  reversed triangles (Rao, Jana & Bandyopadhyay 1996; Erdős, Miklós & Toroczkai 2010).

A move that would create a self-loop or a second hop on an ordered pair is rejected
(the chain stays where it is, and that step still counts). Both proposals are
symmetric (the reverse of a 2-swap is the same pair; of a rotation ``i, j, l`` the
rotation ``i, l, j``, equally likely), so the stationary distribution is uniform over
the degree-preserving simple digraphs reachable from the start, and 2-swaps plus
triangle reversals reach all of them. A move is *accepted* when it changes the graph.

The edge set is an open-addressing hash table of keys ``src * n + dst`` (linear
probing, backward-shift deletion, so no tombstones build up). The chain is a compiled
``@kernel`` (graph/kernels.py) drawing from numba's generator, seeded by
:func:`seed` (a fixed seed gives the same chain, hence the same samples).
"""

from __future__ import annotations

import numpy as np

from dealgraph.graph.kernels import kernel

EMPTY = -1
_GOLDEN = 11400714819323198485  # 2**64 / golden ratio: Fibonacci hashing


@kernel(inline="always")
def _home(key, shift):  # pragma: no cover - compiled
    return np.int64((np.uint64(key) * np.uint64(_GOLDEN)) >> np.uint64(shift))


@kernel(inline="always")
def _find(table, key, shift):  # pragma: no cover - compiled
    mask = len(table) - 1
    i = _home(key, shift)
    while table[i] != EMPTY:
        if table[i] == key:
            return i
        i = (i + 1) & mask
    return -1


@kernel(inline="always")
def _insert(table, key, shift):  # pragma: no cover - compiled
    mask = len(table) - 1
    i = _home(key, shift)
    while table[i] != EMPTY:
        i = (i + 1) & mask
    table[i] = key


@kernel(inline="always")
def _remove(table, key, shift):  # pragma: no cover - compiled
    """Delete ``key`` (present) and shift later keys of its probe run back."""
    mask = len(table) - 1
    i = _find(table, key, shift)
    j = i
    while True:
        j = (j + 1) & mask
        if table[j] == EMPTY:
            break
        h = _home(table[j], shift)
        # keep table[j] where it is when its home lies cyclically in (i, j]
        if i <= j:
            if i < h <= j:
                continue
        elif h > i or h <= j:
            continue
        table[i] = table[j]
        i = j
    table[i] = EMPTY


@kernel
def build_table(keys, bits):  # pragma: no cover - compiled
    """A hash table of ``2**bits`` slots holding ``keys`` (distinct, >= 0)."""
    table = np.full(1 << bits, EMPTY, np.int64)
    shift = 64 - bits
    for x in keys:
        _insert(table, x, shift)
    return table


@kernel
def seed(s):  # pragma: no cover - compiled
    """Seed numba's generator (the one :func:`chain` draws from)."""
    np.random.seed(s)


@kernel
def chain(src, dst, n, table, bits, attempts, p_triple):  # pragma: no cover - compiled
    """Run ``attempts`` proposed moves in place (``dst`` and ``table`` change); returns
    how many were accepted (changed the graph). See the module docstring."""
    m = len(src)
    shift = 64 - bits
    accepted = 0
    if m < 2:
        return 0
    for _ in range(attempts):
        if m >= 3 and np.random.random() < p_triple:
            i = np.random.randint(0, m)
            j = np.random.randint(0, m - 1)
            if j >= i:
                j += 1
            lo, hi = min(i, j), max(i, j)
            l = np.random.randint(0, m - 2)
            if l >= lo:
                l += 1
            if l >= hi:
                l += 1
            a, b = src[i], dst[i]
            c, d = src[j], dst[j]
            e, f = src[l], dst[l]
            if a == d or c == f or e == b:
                continue
            o1, o2, o3 = a * n + b, c * n + d, e * n + f
            n1, n2, n3 = a * n + d, c * n + f, e * n + b
            if n1 == n2 or n1 == n3 or n2 == n3:
                continue
            if ((n1 == o1 or n1 == o2 or n1 == o3) and (n2 == o1 or n2 == o2 or n2 == o3)
                    and (n3 == o1 or n3 == o2 or n3 == o3)):
                continue  # the same three hops: no change
            _remove(table, o1, shift)
            _remove(table, o2, shift)
            _remove(table, o3, shift)
            if _find(table, n1, shift) >= 0 or _find(table, n2, shift) >= 0 or _find(table, n3, shift) >= 0:
                _insert(table, o1, shift)
                _insert(table, o2, shift)
                _insert(table, o3, shift)
                continue
            _insert(table, n1, shift)
            _insert(table, n2, shift)
            _insert(table, n3, shift)
            dst[i] = d
            dst[j] = f
            dst[l] = b
            accepted += 1
        else:
            i = np.random.randint(0, m)
            j = np.random.randint(0, m - 1)
            if j >= i:
                j += 1
            a, b = src[i], dst[i]
            c, d = src[j], dst[j]
            if a == c or b == d or a == d or c == b:
                continue  # no change, or a self-loop
            n1, n2 = a * n + d, c * n + b
            if _find(table, n1, shift) >= 0 or _find(table, n2, shift) >= 0:
                continue  # would be a second hop on that pair (the old hops differ from both)
            _remove(table, a * n + b, shift)
            _remove(table, c * n + d, shift)
            _insert(table, n1, shift)
            _insert(table, n2, shift)
            dst[i] = d
            dst[j] = b
            accepted += 1
    return accepted


class SwapChain:
    """The chain's state and counters: ``src``/``dst`` (slots), ``n`` entities."""

    def __init__(self, src: np.ndarray, dst: np.ndarray, n: int, *, seed_value: int = 0,
                 p_triple: float = 0.1):
        self.src = np.ascontiguousarray(src, dtype=np.int64)
        self.dst = np.array(dst, dtype=np.int64)
        self.n = int(max(n, 1))
        keys = self.src * self.n + self.dst
        if len(keys) and ((self.src == self.dst).any() or len(np.unique(keys)) != len(keys)):
            raise ValueError("the start graph must have no self-loops or repeated hops")
        self.bits = max(4, int(np.ceil(np.log2(max(len(keys), 1) * 4))))
        self.table = build_table(keys, self.bits)
        self.p_triple = float(p_triple)
        self.attempted = 0
        self.accepted = 0
        seed(int(seed_value))

    def run(self, attempts: int) -> int:
        """Propose ``attempts`` moves; returns how many were accepted."""
        acc = int(chain(self.src, self.dst, self.n, self.table, self.bits, int(attempts), self.p_triple))
        self.attempted += int(attempts)
        self.accepted += acc
        return acc

    @property
    def acceptance(self) -> float:
        return self.accepted / self.attempted if self.attempted else float("nan")
