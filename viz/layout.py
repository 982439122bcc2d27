"""Node positions computed in Python, so the browser never runs a physics simulation.

Force-directed layout (Fruchterman–Reingold with a pull to the centre so
disconnected parts stay on screen), compiled with numba (graph/kernels.py). Exact repulsion costs
O(n²) per iteration; from :data:`GRID_FROM` nodes on, far-away nodes are
summarised per grid cell (:func:`_fr_grid`). The page then opens already laid
out (physics off), which is what keeps a 5,000-entity view interactive within
seconds.

Deterministic: the same graph and seed give the same positions.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange  # parallel loops: numba recognises its own prange, so this imports numba

from dealgraph.graph.kernels import kernel


@kernel(fastmath=True)
def _attract_and_move(pos, disp, src, dst, k, temp):  # pragma: no cover - compiled
    """The force-directed step both layouts share: edges pull their ends together
    (force d²/k), then every node moves along its displacement by at most ``temp``."""
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
    for i in range(pos.shape[0]):
        dx = disp[i, 0]
        dy = disp[i, 1]
        d = math.sqrt(dx * dx + dy * dy) + 1e-9
        step = min(d, temp)
        pos[i, 0] += dx / d * step
        pos[i, 1] += dy / d * step


@kernel(parallel=True, fastmath=True)
def _fr(pos, src, dst, iterations, k, gravity):  # pragma: no cover - compiled
    n = pos.shape[0]
    disp = np.zeros_like(pos)
    t0 = 0.1
    for it in range(iterations):
        temp = t0 * (1.0 - it / iterations) + 1e-3
        # repulsion k²/d between every pair; parallel over nodes
        for i in prange(n):
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
        _attract_and_move(pos, disp, src, dst, k, temp)
    return pos


@kernel(parallel=True, fastmath=True)
def _fr_grid(pos, src, dst, iterations, k, gravity, side):  # pragma: no cover - compiled
    """As :func:`_fr`, with far-away nodes summarised per grid cell.

    Each iteration bins the nodes into a ``side × side`` grid over their
    bounding box. A node repels the nodes of its own and the 8 neighbouring
    cells exactly, and every other cell as one mass (its node count) at the
    cell's centroid — a one-level Barnes–Hut: O(n · (side² + nodes nearby))
    instead of O(n²).
    """
    n = pos.shape[0]
    disp = np.zeros_like(pos)
    ncell = side * side
    cell = np.empty(n, dtype=np.int64)
    count = np.zeros(ncell, dtype=np.int64)
    start = np.zeros(ncell + 1, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    cx = np.zeros(ncell)
    cy = np.zeros(ncell)
    t0 = 0.1
    for it in range(iterations):
        temp = t0 * (1.0 - it / iterations) + 1e-3
        x0 = pos[:, 0].min()
        y0 = pos[:, 1].min()
        w = max(pos[:, 0].max() - x0, pos[:, 1].max() - y0) + 1e-9
        count[:] = 0
        cx[:] = 0.0
        cy[:] = 0.0
        for i in range(n):
            gx = min(int((pos[i, 0] - x0) / w * side), side - 1)
            gy = min(int((pos[i, 1] - y0) / w * side), side - 1)
            c = gy * side + gx
            cell[i] = c
            count[c] += 1
            cx[c] += pos[i, 0]
            cy[c] += pos[i, 1]
        start[0] = 0
        for c in range(ncell):
            start[c + 1] = start[c] + count[c]
            if count[c] > 0:
                cx[c] /= count[c]
                cy[c] /= count[c]
        fill = start[:-1].copy()
        for i in range(n):
            order[fill[cell[i]]] = i
            fill[cell[i]] += 1
        # the non-empty cells as compact arrays: the far-field loop below is
        # then branch-free (and vectorises)
        nz = 0
        for c in range(ncell):
            if count[c] > 0:
                nz += 1
        ncx = np.empty(nz)
        ncy = np.empty(nz)
        nm = np.empty(nz)
        q = 0
        for c in range(ncell):
            if count[c] > 0:
                ncx[q] = cx[c]
                ncy[q] = cy[c]
                nm[q] = count[c]
                q += 1
        kk = k * k
        for i in prange(n):
            xi = pos[i, 0]
            yi = pos[i, 1]
            ci = cell[i]
            gxi = ci % side
            gyi = ci // side
            dx_sum = 0.0
            dy_sum = 0.0
            # every cell as a point mass at its centroid ...
            for c in range(nz):
                dx = xi - ncx[c]
                dy = yi - ncy[c]
                f = nm[c] * kk / (dx * dx + dy * dy + 1e-9)
                dx_sum += dx * f
                dy_sum += dy * f
            # ... then the 3×3 neighbourhood exactly instead of as masses
            for oy in range(-1, 2):
                gy = gyi + oy
                if gy < 0 or gy >= side:
                    continue
                for ox in range(-1, 2):
                    gx = gxi + ox
                    if gx < 0 or gx >= side:
                        continue
                    c = gy * side + gx
                    m = count[c]
                    if m == 0:
                        continue
                    dx = xi - cx[c]
                    dy = yi - cy[c]
                    f = m * kk / (dx * dx + dy * dy + 1e-9)
                    dx_sum -= dx * f
                    dy_sum -= dy * f
                    for r in range(start[c], start[c + 1]):
                        j = order[r]
                        if j == i:
                            continue
                        dx = xi - pos[j, 0]
                        dy = yi - pos[j, 1]
                        f = kk / (dx * dx + dy * dy + 1e-9)
                        dx_sum += dx * f
                        dy_sum += dy * f
            disp[i, 0] = dx_sum - gravity * xi
            disp[i, 1] = dy_sum - gravity * yi
        _attract_and_move(pos, disp, src, dst, k, temp)
    return pos


#: Above this many nodes the grid approximation replaces exact repulsion.
GRID_FROM = 1500


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
    if n >= GRID_FROM:
        side = max(4, int(math.sqrt(n / 4)))  # about 4 nodes per cell on average
        pos = _fr_grid(pos, src, dst, iterations, k, gravity, side)
    else:
        pos = _fr(pos, src, dst, iterations, k, gravity)
    pos -= pos.mean(axis=0)
    # scale so neighbouring nodes sit about `spacing` pixels apart
    scale = spacing / k
    return {v: (float(pos[i, 0] * scale), float(pos[i, 1] * scale)) for v, i in index.items()}


@kernel(fastmath=True)
def _clear_labels(pos, radius, lw, lh, labelled, iterations, pad):  # pragma: no cover - compiled
    """Move nodes until no label box touches another node's disc or another label.

    A node's label is the box ``lw[i] × lh[i]`` centred under it, its top
    ``radius[i]`` below the centre (where vis-network draws a dot's label). Each
    round visits every labelled node and, for each disc (grown by ``pad``) its
    label overlaps, each other disc its own disc overlaps and each other label,
    moves both parties apart at once along the shorter way out (never pushing a
    node into the gap between another node and its label; Gauss-Seidel: later
    checks see the moves). It stops when a round finds nothing. Returns the
    overlaps the last round found.
    """
    n = pos.shape[0]
    left = 0
    for it in range(iterations):
        left = 0
        for a in range(labelled.shape[0]):
            i = labelled[a]
            for j in range(n):
                if j == i:
                    continue
                bx0 = pos[i, 0] - lw[i] / 2
                bx1 = pos[i, 0] + lw[i] / 2
                by0 = pos[i, 1] + radius[i]
                by1 = by0 + lh[i]
                r = radius[j] + pad
                cx = min(max(pos[j, 0], bx0), bx1)
                cy = min(max(pos[j, 1], by0), by1)
                dx = pos[j, 0] - cx
                dy = pos[j, 1] - cy
                d2 = dx * dx + dy * dy
                if d2 >= r * r:
                    continue
                left += 1
                if d2 > 1e-12:  # centre outside the box: push along the centre's direction
                    d = math.sqrt(d2)
                    m = (r - d) * 0.75 + 1.0
                    ux = dx / d
                    uy = dy / d
                else:  # centre inside the box: the shortest way out
                    ex = min(pos[j, 0] - bx0, bx1 - pos[j, 0])
                    ey = min(pos[j, 1] - by0, by1 - pos[j, 1])
                    # never up: between a node and its own label the way out is sideways
                    if ex < ey or pos[j, 1] <= (by0 + by1) / 2:
                        ux = 1.0 if pos[j, 0] > pos[i, 0] else -1.0
                        uy = 0.0
                        m = (ex + r) * 0.75 + 1.0
                    else:
                        ux = 0.0
                        uy = 1.0 if pos[j, 1] > (by0 + by1) / 2 else -1.0
                        m = (ey + r) * 0.75 + 1.0
                pos[j, 0] += ux * m
                pos[j, 1] += uy * m
                pos[i, 0] -= ux * m
                pos[i, 1] -= uy * m
                # the two discs themselves
                dx = pos[j, 0] - pos[i, 0]
                dy = pos[j, 1] - pos[i, 1]
                r = radius[i] + radius[j] + pad
                d2 = dx * dx + dy * dy
                if d2 < r * r:
                    left += 1
                    d = math.sqrt(d2) + 1e-9
                    m = (r - d) * 0.75 + 1.0
                    pos[j, 0] += dx / d * m
                    pos[j, 1] += dy / d * m
                    pos[i, 0] -= dx / d * m
                    pos[i, 1] -= dy / d * m
            for b in range(a + 1, labelled.shape[0]):
                j = labelled[b]
                bx0 = pos[i, 0] - lw[i] / 2
                bx1 = pos[i, 0] + lw[i] / 2
                by0 = pos[i, 1] + radius[i]
                by1 = by0 + lh[i]
                ox = min(bx1, pos[j, 0] + lw[j] / 2) - max(bx0, pos[j, 0] - lw[j] / 2)
                jy0 = pos[j, 1] + radius[j]
                oy = min(by1, jy0 + lh[j]) - max(by0, jy0)
                if ox <= -pad or oy <= -pad:
                    continue
                left += 1
                if ox < oy:
                    s = 1.0 if pos[j, 0] >= pos[i, 0] else -1.0
                    m = (ox + pad) * 0.75 + 1.0
                    pos[j, 0] += s * m
                    pos[i, 0] -= s * m
                else:
                    s = 1.0 if jy0 >= by0 else -1.0
                    m = (oy + pad) * 0.75 + 1.0
                    pos[j, 1] += s * m
                    pos[i, 1] -= s * m
        if left == 0:
            break
    return left


#: Width of a label character in font sizes (DejaVu Sans, the widest of the
#: faces the page asks for, averages about 0.6 em) and the label's height.
CHAR_WIDTH, LINE_HEIGHT = 0.62, 1.3


def place_labels(pos: dict, sizes: dict, labels: dict, *, font_size: float = 18.0, pad: float = 4.0,
                 iterations: int = 500) -> dict:
    """Positions moved so that no node label overlaps another node or label.

    ``sizes``: node radius; ``labels``: the text drawn under each node (empty =
    none). A label's box is estimated as ``CHAR_WIDTH·font_size`` per character
    by ``LINE_HEIGHT·font_size``, plus the white outline vis-network strokes
    around it; nodes keep ``pad`` pixels of clearance. Deterministic. Nodes in
    a dense cluster may need more room than ``iterations`` rounds give: the
    overlaps left are what the browser test would see, and it sees none on the
    sample data.
    """
    nodes = list(pos)
    if len(nodes) < 2:
        return dict(pos)
    p = np.array([pos[v] for v in nodes], dtype=float)
    radius = np.array([float(sizes[v]) for v in nodes])
    text = [labels.get(v) or "" for v in nodes]
    lw = np.array([len(t) * CHAR_WIDTH * font_size + 8.0 if t else 0.0 for t in text])
    lh = np.array([LINE_HEIGHT * font_size + 4.0 if t else 0.0 for t in text])
    labelled = np.array([i for i, t in enumerate(text) if t], dtype=np.int64)
    if len(labelled):
        _clear_labels(p, radius, lw, lh, labelled, iterations, pad)
    return {v: (float(p[i, 0]), float(p[i, 1])) for i, v in enumerate(nodes)}
