"""Money amounts as people type them: ``20000000000``, ``$20bn``, ``750m``, ``1.2T``,
``up to $100bn``, ``more than 100bn``, ``~650m``, ``20,000,000,000``.

An amount is stored as a number plus a *qualifier* saying how the stated figure
relates to the true one:

========== =====================================================
exact      the figure as stated (the default)
approx     ``~``, ``approx``, ``about``, ``around``, ``roughly``, ``c.``
up_to      ``up to``, ``as much as``, ``max``, ``<=``
at_least   ``more than``, ``over``, ``at least``, ``>=``, ``>``, ``100bn+``
========== =====================================================

Units: ``k``/``thousand``, ``m``/``mn``/``mm``/``million``, ``b``/``bn``/``billion``,
``t``/``tn``/``trillion`` (any case). A currency symbol ``$ € £ ¥`` may lead.
Ambiguous input is refused with a reason: ranges (``1-2bn``), negative amounts,
European decimal commas (``1,5bn``), several numbers.

Everything is vectorised over a column: a million plain amounts parse in a tenth
of a second.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


_QUALIFIER_WORDS = {
    "approx": ["~", "≈", "approx.", "approx", "approximately", "about", "around", "roughly", "circa", "ca.", "c."],
    "up_to": ["up to", "upto", "as much as", "max.", "max", "<="],
    "at_least": ["at least", "more than", "over", "above", ">=", ">"],
}
_WORD_TO_QUALIFIER = {w: q for q, ws in _QUALIFIER_WORDS.items() for w in ws}
_FAST = r"^~?\d{1,15}(\.\d{1,15})?$"
_QUALIFIER_PREFIX = {"exact": "", "approx": "~", "up_to": "up to ", "at_least": "at least "}
SYMBOL_CURRENCY = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_UNITS = {
    "": 1.0, "k": 1e3, "thousand": 1e3,
    "m": 1e6, "mn": 1e6, "mm": 1e6, "million": 1e6,
    "b": 1e9, "bn": 1e9, "billion": 1e9,
    "t": 1e12, "tn": 1e12, "trillion": 1e12,
}
_words = sorted(_WORD_TO_QUALIFIER, key=len, reverse=True)
_AMOUNT_RE = (
    r"^\s*(?P<q>" + "|".join(re.escape(w) for w in _words) + r")?\s*"
    r"(?P<sym>[$€£¥])?\s*"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?:[eE](?P<exp>[+-]?\d{1,3}))?\s*"
    r"(?P<unit>thousand|million|billion|trillion|mn|mm|bn|tn|k|m|b|t)?\s*"
    r"(?P<plus>\+)?\s*$"
)


def plain_numbers(text, *, approx: bool = True) -> tuple[pa.Array, pa.Array]:
    """``(value, fast)`` for a column of trimmed text: the number of every cell that is
    a plain decimal number (maybe behind ``~`` when ``approx``), null elsewhere, and
    where that held."""
    fast = pc.match_substring_regex(text, _FAST if approx else _FAST.replace("~?", ""))
    value = pc.cast(pc.ascii_ltrim(pc.if_else(fast, text, pa.scalar(None, pa.string())), "~"), pa.float64())
    return value, fast


def parse_amounts(values) -> tuple[pa.Array, pa.Array, pa.Array, dict[int, str]]:
    """Parse a column of amount texts (an Arrow array or a pandas Series).

    Returns ``(numbers, qualifiers, symbols, errors)``, each an Arrow array with a row
    per cell: ``numbers`` float64, null for empty cells (undisclosed) and refused ones;
    ``qualifiers`` (null for empty cells); the currency a leading symbol implies (null
    if none); and ``errors``, row index -> the reason that cell was refused.

    Plain numbers, maybe behind ``~`` (most cells of machine-written files), take a
    fast path of pyarrow kernels; only the other cells go through the full grammar.
    A mostly empty column is parsed on its filled cells only.
    """
    if isinstance(values, pd.Series):
        values = pa.array(values.astype("string").fillna(""), type=pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.null_count:
        values = pc.fill_null(values, "")
    # ASCII whitespace is trimmed here; other whitespace leaves a cell to the full grammar, which strips it.
    text = pc.ascii_trim_whitespace(values)
    n = len(text)
    given = pc.not_equal(text, "")
    filled = pc.sum(given).as_py() or 0
    if filled == 0:
        return pa.nulls(n, pa.float64()), pa.nulls(n, pa.string()), pa.nulls(n, pa.string()), {}
    if 2 * filled >= n:
        return _parse_cells(text, None if filled == n else given)
    # Mostly-empty columns (valuations, revenues) cost only their filled cells.
    where = np.flatnonzero(given.to_numpy(zero_copy_only=False))
    number, qualifier, symbol, errors = _parse_cells(text.take(pa.array(where)), None)
    return (pc.replace_with_mask(pa.nulls(n, pa.float64()), given, number),
            pc.replace_with_mask(pa.nulls(n, pa.string()), given, qualifier),
            pc.replace_with_mask(pa.nulls(n, pa.string()), given, symbol),
            {int(where[i]): why for i, why in errors.items()})


def _parse_cells(text: pa.Array, given) -> tuple[pa.Array, pa.Array, pa.Array, dict[int, str]]:
    """:func:`parse_amounts` of trimmed cells; ``given`` is where they are not empty
    (None: all of them)."""
    n = len(text)
    number, fast = plain_numbers(text)
    qualifier = pc.if_else(fast, pc.if_else(pc.starts_with(text, "~"), "approx", "exact"),
                           pa.scalar(None, pa.string()))
    symbol = pa.nulls(n, pa.string())
    errors: dict[int, str] = {}
    slow = pc.invert(fast) if given is None else pc.and_(pc.invert(fast), given)
    rest = np.flatnonzero(slow.to_numpy(zero_copy_only=False))
    if len(rest):
        general = pd.Series(text.take(pa.array(rest)).to_pylist(), dtype="string")
        r_num, r_qual, r_sym, r_err = _parse_general(general)
        number = pc.replace_with_mask(number, slow, pa.array(r_num, pa.float64(), from_pandas=True))
        qualifier = pc.replace_with_mask(qualifier, slow, pa.array(r_qual.astype(object).where(r_qual.notna(), None),
                                                                   pa.string()))
        symbol = pc.replace_with_mask(symbol, slow, pa.array(r_sym.astype(object).where(r_sym.notna(), None),
                                                             pa.string()))
        for i, why in zip(rest[r_err.notna().to_numpy()], r_err.dropna()):
            errors[int(i)] = why
    zero = pc.equal(number, 0.0)
    if pc.any(zero).as_py():
        for i in np.flatnonzero(zero.to_numpy(zero_copy_only=False)):
            errors[int(i)] = "amount is zero; leave the cell empty when the amount is undisclosed"
        number = pc.if_else(pc.fill_null(zero, False), pa.scalar(None, pa.float64()), number)
    return number, qualifier, symbol, dict(sorted(errors.items()))


def _parse_general(text: pd.Series) -> tuple[np.ndarray, pd.Series, pd.Series, pd.Series]:
    """The full grammar (qualifiers, symbols, units, separators) for non-empty cells."""
    m = text.str.extract(_AMOUNT_RE, flags=re.IGNORECASE)
    ok = m["num"].notna()
    num = pd.to_numeric(m["num"].str.replace(",", "", regex=False), errors="coerce").to_numpy(dtype=float)
    exp = pd.to_numeric(m["exp"], errors="coerce").fillna(0).to_numpy(dtype=float)
    unit = m["unit"].fillna("").str.lower().map(_UNITS).fillna(1.0).to_numpy(dtype=float)
    with np.errstate(over="ignore"):
        number = num * (10.0 ** exp) * unit
    number = np.where(ok.to_numpy(), number, np.nan)
    qual = m["q"].str.lower().map(_WORD_TO_QUALIFIER)
    qual = qual.where(qual.notna(), np.where(m["plus"].notna(), "at_least", "exact"))
    qual = qual.astype("string").where(ok, pd.NA)
    sym = m["sym"].map(SYMBOL_CURRENCY).astype("string").where(ok, pd.NA)
    errors = pd.Series(pd.NA, index=text.index, dtype="string")
    bad = ~ok
    if bad.any():
        errors[bad] = text[bad].map(_explain)
    too_big = ok.to_numpy() & ~np.isfinite(number)
    errors[too_big] = "amount is too large"
    number = np.where(too_big, np.nan, number)
    return number, qual, sym, errors


def _explain(text: str) -> str:
    """The reason an amount text was refused (called only for bad cells)."""
    t = text.strip()
    if t.startswith("-") or t.startswith("(") or t.lower().startswith("minus"):
        return f"amount {t!r} is negative; amounts are money paid, always positive"
    if re.search(r"\d\s*(?:-|–|—|to)\s*[$€£¥]?\d", t):
        return f"amount {t!r} is a range, which is ambiguous; give one figure with a qualifier (e.g. 'up to 2bn' or '~1.5bn')"
    if re.fullmatch(r"[^\d]*\d+,\d{1,2}\s*[a-zA-Z]*", t) or re.search(r"\d\.\d{3}\.\d{3}", t):
        return f"amount {t!r} uses a decimal comma or dots as thousands separators, which is ambiguous; write e.g. 1.5bn or 1,500,000"
    if len(re.findall(r"\d+(?:[.,]\d+)*", t)) > 1:
        return f"amount {t!r} holds several numbers; give one figure"
    return f"cannot read {t!r} as an amount (examples: 20000000000, $20bn, 750m, up to 100bn, ~650m)"


def format_amount(value: float, qualifier: str | None) -> str:
    """Canonical text of an amount: the number written out in full, behind its
    qualifier (``~650000000``, ``up to 100000000000``); empty when undisclosed.
    :func:`parse_amounts` reads it back to exactly the same float."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return _QUALIFIER_PREFIX.get(qualifier or "exact", "") + format_number(value)


def format_number(value: float) -> str:
    """Shortest text that reads back as the same float, without a trailing ``.0``."""
    v = float(value)
    if v.is_integer() and abs(v) < 1e17:
        return str(int(v))
    return repr(v)
