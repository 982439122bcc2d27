"""Amount ranges: parsing (and its round trip), interval arithmetic against brute force, and
the CLI end to end (add a ranges CSV, query it in every format, check "4-8x", export)."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import run_cli, write
from hypothesis import given, settings
from hypothesis import strategies as st

from dealgraph.loaders.amounts import format_amount, format_number, parse_amounts
from dealgraph.queries import intervals
from dealgraph.queries.common import money_interval


def parse(*cells):
    number, qualifier, symbol, errors, low, high = parse_amounts(pa.array(list(cells), pa.string()), bounds=True)
    return number.to_pylist(), qualifier.to_pylist(), symbol.to_pylist(), errors, low.to_pylist(), high.to_pylist()


# ----------------------------------------------------------------------------- parsing

@pytest.mark.parametrize("text", ["1-2bn", "$1bn-$2bn", "1 to 2bn", "between 1bn and 2bn", "1–2bn", "1—2bn",
                                  "$1-2bn", "1bn-2bn", "1bn to 2", "from 1 to 2 billion", "1,000,000,000-2e9",
                                  " 1 - 2 BN "])
def test_every_way_of_writing_a_range_reads_as_one_to_two_billion(text):
    number, qualifier, _sym, errors, low, high = parse(text)
    assert not errors, errors
    assert (low, high, number, qualifier) == ([1e9], [2e9], [1.5e9], ["range"])


def test_units_may_differ_and_the_symbol_names_the_currency():
    number, qualifier, sym, errors, low, high = parse("500m-2bn", "€1bn-€2bn", "1-$2bn")
    assert not errors
    assert low == [5e8, 1e9, 1e9] and high == [2e9, 2e9, 2e9]
    assert sym == [None, "EUR", "USD"]


def test_points_have_their_qualifiers_interval():
    number, qualifier, _sym, errors, low, high = parse("5bn", "~5bn", "up to 5bn", "at least 5bn", "")
    assert not errors
    assert qualifier == ["exact", "approx", "up_to", "at_least", None]
    assert low == [5e9, 5e9, None, 5e9, None]
    assert high == [5e9, 5e9, 5e9, None, None]


@pytest.mark.parametrize("text, reason", [
    ("2bn-1bn", "is a reversed range: its low end (2000000000) is above its high end (1000000000)"),
    ("500-2bn", "a unit on one end applies to both"),
    ("$1bn-€2bn", "is a range in two currencies (USD and EUR)"),
    ("up to 1-2bn", "puts a qualifier on a range"),
    ("~1-2bn", "puts a qualifier on a range"),
    ("1-2bn+", "puts a qualifier on a range"),
    ("between 1bn to 2bn", "is not a range as written"),
    ("0-2bn", "a range with an end of zero"),
    ("1-2-3bn", "holds several numbers"),
    ("1-1234567890123456789", "more significant digits"),
])
def test_ambiguous_ranges_are_refused_with_a_reason(text, reason):
    number, _q, _s, errors, low, high = parse(text)
    assert number == [None] and low == [None] and high == [None]
    assert reason in errors[0], errors[0]


figure = st.one_of(st.integers(1, 10 ** 15).map(float),
                   st.floats(min_value=1e-6, max_value=1e20, allow_nan=False, allow_infinity=False))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(figure, figure), min_size=1, max_size=20))
def test_a_formatted_interval_parses_back_exactly(pairs):
    """export writes a range as format_amount does; add reads it back to the same floats."""
    pairs = [(min(a, b), max(a, b)) for a, b in pairs]
    cells = [format_amount((lo + hi) / 2, "range", lo, hi) for lo, hi in pairs]
    number, qualifier, _sym, errors, low, high = parse(*cells)
    assert not errors, (cells, errors)
    assert low == [lo for lo, _ in pairs] and high == [hi for _, hi in pairs]
    assert qualifier == ["range"] * len(pairs)
    assert number == [(lo + hi) / 2 for lo, hi in pairs]


@settings(max_examples=200, deadline=None)
@given(st.tuples(st.integers(1, 999), st.integers(1, 999)), st.sampled_from(["", "m", "bn", " billion"]),
       st.sampled_from(["{a}-{b}{u}", "{a}{u}-{b}{u}", "${a}{u}-${b}{u}", "{a} to {b}{u}",
                        "between {a}{u} and {b}{u}", "{a}–{b}{u}"]))
def test_written_ranges_read_as_their_ends(ends, unit, form):
    a, b = sorted(ends)
    number, qualifier, _sym, errors, low, high = parse(form.format(a=a, b=b, u=unit))
    scale = {"": 1, "m": 1e6, "bn": 1e9, " billion": 1e9}[unit]
    assert not errors and low == [a * scale] and high == [b * scale] and qualifier == ["range"]


# ----------------------------------------------------------------------------- interval arithmetic

positive = st.floats(min_value=1e-3, max_value=1e12, allow_nan=False)
interval = st.tuples(positive, positive).map(sorted)


def corners(fn, *ivs):
    values = [fn(*c) for c in itertools.product(*ivs)]
    return min(values), max(values)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(interval, interval), min_size=1, max_size=10))
def test_divide_is_the_min_and_max_over_the_corners(pairs):
    a_lo, a_hi = np.array([a for a, _ in pairs]).T
    b_lo, b_hi = np.array([b for _, b in pairs]).T
    lo, hi = intervals.divide(a_lo, a_hi, b_lo, b_hi)
    for k, (a, b) in enumerate(pairs):
        want = corners(lambda x, y: x / y, a, b)
        assert lo[k] == want[0] and hi[k] == want[1]


@settings(max_examples=200, deadline=None)
@given(st.lists(interval, min_size=1, max_size=8))
def test_minimum_and_total_are_the_min_and_max_over_the_corners(ivs):
    lo, hi = np.array(ivs).T
    assert intervals.minimum(lo, hi) == corners(lambda *x: min(x), *ivs)
    got = intervals.total(lo, hi)
    want = corners(lambda *x: math.fsum(x), *ivs) if len(ivs) <= 6 else (math.fsum(lo), math.fsum(hi))
    assert got == pytest.approx(want, rel=1e-12)


def test_unknown_ends_stay_unknown_and_only_where_they_are_used():
    nan = float("nan")
    lo, hi = intervals.divide([nan, 4.0, 4.0], [10.0, nan, 8.0], [2.0, 2.0, 1.0], [2.0, 2.0, nan])
    assert math.isnan(lo[0]) and hi[0] == 5.0          # up to 10 / 2 -> up to 5
    assert lo[1] == 2.0 and math.isnan(hi[1])          # at least 4 / 2 -> at least 2
    assert math.isnan(lo[2]) and hi[2] == 8.0          # 4-8 / at least 1 -> up to 8
    assert intervals.minimum([nan, 3.0], [5.0, 4.0])[0] != intervals.minimum([nan, 3.0], [5.0, 4.0])[0]
    assert intervals.minimum([2.0, 3.0], [nan, 4.0]) == (2.0, 4.0)  # an unbounded hop does not lift the min
    t = intervals.total([1.0, nan], [2.0, 3.0])
    assert math.isnan(t[0]) and t[1] == 5.0


def test_a_denominator_at_or_below_zero_gives_no_interval():
    lo, hi = intervals.divide([1.0, 1.0], [2.0, 2.0], [0.0, -1.0], [1.0, 1.0])
    assert np.isnan(lo).all() and np.isnan(hi).all()


def test_money_of_an_interval():
    nan = float("nan")
    assert money_interval(1e9, 2e9) == "$1.0–2.0bn"
    assert money_interval(5e8, 2e9) == "$500m–$2.0bn"
    assert money_interval(nan, 1e11, 1e11, "up_to") == "up to $100.0bn"
    assert money_interval(6.5e8, 6.5e8, 6.5e8, "approx") == "~$650m"


# ----------------------------------------------------------------------------- end to end

HEADER = "deal_id,date,type,payer,payee,amount,currency,status,stake_pct,post_money_valuation,target_revenue," \
         "acquirer_market_cap,source,notes\n"
RANGES = HEADER + (
    "r1,2025-01-01,acquisition,Alpha,Beta,8bn,USD,completed,,,1-2bn,$100bn-$200bn,test,\n"
    "r2,2025-02-01,investment,Beta,Gamma,$1bn-$3bn,USD,completed,,,,,test,\n"
    "r3,2025-03-01,compute_contract,Gamma,Alpha,between 2bn and 4bn,USD,completed,,,,,test,\n"
    "r0,2023-01,funding_round,,Beta,100m,USD,completed,,1 to 2bn,,,test,\n")


def ok(p):
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.fixture(scope="module")
def ranges_db(tmp_path_factory):
    d = tmp_path_factory.mktemp("ranges")
    db = d / "r.db"
    ok(run_cli("init", "--empty", db=db))
    ok(run_cli("add", write(d / "deals.csv", RANGES), db=db))
    return db


def test_multiples_of_a_range_carry_low_and_high(ranges_db):
    rows = {r["deal_id"]: r for r in json.loads(ok(run_cli("query", "multiples", "--format", "json", db=ranges_db)))}
    r1 = rows["r1"]
    assert (r1["deal_to_revenue_low"], r1["deal_to_revenue"], r1["deal_to_revenue_high"]) == (4.0, 8e9 / 1.5e9, 8.0)
    assert (r1["target_revenue_usd_low"], r1["target_revenue_usd_high"]) == (1e9, 2e9)
    assert (r1["share_of_acquirer_cap_pct_low"], r1["share_of_acquirer_cap_pct_high"]) == (4.0, 8.0)
    table = ok(run_cli("query", "multiples", db=ranges_db, env={"COLUMNS": "80"}))
    assert "4.0–8.0x" in table and all(len(line) <= 80 for line in table.splitlines())
    csv = pd.read_csv(__import__("io").StringIO(ok(run_cli("query", "multiples", "--format", "csv", db=ranges_db))))
    assert csv.set_index("deal_id").loc["r1", "deal_to_revenue_low"] == 4.0


def test_comparisons_returns_and_cycles_carry_intervals(ranges_db):
    comp = json.loads(ok(run_cli("query", "deal-comparisons", "--format", "json", db=ranges_db)))
    assert [(r["deal_to_revenue_low"], r["deal_to_revenue_high"]) for r in comp if r["deal_id"] == "r1"] == [(4.0, 8.0)]
    ret = json.loads(ok(run_cli("query", "returns", "--format", "json", db=ranges_db)))
    r = next(r for r in ret if r["exit_deal_id"] == "r1")
    assert (r["multiple_low"], r["multiple"], r["multiple_high"]) == (4.0, 8e9 / 1.5e9, 8.0)
    assert r["annualised_simple_pct_low"] == pytest.approx(100 * 3 / 2)
    cyc = json.loads(ok(run_cli("query", "circular-flows", "--format", "json", db=ranges_db)))
    (c,) = cyc
    # hops 8bn, 1-3bn, 2-4bn: bottleneck [min lows, min highs] = [1bn, 3bn]; total [11bn, 15bn]
    assert (c["bottleneck_usd_low"], c["bottleneck_usd"], c["bottleneck_usd_high"]) == (1e9, 2e9, 3e9)
    assert (c["total_usd_low"], c["total_usd_high"]) == (11e9, 15e9)
    table = ok(run_cli("query", "circular-flows", db=ranges_db, env={"COLUMNS": "80"}))
    assert "$1.0–3.0bn" in table and "$11.0–15.0bn" in table


def test_check_supports_a_stated_range_when_both_ends_agree(ranges_db, tmp_path):
    claims = write(tmp_path / "c.csv", "subject,metric,stated,source\n"
                                       "r1,deal_to_revenue,4-8x,a\nr1,deal_to_revenue,4-10x,b\n"
                                       "r1,deal_to_revenue,5x,c\nr1,deal_to_revenue,9x,d\n")
    rows = json.loads(ok(run_cli("check", claims, "--format", "json", db=ranges_db)))
    assert [r["verdict"] for r in rows] == ["supported", "not supported", "supported", "not supported"]
    assert (rows[0]["recomputed_low"], rows[0]["recomputed_high"]) == (4.0, 8.0)


def test_the_sample_amazon_anthropic_multiple_reads_4_to_8x_and_its_claim_is_supported(sample_db):
    table = ok(run_cli("query", "deal-comparisons", db=sample_db, env={"COLUMNS": "80"}))
    line = next(line for line in table.splitlines() if "Anthropic" in line)
    assert "4.0–8.0x" in line
    rows = json.loads(ok(run_cli("check", "--format", "json", db=sample_db)))
    (claim,) = [r for r in rows if r["stated"] == "4-8x"]
    assert claim["verdict"] == "supported"


def test_export_writes_ranges_back_and_adding_the_export_reproduces_the_store(ranges_db, tmp_path):
    out = tmp_path / "out"
    ok(run_cli("export", "--format", "csv", out, db=ranges_db))
    deals = pd.read_csv(out / "deals.csv", dtype=str, keep_default_na=False).set_index("deal_id")
    assert deals.loc["r1", "target_revenue"] == "1000000000-2000000000"
    assert deals.loc["r2", "amount"] == "1000000000-3000000000"
    again = tmp_path / "again.db"
    ok(run_cli("init", "--empty", db=again))
    ok(run_cli("add", out / "entities.csv", out / "deals.csv", db=again))
    out2 = tmp_path / "out2"
    ok(run_cli("export", "--format", "csv", out2, db=again))
    assert (out2 / "deals.csv").read_bytes() == (out / "deals.csv").read_bytes()
    # the workbook too: a range is a text cell, read back as the range
    book = tmp_path / "d.xlsx"
    ok(run_cli("export", "--format", "xlsx", book, db=ranges_db))
    third = tmp_path / "third.db"
    ok(run_cli("init", "--empty", db=third))
    ok(run_cli("add", book, db=third))
    out3 = tmp_path / "out3"
    ok(run_cli("export", "--format", "csv", out3, db=third))
    assert (out3 / "deals.csv").read_bytes() == (out / "deals.csv").read_bytes()


def test_sql_sees_the_interval_columns(ranges_db):
    rows = json.loads(ok(run_cli("sql", "select deal_id, amount_low, amount_high, amount_usd_high from deals "
                                        "where amount_qualifier = 'range' order by deal_id", "--format", "json",
                                 db=ranges_db)))
    assert [(r["deal_id"], r["amount_low"], r["amount_high"], r["amount_usd_high"]) for r in rows] == [
        ("r2", 1e9, 3e9, 3e9), ("r3", 2e9, 4e9, 4e9)]


@pytest.mark.parametrize("cell, reason", [
    ("2bn-1bn", "2:6: amount: amount '2bn-1bn' is a reversed range"),
    ("$1-€2bn", "2:6: amount: amount '$1-€2bn' is a range in two currencies (USD and EUR)"),
])
def test_bad_ranges_name_file_line_and_column_and_change_nothing(tmp_path, cell, reason):
    db = tmp_path / "e.db"
    ok(run_cli("init", "--empty", db=db))
    f = write(tmp_path / "bad.csv", HEADER + f"x1,2025-01-01,investment,a,b,{cell},,,,,,,s,\n")
    p = run_cli("add", f, db=db)
    assert p.returncode == 1 and f"{f}:{reason}" in p.stderr, p.stderr
    assert json.loads(ok(run_cli("deals", "--format", "json", db=db))) == []


def test_format_number_of_a_range_end_is_exact():
    assert format_number(1e9) == "1000000000" and float(format_number(0.1 + 0.2)) == 0.1 + 0.2
