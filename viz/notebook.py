"""Inline display in Jupyter: ``dealgraph.viz.show(store)``.

The view is a complete page placed in an ``<iframe srcdoc=...>``: the
notebook's own scripts and styles cannot clash with it, it needs no server or
file next to the notebook, and its Content-Security-Policy still applies.
"""

from __future__ import annotations

import html as _html
from pathlib import Path

from dealgraph.viz.html import render_view_page
from dealgraph.viz.network import View


class NetworkView:
    """A rendered network view; displays itself in Jupyter, or ``.save(path)``."""

    def __init__(self, view: View, height: int = 650):
        self.view = view
        self.height = int(height)
        self.html = render_view_page(view)

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{_html.escape(self.html, quote=True)}" '
                f'style="width:100%;height:{self.height}px;border:1px solid #ddd" '
                f'sandbox="allow-scripts" title="{_html.escape(self.view.title)}"></iframe>')

    def save(self, path) -> Path:
        p = Path(path)
        p.write_text(self.html, encoding="utf-8")
        return p

    def __repr__(self) -> str:
        return f"<NetworkView {self.view.node_count} entities, {self.view.edge_count} deals, " \
               f"{len(self.view.cycles)} cycles>"


def show(store=None, *, height: int = 650, **options) -> NetworkView:
    """The network view of ``store`` (default: the user's store) for a notebook.

    ``options`` are those of :func:`dealgraph.viz.build.view_from_store`
    (``entity``, ``depth``, ``cycles_only``, ``temporal``, ``as_of``, ...)."""
    from dealgraph.viz.build import view_from_store

    if store is None:
        from dealgraph.graph.store import open_store

        store = open_store()
    return NetworkView(view_from_store(store, **options), height=height)
