"""Pieces shared by the Cypher queries: deal filters as Cypher predicates, running a read.

Deal selection matches :func:`dealgraph.queries.filters.select_deals`:
``status IN $statuses`` and, for ``as_of``, the deal's ``date_key`` and the
as-of key truncated to their common precision (``min`` of the two precisions)
compared with ``<=`` -- the same rule as the embedded backend, so a deal dated
``2025`` is kept for ``--as-of 2025-03-01``. On the server that is one comparison
with a bound per date precision (:func:`as_of_bounds`). The predicate is applied to each
relationship *while* the pattern expands (inside the quantified path pattern),
not in a ``WHERE`` after expansion.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

import neo4j
import pandas as pd

from dealgraph.graph.dates import truncate_key
from dealgraph.neo4j_backend import model as m
from dealgraph.queries.filters import normalise_statuses, parse_as_of

#: ``:INVESTED_IN|ACQUIRED|...`` -- from the schema allow-list only: the money types (the edges of
#: the money queries; partnerships and warrants move no money).
DEAL_TYPES_PATTERN = "|".join(m.MONEY_REL_TYPES)
#: Every deal's relationship type (valuation reads choose deals by their ``type`` property).
ALL_DEALS_PATTERN = "|".join(m.DEAL_REL_TYPES)
_VAR_RE = re.compile(r"^[a-z][a-z0-9_]{0,15}$")


#: ``$as_of_bounds`` without ``--as-of``: later than every date key (yyyymmdd).
NO_BOUND = 99999999


def deal_filter(var: str) -> str:
    """Cypher predicate selecting the deals a query sees (parameters ``$statuses`` and
    ``$as_of_bounds``, see :func:`filter_params`). ``var`` is one of a fixed set of names."""
    if not _VAR_RE.match(var):
        raise ValueError(f"unexpected Cypher variable {var!r}")
    return f"({var}.status IN $statuses AND {var}.date_key <= $as_of_bounds[{var}.date_precision - 1])"


def as_of_bounds(as_of: str | None) -> list[int]:
    """For each deal date precision p (1 year, 2 month, 3 day) the largest ``date_key`` of a
    deal of that precision kept by ``as_of``.

    The embedded rule (:func:`dealgraph.queries.filters.select_deals`) keeps a deal when its
    key and the as-of key, both cut to their common precision ``c = min(p, as-of precision)``,
    compare ``<=``. Date keys have zeros for missing parts, so that is exactly
    ``date_key <= cut_c(as_of_key) + unit_c - 1`` (unit: 10000, 100, 1): one comparison on
    the server, with no arithmetic per deal.
    """
    if as_of is None:
        return [NO_BOUND] * 3
    key, prec = parse_as_of(as_of)
    out = []
    for p in (1, 2, 3):
        c = min(p, prec)
        unit = (10000, 100, 1)[c - 1]
        out.append(int(truncate_key(key, c)) + unit - 1)
    return out


def filter_params(as_of: str | None, status) -> dict:
    return {"statuses": list(normalise_statuses(status)), "as_of_bounds": as_of_bounds(as_of)}


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


def read_all(driver: neo4j.Driver, statements: list, *, database: str | None = None,
             timeout: float | None = None) -> list[list[dict]]:
    """Run ``statements`` (:class:`Statement`) in one managed read transaction, so they see
    the same state of the database; the rows of each, values as the driver decoded them
    (``dict(record)``: no ``Record.data()`` pass over every element of a returned list, which
    took 2.4 of 3.3 s reading 100k deals as parallel columns, BENCHMARKS-neo4j.md)."""
    @neo4j.unit_of_work(timeout=timeout)
    def work(tx):
        return [[dict(r) for r in tx.run(s.text, s.params)] for s in statements]

    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        return session.execute_read(work)


def frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)


# --------------------------------------------------------------------------- statements as text

@dataclass(frozen=True)
class Statement:
    """One Cypher statement a canned query runs: what it is for, its text and parameters.

    The query functions run exactly these (built by each module's ``statements``
    function), and ``dealgraph neo4j cypher NAME`` prints them, so the printed Cypher
    is the Cypher that runs.
    """

    purpose: str
    text: str
    params: dict = field(default_factory=dict)


_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def cypher_literal(value) -> str:
    """``value`` as a Cypher literal (``:param`` values are Cypher expressions):
    strings single-quoted with ``\\`` and ``'`` escaped, maps with identifier or
    backticked keys, ``null`` for None."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if not isinstance(value, float) or math.isfinite(value) else "null"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"
    if isinstance(value, dict):
        keys = (k if _IDENT_RE.match(k) else "`" + k.replace("`", "``") + "`" for k in value)
        return "{" + ", ".join(f"{k}: {cypher_literal(v)}" for k, v in zip(keys, value.values())) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(cypher_literal(v) for v in value) + "]"
    raise TypeError(f"no Cypher literal for {type(value).__name__}")


def script(statements: list[Statement], params: str = "cypher", title: str | None = None) -> str:
    """The statements as text for Neo4j Browser or cypher-shell.

    ``params="cypher"``: before each statement one ``:param name => value`` line per
    parameter (both tools accept it), then the statement ending in ``;``.
    ``params="json"``: the parameters as a ``// params: {...}`` JSON comment line
    (for drivers and HTTP clients) instead.
    """
    out = [f"// {title}"] if title else []
    for i, s in enumerate(statements, 1):
        out.append(f"// {i}/{len(statements)}: {s.purpose}" if len(statements) > 1 else f"// {s.purpose}")
        if params == "json":
            out.append("// params: " + json.dumps(s.params, sort_keys=True))
        else:
            out += [f":param {k} => {cypher_literal(v)};" for k, v in sorted(s.params.items())]
        out.append(s.text.strip() + ";")
        out.append("")
    return "\n".join(out)
