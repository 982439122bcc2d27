"""Check stated figures against figures recomputed from the store.

A claims file is a CSV with columns ``subject,metric,stated,source`` (and an
optional ``tolerance`` column, a relative tolerance such as ``5%`` for that row).

**Subjects.** A deal id, an entity id, or ``A@B`` for a figure of deal A
relative to deal B (``EXIT@ROUND`` for a return against a specific round).

**Metrics** (unit in brackets; aliases in :data:`ALIASES`):

========================== ==================== ===========================================
metric                     subject              recomputed as
========================== ==================== ===========================================
deal_to_revenue [x]        deal                 multiples: amount / target revenue ("EV/revenue")
implied_valuation [$]      deal                 multiples: amount / stake
implied_ev_to_revenue [x]  deal                 multiples: implied valuation / revenue
share_of_acquirer_cap [%]  deal                 multiples: 100 · amount / acquirer market cap
deal_value [$]             deal                 the deal amount in USD
return_multiple [x]        EXIT@ROUND or EXIT   returns: exit value / post-money (EXIT alone: last round)
annualised_return [%]      EXIT@ROUND or EXIT   returns: compound, 100 · (m^(12/t) − 1)
annualised_return_simple   EXIT@ROUND or EXIT   returns: simple, 100 · (m − 1) · 12 / t
months_to_exit [months]    EXIT@ROUND or EXIT   returns: calendar months round -> exit
step_up [x]                ROUND or A@B         post-money of A / post-money of B (ROUND alone: previous round)
amount_ratio [x]           A@B                  amount of A / amount of B
months_between [months]    A@B                  calendar months from B to A (common precision)
hhi [0-1]                  entity               concentration: Herfindahl index of inflow
top_share [%]              entity               concentration: top counterparty's share
round_trip_share [%]       entity               round-trip: share of inflow returning
========================== ==================== ===========================================

**Stated values**: ``40x``, ``19.7x``, ``0.44%``, ``~1,400%``, ``3 months``,
``1 year`` (= 12 months), ``$20bn``, ``4-8x`` (a range), ``~7x``, ``N/A``.
A bare number takes the metric's unit. A unit that does not fit the metric
(``5%`` for a multiple) cannot be checked.

**Verdict.** ``tolerance = max(half a unit of the last stated digit,
rel · |stated|)`` with ``rel`` = ``tolerance`` (default 1%), or
``approx_tolerance`` (default 10%) when the stated value is approximate
(``~``, ``≈``, ``approx``, ``about``, ``c.``). Why half a unit: "0.5%" is
any value that rounds to 0.5% (0.45–0.55). A range is supported when the
recomputed value lies within ``[low − tol, high + tol]``.

* ``supported`` — recomputed within tolerance, or stated ``N/A`` and the
  recomputed figure is n/a too;
* ``not supported`` — outside the tolerance, or stated ``N/A`` but the data
  gives a figure;
* ``cannot check`` — the figure cannot be recomputed (the reason says why:
  missing input, unknown subject or metric, unparseable stated value).

``difference = recomputed − stated`` (for a range: distance to the nearest
end, 0 inside), ``difference_pct = 100 · difference / |stated|``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dealgraph.errors import QueryError
from dealgraph.queries.common import NAN, cmp_dates, deals_of, months_common, num, records, text
from dealgraph.queries.metrics import deal_figure, metric_index, ratio
from dealgraph.queries.multiples import multiples_frame
from dealgraph.queries.returns import RoundTable, exit_returns

UNITS = {
    "deal_to_revenue": "x", "implied_valuation": "usd", "implied_ev_to_revenue": "x",
    "share_of_acquirer_cap": "%", "deal_value": "usd", "return_multiple": "x", "annualised_return": "%",
    "annualised_return_simple": "%", "months_to_exit": "months", "step_up": "x", "amount_ratio": "x",
    "months_between": "months", "hhi": "", "top_share": "%", "round_trip_share": "%",
}
ALIASES = {
    "ev_to_revenue": "deal_to_revenue", "ev_revenue": "deal_to_revenue", "deal_value_to_revenue": "deal_to_revenue",
    "share_of_acquirer_market_cap": "share_of_acquirer_cap", "pct_of_acquirer_cap": "share_of_acquirer_cap",
    "annualized_return": "annualised_return", "annualised_return_compound": "annualised_return",
    "annualized_return_compound": "annualised_return", "annualized_return_simple": "annualised_return_simple",
    "multiple": "return_multiple", "time_to_exit": "months_to_exit", "months_from_last_raise": "months_to_exit",
    "amount": "deal_value", "value": "deal_value", "herfindahl": "hhi", "round_trip": "round_trip_share",
}
COLUMNS = ["subject", "metric", "stated", "stated_value", "unit", "recomputed", "recomputed_low", "recomputed_high",
           "difference", "difference_pct",
           "tolerance", "verdict", "reason", "source"]

_APPROX_RE = re.compile(r"^\s*(~|≈|approx\.?|approximately|about|around|roughly|circa|c\.|ca\.)\s*", re.I)
_NUM = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_STATED_RE = re.compile(
    r"^\$?\s*" + _NUM + r"\s*(?:(?:-|–|—|to)\s*\$?\s*" + _NUM + r")?\s*"
    r"(x|×|%|percent|months?|mos?|years?|yrs?|k|m|mn|bn|b|t|tn|thousand|million|billion|trillion)?\s*$", re.I)
_MONEY = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9,
          "billion": 1e9, "t": 1e12, "tn": 1e12, "trillion": 1e12}
NA_WORDS = {"n/a", "na", "none", "-", "—", "not applicable", "nm", "n.m."}


@dataclass(frozen=True)
class Stated:
    """A parsed stated figure."""

    text: str
    low: float = NAN
    high: float = NAN
    unit: str = ""          # x | % | months | usd | "" (bare)
    approx: bool = False
    half_unit: float = 0.0  # half of the last stated digit's unit (of the coarser end)
    is_na: bool = False
    error: str = ""

    @property
    def value(self) -> float:
        return self.low if self.low == self.high else (self.low + self.high) / 2


def _decimals(s: str) -> int:
    return len(s.split(".")[1]) if "." in s else 0


def parse_stated(s: str) -> Stated:
    """Parse a stated figure (see the module docstring for the forms)."""
    raw = s
    t = (s or "").strip()
    if t.lower() in NA_WORDS:
        return Stated(raw, is_na=True)
    approx = False
    m = _APPROX_RE.match(t)
    if m:
        approx, t = True, t[m.end():]
    m = _STATED_RE.match(t)
    if not m:
        return Stated(raw, error=f"cannot read stated value {raw!r}")
    a, b, unit = m.group(1), m.group(2), (m.group(3) or "").lower()
    lo = float(a.replace(",", ""))
    hi = float(b.replace(",", "")) if b else lo
    half = 0.5 * 10.0 ** -max(_decimals(a), _decimals(b) if b else 0)
    if unit in ("x", "×"):
        u = "x"
    elif unit in ("%", "percent"):
        u = "%"
    elif unit.startswith("mo"):
        u = "months"
    elif unit.startswith("y"):
        u, lo, hi, half = "months", lo * 12, hi * 12, half * 12
    elif unit in _MONEY:
        f = _MONEY[unit]
        u, lo, hi, half = "usd", lo * f, hi * f, half * f
    elif t.startswith("$"):
        u = "usd"
    else:
        u = ""
    if hi < lo:
        return Stated(raw, error=f"range {raw!r} runs backwards")
    return Stated(raw, lo, hi, u, approx, half)


def _interval(lo: float, hi: float) -> str:
    return f"up to {hi:g}" if math.isnan(lo) else f"at least {lo:g}"


def canonical_metric(name: str) -> str:
    n = re.sub(r"[\s\-/]+", "_", (name or "").strip().lower())
    return ALIASES.get(n, n)


class _Recompute:
    """Recomputes figures for subjects, caching the shared lookups."""

    def __init__(self, store, as_of, status):
        self.store = store
        self.deals = deals_of(store, as_of=as_of, status=status, slim=True)
        self.as_of, self.status = as_of, status
        self.index = metric_index(store)
        # deal id -> row, looked up per claim (records of every deal would cost more than the claims)
        ids = self.deals["deal_id"].astype(str).to_numpy(dtype=object)
        self._ids = pd.Index(ids, dtype=object)
        self._table: RoundTable | None = None
        self._rounds: dict[str, list] = {}
        self._conc = None
        self._rt = None

    def _position(self, did: str) -> int:
        """The row of the selected deal ``did``, -1 if not selected (a repeated id: the last row)."""
        if self._ids.is_unique:
            return int(self._ids.get_indexer([did])[0])
        hits = np.flatnonzero(self._ids.to_numpy() == did)
        return int(hits[-1]) if len(hits) else -1

    def record(self, did: str):
        """The selected deal ``did`` as a record, ``None`` if not selected."""
        pos = self._position(did)
        return records(self.deals.iloc[[pos]])[0] if pos >= 0 else None

    def deal(self, did: str):
        rec = self.record(did)
        if rec is None:
            raise LookupError(f"no deal {did!r} among the selected deals (check --as-of/--status)")
        return rec

    def rounds_of(self, entity: str) -> list:
        """The entity's rounds (:class:`~dealgraph.queries.returns.Round` list), built on first use."""
        if entity not in self._rounds:
            if self._table is None:
                self._table = RoundTable(self.deals, self.index)
            self._rounds[entity] = self._table.entity_rounds(entity)
        return self._rounds[entity]

    def figure(self, subject: str, metric: str) -> tuple[float, str, float, float]:
        """``(value, reason, low, high)``: the recomputed figure, why it is n/a, and its
        interval (the value at both ends for figures without one)."""
        got = self._figure(subject, metric)
        return got if len(got) == 4 else (got[0], got[1], got[0], got[0])

    def _figure(self, subject: str, metric: str) -> tuple:
        a, _, b = subject.partition("@")
        a, b = a.strip(), b.strip()
        if metric in ("deal_to_revenue", "implied_valuation", "implied_ev_to_revenue", "share_of_acquirer_cap",
                      "deal_value"):
            self.deal(a)
            m = multiples_frame(self.index, self.deals.iloc[[self._position(a)]]).iloc[0]
            key = {"implied_valuation": "implied_valuation_usd", "deal_value": "amount_usd",
                   "share_of_acquirer_cap": "share_of_acquirer_cap_pct"}.get(metric, metric)
            why = ("" if m["amount_qualifier"] else "deal amount undisclosed") if metric == "deal_value" \
                else m[f"{metric}_reason"].partition(": ")[2]
            return m[key], why, m[f"{key}_low"], m[f"{key}_high"]
        if metric in ("return_multiple", "annualised_return", "annualised_return_simple", "months_to_exit"):
            return self._return(a, b, metric)
        if metric == "amount_ratio":
            if not b:
                raise LookupError("amount_ratio needs a subject A@B")
            fa = deal_figure(self.index, self.deal(a), "amount")
            fb = deal_figure(self.index, self.deal(b), "amount")
            v, why = ratio(fa, fb, what="amount_ratio", num_name=f"amount of {a}", den_name=f"amount of {b}")
            return v, why.partition(": ")[2]
        if metric == "months_between":
            if not b:
                raise LookupError("months_between needs a subject A@B")
            ra, rb = self.deal(a), self.deal(b)
            return months_common(rb["date_key"], rb["date_precision"], ra["date_key"], ra["date_precision"]), ""
        if metric == "step_up":
            return self._step_up(a, b)
        if metric in ("hhi", "top_share"):
            return self._concentration(a, metric)
        if metric == "round_trip_share":
            return self._round_trip(a)
        raise LookupError(f"unknown metric {metric!r}; known: {', '.join(UNITS)}")

    def _return(self, a: str, b: str, metric: str) -> tuple[float, str]:
        rec = self.deal(a)
        payee = text(rec.get("payee"))
        rows = exit_returns(self.deals, self.index, rec, {payee: self.rounds_of(payee)}, every_round=True)
        if b:
            hit = [r for r in rows if b in [x.strip() for x in r["round_deal_ids"].split(",")]]
            if not hit:
                rb = self.record(b)
                if rb is not None and text(rb.get("payee")) != text(rec.get("payee")):
                    raise LookupError(f"{b} is not a round of {text(rec.get('payee'))}")
                raise LookupError(f"{b} is not a round before {a}")
        else:
            hit = [r for r in rows if r["last_round"]]
            if not hit:
                return NAN, rows[0]["reason"] if rows else "no rounds"
        r = hit[0]
        col = {"return_multiple": "multiple", "annualised_return": "annualised_compound_pct",
               "annualised_return_simple": "annualised_simple_pct", "months_to_exit": "months"}[metric]
        v = r[col]
        return v, ("" if not math.isnan(v) else r["reason"])

    def _step_up(self, a: str, b: str) -> tuple[float, str]:
        ra = self.deal(a)
        entity = text(ra.get("payee"))
        rs = self.rounds_of(entity)
        ia = next((i for i, r in enumerate(rs) if a in r.deal_ids), None)
        if ia is None:
            raise LookupError(f"{a} is not a round")
        if b:
            ib = next((i for i, r in enumerate(rs) if b in r.deal_ids), None)
            if ib is None:
                raise LookupError(f"{b} is not a round of {entity}")
            prev = rs[ib]
        else:
            prev = next((r for r in reversed(rs[:ia]) if r.post_money.known), None)
            if prev is None:
                return NAN, "no earlier round with a post-money valuation"
        v, why = ratio(rs[ia].post_money, prev.post_money, what="step_up", num_name="post-money",
                       den_name="earlier post-money")
        return v, why.partition(": ")[2]

    def _concentration(self, entity: str, metric: str) -> tuple[float, str]:
        from dealgraph.queries.concentration import concentration
        if self._conc is None:
            self._conc = concentration(self.store, as_of=self.as_of, status=self.status).set_index("entity")
        if entity not in self._conc.index:
            return NAN, f"no inflow from named payers to {entity}"
        row = self._conc.loc[entity]
        v = num(row["hhi" if metric == "hhi" else "top_share_pct"])
        return v, text(row["reason"]) if math.isnan(v) else ""

    def _round_trip(self, entity: str) -> tuple[float, str]:
        from dealgraph.queries.roundtrip import round_trip
        if self._rt is None:
            self._rt = round_trip(self.store, as_of=self.as_of, status=self.status).set_index("entity")
        if entity not in self._rt.index:
            return NAN, f"no inflow from named payers to {entity}"
        row = self._rt.loc[entity]
        v = num(row["share_pct"])
        return v, text(row["reason"]) if math.isnan(v) else ""


