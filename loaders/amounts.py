"""Money amounts as people type them: ``20000000000``, ``$20bn``, ``750m``, ``1.2T``,
``up to $100bn``, ``more than 100bn``, ``~650m``, ``20,000,000,000``, and ranges:
``1-2bn``, ``$1bn-$2bn``, ``1 to 2bn``, ``between 1bn and 2bn``, ``1–2bn``.

An amount is stored as a number (the *point estimate*) plus a *qualifier* saying how
the stated figure relates to the true one, and an *interval* ``[low, high]`` (the
columns ``<name>_low`` / ``<name>_high`` the schema generates beside every amount):

========== ===================================================== ==================
qualifier  written                                               interval
========== ===================================================== ==================
exact      the figure as stated (the default)                    ``[X, X]``
approx     ``~``, ``approx``, ``about``, ``around``, ``roughly``, ``[X, X]``
           ``c.``
up_to      ``up to``, ``as much as``, ``max``, ``<=``            ``[unknown, X]``
at_least   ``more than``, ``over``, ``at least``, ``>=``, ``>``, ``[X, unknown]``
           ``100bn+``
range      ``1-2bn``, ``$1bn-$2bn``, ``1 to 2bn``,                ``[1bn, 2bn]``
           ``between 1bn and 2bn``, ``1–2bn`` (en or em dash)
========== ===================================================== ==================

Why these intervals: a figure is stored as written, never widened by a guess. ``~X``
names one figure, so its interval is that figure (the ``approx`` qualifier marks it, and
``check`` widens its tolerance); ``up to X`` bounds the amount from above only: its low
end is *unknown* (NaN), not 0, since nothing says how little was paid; ``at least X``
likewise has an unknown high end. An unknown end stays unknown through every figure
computed from it (:mod:`dealgraph.queries.intervals`). The point estimate of ``up to``
and ``at least`` is the stated figure (as before ranges existed); that of a **range is
its midpoint** ``(low + high) / 2``: the one figure furthest from neither end (it
halves the worst-case error), in the units the source wrote, with no model of where
in the range the truth lies. Low and high are stored exactly as typed.

Ranges: a unit (``bn``) on either or both ends; given on one end only it applies to
both (``1-2bn`` is 1bn to 2bn, ``1bn to 2`` too). A currency symbol on either or both
ends; two must agree. Refused with a reason: a reversed range (low > high), two
currencies (``$1bn-€2bn``), a range with a qualifier (``up to 1-2bn``, ``~1-2bn``: is
it the range or a bound?), ``between`` without ``and``.

Units: ``k``/``thousand``, ``m``/``mn``/``mm``/``million``, ``b``/``bn``/``billion``,
``t``/``tn``/``trillion`` (any case). A currency symbol ``$ € £ ¥`` may lead.
Ambiguous input is refused with a reason: negative amounts, European decimal commas
(``1,5bn``), several numbers that are not a range.

Everything is vectorised over a column: a million plain amounts parse in a few
hundredths of a second; only cells that are not plain numbers meet the grammar, and
only cells the one-figure grammar refuses meet the range grammar.
"""

from __future__ import annotations

import re
from decimal import Decimal

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
_QUALIFIER_PREFIX = {"exact": "", "approx": "~", "up_to": "up to ", "at_least": "at least ", "range": ""}
#: How an amount's qualifier is written in front of it (``~``, ``up to ``, ``at least ``).
QUALIFIER_PREFIX = _QUALIFIER_PREFIX
SYMBOL_CURRENCY = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_UNITS = {
    "": 1.0, "k": 1e3, "thousand": 1e3,
    "m": 1e6, "mn": 1e6, "mm": 1e6, "million": 1e6,
    "b": 1e9, "bn": 1e9, "billion": 1e9,
    "t": 1e12, "tn": 1e12, "trillion": 1e12,
}
_words = sorted(_WORD_TO_QUALIFIER, key=len, reverse=True)
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
_UNIT = r"thousand|million|billion|trillion|mn|mm|bn|tn|k|m|b|t"
_QUALIFIER_RE = r"(?P<q>" + "|".join(re.escape(w) for w in _words) + r")"
_AMOUNT_RE = (
    r"^\s*" + _QUALIFIER_RE + r"?\s*"
    r"(?P<sym>[$€£¥])?\s*"
    r"(?P<num>" + _NUMBER + r")(?:[eE](?P<exp>[+-]?\d{1,3}))?\s*"
    r"(?P<unit>" + _UNIT + r")?\s*"
    r"(?P<plus>\+)?\s*$"
)


