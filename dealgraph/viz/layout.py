"""Node positions computed in Python, so the browser never runs a physics simulation.

Force-directed layout (Fruchterman–Reingold with a weak pull to the centre so
disconnected parts stay on screen), compiled with numba. Cost is O(n²) per
iteration; with ``n`` capped by the view's node limit (5,000 by default) that is
about a second, and the page then opens already laid out (physics off), which is
what keeps a 5,000-entity view interactive within seconds.

Deterministic: the same graph and seed give the same positions.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, parallel=True, fastmath=True)
def _fr(pos, src, dst, iterations, k, gravity):  # pragma: no cover - compiled
    n = pos.shape[0]
    disp = np.zeros_like(pos)
    t0 = 0.1
    for it in range(iterations):
        temp = t0 * (1.0 - it / iterations) + 1e-3
        # repulsion k²/d between every pair; parallel over nodes
        for i in numba.prange(n):
            dx_sum = 0.0
            dy_sum = 0.0
            xi = pos[i, 0]
            yi = pos[i, 1]
            for j in range(n):
                if j == i:
                    continue
                dx = xi - pos[j, 0]
                dy = yi - pos[j, 1]
                d2 = dx * dx + dy * dy + 1e-9
                f = k * k / d2  # (k²/d) * (1/d) for the unit vector
                dx_sum += dx * f
                dy_sum += dy * f
            # pull to the centre, proportional to distance
            dx_sum -= gravity * xi
            dy_sum -= gravity * yi
            disp[i, 0] = dx_sum
            disp[i, 1] = dy_sum
        # attraction d²/k along edges
        for e in range(src.shape[0]):
            a = src[e]
            b = dst[e]
            if a == b:
                continue
            dx = pos[a, 0] - pos[b, 0]
            dy = pos[a, 1] - pos[b, 1]
            d = math.sqrt(dx * dx + dy * dy) + 1e-9
            f = d / k  # (d²/k) * (1/d)
            disp[a, 0] -= dx * f
            disp[a, 1] -= dy * f
            disp[b, 0] += dx * f
            disp[b, 1] += dy * f
        # move by at most the temperature
        for i in range(n):
            dx = disp[i, 0]
            dy = disp[i, 1]
            d = math.sqrt(dx * dx + dy * dy) + 1e-9
            step = min(d, temp)
            pos[i, 0] += dx / d * step
            pos[i, 1] += dy / d * step
    return pos


def force_layout(nodes: list, edges: list[tuple], *, seed: int = 7,
                 iterations: int | None = None, spacing: float = 170.0) -> dict:
    """Positions ``{node: (x, y)}`` in screen pixels for vis-network.

    ``edges`` are ``(u, v)`` pairs (parallel edges pull harder, which keeps
    heavily connected pairs close). ``spacing`` is the typical distance between
    neighbours in pixels. Iterations default to 150 for small graphs, fewer for
    big ones (the layout converges faster than it matters visually).
    """
    n = len(nodes)
    if n == 0:
        return {}
    if n == 1:
        return {nodes[0]: (0.0, 0.0)}
    index = {v: i for i, v in enumerate(nodes)}
    src = np.fromiter((index[u] for u, _ in edges), dtype=np.int64, count=len(edges))
    dst = np.fromiter((index[v] for _, v in edges), dtype=np.int64, count=len(edges))
    rng = np.random.default_rng(seed)
    # start on a disc (random angles) so no two nodes coincide
    pos = rng.uniform(-1.0, 1.0, size=(n, 2))
    k = 1.0 / math.sqrt(n)
    # centre pull: an isolated entity settles about one unit from the centre
    # (repulsion n·k²/D balances gravity·D at D≈1 when gravity ≈ n·k² = 1)
    gravity = 0.6
    if iterations is None:
        iterations = 150 if n <= 500 else 80 if n <= 2000 else 50
    pos = _fr(pos, src, dst, iterations, k, gravity)
    pos -= pos.mean(axis=0)
    # scale so neighbouring nodes sit about `spacing` pixels apart
    scale = spacing / k
    return {v: (float(pos[i, 0] * scale), float(pos[i, 1] * scale)) for v, i in index.items()}
