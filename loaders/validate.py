"""Field-by-field validation of one CSV table, vectorised over all its rows.

:func:`validate_table` turns the text cells of a :class:`~dealgraph.loaders.csv.CsvTable`
into typed, normalised Arrow columns and a list of problems. What needs the store
(matching payer/payee names to entities, FX rates) happens in
:mod:`dealgraph.loaders.resolve`.

Everything runs in pyarrow compute kernels over whole columns. Checks that need
Python (dates, allowed values) run once per *distinct* value -- a million deals
carry a few thousand distinct dates and a handful of types -- and messages are
built only for failing rows, so a valid million-row file costs a few tenths of a
second.
"""

from __future__ import annotations

import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dealgraph.graph.dates import parse_date
from dealgraph.graph.schema import (CONFIDENCES, DEAL_METRIC_COLUMNS, DEAL_TYPES, DEALS, DEFAULT_CONFIDENCE,
                                    DEFAULT_CURRENCY, DEFAULT_STATUS, ENTITY_KINDS, METRICS, NON_MONEY_TYPES,
                                    PAYER_OPTIONAL_TYPES, STATUSES, TABLES, UNDIRECTED_TYPES)
from dealgraph.loaders.amounts import parse_amounts, plain_numbers
from dealgraph.loaders.arrow import distinct, encoded, equals, flat, mask_of, numbers
from dealgraph.loaders.csv import CsvTable, Problem, Problems
from dealgraph.loaders.names import closest, slugify  # noqa: F401 - slugify: its old home

_SLUG_RE = r"^[a-z0-9][a-z0-9._-]*$"
_CURRENCY_RE = r"^[A-Z]{3}$"
_MAX_LISTED = 60  # problems listed per check; the loader stops listing at 50 anyway


