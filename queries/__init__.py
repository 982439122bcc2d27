"""dealgraph.queries."""