def _rel_tolerance(cell: str) -> float | None:
    c = (cell or "").strip()
    if not c:
        return None
    pct = c.endswith("%")
    v = float(c.rstrip("%").strip())
    return v / 100.0 if pct else v


def read_claims(path: str | Path) -> pd.DataFrame:
    """Read a claims CSV as text (``N/A`` stays the text ``N/A``)."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise QueryError(f"{path}: cannot read the claims file as UTF-8 CSV ({str(e).splitlines()[0]})") from None
    df.columns = [c.strip().lower() for c in df.columns]
    missing = [c for c in ("subject", "metric", "stated") if c not in df.columns]
    if missing:
        raise QueryError(f"{path}: claims file lacks column(s) {', '.join(missing)} "
                         "(expected subject,metric,stated,source)")
    return df


def check_claims(store, claims: pd.DataFrame | str | Path, *, tolerance: float = 0.01,
                 approx_tolerance: float = 0.10, as_of: str | None = None, status=None) -> pd.DataFrame:
    """One row per claim: stated vs recomputed, difference, tolerance, verdict."""
    if not isinstance(claims, pd.DataFrame):
        claims = read_claims(claims)
    rc = _Recompute(store, as_of, status)
    rows = []
    for c in claims.to_dict("records"):
        subject, metric_text = text(c.get("subject")).strip(), text(c.get("metric")).strip()
        metric = canonical_metric(metric_text)
        st = parse_stated(text(c.get("stated")))
        unit = UNITS.get(metric, "")
        row = dict(subject=subject, metric=metric_text, stated=st.text, stated_value=NAN, unit=unit,
                   recomputed=NAN, recomputed_low=NAN, recomputed_high=NAN, difference=NAN, difference_pct=NAN,
                   tolerance=NAN, verdict="cannot check",
                   reason="", source=text(c.get("source")))
        rows.append(row)
        try:
            rel = _rel_tolerance(text(c.get("tolerance")))
        except ValueError:
            row["reason"] = f"cannot read tolerance {text(c.get('tolerance'))!r}"
            continue
        if rel is None:
            rel = approx_tolerance if st.approx else tolerance
        if metric not in UNITS:
            row["reason"] = f"unknown metric {metric_text!r}; known: {', '.join(UNITS)}"
            continue
        if st.error:
            row["reason"] = st.error
            continue
        if not st.is_na and st.unit and st.unit != unit:
            row["reason"] = f"stated unit {st.unit!r} does not fit {metric} ({unit or 'a plain number'})"
            continue
        try:
            value, why, lo, hi = rc.figure(subject, metric)
        except LookupError as e:
            row["reason"] = str(e).strip("'\"")
            continue
        row["recomputed"], row["recomputed_low"], row["recomputed_high"] = value, lo, hi
        known = not (value is None or math.isnan(value))
        if st.is_na:
            row["verdict"] = "supported" if not known else "not supported"
            row["reason"] = (f"stated N/A; recomputed n/a: {why}" if not known
                             else "stated N/A but the data gives a figure")
            continue
        row["stated_value"] = st.value
        if not known:
            row["reason"] = why or "cannot be recomputed"
            continue
        tol_lo = max(st.half_unit, rel * abs(st.low))
        tol_hi = max(st.half_unit, rel * abs(st.high))
        row["tolerance"] = tol_hi if st.low == st.high else max(tol_lo, tol_hi)
        point = lo == hi or (math.isnan(lo) and math.isnan(hi))
        if not point and st.low != st.high:  # a range against a range: both ends must agree
            if math.isnan(lo) or math.isnan(hi):
                row["reason"] = (f"the recomputed figure is {_interval(lo, hi)}: an open end cannot be "
                                 f"compared with the stated range")
                continue
            d_lo, d_hi = lo - st.low, hi - st.high
            ok = abs(d_lo) <= tol_lo + 1e-12 * abs(st.low) and abs(d_hi) <= tol_hi + 1e-12 * abs(st.high)
            diff, ref = (d_lo, st.low) if abs(d_lo) / (tol_lo or 1) >= abs(d_hi) / (tol_hi or 1) else (d_hi, st.high)
        elif not point:  # a stated figure against a recomputed interval: inside it, within tolerance
            below = -math.inf if math.isnan(lo) else lo - tol_lo
            above = math.inf if math.isnan(hi) else hi + tol_hi
            ok = below - 1e-12 * abs(st.low) <= st.low <= above + 1e-12 * abs(st.low)
            diff = 0.0 if (math.isnan(lo) or st.low >= lo) and (math.isnan(hi) or st.low <= hi) else \
                (lo - st.low if not math.isnan(lo) and st.low < lo else hi - st.low)
            ref = st.low
        elif value < st.low:
            diff = value - st.low
            ok = -diff <= tol_lo + 1e-12 * abs(st.low)
            ref = st.low
        elif value > st.high:
            diff = value - st.high
            ok = diff <= tol_hi + 1e-12 * abs(st.high)
            ref = st.high
        else:
            diff, ok, ref = 0.0, True, st.high
        row["difference"] = diff
        row["difference_pct"] = 100.0 * diff / abs(ref) if ref else NAN
        row["verdict"] = "supported" if ok else "not supported"
        notes = []
        if st.approx:
            notes.append(f"approximate: tolerance widened to {100 * rel:g}%")
        if metric in ("annualised_return", "annualised_return_simple") and not ok:
            other = "annualised_return_simple" if metric == "annualised_return" else "annualised_return"
            alt = rc.figure(subject, other)[0]
            kind = "simple" if metric == "annualised_return" else "compound"
            notes.append(f"the {kind} annualised return is {alt:,.0f}%")
        if not ok and point and st.low == st.high and hasattr(store, "provenance"):
            own = _with_own_figures(store, subject, metric, as_of, status)
            if own is not None and abs(own - st.low) <= tol_hi + 1e-12 * abs(st.low):
                notes.append(f"holds with the rows' own figures, before other sources are weighed: "
                             f"{own:,.4g} (docs/queries.md#sources)")
        row["reason"] = "; ".join(notes)
    _note_disagreements(rows, getattr(store, "provenance", None), tolerance)
    return pd.DataFrame(rows, columns=COLUMNS)


def _with_own_figures(store, subject: str, metric: str, as_of, status) -> float | None:
    """The claim's figure recomputed on the rows as written (each deal's and metric's own
    figure, no observation weighed): ``store`` is the rule's view
    (:class:`~dealgraph.queries.observations.Effective`) of the store it wraps."""
    rows = getattr(store, "_store", None)
    if rows is None:
        return None
    try:
        value = _Recompute(rows, as_of, status).figure(subject, metric)[0]
    except LookupError:
        return None
    return None if value is None or math.isnan(value) else value


def _note_disagreements(rows: list[dict], provenance, tolerance: float) -> None:
    """Add to a claim's reason when a figure of its subject (each deal or entity of
    ``A@B``) has sources that disagree beyond ``tolerance``: the claim then rests on the
    figure the rule chose (docs/queries.md#sources), and another source would give another result."""
    from dealgraph.queries.observations import disagreements

    found = disagreements(provenance, tolerance)
    if not len(found):
        return
    by_subject: dict[str, list[str]] = {}
    for r in found.to_dict("records"):
        what = r["field"] + (f" as of {r['as_of']}" if r["as_of"] else "")
        by_subject.setdefault(r["subject"], []).append(
            f"sources disagree on {r['subject']} {what} ({r['spread']:.1%} apart): used {r['chosen']}; "
            f"also {r['others']}")
    for row in rows:
        notes = [n for part in row["subject"].split("@") for n in by_subject.get(part.strip(), [])]
        if notes:
            row["reason"] = "; ".join([row["reason"]] + notes if row["reason"] else notes)


__all__ = ["check_claims", "parse_stated", "read_claims", "Stated", "UNITS", "ALIASES", "cmp_dates"]
