"""Browser views of the deal graph: an interactive network (pyvis / vis-network)
and a one-page report, each a single self-contained HTML file.

* :func:`show` — display the network inline in Jupyter.
* :func:`dealgraph.viz.build.view_from_store` + :func:`dealgraph.viz.html.render_view_page`
  — the page ``dealgraph viz`` writes.
* :func:`dealgraph.viz.report.render_report` — the page ``dealgraph report`` writes.
"""


def show(store=None, **options):
    """Network view for a notebook (see :func:`dealgraph.viz.notebook.show`)."""
    from dealgraph.viz.notebook import show as _show

    return _show(store, **options)
