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

Everything is vectorised over a pandas Series: a million amounts parse in well
under a second.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_QUALIFIER_WORDS = {
    "approx": ["~", "≈", "approx.", "approx", "approximately", "about", "around", "roughly", "circa", "ca.", "c."],
    "up_to": ["up to", "upto", "as much as", "max.", "max", "<="],
    "at_least": ["at least", "more than", "over", "above", ">=", ">"],
}
_WORD_TO_QUALIFIER = {w: q for q, ws in _QUALIFIER_WORDS.items() for w in ws}
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


def parse_amounts(values: pd.Series) -> tuple[np.ndarray, pd.Series, pd.Series, pd.Series]:
    """Parse a Series of amount texts.

    Returns ``(numbers, qualifiers, symbols, errors)``: ``numbers`` float64 with NaN for
    empty cells (undisclosed), ``qualifiers`` (``<NA>`` for empty cells), the
    currency a leading symbol implies (``<NA>`` if none), and ``errors``, a reason
    string where a cell could not be parsed, else ``<NA>``.

    Plain numbers (most cells of machine-written files) take a fast path in
    pyarrow; only the other cells go through the full grammar.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(values)
    arr = pc.utf8_trim_whitespace(pa.array(values.astype("string").fillna(""), type=pa.string()))
    plain = pc.match_substring_regex(arr, r"^\d{1,15}(\.\d{1,15})?$").to_numpy(zero_copy_only=False)
    empty = pc.equal(arr, "").to_numpy(zero_copy_only=False)
    number = np.full(n, np.nan)
    if plain.any():
        number[plain] = pc.cast(pc.filter(arr, pa.array(plain)), pa.float64()).to_numpy()
    qual = pd.Series(np.where(plain, "exact", None), index=values.index, dtype="string")
    sym = pd.Series(pd.NA, index=values.index, dtype="string")
    errors = pd.Series(pd.NA, index=values.index, dtype="string")
    rest = ~plain & ~empty
    if rest.any():
        idx = np.flatnonzero(rest)
        text = pd.Series(pc.filter(arr, pa.array(rest)).to_pylist(), dtype="string")
        r_num, r_qual, r_sym, r_err = _parse_general(text)
        number[idx] = r_num
        qual.iloc[idx] = r_qual.to_numpy()
        sym.iloc[idx] = r_sym.to_numpy()
        errors.iloc[idx] = r_err.to_numpy()
    zero = (number == 0)
    errors[zero] = "amount is zero; leave the cell empty when the amount is undisclosed"
    number[zero] = np.nan
    return number, qual, sym, errors


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
