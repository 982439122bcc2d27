"""Browser views of the deal graph (pyvis, self-contained HTML)."""
