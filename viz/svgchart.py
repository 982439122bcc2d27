"""Valuation history as an inline SVG chart (no JavaScript, no fonts to fetch).

Input: the rows of ``dealgraph.queries.returns.rounds(store, entity=...)``
(``kind`` round|exit, ``date``, ``valuation_usd``, ``step_up``, ``types``,
``investors``). Drawn: post-money valuation over time as a step line (a value
holds until the next round), one dot per round with its value, the step-up
``×m`` between consecutive valued points (m = later / earlier valuation, as in
``rounds``), and each exit as a dashed vertical line with its type, buyer and
exit value. The y axis is linear from 0, or logarithmic when the largest value
exceeds the smallest by more than 50×. Partial dates sit at their first day.
"""

from __future__ import annotations

import datetime as _dt
import html
import math

import pandas as pd

from dealgraph.graph.dates import first_day, parse_date
from dealgraph.viz.style import CYCLE_COLOUR, money

W, H = 640, 260
L, R, T, B = 64, 24, 28, 36


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _day(date: str) -> int:
    return first_day(*parse_date(date)).toordinal()


def _num(x) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def valuation_chart(rows: pd.DataFrame, title: str) -> str:
    """The SVG text; empty string when fewer than two valued points exist."""
    pts = []
    for r in rows.to_dict("records"):
        v = _num(r.get("valuation_usd"))
        if v is None or v <= 0:
            continue
        pts.append({"day": _day(str(r["date"])), "date": str(r["date"]), "v": v, "kind": r.get("kind"),
                    "step": _num(r.get("step_up")), "types": str(r.get("types") or ""),
                    "who": str(r.get("investors") or "")})
    if len(pts) < 2:
        return ""
    d0, d1 = min(p["day"] for p in pts), max(p["day"] for p in pts)
    pad = max(30, (d1 - d0) * 0.06)
    d0, d1 = d0 - pad, d1 + pad
    vmax = max(p["v"] for p in pts)
    vmin = min(p["v"] for p in pts)
    log = vmax / vmin > 50
    if log:
        lo, hi = math.log10(vmin) - 0.2, math.log10(vmax) + 0.2

        def y(v):
            return T + (H - T - B) * (1 - (math.log10(v) - lo) / (hi - lo))
        ticks = [10 ** e for e in range(math.ceil(lo), math.floor(hi) + 1)]
    else:
        top = vmax * 1.18

        def y(v):
            return T + (H - T - B) * (1 - v / top)
        step = 10 ** math.floor(math.log10(top / 3))
        for m in (1, 2, 5, 10):
            if top / (step * m) <= 5:
                step *= m
                break
        ticks = [i * step for i in range(0, int(top // step) + 1)]

    def x(day):
        return L + (W - L - R) * (day - d0) / (d1 - d0)

    out = [f'<svg class="dg-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" '
           f'width="{W}" height="{H}" role="img" aria-label="{_e(title)}">',
           f'<text x="{L}" y="16" class="dg-chart-title">{_e(title)}</text>',
           f'<line x1="{L}" y1="{H - B}" x2="{W - R}" y2="{H - B}" stroke="#888"/>',
           f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H - B}" stroke="#888"/>']
    for t in ticks:
        ty = y(t)
        out.append(f'<line x1="{L - 4}" y1="{ty:.1f}" x2="{W - R}" y2="{ty:.1f}" stroke="#eee"/>'
                   f'<text x="{L - 6}" y="{ty + 4:.1f}" text-anchor="end" class="dg-tick">{_e(money(t) if t else "$0")}</text>')
    y0 = _dt.date.fromordinal(int(d0)).year
    y1 = _dt.date.fromordinal(int(d1)).year
    years = list(range(y0 + 1, y1 + 1))
    every = max(1, math.ceil(len(years) / 8))
    for yr in years[::every]:
        tx = x(_dt.date(yr, 1, 1).toordinal())
        out.append(f'<line x1="{tx:.1f}" y1="{H - B}" x2="{tx:.1f}" y2="{H - B + 4}" stroke="#888"/>'
                   f'<text x="{tx:.1f}" y="{H - B + 16}" text-anchor="middle" class="dg-tick">{yr}</text>')
    rounds = [p for p in pts if p["kind"] != "exit"]
    # step line through the rounds (value holds until the next round)
    if rounds:
        path = []
        for i, p in enumerate(rounds):
            px, py = x(p["day"]), y(p["v"])
            if i == 0:
                path.append(f"M{px:.1f},{py:.1f}")
            else:
                path.append(f"H{px:.1f}V{py:.1f}")
        path.append(f"H{x(max(p['day'] for p in pts)):.1f}")
        out.append(f'<path d="{"".join(path)}" fill="none" stroke="#4e79a7" stroke-width="2"/>')
    prev = None
    for p in pts:
        px, py = x(p["day"]), y(p["v"])
        if p["kind"] == "exit":
            label = f"exit: {p['types']}" + (f" by {p['who']}" if p["who"] else "") + f" {money(p['v'])}"
            out.append(f'<line x1="{px:.1f}" y1="{T}" x2="{px:.1f}" y2="{H - B}" stroke="{CYCLE_COLOUR}" '
                       f'stroke-dasharray="5,4" class="dg-exit"/>'
                       f'<rect x="{px - 6:.1f}" y="{py - 6:.1f}" width="12" height="12" '
                       f'transform="rotate(45 {px:.1f} {py:.1f})" fill="{CYCLE_COLOUR}"/>'
                       f'<text x="{px - 8:.1f}" y="{T + 10}" text-anchor="end" class="dg-exit-label">{_e(label)}</text>')
        else:
            out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="5" fill="#4e79a7"/>'
                       f'<text x="{px:.1f}" y="{py - 9:.1f}" text-anchor="middle" class="dg-value">'
                       f'{_e(money(p["v"]))}</text>')
        if prev is not None and p["step"] is not None:
            mx, my = (x(prev["day"]) + px) / 2, (y(prev["v"]) + py) / 2
            out.append(f'<text x="{mx:.1f}" y="{my + 14:.1f}" text-anchor="middle" class="dg-step">'
                       f'{_e("×%.2f" % p["step"])}</text>')
        prev = p
    out.append("</svg>")
    return "".join(out)
