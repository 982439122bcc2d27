"""The report's charts, drawn by matplotlib (Agg backend) as inline SVG text.

Each function takes query results (DataFrames) and returns the ``<svg>`` element as
text, ready to put in the page: no XML declaration or DOCTYPE, no external
reference (no fonts or images to fetch), text kept as ``<text>`` elements
(``svg.fonttype = none``) so it can be read, searched and copied, and no date in
the metadata, so the same data gives the same file. matplotlib's own metadata
(``<dc:title>Matplotlib v…``) stays: it says which library drew the chart.

User text (names) is data here too: ``text.parse_math`` is off, so a ``$`` in a name
is a dollar sign, not mathtext, and matplotlib's SVG writer escapes ``<``, ``>``,
``&`` and quotes in every text element.

Money on axes and labels uses the shared formatter
(:func:`dealgraph.queries.common.money`): ``$20.0bn``.
"""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pandas as pd

from dealgraph.graph.dates import first_day, parse_date
from dealgraph.queries.common import money
from dealgraph.viz.style import CYCLE_COLOUR, type_colour

RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "dealgraph",       # stable element ids: the same data gives the same SVG
    "text.parse_math": False,          # a "$" in a name is text
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
}
ROUND_COLOUR = "#4e79a7"
#: A valuation chart with more points than this labels only a few of them.
LABELLED = 12


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _svg(fig) -> str:
    """The figure as an inline ``<svg>`` element (the figure is closed)."""
    plt = _pyplot()
    buf = io.StringIO()
    try:
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    finally:
        plt.close(fig)
    text = buf.getvalue()
    start = text.index("<svg")
    svg = text[start:]
    # scale with the page: the intrinsic size stays as the maximum, the width follows the container
    return re.sub(r'<svg ([^>]*?)width="([\d.]+)pt" height="([\d.]+)pt"',
                  lambda m: f'<svg {m.group(1)}class="dg-chart" width="{m.group(2)}pt" height="{m.group(3)}pt" '
                            f'style="max-width:100%;height:auto"', svg, count=1)


def _money_axis(ax, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _pos: "$0" if v == 0 else money(v))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _figure(width: float, height: float):
    plt = _pyplot()
    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    return fig, ax