class _Checker:
    """Collects problems for one table: ``fail(mask, column, reason)``."""

    def __init__(self, table: CsvTable, start: int = 0, length: int | None = None):
        self.table = table
        self.start = start  # this checker sees rows start .. start + length of the file
        self.cells = table.cells if start == 0 and length is None else table.cells.slice(start, length)
        self.n = self.cells.num_rows
        self.problems = Problems()
        self.repeats: np.ndarray | None = None  # rows repeating an earlier row's key and values
        self.failed = np.zeros(self.n, dtype=bool)  # rows with a problem, listed or not
        self.failed_fx = np.zeros(self.n, dtype=bool)  # ... with one in what an FX rate is looked up by

    def problem(self, i: int, column: str, reason: str) -> None:
        self.failed[int(i)] = True
        self.failed_fx[int(i)] |= column in FX_INPUTS
        self.problems.append(self.table.problem(self.start + int(i), column, reason))

    def raw(self, name: str) -> pa.ChunkedArray | pa.Array:
        """A free-text column exactly as given ("" where the file lacks it); left in the
        reader's chunks, since joining them would copy every column once more."""
        if name in self.cells.column_names:
            return self.cells[name]
        return pa.repeat("", self.n) if self.n else pa.array([], pa.string())

    def text(self, name: str) -> pa.ChunkedArray | pa.Array:
        """A free-text column exactly as given, dictionary-encoded: sources and notes
        repeat (many deals cite one article), and the store keeps them so."""
        return pc.dictionary_encode(self.raw(name))

    def names(self, name: str) -> pa.DictionaryArray:
        """A column naming entities, dictionary-encoded, surrounding whitespace removed:
        a million deals name far fewer entities, and resolution matches each name once."""
        d = encoded(self.raw(name))
        return pa.DictionaryArray.from_arrays(d.indices, pc.utf8_trim_whitespace(d.dictionary))

    def col(self, name: str) -> pa.Array:
        """A column's text with surrounding whitespace removed."""
        return pc.utf8_trim_whitespace(self.raw(name))

    def fail(self, mask, column: str, reason, values: pa.Array | None = None) -> None:
        """Record a problem for every row where ``mask`` holds. ``reason`` is a string or
        a function of the row's value in ``values`` (of the row's index when ``values``
        is None), called only for failing rows, so checks stay cheap on a million good ones."""
        mask = mask_of(mask)
        if not mask.any():
            return
        failing = np.flatnonzero(mask)
        self.failed |= mask
        if column in FX_INPUTS:
            self.failed_fx |= mask
        self.problems.more += max(len(failing) - _MAX_LISTED, 0)
        for i in failing[:_MAX_LISTED]:
            i = int(i)
            self.problem(i, column, reason if isinstance(reason, str)
                         else reason(i if values is None else values[i].as_py()))

    def required(self, name: str) -> pa.Array:
        s = self.col(name)
        self.fail(pc.equal(s, ""), name, "required value is empty")
        return s

    def date(self, name: str, required: bool = True) -> tuple[pa.Array, np.ndarray, np.ndarray]:
        """The date text, its ``yyyymmdd`` key and precision (see ``graph.dates``; 0, 0 where
        an optional date is empty)."""
        s, texts, codes = self.mapped(name, str.strip)  # few distinct dates, even in a million rows
        if required:
            self.fail(equals(s, ""), name, "required value is empty")
        ukey = np.zeros(len(texts), dtype=np.int64)
        uprec = np.zeros(len(texts), dtype=np.int64)
        why: dict[int, str] = {}
        for j, u in enumerate(texts):
            if u == "":
                continue
            try:
                ukey[j], uprec[j] = parse_date(u)
            except ValueError as e:
                why[j] = str(e)
        if why:
            bad = np.isin(codes, list(why))
            self.fail(bad, name, lambda v: why[texts.index(v)], s)
        return s, ukey[codes], uprec[codes]

    def choice(self, name: str, allowed, default: str | None, lower: bool = True) -> pa.Array:
        """The column's values (trimmed, lower-cased, empty -> ``default``), each one of ``allowed``."""
        def canonical(u: str) -> str:
            u = u.strip()
            return (u.lower() if lower else u) or (default or "")
        out, mapped, codes = self.mapped(name, canonical)
        bad = np.array([m not in allowed for m in mapped], dtype=bool)
        if bad.any():
            def why(v: str) -> str:
                if v == "":
                    return "required value is empty"
                near = closest(v, allowed)
                return f"unknown value {v!r}; " + (f"did you mean {near!r}? " if near else "") + \
                    f"expected one of {', '.join(allowed)}"
            self.fail(bad[codes], name, why, out)
        return out

    def mapped(self, name: str, fn) -> tuple[pa.DictionaryArray, list[str], np.ndarray]:
        """``fn`` applied to every distinct value of a column: ``(column, values, codes)``.

        The column comes out dictionary-encoded (the store keeps it so, and the codes
        are at hand); ``values`` has no repeats, so ``codes`` index one value each."""
        codes, uniques = distinct(self.raw(name))
        mapped = [fn(u) for u in uniques]
        first = dict.fromkeys(mapped)
        if len(first) < len(mapped):  # e.g. " USD" and "usd" both became "USD"
            at = {v: j for j, v in enumerate(first)}
            codes = np.array([at[v] for v in mapped], dtype=np.int32)[codes]
            mapped = list(first)
        out = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(mapped, pa.string()))
        return out, mapped, codes

    def amount(self, name: str, currency: pa.Array | None = None) -> dict[str, pa.Array]:
        """An amount column's stored columns (see ``loaders.amounts``): ``name`` (the
        point estimate), ``name_qualifier``, ``name_low``, ``name_high``."""
        value, qual, sym, errors, low, high = parse_amounts(self.raw(name), bounds=True)
        self.problems.more += max(len(errors) - _MAX_LISTED, 0)
        self.failed[list(errors)] = True
        for i, why in list(errors.items())[:_MAX_LISTED]:
            self.problem(i, name, why)
        if currency is not None and sym.null_count < len(sym):
            clash = pc.not_equal(sym, currency)
            self.fail(clash, name, lambda i: f"the amount's symbol means {sym[i].as_py()} but the currency "
                                             f"column says {currency[i].as_py()}")
        return {name: value, f"{name}_qualifier": qual, f"{name}_low": low, f"{name}_high": high}

    def currency(self) -> pa.Array:
        out, mapped, codes = self.mapped("currency", lambda u: u.strip().upper() or DEFAULT_CURRENCY)
        bad = np.array([re.fullmatch(_CURRENCY_RE, m) is None for m in mapped], dtype=bool)
        if bad.any():
            self.fail(bad[codes], "currency", lambda v: f"{v!r} is not an ISO 4217 currency code (e.g. USD, EUR)", out)
        return out

    def positive_number(self, name: str, reason: str, strip: str = "") -> pa.Array:
        """Numbers of a column (null where empty); ``reason`` for cells that are not one.
        Plain numbers take the fast path of :func:`plain_numbers`; the other cells are
        stripped of whitespace and trailing ``strip`` characters and read as Python reads
        numbers (exponents, a sign)."""
        text = flat(self.raw(name))
        value, fast = plain_numbers(text, approx=False)
        other = np.flatnonzero(~fast & mask_of(pc.greater(pc.binary_length(text), 0)))
        if len(other):
            cells = pd.Series([t.strip().rstrip(strip).strip() for t in text.take(pa.array(other)).to_pylist()])
            parsed = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=float, copy=True)
            bad, infinite = np.zeros(len(text), dtype=bool), np.zeros(len(text), dtype=bool)
            bad[other[np.isnan(parsed) & (cells != "").to_numpy()]] = True
            infinite[other[np.isinf(parsed)]] = True  # "inf", or "1e400" beyond a float: no figure
            parsed[np.isinf(parsed)] = np.nan
            value[other] = parsed
            self.fail(bad, name, reason)
            self.fail(infinite, name, lambda i: f"{text[i].as_py().strip()!r} is infinite or too large; {reason}")
        return numbers(value)

    def extra(self) -> pa.Array:
        """Columns outside the schema, kept per row as a JSON object of non-empty cells."""
        known = set(TABLES[self.table.kind].csv_columns)
        extras = [c for c in self.cells.column_names if c not in known]
        if not extras:  # "{}" on every row, as a dictionary of one value
            return pa.DictionaryArray.from_arrays(pa.array(np.zeros(self.n, np.int32)), pa.array(["{}"]))
        cols = [self.raw(c).to_pylist() for c in extras]
        return pa.array([json.dumps({k: v for k, v in zip(extras, row) if v != ""}, ensure_ascii=False,
                                    sort_keys=True) for row in zip(*cols)], pa.string())


