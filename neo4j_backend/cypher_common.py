"""Pieces shared by the Cypher queries: deal filters as Cypher predicates, running a read.

Deal selection matches :func:`dealgraph.queries.filters.select_deals`:
``status IN $statuses`` and, for ``as_of``, the deal's ``date_key`` and the
as-of key truncated to their common precision (``min`` of the two precisions)
compared with ``<=`` -- the same rule as the embedded backend, so a deal dated
``2025`` is kept for ``--as-of 2025-03-01``. The predicate is applied to each
relationship *while* the pattern expands (inside the quantified path pattern),
not in a ``WHERE`` after expansion.
"""

from __future__ import annotations

import re

import neo4j
import pandas as pd

from dealgraph.neo4j_backend import model as m
from dealgraph.queries.filters import normalise_statuses, parse_as_of

#: ``:INVESTED_IN|ACQUIRED|...`` -- from the schema allow-list only.
DEAL_TYPES_PATTERN = "|".join(m.DEAL_REL_TYPES)
_VAR_RE = re.compile(r"^[a-z][a-z0-9_]{0,15}$")


def deal_filter(var: str) -> str:
    """Cypher predicate selecting the deals a query sees (parameters ``$statuses``,
    ``$as_of_key``, ``$as_of_prec``). ``var`` is one of a fixed set of names."""
    if not _VAR_RE.match(var):
        raise ValueError(f"unexpected Cypher variable {var!r}")
    div = "[10000, 100, 1][{p} - 1]"
    prec = f"CASE WHEN {var}.date_precision < $as_of_prec THEN {var}.date_precision ELSE $as_of_prec END"
    d = div.format(p=prec)
    return (f"({var}.status IN $statuses AND ($as_of_key IS NULL OR "
            f"{var}.date_key / {d} <= $as_of_key / {d}))")


def filter_params(as_of: str | None, status) -> dict:
    key, prec = parse_as_of(as_of) if as_of is not None else (None, 3)
    return {"statuses": list(normalise_statuses(status)), "as_of_key": key, "as_of_prec": prec}


def read(driver: neo4j.Driver, query: str, params: dict, *, database: str | None = None,
         timeout: float | None = None) -> list[dict]:
    """Run ``query`` in a managed read transaction; rows as dicts.

    ``timeout`` (seconds) is the server-side transaction timeout.
    """
    @neo4j.unit_of_work(timeout=timeout)
    def work(tx):
        return [r.data() for r in tx.run(query, params)]

    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        return session.execute_read(work)


def frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)
