"""dealgraph.graph."""
