"""Field-by-field validation of one CSV table, vectorised over all its rows.

:func:`validate_table` turns the text cells of a :class:`~dealgraph.loaders.csv.CsvTable`
into typed, normalised columns and a list of problems. What needs the store
(matching payer/payee names to entities, FX rates) happens in
:mod:`dealgraph.loaders.resolve`.
"""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pandas as pd

from dealgraph.graph.dates import parse_date
from dealgraph.graph.schema import (DEAL_TYPES, DEFAULT_CURRENCY, DEFAULT_STATUS, ENTITY_KINDS, FILE_KINDS, METRICS,
                                    STATUSES)
from dealgraph.loaders.amounts import parse_amounts
from dealgraph.loaders.csv import CsvTable, Problem

_SLUG_RE = r"^[a-z0-9][a-z0-9._-]*$"
_CURRENCY_RE = r"^[A-Z]{3}$"
DEAL_MONEY_COLUMNS = ("post_money_valuation", "target_revenue", "acquirer_market_cap")


class _Checker:
    """Collects problems for one table: ``fail(mask, column, reason)``."""

    def __init__(self, table: CsvTable):
        self.table = table
        self.df = table.frame
        self.problems: list[Problem] = []

    def col(self, name: str) -> pd.Series:
        """A column's stripped text ("" where the file lacks the column)."""
        if name in self.df.columns:
            return self.df[name].str.strip()
        return pd.Series("", index=self.df.index, dtype="string")

    def fail(self, mask, column: str, reason, values: pd.Series | None = None) -> None:
        """Record a problem for every row where ``mask`` holds. ``reason`` is a string,
        a Series of strings, or a function of the row's value in ``values`` (called
        only for failing rows, so checks stay cheap on a million good ones)."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        for i in np.flatnonzero(mask)[:60]:
            if isinstance(reason, str):
                r = reason
            elif callable(reason):
                r = reason(values.iloc[i])
            else:
                r = reason.iloc[i]
            self.problems.append(self.table.problem(int(i), column, r))

    def raw(self, name: str) -> pd.Series:
        """A free-text column exactly as given ("" where the file lacks it)."""
        if name in self.df.columns:
            return self.df[name]
        return pd.Series("", index=self.df.index, dtype="string")

    def required(self, name: str) -> pd.Series:
        s = self.col(name)
        self.fail(s == "", name, "required value is empty")
        return s

    def date(self, name: str, required: bool = True):
        s = self.required(name) if required else self.col(name)
        codes, uniques = pd.factorize(s)  # few distinct dates, even in a million rows
        ukey = np.zeros(len(uniques) + 1, dtype=np.int64)  # last slot: missing (code -1)
        uprec = np.zeros(len(uniques) + 1, dtype=np.int8)
        why = {}
        for j, u in enumerate(uniques):
            if u == "":
                continue
            try:
                ukey[j], uprec[j] = parse_date(u)
            except ValueError as e:
                why[u] = str(e)
        keys, precs = ukey[codes], uprec[codes]
        if why:
            self.fail(s.isin(list(why)).to_numpy(), name, lambda v: why[v], s)
        return s, keys, precs

    def choice(self, name: str, allowed, default: str | None, lower: bool = True) -> pd.Series:
        s = self.col(name)
        if lower:
            s = s.str.lower()
        if default is not None:
            s = s.mask(s == "", default)
        bad = ~s.isin(list(allowed))
        self.fail(bad, name, lambda v: f"unknown value {v!r}; expected one of {', '.join(allowed)}"
                  if v != "" else "required value is empty", s)
        return s

    def amount(self, name: str, currency: pd.Series | None = None):
        value, qual, sym, errors = parse_amounts(self.col(name))
        self.fail(errors.notna().to_numpy(), name, errors)
        if currency is not None:
            clash = (sym.notna() & (sym != currency)).fillna(False).to_numpy()
            if clash.any():
                pairs = sym.fillna("").str.cat(currency, sep="|")
                self.fail(clash, name, lambda v: f"the amount's symbol means {v.split('|')[0]} but the currency "
                                                 f"column says {v.split('|')[1]}", pairs)
        return value, qual

    def currency(self) -> pd.Series:
        s = self.col("currency").str.upper()
        s = s.mask(s == "", DEFAULT_CURRENCY)
        bad = ~s.str.fullmatch(_CURRENCY_RE).fillna(False)
        self.fail(bad, "currency", lambda v: f"{v!r} is not an ISO 4217 currency code (e.g. USD, EUR)", s)
        return s

    def extra(self) -> pd.Series:
        """Columns outside the schema, kept per row as a JSON object of non-empty cells."""
        known = set(FILE_KINDS[self.table.kind][0])
        extras = [c for c in self.df.columns if c not in known]
        if not extras:
            return pd.Series("{}", index=self.df.index, dtype="string")
        sub = self.df[extras]
        return pd.Series([json.dumps({k: v for k, v in zip(extras, row) if v != ""}, ensure_ascii=False,
                                     sort_keys=True) for row in sub.itertuples(index=False, name=None)],
                         index=self.df.index, dtype="string")


def validate_table(table: CsvTable) -> tuple[pd.DataFrame, list[Problem]]:
    """Typed rows of one table and the problems found (empty list when valid)."""
    check = _Checker(table)
    out = {"deals": _deals, "entities": _entities, "metrics": _metrics, "fx": _fx}[table.kind](check)
    out["_row"] = np.arange(len(out))
    return out, table.problems + check.problems


def _deals(c: _Checker) -> pd.DataFrame:
    date, key, prec = c.date("date")
    typ = c.choice("type", list(DEAL_TYPES), None)
    payer = c.col("payer")
    payee = c.required("payee")
    c.fail((payer == "") & (typ != "funding_round") & (typ != ""), "payer",
           "required unless the deal is a funding_round (a round with no single named investor)")
    c.fail((payer != "") & (payer.str.lower() == payee.str.lower()), "payee", "payer and payee are the same entity")
    currency = c.currency()
    amount, amount_q = c.amount("amount", currency)
    status = c.choice("status", STATUSES, DEFAULT_STATUS)
    stake_txt = c.col("stake_pct").str.rstrip("%").str.strip()
    stake = pd.to_numeric(stake_txt.mask(stake_txt == "", None), errors="coerce").to_numpy(dtype=float)
    c.fail((stake_txt != "") & np.isnan(stake), "stake_pct", "not a number (a percentage such as 49 or 49%)")
    c.fail(~np.isnan(stake) & ((stake <= 0) | (stake > 100)), "stake_pct", "stake must be in (0, 100]")
    out = pd.DataFrame({
        "deal_id": c.col("deal_id"), "date": date, "date_key": key, "date_precision": prec, "type": typ,
        "payer": payer, "payee": payee, "amount": amount, "amount_qualifier": amount_q, "currency": currency,
        "status": status, "stake_pct": stake,
    })
    for col in DEAL_MONEY_COLUMNS:
        out[col], out[col + "_qualifier"] = c.amount(col, currency)
    out["source"] = c.raw("source")
    out["notes"] = c.raw("notes")
    out["extra"] = c.extra()
    missing = out["deal_id"] == ""
    if missing.any():
        out.loc[missing, "deal_id"] = _derived_ids(out[missing])
    _check_duplicates(c, out, "deal_id")
    return out


def _derived_ids(rows: pd.DataFrame) -> list[str]:
    """A stable id from a row's content, so re-adding the same file creates nothing new."""
    cols = ["date", "type", "payer", "payee", "amount", "amount_qualifier", "currency", "status", "stake_pct"]
    ids = []
    for rec in rows[cols].astype("string").fillna("").itertuples(index=False, name=None):
        h = hashlib.sha1("\x1f".join(str(v).lower() for v in rec).encode()).hexdigest()[:12]
        ids.append(f"{rec[1]}-{rec[0]}-{h}")
    return ids


