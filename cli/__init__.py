"""The ``dealgraph`` command line: one click group over the store, loaders, queries, views and Neo4j."""

from dealgraph.cli.main import main

__all__ = ["main"]
