"""Partial dates: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, kept at their precision.

A deal reported as "Aug 2024" is stored as ``2024-08``, not as an invented day.
Comparisons happen at the *common precision* of the two dates: ``2024-08`` and
``2024-08-05`` are equal (neither is earlier), ``2024-07-31`` is earlier than
``2024-08``.

For array code a date is encoded as an integer key ``yyyymmdd`` with zeros for
the missing parts (``2024-08`` -> ``20240800``) plus a precision
(1 = year, 2 = month, 3 = day). :func:`truncate_key` cuts a key to a precision.
"""

from __future__ import annotations

import datetime as _dt
import re

import numpy as np

YEAR, MONTH, DAY = 1, 2, 3
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_DIVISOR = {YEAR: 10000, MONTH: 100, DAY: 1}


def parse_date(text: str) -> tuple[int, int]:
    """Parse ``YYYY[-MM[-DD]]`` into ``(key, precision)``.

    Raises ``ValueError`` with a reason for anything else, including impossible
    dates such as ``2025-02-30`` or month ``13``.
    """
    m = _DATE_RE.match(text.strip())
    if not m:
        raise ValueError(f"date {text!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = m.group(1), m.group(2), m.group(3)
    y = int(year)
    if y < 1800 or y > 2200:
        raise ValueError(f"date {text!r} has an implausible year")
    if month is None:
        return y * 10000, YEAR
    mo = int(month)
    if not 1 <= mo <= 12:
        raise ValueError(f"date {text!r} has no month {mo}")
    if day is None:
        return y * 10000 + mo * 100, MONTH
    d = int(day)
    try:
        _dt.date(y, mo, d)
    except ValueError:
        raise ValueError(f"date {text!r} does not exist") from None
    return y * 10000 + mo * 100 + d, DAY


def format_key(key: int, precision: int) -> str:
    """Inverse of :func:`parse_date`."""
    y, rest = divmod(int(key), 10000)
    mo, d = divmod(rest, 100)
    if precision == YEAR:
        return f"{y:04d}"
    if precision == MONTH:
        return f"{y:04d}-{mo:02d}"
    return f"{y:04d}-{mo:02d}-{d:02d}"


def truncate_key(key, precision):
    """Cut a key (or array of keys) to ``precision`` (scalar or array)."""
    if isinstance(precision, np.ndarray):
        div = np.where(precision == YEAR, 10000, np.where(precision == MONTH, 100, 1))
        return (np.asarray(key) // div) * div
    div = _DIVISOR[int(precision)]
    return (key // div) * div


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as date ``a`` is earlier than, equal to or later than ``b``
    at their common precision."""
    ka, pa = parse_date(a)
    kb, pb = parse_date(b)
    p = min(pa, pb)
    ta, tb = truncate_key(ka, p), truncate_key(kb, p)
    return (ta > tb) - (ta < tb)


def first_day(key: int, precision: int) -> _dt.date:
    """The first calendar day a partial date can mean (``2024-08`` -> 1 Aug 2024)."""
    y, rest = divmod(int(key), 10000)
    mo, d = divmod(rest, 100)
    return _dt.date(y, mo or 1, d or 1)


def day_number(key: int, precision: int) -> int:
    """Days since 0001-01-01 of :func:`first_day` (for windows and month counts)."""
    return first_day(key, precision).toordinal()


def day_numbers(keys: np.ndarray) -> np.ndarray:
    """Vectorised :func:`day_number` for an array of keys (precision implied by zeros)."""
    keys = np.asarray(keys, dtype=np.int64)
    y = keys // 10000
    mo = np.maximum((keys // 100) % 100, 1)
    d = np.maximum(keys % 100, 1)
    s = np.char.add(np.char.add(np.char.zfill(y.astype(str), 4), "-"),
                    np.char.add(np.char.add(np.char.zfill(mo.astype(str), 2), "-"), np.char.zfill(d.astype(str), 2)))
    base = np.datetime64("0001-01-01", "D")
    return (s.astype("datetime64[D]") - base).astype(np.int64) + 1


def months_between(a: str, b: str) -> float:
    """Calendar months from ``a`` to ``b``, each partial date taken at its first day.

    Whole months count by calendar (``2025-09`` -> ``2025-12`` is 3); the days left
    over count as a fraction of 30.4375 days. Negative when ``b`` is earlier.
    """
    da = first_day(*parse_date(a))
    db = first_day(*parse_date(b))
    months = (db.year - da.year) * 12 + (db.month - da.month)
    days = db.day - da.day
    return months + days / 30.4375