def money_by_year(deals: pd.DataFrame, *, type_names=None) -> str:
    """Stacked bars: known US$ per year (of each deal's first day) and deal type.

    Undisclosed amounts count as nothing (they are unknown, not zero: the caption
    says how many). Empty string when no deal has a known amount."""
    plt = _pyplot()
    d = deals[["date_key", "type", "amount_usd"]].copy()
    d["amount_usd"] = pd.to_numeric(d["amount_usd"], errors="coerce")
    d = d[d["amount_usd"].notna() & (d["amount_usd"] > 0)]
    if not len(d):
        return ""
    d["year"] = (d["date_key"].astype("int64") // 10000).astype(int)
    table = d.pivot_table(index="year", columns="type", values="amount_usd", aggfunc="sum", fill_value=0.0)
    years = range(int(table.index.min()), int(table.index.max()) + 1)
    table = table.reindex(years, fill_value=0.0)
    table = table[table.sum().sort_values(ascending=False).index]
    with plt.rc_context(RC):
        fig, ax = _figure(9.0, 3.6)
        bottom = np.zeros(len(table))
        x = np.arange(len(table))
        for t in table.columns:
            v = table[t].to_numpy(dtype=float)
            label = (type_names or {}).get(t, str(t).replace("_", " "))
            ax.bar(x, v, bottom=bottom, color=type_colour(t), label=label, width=0.75)
            bottom += v
        for xi, total in zip(x, bottom):
            if total > 0:
                ax.annotate(money(total), (xi, total), xytext=(0, 2), textcoords="offset points",
                            ha="center", va="bottom", fontsize=7.5)
        step = max(1, math.ceil(len(x) / 14))
        ax.set_xticks(x[::step], [str(y) for y in list(years)[::step]])
        _money_axis(ax)
        ax.set_ylabel("known amount (US$)")
        ax.set_title("Money by year and deal type")
        ax.legend(frameon=False, fontsize=8, ncol=1, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return _svg(fig)


def web_timeline(tl: pd.DataFrame) -> str:
    """The circular web's timeline (:func:`dealgraph.queries.timeline.timeline` rows):
    bars = known money added per period (left axis), line = money cycles in the web
    as of the period's end (right axis), dotted line = share of money on cycles (%,
    outer right axis). Empty string without rows."""
    plt = _pyplot()
    if tl is None or not len(tl):
        return ""
    with plt.rc_context(RC):
        fig, ax = _figure(9.0, 3.4)
        x = np.arange(len(tl))
        added = pd.to_numeric(tl["money_added_usd"], errors="coerce").fillna(0).to_numpy(float)
        ax.bar(x, added, color="#bab0ac", width=0.8, label="money added (left)")
        _money_axis(ax)
        ax.set_ylabel("money added (US$)")
        ax2 = ax.twinx()
        ax2.spines["right"].set_visible(True)
        ax2.step(x, tl["cycles"].to_numpy(float), where="mid", color=CYCLE_COLOUR, lw=2,
                 label="money cycles in the web (right)")
        ax2.set_ylabel("cycles")
        ax2.set_ylim(bottom=0)
        ax3 = ax.twinx()
        ax3.spines["right"].set_visible(True)
        ax3.spines["right"].set_position(("axes", 1.09))
        pct = pd.to_numeric(tl["on_cycles_pct"], errors="coerce").to_numpy(float)
        ax3.plot(x, pct, color="#4e79a7", lw=1.5, ls=":", label="share of money on cycles, % (outer right)")
        ax3.set_ylim(0, 105)
        ax3.set_ylabel("% on cycles")
        ticks, labels = period_ticks(tl["period"].astype(str).tolist())
        ax.set_xticks(ticks, labels)
        ax.set_title("How the circular web formed")
        handles = sum((a.get_legend_handles_labels()[0] for a in (ax, ax2, ax3)), [])
        ax.legend(handles, [h.get_label() for h in handles], frameon=False, fontsize=8, loc="upper left")
        return _svg(fig)


def period_ticks(periods: list[str], most: int = 12) -> tuple[list[int], list[str]]:
    """Axis ticks for ``timeline`` periods (``2024``, ``2024-Q3``, ``2024-07``): one per year
    (at its first period, labelled with the year) when periods are quarters or months, every
    n-th so that at most ``most`` show."""
    if periods and len(periods[0]) > 4:
        idx = [i for i, p in enumerate(periods) if i == 0 or p[:4] != periods[i - 1][:4]]
        labels = [periods[i][:4] for i in idx]
    else:
        idx, labels = list(range(len(periods))), list(periods)
    step = max(1, math.ceil(len(idx) / most))
    return idx[::step], labels[::step]


def _day(date: str) -> int:
    return first_day(*parse_date(date)).toordinal()


def valuation_history(rows: pd.DataFrame, title: str) -> str:
    """An entity's valuation history from :func:`dealgraph.queries.returns.rounds` rows.

    Post-money per round as a step line (a value holds until the next round), a dot
    and its value per round, the step-up ``×m`` (later / earlier valuation, as in
    ``rounds``) between consecutive valued points, each exit as a dashed red line and
    diamond with its type, buyer and value. Log y axis when the largest value exceeds
    the smallest by more than 50x. Partial dates sit at their first day. Empty string
    with fewer than two valued points. With more than :data:`LABELLED` points only the
    first, the last and the largest round carry their value, only the :data:`LABELLED`
    largest step-ups their ``×m`` and only the three largest exits their label (a
    synthetic hub with hundreds of rounds stays a readable chart of a few kB)."""
    import datetime as _dt

    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    plt = _pyplot()
    pts = []
    for r in rows.to_dict("records"):
        v = pd.to_numeric(r.get("valuation_usd"), errors="coerce")
        if pd.isna(v) or v <= 0:
            continue
        step = pd.to_numeric(r.get("step_up"), errors="coerce")
        pts.append({"day": _dt.date.fromordinal(_day(str(r["date"]))), "v": float(v), "kind": r.get("kind"),
                    "step": None if pd.isna(step) else float(step), "types": str(r.get("types") or ""),
                    "who": str(r.get("investors") or "")})
    if len(pts) < 2:
        return ""
    with plt.rc_context(RC):
        fig, ax = _figure(6.0, 2.9)
        rounds_ = [p for p in pts if p["kind"] != "exit"]
        last = max(p["day"] for p in pts)
        if rounds_:
            xs = [p["day"] for p in rounds_] + [last]
            ys = [p["v"] for p in rounds_] + [rounds_[-1]["v"]]
            ax.step(xs, ys, where="post", color=ROUND_COLOUR, lw=2)
            ax.plot([p["day"] for p in rounds_], [p["v"] for p in rounds_], "o", color=ROUND_COLOUR)
        many = len(pts) > LABELLED
        top_round = max(rounds_, key=lambda p: p["v"]) if rounds_ else None
        for p in rounds_:
            if not many or p is rounds_[0] or p is rounds_[-1] or p is top_round:
                ax.annotate(money(p["v"]), (p["day"], p["v"]), xytext=(0, 6), textcoords="offset points",
                            ha="center", va="bottom", fontsize=8)
        exits = [p for p in pts if p["kind"] == "exit"]
        named_exits = sorted(exits, key=lambda p: -p["v"])[:3]
        steps = sorted((p["step"] for p in pts if p["step"] is not None), reverse=True)
        step_floor = steps[LABELLED - 1] if many and len(steps) >= LABELLED else -math.inf
        for p in exits:
            ax.axvline(p["day"], color=CYCLE_COLOUR, ls="--", lw=1)
            ax.plot([p["day"]], [p["v"]], "D", color=CYCLE_COLOUR)
            if any(p is q for q in named_exits):
                label = f"exit: {p['types']}" + (f" by {p['who']}" if p["who"] else "") + f", {money(p['v'])}"
                ax.annotate(label, (p["day"], p["v"]), xytext=(-6, 0), textcoords="offset points",
                            ha="right", va="center", fontsize=8, color=CYCLE_COLOUR)
        prev = None
        for p in pts:
            if prev is not None and p["step"] is not None and p["step"] >= step_floor:
                mid = prev["day"] + (p["day"] - prev["day"]) / 2
                ax.annotate(f"×{p['step']:.2f}", (mid, math.sqrt(prev["v"] * p["v"])), ha="center",
                            va="top", fontsize=8, color="#2a7a2a", fontweight="bold")
            prev = p
        vals = [p["v"] for p in pts]
        if max(vals) / min(vals) > 50:
            ax.set_yscale("log")
        else:
            ax.set_ylim(0, max(vals) * 1.25)
        _money_axis(ax)
        loc = AutoDateLocator(maxticks=8)
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(loc))
        span = (last - min(p["day"] for p in pts)).days
        pad = _dt.timedelta(days=max(30, span * 0.08))
        ax.set_xlim(min(p["day"] for p in pts) - pad, last + pad)
        ax.set_title(title)
        return _svg(fig)


def cycle_diagram(names: list[str], amounts: list[float], title: str, *, bottleneck: int | None = None) -> str:
    """One money cycle as a small diagram: its entities on a circle in cycle order,
    an arrow per hop (payer -> payee) labelled with the hop's known amount
    (``undisclosed`` when no deal on it has one), the bottleneck hop (index
    ``bottleneck``) drawn thick in the highlight colour. ``names[i]`` pays
    ``names[i+1]``; the last pays the first."""
    from matplotlib.patches import FancyArrowPatch

    plt = _pyplot()
    n = len(names)
    rad = -0.25 if n == 2 else -0.15   # arcs bulge outwards (nodes go round clockwise)
    with plt.rc_context(RC):
        fig, ax = _figure(3.6 if n <= 3 else 4.2, 3.3 if n <= 3 else 3.8)
        ang = [math.pi / 2 - 2 * math.pi * i / n for i in range(n)]
        pos = [(math.cos(a), math.sin(a)) for a in ang]
        for i in range(n):
            j = (i + 1) % n
            hot = i == bottleneck
            arrow = FancyArrowPatch(pos[i], pos[j], connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>",
                                    mutation_scale=14, lw=2.6 if hot else 1.4,
                                    color=CYCLE_COLOUR if hot else "#555555", shrinkA=16, shrinkB=16)
            ax.add_patch(arrow)
            # the label just outside the arc's middle: the quadratic curve's midpoint is the
            # chord's midpoint moved by rad/2 along the normal (dy, -dx)
            dx, dy = pos[j][0] - pos[i][0], pos[j][1] - pos[i][1]
            norm = math.hypot(dx, dy) or 1.0
            bulge = abs(rad) / 2 * norm + (0.17 if n == 2 else 0.12)
            lx = (pos[i][0] + pos[j][0]) / 2 - dy / norm * bulge
            ly = (pos[i][1] + pos[j][1]) / 2 + dx / norm * bulge
            amt = amounts[i]
            text = "undisclosed" if amt is None or (isinstance(amt, float) and math.isnan(amt)) else money(amt)
            ax.text(lx, ly, text, ha="center", va="center", fontsize=8.5,
                    color=CYCLE_COLOUR if hot else "#222222", fontweight="bold" if hot else "normal",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
        for (x, y), name in zip(pos, names):
            ax.text(x, y, name, ha="center", va="center", fontsize=9, wrap=True,
                    bbox={"boxstyle": "round,pad=0.35", "fc": "#eef3f8", "ec": ROUND_COLOUR})
        ax.set_xlim(-1.6, 1.6)
        ax.set_ylim(-1.45, 1.45)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(title, fontsize=9)
        return _svg(fig)
