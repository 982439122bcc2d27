"""The circular flows a view highlights: ``circular_flows`` run with the view's options."""

from __future__ import annotations

import pandas as pd

#: Cycles listed in a view (the best by bottleneck); more would not be readable
#: as a list and would slow the page.
DEFAULT_TOP = 100


def find_cycles(store_or_deals, *, max_length: int = 5, temporal: bool = False, window: int | None = None,
                as_of: str | None = None, status=None, top: int | None = DEFAULT_TOP,
                timeout: float | None = 30.0) -> tuple[pd.DataFrame, list[str]]:
    """``circular_flows`` result and notes for the page (how many cycles are
    listed, how many exist when the top search saw them all, whether the search
    finished). The exact total of a cut-short search is not counted."""
    from dealgraph.queries.circular import circular_flows

    df = circular_flows(store_or_deals, max_length=max_length, temporal=temporal, window=window,
                        as_of=as_of, status=status, top=top, timeout=timeout, count=False)
    notes = []
    total = df.attrs.get("total_cycles")
    if not df.attrs.get("counted", True):
        # counting every cycle costs most of the search (28 s of 30 at a million deals, k = 5)
        notes.append(f"More than {len(df)} circular flows of length 2..{max_length} exist; the {len(df)} with "
                     f"the largest bottleneck are listed and highlighted (`dealgraph query circular-flows "
                     f"--count-only` counts them all).")
    elif total is not None and total > len(df):
        notes.append(f"{total} circular flows of length 2..{max_length} exist; the {len(df)} with the "
                     f"largest bottleneck are listed and highlighted.")
    if df.attrs.get("complete") is False:
        notes.append("Cycle search: " + str(df.attrs.get("message", "incomplete")))
    return df, notes
