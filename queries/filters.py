"""Deal selection shared by every query: ``--as-of`` and ``--status``."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from dealgraph.errors import QueryError
from dealgraph.graph.dates import parse_date, truncate_key
from dealgraph.graph.schema import STATUSES

#: The default status filter: everything except terminated deals. Tentative
#: deals (in_talks, rumoured) are included and marked by their status column.
DEFAULT_STATUSES: tuple[str, ...] = tuple(s for s in STATUSES if s != "terminated")


def normalise_statuses(status: str | Iterable[str] | None) -> tuple[str, ...]:
    """``None`` -> the default; ``"all"`` -> every status; ``"a,b"`` -> (a, b)."""
    if status is None:
        return DEFAULT_STATUSES
    if isinstance(status, str):
        status = [s.strip() for s in status.split(",") if s.strip()]
    out = []
    for s in status:
        if s == "all":
            return STATUSES
        if s not in STATUSES:
            raise QueryError(f"unknown status {s!r}; expected one of {', '.join(STATUSES)} or 'all'")
        out.append(s)
    return tuple(out)


def parse_as_of(as_of: str) -> tuple[int, int]:
    """The ``(key, precision)`` of an ``as_of`` date (:func:`~dealgraph.graph.dates.parse_date`);
    :class:`QueryError` when it is not a date."""
    try:
        return parse_date(as_of)
    except ValueError as e:
        raise QueryError(f"as-of {e}") from None


def select_deals(deals: pd.DataFrame, *, as_of: str | None = None,
                 status: str | Iterable[str] | None = None) -> pd.DataFrame:
    """The deals a query sees.

    ``as_of``: only deals dated on or before it. Partial dates compare at their
    common precision, so a deal dated ``2025`` is kept for ``--as-of 2025-03-01``
    (it is not known to be later).
    ``status``: see :func:`normalise_statuses`.
    """
    keep = deals["status"].isin(normalise_statuses(status))
    if as_of is not None:
        key, prec = parse_as_of(as_of)
        dk = deals["date_key"].to_numpy()
        dp = deals["date_precision"].to_numpy()
        p = dp.clip(max=prec)
        keep &= truncate_key(dk, p) <= truncate_key(pd.Series(key, index=deals.index).to_numpy(), p)
    return deals[keep]
