"""parse_amounts: the vectorised fast path must read every cell as the full grammar does.

The reference parses one cell at a time with the grammar alone (``_parse_general``),
so any cell the fast path takes (digits, ``~``, decimals) is checked against it.
"""

import math

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dealgraph.graph.schema import QUALIFIERS
from dealgraph.loaders.amounts import _parse_general, parse_amounts

digits = st.text("0123456789", min_size=1, max_size=20)
cell = st.one_of(
    digits,
    digits.map(lambda d: "~" + d),
    st.tuples(digits, digits).map(lambda p: f"{p[0]}.{p[1]}"),
    st.tuples(st.sampled_from(["", "~", "up to ", "$", "over ", "-", "€"]), digits,
              st.sampled_from(["", "bn", "m", "k", "+", " million", "e3", ",000"])).map("".join),
    st.tuples(st.sampled_from(["", " ", "\t", "  "]), digits, st.sampled_from(["", " ", "\t"])).map("".join),
    st.sampled_from(["", " ", "0", "00", "0.0", "~0", ".5", "5.", "1,5bn", "lots", "1-2bn", "~~5", "٣"]),
)


def reference(text: str):
    """(number, qualifier, symbol, refused) of one cell by the full grammar."""
    t = text.strip()
    if t == "":
        return None, None, None, False
    num, qual, sym, err, _, _ = _parse_general(pd.Series([t], dtype="string"))
    if pd.notna(err.iloc[0]):
        return None, None, None, True
    if num[0] == 0:
        return None, None, None, True
    return float(num[0]), qual.iloc[0], (None if pd.isna(sym.iloc[0]) else sym.iloc[0]), False


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(cell, min_size=1, max_size=40))
def test_fast_path_reads_cells_as_the_grammar_does(cells):
    number, qualifier, symbol, errors = parse_amounts(pa.array(cells, pa.string()))
    assert qualifier.dictionary.to_pylist() == list(QUALIFIERS)
    for i, text in enumerate(cells):
        want_num, want_qual, want_sym, refused = reference(text)
        assert (i in errors) == refused, (text, errors.get(i))
        got = number[i].as_py()
        if refused:
            assert got is None, text
            continue
        assert (got is None) == (want_num is None), text
        if got is not None:
            assert got == want_num or (math.isnan(got) and math.isnan(want_num)), (text, got, want_num)
            assert qualifier[i].as_py() == want_qual, text
        else:
            assert not qualifier[i].is_valid, text
        assert symbol[i].as_py() == want_sym, text


def test_examples():
    number, qualifier, symbol, errors = parse_amounts(
        pa.array(["20000000000", "~650000000", "$20bn", "up to 100bn", " 7 ", "", "0"]))
    assert number.to_pylist() == [2e10, 6.5e8, 2e10, 1e11, 7.0, None, None]
    assert qualifier.to_pylist() == ["exact", "approx", "exact", "up_to", "exact", None, None]
    assert symbol.to_pylist() == [None, None, "USD", None, None, None, None]
    assert list(errors) == [6]
