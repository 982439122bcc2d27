"""Interval arithmetic for figures stated as ranges: pure functions on numpy arrays.

Every figure is an interval ``[low, high]`` beside its point estimate (see
:mod:`dealgraph.loaders.amounts` for how ``1-2bn``, ``up to X``, ``at least X``
and ``~X`` become intervals). A point is ``[x, x]``. An end may be **unknown**
(NaN): ``up to X`` has no known low end. The rules:

* **Unknown ends stay unknown.** An end computed from an unknown end is unknown;
  an end that does not depend on it keeps its value (``[?, 10] / [2, 2]`` is
  ``[?, 5]``). Nothing is replaced by 0 or infinity.
* **Money and the figures divided are positive** (the loader refuses zero and
  negative amounts), so every function here is monotone in each argument and the
  extreme of a combination is at a corner: the result is the min/max over the
  corner combinations, computed directly from the ends that give it.
* **A denominator interval that is not strictly positive** (an end zero or below)
  gives NaN at both ends: the ratio is undefined there.
* A missing figure (point NaN) has NaN at both ends.
"""

from __future__ import annotations

import numpy as np


def _arr(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def divide(a_low, a_high, b_low, b_high) -> tuple[np.ndarray, np.ndarray]:
    """``[a] / [b]`` for positive intervals: ``[a_low / b_high, a_high / b_low]``
    (the least numerator over the greatest denominator, and the reverse). NaN at
    both ends where ``b``'s known ends are not all > 0."""
    a_low, a_high, b_low, b_high = map(_arr, (a_low, a_high, b_low, b_high))
    bad = (b_low <= 0) | (b_high <= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = a_low / b_high, a_high / b_low
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def scale(low, high, factor) -> tuple[np.ndarray, np.ndarray]:
    """``[low, high] * factor`` for a positive factor (a stake's ``100 / stake_pct``)."""
    factor = _arr(factor)
    return _arr(low) * factor, _arr(high) * factor


def increasing(fn, low, high) -> tuple[np.ndarray, np.ndarray]:
    """``[fn(low), fn(high)]`` for a function increasing in its argument (an annualised
    return of a multiple over a fixed time)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return fn(_arr(low)), fn(_arr(high))


def total(low, high) -> tuple[float, float]:
    """The interval of a sum: ``[sum of lows, sum of highs]`` (an unknown end of any
    part makes that end of the total unknown). The sum of nothing is ``[0, 0]``."""
    return float(np.sum(_arr(low))), float(np.sum(_arr(high)))


def minimum(low, high) -> tuple[float, float]:
    """The interval of the least of several figures (a cycle's bottleneck):
    ``[min of lows, min of highs]``. An unknown low end of any part makes the low end
    unknown; an unknown high end of a part leaves the others' highs bounding the
    minimum from above (it cannot exceed any known high), unknown only when every
    high is unknown."""
    low, high = _arr(low), _arr(high)
    if len(low) == 0:
        return np.nan, np.nan
    lo = float(np.min(low))
    known = high[~np.isnan(high)]
    return lo, float(np.min(known)) if len(known) else np.nan


def is_point(low, high) -> np.ndarray:
    """Where the interval is one known figure (``low == high``)."""
    return _arr(low) == _arr(high)