def _check_duplicates(c: _Checker, out: pd.DataFrame, key: str) -> None:
    """The same key twice with other values is refused; exact repeats are dropped later."""
    dup = out.duplicated(key, keep=False)
    if not dup.any():
        return
    for k, grp in out[dup].groupby(key, sort=False):
        if len(grp.astype("string").fillna("").drop_duplicates()) > 1:
            first = c.table.line_of(int(grp.index[0]))
            for j in grp.index[1:]:
                c.problems.append(c.table.problem(int(j), key, f"{key} {k!r} appears on line {first} with other values"))


def _entities(c: _Checker) -> pd.DataFrame:
    ident = c.required("id")
    c.fail((ident != "") & ~ident.str.fullmatch(_SLUG_RE).fillna(False), "id",
           lambda v: f"id {v!r} is not a lowercase slug (letters a-z, digits, '-', '_', '.')", ident)
    out = pd.DataFrame({
        "id": ident, "name": c.required("name"), "kind": c.choice("kind", ENTITY_KINDS, None),
        "aliases": c.col("aliases"), "ticker": c.col("ticker"), "country": c.col("country"),
        "source": c.raw("source"), "notes": c.raw("notes"), "extra": c.extra(),
    })
    _check_duplicates(c, out, "id")
    return out


def _metrics(c: _Checker) -> pd.DataFrame:
    date, key, prec = c.date("date")
    currency = c.currency()
    value, qual = c.amount("value", currency)
    c.fail(np.isnan(value) & (c.col("value") == ""), "value", "required value is empty")
    out = pd.DataFrame({
        "entity": c.required("entity"), "metric": c.choice("metric", METRICS, None), "date": date, "date_key": key,
        "date_precision": prec, "value": value, "value_qualifier": qual, "currency": currency,
        "source": c.raw("source"), "notes": c.raw("notes"), "extra": c.extra(),
    })
    return out


def _fx(c: _Checker) -> pd.DataFrame:
    date, key, prec = c.date("date")
    cur = c.currency()
    rate_txt = c.required("usd_per_unit")
    rate = pd.to_numeric(rate_txt.mask(rate_txt == "", None), errors="coerce").to_numpy(dtype=float)
    c.fail((rate_txt != "") & ~(rate > 0), "usd_per_unit", "must be a positive number (US dollars per unit)")
    return pd.DataFrame({"currency": cur, "date": date, "date_key": key, "date_precision": prec,
                         "usd_per_unit": rate, "source": c.raw("source")})


def slugify(name: str) -> str:
    """``"Scale AI"`` -> ``"scale-ai"``: the id given to an entity created from a name."""
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return s or "entity-" + hashlib.sha1(name.encode()).hexdigest()[:8]
