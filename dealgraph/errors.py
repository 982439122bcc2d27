"""The errors dealgraph raises for things a user can fix, all under :class:`DealgraphError`.

Catch ``DealgraphError`` to catch every one of them from Python; the command line
prints each as ``error: <message>`` and exits with status 1 (see
:mod:`dealgraph.cli.common`). Any other exception escaping dealgraph is a bug.

* :class:`LoadError` -- input files (or frames, or what Neo4j holds) were refused;
  ``problems`` lists the reasons as ``file:line:column: reason`` (by file, line and
  column); ``total`` counts every problem found, ``more``
  those not listed.
* :class:`QueryError` -- a query was asked something it cannot answer: an unknown
  entity, a bad ``as_of`` date or ``status``, an option value out of range. Also a
  :class:`ValueError`, as these were before they had their own class.
* :class:`EditError` -- an edit (merge, rename, alias, delete) or an undo was refused: an
  unknown id, a merge that would make a deal pay itself, a deletion of something still
  in use, an undo of a change whose rows were changed since.
* :class:`Neo4jError` -- a Neo4j server could not be reached or refused an operation.
* :class:`ServerError` (in :mod:`dealgraph.neo4j_backend.jars`) -- the local Neo4j
  test server could not be fetched or started.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dealgraph.loaders.csv import Problem


class DealgraphError(Exception):
    """Something the user can fix; ``str(e)`` says what, in words fit for the terminal."""


class LoadError(DealgraphError):
    """Input was refused; ``problems`` says every reason found (nothing was written)."""

    def __init__(self, problems: list[Problem], more: int | None = None):
        self.problems = sorted(problems)  # by file, line, column, reason: a stable order
        #: problems found but not listed (``total`` counts them all)
        self.more = getattr(problems, "more", 0) if more is None else more
        self.total = len(self.problems) + self.more
        super().__init__("\n".join(str(p) for p in self.problems))


class QueryError(DealgraphError, ValueError):
    """A query's parameters name nothing known or are out of range (one line)."""


class EditError(DealgraphError):
    """An edit or undo was refused (one line; nothing was written)."""


class Neo4jError(DealgraphError):
    """A Neo4j operation failed; ``str(e)`` is one line fit for the terminal."""
