"""The circular flows a view highlights: ``circular_flows`` run with the view's options."""

from __future__ import annotations

import pandas as pd

#: Cycles listed in a view (the best by bottleneck); more would not be readable
#: as a list and would slow the page.
DEFAULT_TOP = 100


def find_cycles(store, *, max_length: int = 5, temporal: bool = False, window: int | None = None,
                as_of: str | None = None, status=None, top: int | None = DEFAULT_TOP,
                timeout: float | None = 30.0) -> tuple[pd.DataFrame, list[str]]:
    """``circular_flows`` result and notes for the page (how many cycles exist,
    how many are listed, whether the search finished)."""
    from dealgraph.queries.circular import circular_flows

    df = circular_flows(store, max_length=max_length, temporal=temporal, window=window,
                        as_of=as_of, status=status, top=top, timeout=timeout)
    notes = []
    total = df.attrs.get("total_cycles")
    if total is not None and total > len(df):
        notes.append(f"{total} circular flows of length 2..{max_length} exist; the {len(df)} with the "
                     f"largest bottleneck are listed and highlighted.")
    if df.attrs.get("complete") is False:
        notes.append("Cycle search: " + str(df.attrs.get("message", "incomplete")))
    return df, notes