def _range_end(i: int) -> str:
    return (rf"(?P<sym{i}>[$€£¥])?\s*(?P<num{i}>{_NUMBER})(?:[eE](?P<exp{i}>[+-]?\d{{1,3}}))?\s*"
            rf"(?P<unit{i}>{_UNIT})?")


#: A range: two figures joined by ``-``, an en or em dash, ``to`` or (after ``between``) ``and``.
_RANGE_BODY = r"(?P<lead>between|from)?\s*" + _range_end(1) + r"\s*(?P<sep>-|–|—|to|and)\s*" + _range_end(2)
_RANGE_RE = r"^\s*" + _RANGE_BODY + r"\s*$"
_QUALIFIED_RANGE_RE = re.compile(r"^\s*" + _QUALIFIER_RE + r"\s*" + _RANGE_BODY + r"\s*\+?\s*$", re.IGNORECASE)


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
        # at most 15 digits in all (16 characters with the point): a float keeps them exactly
        ok &= mask_of(pc.less_equal(pc.binary_length(pc.ascii_ltrim(sub, "~")), 16))
        if ok.any():
            value[others[ok]] = pc.cast(pc.ascii_ltrim(sub.filter(pa.array(ok)), "~"), pa.float64()).to_numpy()
            fast[others[ok]] = True
    return value, fast


def parse_amounts(values, *, bounds: bool = False):
    """Parse a column of amount texts (an Arrow array or a pandas Series).

    Returns ``(numbers, qualifiers, symbols, errors)``, each an Arrow array with a row
    per cell: ``numbers`` float64 (the point estimate: a range's midpoint), null for
    empty cells (undisclosed) and refused ones; ``qualifiers``, dictionary-encoded over
    ``schema.QUALIFIERS`` (null where there is no number); the currency a symbol
    implies (null if none); and ``errors``, row index -> the reason that cell was
    refused. Surrounding whitespace is ignored; a cell of whitespace alone is empty.
    With ``bounds=True`` two more float64 arrays follow, ``low`` and ``high``: the
    interval of each figure (:func:`interval_bounds`; null where unknown or empty).

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
        number, code, symbol, errors, ranges = _parse_cells(text)
    else:  # mostly empty (valuations, revenues): parse the filled cells, then place them
        where = np.flatnonzero(mask_of(given))
        f_number, f_code, f_symbol, f_errors, f_ranges = _parse_cells(text.filter(given))
        number = np.full(n, np.nan)
        number[where] = f_number
        code = np.full(n, -1, dtype=np.int32)
        code[where] = f_code
        symbol = None
        if f_symbol is not None:
            symbol = np.full(n, None, dtype=object)
            symbol[where] = f_symbol
        errors = {int(where[i]): why for i, why in f_errors.items()}
        ranges = {int(where[i]): lh for i, lh in f_ranges.items()}
    qualifier = pa.DictionaryArray.from_arrays(pa.array(code, mask=code < 0), _QUALIFIER_VALUES)
    symbol = pa.nulls(n, pa.string()) if symbol is None else pa.array(symbol, pa.string())
    out = numbers(number), qualifier, symbol, dict(sorted(errors.items()))
    if not bounds:
        return out
    low, high = interval_bounds(number, code)
    for i, (lo, hi) in ranges.items():
        low[i], high[i] = lo, hi
    return out + (numbers(low), numbers(high))


def interval_bounds(number: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` of figures that are not ranges, from their point and qualifier
    code (index into ``schema.QUALIFIERS``): ``exact``/``approx`` ``[X, X]``, ``up_to``
    ``[NaN, X]``, ``at_least`` ``[X, NaN]`` (NaN: unknown). A ``range`` row gets NaN at
    both ends here: its ends are what was typed, stored beside it."""
    number = np.asarray(number, dtype=float)
    code = np.asarray(code)
    low = np.where((code == _QUALIFIER_CODE["up_to"]) | (code == _QUALIFIER_CODE["range"]), np.nan, number)
    high = np.where((code == _QUALIFIER_CODE["at_least"]) | (code == _QUALIFIER_CODE["range"]), np.nan, number)
    return low, high


