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

Everything is vectorised over a column: a million plain amounts parse in a few
hundredths of a second.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dealgraph.graph.schema import QUALIFIERS
from dealgraph.loaders.arrow import flat, mask_of, numbers


_QUALIFIER_WORDS = {
    "approx": ["~", "≈", "approx.", "approx", "approximately", "about", "around", "roughly", "circa", "ca.", "c."],
    "up_to": ["up to", "upto", "as much as", "max.", "max", "<="],
    "at_least": ["at least", "more than", "over", "above", ">=", ">"],
}
_WORD_TO_QUALIFIER = {w: q for q, ws in _QUALIFIER_WORDS.items() for w in ws}
_FAST = r"^~?\d{1,15}(\.\d{1,15})?$"
_QUALIFIER_PREFIX = {"exact": "", "approx": "~", "up_to": "up to ", "at_least": "at least "}
QUALIFIER_PREFIX = _QUALIFIER_PREFIX  #: how each qualifier is written before an amount (also in tables)
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


_QUALIFIER_CODE = {q: i for i, q in enumerate(QUALIFIERS)}
_QUALIFIER_VALUES = pa.array(QUALIFIERS, pa.string())


def plain_numbers(text, *, approx: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(value, fast)`` for a column of text: the number of every cell that is a plain
    decimal number -- at most 15 digits before and after the point, no sign, no
    spaces, maybe behind ``~`` when ``approx`` -- NaN elsewhere, and where that held.

    Cells of digits alone (most cells of machine-written files) are recognised by a
    character-class kernel; only the others are matched against the pattern. A
    mostly empty column (stakes) costs only its filled cells."""
    text = flat(text)
    length = pc.binary_length(text)
    given = mask_of(pc.greater(length, 0))
    if 2 * np.count_nonzero(given) < len(text):
        value, fast = np.full(len(text), np.nan), np.zeros(len(text), dtype=bool)
        value[given], fast[given] = plain_numbers(text.filter(pa.array(given)), approx=approx)
        return value, fast
    digits = pc.and_(pc.ascii_is_decimal(text), pc.less_equal(length, 15))
    fast = mask_of(digits)
    value = pc.cast(pc.if_else(digits, text, pa.scalar(None, pa.string())), pa.float64())
    value = value.to_numpy(zero_copy_only=False, writable=True)
    others = np.flatnonzero(~fast & given)
    if len(others):  # decimals, "~", and what is not a plain number at all
        sub = text.take(pa.array(others))
        ok = mask_of(pc.match_substring_regex(sub, _FAST if approx else _FAST.replace("~?", "")))
        if ok.any():
            value[others[ok]] = pc.cast(pc.ascii_ltrim(sub.filter(pa.array(ok)), "~"), pa.float64()).to_numpy()
            fast[others[ok]] = True
    return value, fast


def parse_amounts(values) -> tuple[pa.Array, pa.DictionaryArray, pa.Array, dict[int, str]]:
    """Parse a column of amount texts (an Arrow array or a pandas Series).

    Returns ``(numbers, qualifiers, symbols, errors)``, each an Arrow array with a row
    per cell: ``numbers`` float64, null for empty cells (undisclosed) and refused ones;
    ``qualifiers``, dictionary-encoded over ``schema.QUALIFIERS`` (null where there is no
    number); the currency a leading symbol implies (null if none); and ``errors``,
    row index -> the reason that cell was refused. Surrounding whitespace is ignored;
    a cell of whitespace alone is empty.

    Plain numbers (see :func:`plain_numbers`) take a fast path of pyarrow kernels; only
    the other cells go through the full grammar, which reads them the same way.
    """
    if isinstance(values, pd.Series):
        values = pa.array(values.astype("string").fillna(""), type=pa.string())
    text = flat(values)
    if text.null_count:
        text = pc.fill_null(text, "")
    n = len(text)
    given = pc.greater(pc.binary_length(text), 0)
    filled = pc.sum(given).as_py() or 0
    if 2 * filled >= n:
        number, code, symbol, errors = _parse_cells(text)
    else:  # mostly empty (valuations, revenues): parse the filled cells, then place them
        where = np.flatnonzero(mask_of(given))
        f_number, f_code, f_symbol, f_errors = _parse_cells(text.filter(given))
        number = np.full(n, np.nan)
        number[where] = f_number
        code = np.full(n, -1, dtype=np.int32)
        code[where] = f_code
        symbol = None
        if f_symbol is not None:
            symbol = np.full(n, None, dtype=object)
            symbol[where] = f_symbol
        errors = {int(where[i]): why for i, why in f_errors.items()}
    qualifier = pa.DictionaryArray.from_arrays(pa.array(code, mask=code < 0), _QUALIFIER_VALUES)
    symbol = pa.nulls(n, pa.string()) if symbol is None else pa.array(symbol, pa.string())
    return numbers(number), qualifier, symbol, dict(sorted(errors.items()))


def _parse_cells(text: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[int, str]]:
    """:func:`parse_amounts` in numpy: ``(number, qualifier code, symbol, errors)``, NaN
    and code -1 where there is no number, symbol None when no cell has one."""
    n = len(text)
    number, fast = plain_numbers(text)
    code = np.full(n, -1, dtype=np.int32)
    code[fast] = _QUALIFIER_CODE["exact"]
    code[fast & mask_of(pc.starts_with(text, "~"))] = _QUALIFIER_CODE["approx"]
    symbol = None
    errors: dict[int, str] = {}
    rest = np.flatnonzero(~fast & mask_of(pc.greater(pc.binary_length(text), 0)))
    if len(rest):
        # The full grammar (it strips whitespace; blank cells stay empty).
        cells = pd.Series(text.take(pa.array(rest)).to_pylist(), dtype="string")
        blank = (cells.str.strip() == "").to_numpy()
        rows, cells = rest[~blank], cells[~blank].reset_index(drop=True)
        if len(rows):
            r_num, r_qual, r_sym, r_err = _parse_general(cells)
            number[rows] = r_num
            got = ~np.isnan(r_num)
            code[rows[got]] = r_qual[got].map(_QUALIFIER_CODE).to_numpy(dtype=np.int32)
            if r_sym.notna().any():
                symbol = np.full(n, None, dtype=object)
                symbol[rows] = r_sym.astype(object).where(r_sym.notna(), None).to_numpy()
            for i, why in zip(rows[r_err.notna().to_numpy()], r_err.dropna()):
                errors[int(i)] = why
    zero = number == 0.0
    if zero.any():
        for i in np.flatnonzero(zero):
            errors[int(i)] = "amount is zero; leave the cell empty when the amount is undisclosed"
        number[zero] = np.nan
        code[zero] = -1
    return number, code, symbol, errors


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
