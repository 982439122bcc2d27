"""Self-contained HTML for the network view: every script and style inline.

The page loads nothing: vis-network 9.1.2 (the copy bundled inside the pyvis
package), its CSS, the view script and the data are all inlined, and a
Content-Security-Policy forbids any fetch (``default-src 'none'``) and runs
only scripts carrying this page's nonce, so even an injected ``onerror=``
attribute could not run. User text is data: it travels as JSON inside a
``<script type="application/json">`` block (with ``<``, ``>`` and ``&``
escaped as ``\\u003c`` etc., so it can never close the block) and reaches the
DOM only through ``textContent``; page-level text goes through
:func:`html.escape`.
"""

from __future__ import annotations

import functools
import html
import json
import math
import secrets
from pathlib import Path

import pyvis

from dealgraph.viz.network import View

VIS_DIR = Path(pyvis.__file__).parent / "templates" / "lib" / "vis-9.1.2"
STATIC_DIR = Path(__file__).parent / "static"


@functools.cache
def assets() -> dict[str, str]:
    """The inline assets (read once per process)."""
    out = {
        "vis_js": (VIS_DIR / "vis-network.min.js").read_text(encoding="utf-8"),
        "vis_css": (VIS_DIR / "vis-network.css").read_text(encoding="utf-8"),
        "view_js": (STATIC_DIR / "view.js").read_text(encoding="utf-8"),
        "view_css": (STATIC_DIR / "view.css").read_text(encoding="utf-8"),
    }
    for name, text in out.items():
        # an inline block must not contain its own end tag
        if "</script" in text.lower() or "</style" in text.lower() or "<!--" in text:
            raise RuntimeError(f"asset {name} cannot be inlined safely")
    return out


def _clean(obj):
    """NaN/inf -> None recursively, so the JSON is strict."""
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):  # numpy scalars
        return _clean(obj.item())
    return obj


def safe_json(obj) -> str:
    """JSON that is safe inside a ``<script>`` element."""
    try:  # the view data is built JSON-clean; cleaning 10^5 values costs seconds, so only if needed
        text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = json.dumps(_clean(obj), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def view_data(view: View) -> dict:
    """The JSON the view script mounts."""
    nodes, edges, _heading, _h, _w, options = view.net.get_network_data()
    dates = [(e["date_key"], e["date"]) for e in edges if e.get("date")]
    return {
        "title": view.title,
        "notes": view.notes,
        "temporal": view.temporal,
        "nodes": nodes,
        "edges": edges,
        "cycles": view.cycles,
        "legend": view.legend,
        "options": json.loads(options) if isinstance(options, str) else options,
        "date_range": [min(dates)[1], max(dates)[1]] if dates else [None, None],
        "full_counts": list(view.full_counts),
    }


def fragment(view: View, dom_id: str, *, height: str = "100%") -> str:
    """The view's mount point and its data block (needs :func:`head` and :func:`tail`)."""
    data_id = f"{dom_id}-data"
    return (f'<div id="{html.escape(dom_id)}" class="dg-root" data-dealgraph-view="{html.escape(data_id)}" '
            f'style="height:{html.escape(height)}"></div>\n'
            f'<script type="application/json" id="{html.escape(data_id)}">{safe_json(view_data(view))}</script>\n')


def csp(nonce: str) -> str:
    return ("default-src 'none'; "
            f"script-src 'nonce-{nonce}'; "
            "style-src 'unsafe-inline'; img-src data:; font-src data:; "
            "connect-src 'none'; frame-src 'none'; form-action 'none'; base-uri 'none'")


def head(title: str, nonce: str, extra_css: str = "") -> str:
    a = assets()
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{html.escape(csp(nonce), quote=False)}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<title>{html.escape(title)}</title>\n'
            f'<style>{a["vis_css"]}</style>\n<style>{a["view_css"]}{extra_css}</style>\n'
            f'<script nonce="{nonce}">{a["vis_js"]}</script>\n</head>\n')


def tail(nonce: str) -> str:
    return f'<script nonce="{nonce}">{assets()["view_js"]}</script>\n</body>\n</html>\n'


PAGE_CSS = "html,body{margin:0;height:100%;overflow:hidden}"


def render_view_page(view: View) -> str:
    """A full-window page holding just the network view."""
    nonce = secrets.token_urlsafe(18)
    return (head(view.title, nonce, PAGE_CSS) + "<body>\n" + fragment(view, "dealgraph-view", height="100vh")
            + tail(nonce))


def write_page(text: str, path) -> Path:
    """Write exactly one file (nothing else is created next to it)."""
    p = Path(path)
    p.write_text(text, encoding="utf-8")
    return p
