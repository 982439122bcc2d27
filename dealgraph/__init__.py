"""dealgraph: the money of the AI industry as a property graph.

>>> from dealgraph import open_store
>>> store = open_store()          # the sample data on first use
>>> store.deals                   # pandas DataFrame
>>> store.graph()                 # networkx MultiDiGraph, payer -> payee
"""

__version__ = "0.1.0"


def open_store(path=None, *, seed: bool = True):
    """Open (creating on first use) a dealgraph store; see :func:`dealgraph.graph.store.open_store`."""
    from dealgraph.graph.store import open_store as _open

    return _open(path, seed=seed)