def _parse_cells(text: pa.Array):
    """:func:`parse_amounts` in numpy: ``(number, qualifier code, symbol, errors, ranges)``,
    NaN and code -1 where there is no number, symbol None when no cell has one, ``ranges``
    row -> ``(low, high)`` of the cells that are ranges."""
    n = len(text)
    number, fast = plain_numbers(text)
    code = np.full(n, -1, dtype=np.int32)
    code[fast] = _QUALIFIER_CODE["exact"]
    code[fast & mask_of(pc.starts_with(text, "~"))] = _QUALIFIER_CODE["approx"]
    symbol = None
    errors: dict[int, str] = {}
    ranges: dict[int, tuple[float, float]] = {}
    rest = np.flatnonzero(~fast & mask_of(pc.greater(pc.binary_length(text), 0)))
    if len(rest):
        # The full grammar (it strips whitespace; blank cells stay empty).
        cells = pd.Series(text.take(pa.array(rest)).to_pylist(), dtype="string")
        blank = (cells.str.strip() == "").to_numpy()
        rows, cells = rest[~blank], cells[~blank].reset_index(drop=True)
        if len(rows):
            r_num, r_qual, r_sym, r_err, r_low, r_high = _parse_general(cells)
            number[rows] = r_num
            got = ~np.isnan(r_num)
            code[rows[got]] = r_qual[got].map(_QUALIFIER_CODE).to_numpy(dtype=np.int32)
            if r_sym.notna().any():
                symbol = np.full(n, None, dtype=object)
                symbol[rows] = r_sym.astype(object).where(r_sym.notna(), None).to_numpy()
            for i, why in zip(rows[r_err.notna().to_numpy()], r_err.dropna()):
                errors[int(i)] = why
            for j in np.flatnonzero(got & (r_qual == "range").fillna(False).to_numpy(dtype=bool)):
                ranges[int(rows[j])] = (float(r_low[j]), float(r_high[j]))
    zero = number == 0.0
    if zero.any():
        for i in np.flatnonzero(zero):
            errors[int(i)] = "amount is zero; leave the cell empty when the amount is undisclosed"
        number[zero] = np.nan
        code[zero] = -1
    return number, code, symbol, errors, ranges