#: Files with more rows are validated in two halves on two cores (pyarrow
#: kernels release the GIL, so the halves run side by side).
SPLIT_ROWS = 200_000


def validate_table(table: CsvTable) -> tuple[pa.Table, list[Problem]]:
    """Typed rows of one table and the problems found (empty list when valid).

    The rows are an Arrow table in the store's columns for the kind (see
    ``dealgraph.graph.schema.TABLES``; what resolution adds is absent) plus ``_row``,
    the 0-based data row each came from, and :data:`FAILED` (and, for deals, :data:`DERIVED`).
    Missing numbers are null. Deal and entity
    rows that repeat an earlier row exactly are dropped, so their keys are unique.
    """
    from dealgraph.loaders.observations import observation_fields

    fields = {"deals": _deals, "entities": _entities, "metrics": _metrics, "fx": _fx,
              "observations": observation_fields}[table.kind]
    n = table.cells.num_rows
    if n < SPLIT_ROWS:
        checkers = [_Checker(table)]
        parts = [fields(checkers[0])]
    else:
        checkers = [_Checker(table, 0, n // 2), _Checker(table, n // 2, n - n // 2)]
        with ThreadPoolExecutor(2) as pool:
            parts = list(pool.map(fields, checkers))
    out = parts[0] if len(parts) == 1 else pa.concat_tables(parts)
    whole = _Checker(table)
    if TABLES[table.kind].unique_in_file:
        (key,) = TABLES[table.kind].key
        _check_duplicates(whole, out, key)
    out = out.append_column("_row", pa.array(np.arange(out.num_rows, dtype=np.int64)))
    failed = np.concatenate([c.failed for c in checkers]) | whole.failed
    out = out.append_column(FAILED, pa.array(failed))
    out = out.append_column(FAILED_FX, pa.array(np.concatenate([c.failed_fx for c in checkers])))
    if whole.repeats is not None:
        out = out.filter(pa.array(~whole.repeats))
    problems = Problems()
    for found in [table.problems] + [c.problems for c in checkers] + [whole.problems]:
        problems.extend(found)
    return out, problems


def _deals(c: _Checker) -> pa.Table:
    currency = c.currency()
    out = _deal_fields(c, currency)
    for col in DEALS.amounts:
        for name, values in c.amount(col, currency).items():
            out = out.append_column(name, values)
    _no_money_figures(c, out)
    missing = mask_of(pc.equal(out["deal_id"], ""))
    if missing.any():
        ids = np.array(out["deal_id"].to_pylist(), dtype=object)
        ids[missing] = _derived_ids(out.filter(pa.array(missing)).to_pandas())
        out = out.set_column(0, "deal_id", pa.array(ids, pa.string()))
    return out.append_column(DERIVED, pa.array(missing))


def _of_types(typ, types) -> np.ndarray:
    """Where the (validated) type column holds one of ``types``."""
    return np.logical_or.reduce([equals(typ, t) for t in types]) if types else np.zeros(len(typ), bool)


def _no_money_figures(c: _Checker, out: pa.Table) -> None:
    """A deal type that moves no money (``flows = NOTHING``: partnership, warrant) has no
    ``amount``: a figure there would be read as money by every query, so it is refused
    (record a payment between the parties as a deal of a money type). An undirected
    type (partnership) has no payer or payee side either, so ``stake_pct`` and the
    figures observed on one side (``post_money_valuation``, ``target_revenue``,
    ``acquirer_market_cap``) are refused too."""
    typ = flat(out["type"])
    none = _of_types(typ, NON_MONEY_TYPES)
    if not none.any():
        return
    c.fail(none & mask_of(pc.is_valid(out["amount"])), "amount", lambda i: (
        f"a {typ[i].as_py()} moves no money, so it has no amount; leave it empty (a payment between "
        f"the parties is a deal of its own, of a money type)"))
    undirected = _of_types(typ, UNDIRECTED_TYPES)
    for col in ("stake_pct", *DEAL_METRIC_COLUMNS):
        c.fail(undirected & mask_of(pc.is_valid(out[col])), col, lambda i: (
            f"a {typ[i].as_py()} has no payer or payee side (its two parties are in no order), so it has no "
            f"{col}; leave it empty (record it on a directed deal, or as a metric)"))


def _deal_fields(c: _Checker, currency: pa.Array) -> pa.Table:
    """Every deal column but the money figures."""
    date, key, prec = c.date("date")
    typ = c.choice("type", list(DEAL_TYPES), None)
    payer = c.names("payer")
    payee = c.names("payee")
    c.fail(equals(payee, ""), "payee", "required value is empty")
    optional = np.logical_or.reduce([equals(typ, t) for t in PAYER_OPTIONAL_TYPES + ("",)])
    undirected = _of_types(typ, UNDIRECTED_TYPES)
    c.fail(equals(payer, "") & ~optional & ~undirected, "payer", f"required unless the deal is a "
           f"{' or '.join(PAYER_OPTIONAL_TYPES)} (a round with no single named investor)")
    c.fail(equals(payer, "") & undirected, "payer", lambda i: f"a {typ[i].as_py()} names both parties, in payer "
           f"and payee (in either order); this row names only one")
    # payer = payee (by any name or alias) is refused once names are resolved (store._resolve).
    status = c.choice("status", STATUSES, DEFAULT_STATUS)
    confidence = c.choice("confidence", CONFIDENCES, DEFAULT_CONFIDENCE)
    stake = c.positive_number("stake_pct", "not a number (a percentage such as 49 or 49%)", strip="%")
    c.fail(pc.or_(pc.less_equal(stake, 0), pc.greater(stake, 100)), "stake_pct", "stake must be in (0, 100]")
    return pa.table({
        "deal_id": c.col("deal_id"), "date": date, "date_key": pa.array(key), "date_precision": pa.array(prec),
        "type": typ, "payer": payer, "payee": payee, "currency": currency, "status": status,
        "stake_pct": stake, "source": c.text("source"), "notes": c.text("notes"), "extra": c.extra(),
        "confidence": confidence,
    })


#: Columns of validated rows saying the row has a problem already (:data:`FAILED`), or
#: one in the columns its FX rate is looked up by (:data:`FAILED_FX`): the store's checks
#: that depend on those values skip such rows, so a row with a bad date is not also
#: told it has no FX rate (entity names are checked on every row).
FAILED, FAILED_FX = "_failed", "_failed_fx"
FX_INPUTS = ("date", "currency")

#: The column of validated deal rows saying the file left the row's ``deal_id`` empty
#: (its id is derived, see :func:`_derived_ids`); the store does not keep it.
DERIVED = "_derived_id"


def _derived_ids(rows: pd.DataFrame) -> list[str]:
    """A stable id from a row's content, so re-adding the same file creates nothing new.

    The text of each field is pandas' ``astype("string")`` of the typed value (floats
    as ``str(float)``, missing as ""); it must not change, or re-adding an old file
    would duplicate its deals.

    A deal of an undirected type (partnership) takes its two parties in sorted order
    (of their lower-cased text), so ``A,B`` and ``B,A`` get one id."""
    fields = DEALS.identity  # the columns declared ``identity``, in declaration order
    at_type, at_date = fields.index("type"), fields.index("date")
    at_payer, at_payee = fields.index("payer"), fields.index("payee")
    ids = []
    text = rows[list(fields)].astype("string").fillna("")
    if "amount_low" in rows.columns:  # a range's amount is its two ends ("1000000000.0-2000000000.0")
        rng = (rows["amount_qualifier"].astype("string") == "range").fillna(False).to_numpy(dtype=bool)
        if rng.any():
            text.loc[rng, "amount"] = (rows.loc[rng, "amount_low"].astype("string") + "-" +
                                       rows.loc[rng, "amount_high"].astype("string"))
    for rec in text.itertuples(index=False, name=None):
        low = [str(v).lower() for v in rec]
        if rec[at_type] in UNDIRECTED_TYPES and low[at_payer] > low[at_payee]:
            low[at_payer], low[at_payee] = low[at_payee], low[at_payer]
        h = hashlib.sha1("\x1f".join(low).encode()).hexdigest()[:12]
        ids.append(f"{rec[at_type]}-{rec[at_date]}-{h}")
    return ids


def _check_duplicates(c: _Checker, out: pa.Table, key: str) -> None:
    """The same key twice with other values is refused; exact repeats are noted in
    ``c.repeats`` (rows to drop: each key is kept at its first row)."""
    keys = out[key]
    if strictly_increasing(keys) or pc.count_distinct(keys).as_py() == out.num_rows:
        return
    counts = pc.value_counts(keys).flatten()
    repeated = pc.filter(counts[0], pc.greater(counts[1], 1))
    rows = np.flatnonzero(mask_of(pc.is_in(keys, value_set=repeated)))
    sub = out.take(pa.array(rows)).to_pandas().astype("string").fillna("")
    sub.index = rows
    if "type" in sub.columns:  # an undirected deal's two parties in no order: A,B repeats B,A
        swap = sub["type"].isin(UNDIRECTED_TYPES) & (sub["payer"].str.lower() > sub["payee"].str.lower())
        sub.loc[swap, ["payer", "payee"]] = sub.loc[swap, ["payee", "payer"]].to_numpy()
    c.repeats = np.zeros(out.num_rows, dtype=bool)
    for k, grp in sub.groupby(key, sort=False):
        c.repeats[grp.index[1:]] = True
        if len(grp.drop_duplicates()) > 1:
            first = c.table.line_of(int(grp.index[0]))
            for j in grp.index[1:]:
                if DERIVED in grp.columns and grp.at[j, DERIVED] == "True":
                    # the id is the file's content, not something the user wrote: say what matched
                    other = [col for col in grp.columns if col not in ("_row", DERIVED) and col in
                             c.table.header and grp.at[j, col] != grp.at[grp.index[0], col]]
                    same = ", ".join(col for col in DEALS.identity if col in DEALS.csv_columns)
                    c.failed[int(j)] = True
                    c.problems.append(c.table.problem(int(j), None, (
                        f"no deal_id, and the same {same} as line {first} but a different "
                        f"{', '.join(other) or 'value'}: if these are separate deals (e.g. tranches on one day), "
                        f"give each row its own deal_id; if it is one deal, keep one row")))
                else:
                    c.failed[int(j)] = True
                    c.problems.append(c.table.problem(int(j), key,
                                                      f"{key} {k!r} appears on line {first} with other values"))


def across_files(batches: list[tuple[CsvTable, pa.Table]]) -> Problems:
    """The same key (``deal_id``, entity ``id``) in two files of one add with other values
    is refused at the later file's row, naming the earlier file and line (the last file
    must not silently win); the same row twice is fine."""
    out = Problems()
    for kind, table in TABLES.items():
        mine = [(t, rows) for t, rows in batches if t.kind == kind]
        if not table.unique_in_file or len(mine) < 2:
            continue
        (key,) = table.key
        keep = [c for c in table.names if c in mine[0][1].column_names] + ["_row"]
        seen_keys: list[pa.Array] = []
        for j, (t, rows) in enumerate(mine):
            keys = rows[key].combine_chunks() if isinstance(rows[key], pa.ChunkedArray) else rows[key]
            for (t0, rows0), keys0 in zip(mine[:j], seen_keys):
                both = mask_of(pc.is_in(keys, value_set=keys0))
                if not both.any():
                    continue
                at0 = pc.index_in(keys.filter(pa.array(both)), value_set=keys0)
                here = rows.filter(pa.array(both))
                there = rows0.take(at0)
                for r, r0 in zip(here.select(keep).to_pylist(), there.select(keep).to_pylist()):
                    if r | {"_row": 0} == r0 | {"_row": 0}:  # the same row (anywhere in its file)
                        continue
                    if len(out) >= _MAX_LISTED:
                        out.more += 1
                        continue
                    line0 = t0.line_of(r0["_row"])
                    out.append(t.problem(r["_row"], key, f"{key} {r[key]!r} is also in {t0.path} (line {line0}) "
                                                         f"with other values: one add takes one version of a row"))
            seen_keys.append(keys)
    return out


def strictly_increasing(keys) -> bool:
    """Is every value less than the next? Sorted files (exports, generated data) prove
    their keys unique in one pass, and a sorted table needs no sort."""
    chunks = [c for c in (keys.chunks if isinstance(keys, pa.ChunkedArray) else [keys]) if len(c)]
    for i, c in enumerate(chunks):  # chunk by chunk (no copy), then across each boundary
        if len(c) > 1 and not pc.all(pc.less(c.slice(0, len(c) - 1), c.slice(1))).as_py():
            return False
        if i and not chunks[i - 1][len(chunks[i - 1]) - 1].as_py() < c[0].as_py():
            return False
    return True


def _entities(c: _Checker) -> pa.Table:
    ident = c.required("id")
    c.fail(pc.and_(pc.not_equal(ident, ""), pc.invert(pc.match_substring_regex(ident, _SLUG_RE))), "id",
           lambda v: f"id {v!r} is not a lowercase slug (letters a-z, digits, '-', '_', '.')", ident)
    out = pa.table({
        "id": ident, "name": c.required("name"), "kind": c.choice("kind", ENTITY_KINDS, None),
        "aliases": c.col("aliases"), "ticker": c.col("ticker"), "country": c.col("country"),
        "source": c.raw("source"), "notes": c.raw("notes"), "extra": c.extra(),
    })
    return out


def _metrics(c: _Checker) -> pa.Table:
    date, key, prec = c.date("date")
    currency = c.currency()
    value = c.amount("value", currency)
    c.fail(pc.and_(pc.is_null(value["value"]), pc.equal(c.col("value"), "")), "value", "required value is empty")
    return pa.table({
        "entity": c.required("entity"), "metric": c.choice("metric", METRICS, None), "date": date,
        "date_key": pa.array(key), "date_precision": pa.array(prec), **value,
        "currency": currency, "source": c.raw("source"), "notes": c.raw("notes"), "extra": c.extra(),
    })


def _fx(c: _Checker) -> pa.Table:
    date, key, prec = c.date("date")
    cur = c.currency()
    c.required("usd_per_unit")
    reason = "must be a positive number (US dollars per unit)"
    rate = c.positive_number("usd_per_unit", reason)
    c.fail(pc.and_(pc.is_valid(rate), pc.invert(pc.fill_null(pc.greater(rate, 0), True))), "usd_per_unit", reason)
    return pa.table({"currency": cur, "date": date, "date_key": pa.array(key), "date_precision": pa.array(prec),
                     "usd_per_unit": rate, "source": c.raw("source")})


