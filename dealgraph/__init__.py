"""dealgraph: the money of the AI industry as a property graph."""

__version__ = "0.1.0"