def _scaled(m: pd.DataFrame, num: str, exp: str, unit: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(figure, exponent)`` of the matched columns ``num`` / ``exp`` times ``unit`` (text)."""
    # the exponent read with the digits ("1e-05" is the float 1e-05, not 1 * 10.0 ** -5)
    written = m[num].str.replace(",", "", regex=False) + ("e" + m[exp]).fillna("")
    n = pd.to_numeric(written, errors="coerce").to_numpy(dtype=float)
    e = pd.to_numeric(m[exp], errors="coerce").fillna(0).to_numpy(dtype=float)
    u = unit.fillna("").str.lower().map(_UNITS).fillna(1.0).to_numpy(dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        return n * u, e


def _too_precise(text: pd.Series, m: pd.DataFrame, num: str, exp: np.ndarray, unit: pd.Series,
                 number: np.ndarray, ok: np.ndarray, errors: pd.Series) -> np.ndarray:
    """Rows whose figure has more significant digits than a float keeps and does not
    read back as written (their reason goes into ``errors``)."""
    digits = m[num].fillna("").str.replace(r"[,.]", "", regex=True).str.lstrip("0").str.rstrip("0").str.len()
    u = unit.fillna("").str.lower().map(_UNITS).fillna(1.0).to_numpy(dtype=float)
    bad = ok & np.isfinite(number) & (digits.to_numpy() > MAX_DIGITS)
    for i in np.flatnonzero(bad):
        written = Decimal(m[num].iat[i].replace(",", "")) * Decimal(10) ** int(exp[i]) * int(u[i])
        if written in (Decimal(repr(float(number[i]))), Decimal(float(number[i]))):
            bad[i] = False  # e.g. 100000000000.9375 or 48070757633693088, as export writes a float: exact
        else:
            t = text.iat[i].strip()
            errors.iat[i] = (f"amount {t!r} cannot be stored as written: it has more significant digits than a "
                             f"figure keeps ({MAX_DIGITS}) and would read {format_number(number[i])}; "
                             f"round it, e.g. {_rounded(t)!r}")
    return bad


def _parse_general(text: pd.Series):
    """The full grammar (qualifiers, symbols, units, separators, ranges) for non-empty
    cells: ``(number, qualifier, symbol, error, low, high)``, ``low``/``high`` NaN but
    for ranges."""
    m = text.str.extract(_AMOUNT_RE, flags=re.IGNORECASE)
    ok = m["num"].notna().to_numpy().copy()
    number, exp = _scaled(m, "num", "exp", m["unit"])
    number = np.where(ok, number, np.nan)
    qual = m["q"].str.lower().map(_WORD_TO_QUALIFIER)
    qual = qual.where(qual.notna(), np.where(m["plus"].notna(), "at_least", "exact"))
    qual = qual.astype("string")
    sym = m["sym"].map(SYMBOL_CURRENCY).astype("string")
    errors = pd.Series(pd.NA, index=text.index, dtype="string")
    low, high = np.full(len(text), np.nan), np.full(len(text), np.nan)
    if not ok.all():
        bad = np.flatnonzero(~ok)
        r_ok, r_low, r_high, r_sym, r_err = _parse_ranges(text.iloc[bad].reset_index(drop=True))
        got = bad[r_ok]
        low[got], high[got] = r_low[r_ok], r_high[r_ok]
        number[got] = (low[got] + high[got]) / 2  # the point estimate of a range: its midpoint
        ok[got] = True
        qual.iloc[got] = "range"
        sym.iloc[got] = r_sym.iloc[np.flatnonzero(r_ok)].to_numpy()
        errors.iloc[bad] = r_err.to_numpy()
    too_big = ok & ~np.isfinite(number)
    errors[too_big] = "amount is too large"
    too_precise = _too_precise(text, m, "num", exp, m["unit"], number, ok & ~too_big, errors)
    refused = too_big | too_precise | errors.notna().to_numpy()
    number = np.where(refused, np.nan, number)
    low[refused], high[refused] = np.nan, np.nan
    ok &= ~refused
    return number, qual.where(ok, pd.NA), sym.where(ok, pd.NA), errors, low, high


def _parse_ranges(text: pd.Series):
    """Cells the one-figure grammar refused, read as ranges: ``(ok, low, high, symbol,
    error)``; ``error`` says why a cell is refused (a reversed range, two currencies, a
    qualifier before a range, or :func:`_explain` when it is no range at all)."""
    m = text.str.extract(_RANGE_RE, flags=re.IGNORECASE)
    ok = m["num1"].notna().to_numpy().copy()
    unit1, unit2 = m["unit1"], m["unit2"]
    # a unit on one end only applies to both (1-2bn, 1bn to 2)
    unit1, unit2 = unit1.where(unit1.notna(), unit2), unit2.where(unit2.notna(), unit1)
    lo, e1 = _scaled(m, "num1", "exp1", unit1)
    hi, e2 = _scaled(m, "num2", "exp2", unit2)
    s1, s2 = m["sym1"].map(SYMBOL_CURRENCY), m["sym2"].map(SYMBOL_CURRENCY)
    sym = s1.where(s1.notna(), s2).astype("string")
    errors = pd.Series(pd.NA, index=text.index, dtype="string")
    lead, sep = m["lead"].fillna("").str.lower(), m["sep"].fillna("").str.lower()
    for i in np.flatnonzero(~ok):
        errors.iat[i] = _explain(text.iat[i])
    for i in np.flatnonzero(ok):
        t = text.iat[i].strip()
        if (lead.iat[i] == "between") != (sep.iat[i] == "and") or (lead.iat[i] == "from" and sep.iat[i] != "to"):
            errors.iat[i] = (f"amount {t!r} is not a range as written: say 'between X and Y', "
                             f"'from X to Y', 'X to Y' or 'X-Y'")
        elif pd.notna(s1.iat[i]) and pd.notna(s2.iat[i]) and s1.iat[i] != s2.iat[i]:
            errors.iat[i] = (f"amount {t!r} is a range in two currencies ({s1.iat[i]} and {s2.iat[i]}); "
                             f"give both ends in one currency")
        elif not (np.isfinite(lo[i]) and np.isfinite(hi[i])):
            errors.iat[i] = "amount is too large"
        elif lo[i] == 0 or hi[i] == 0:
            errors.iat[i] = (f"amount {t!r} is a range with an end of zero; amounts are money paid, always "
                             f"positive (for 'at most X' write 'up to X')")
        elif lo[i] > hi[i]:
            hint = (" (a unit on one end applies to both: give each end its unit, e.g. 500m-2bn)"
                    if m["unit1"].isna().iat[i] != m["unit2"].isna().iat[i] else "")
            errors.iat[i] = (f"amount {t!r} is a reversed range: its low end ({format_number(lo[i])}) is above its "
                             f"high end ({format_number(hi[i])}); write it low to high{hint}")
    ok &= errors.isna().to_numpy()
    ok &= ~_too_precise(text, m, "num1", e1, unit1, lo, ok, errors)
    ok &= ~_too_precise(text, m, "num2", e2, unit2, hi, ok, errors)
    return ok, lo, hi, sym, errors


#: Significant digits any amount may have: a 64-bit float tells apart every 15-digit
#: decimal. A longer figure is taken only when it reads back as written.
MAX_DIGITS = 15


def _rounded(text: str) -> str:
    """``text``'s number to :data:`MAX_DIGITS` significant digits, for a message."""
    t = text.strip()
    m = re.search(r"\d[\d,]*(?:\.\d+)?|\.\d+", t)
    return t[:m.start()] + f"{float(m.group().replace(',', '')):.{MAX_DIGITS}g}" + t[m.end():] if m else t


def _explain(text: str) -> str:
    """The reason an amount text was refused (called only for bad cells)."""
    t = text.strip()
    if t.startswith("-") or t.startswith("(") or t.lower().startswith("minus"):
        return f"amount {t!r} is negative; amounts are money paid, always positive"
    if _QUALIFIED_RANGE_RE.match(t) or re.search(r"\d\s*(?:-|–|—|to)\s*[$€£¥]?\d.*\+\s*$", t):
        return (f"amount {t!r} puts a qualifier on a range, which is ambiguous (the range, or a bound?); "
                f"write the range alone (e.g. '1bn-2bn') or one bound (e.g. 'up to 2bn')")
    if re.fullmatch(r"[^\d]*\d+,\d{1,2}\s*[a-zA-Z]*", t) or re.search(r"\d\.\d{3}\.\d{3}", t):
        return f"amount {t!r} uses a decimal comma or dots as thousands separators, which is ambiguous; write e.g. 1.5bn or 1,500,000"
    if len(re.findall(r"\d+(?:[.,]\d+)*", t)) > 1:
        return f"amount {t!r} holds several numbers; give one figure or a range (e.g. '1bn-2bn')"
    return f"cannot read {t!r} as an amount (examples: 20000000000, $20bn, 750m, up to 100bn, ~650m, 1-2bn)"


def format_amount(value: float, qualifier: str | None, low: float | None = None,
                  high: float | None = None) -> str:
    """Canonical text of an amount: the number written out in full, behind its
    qualifier (``~650000000``, ``up to 100000000000``); a range as its two ends
    (``1000000000-2000000000``, from ``low`` and ``high``); empty when undisclosed.
    :func:`parse_amounts` reads it back to exactly the same floats."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if qualifier == "range":
        return format_number(low) + "-" + format_number(high)
    return _QUALIFIER_PREFIX.get(qualifier or "exact", "") + format_number(value)


def format_number(value: float) -> str:
    """Shortest text that reads back as the same float, without a trailing ``.0``."""
    v = float(value)
    if v.is_integer() and abs(v) < 1e17:
        return str(int(v))
    return repr(v)
