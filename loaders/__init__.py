"""dealgraph.loaders."""
