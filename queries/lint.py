"""``dealgraph lint``: findings about the stored data that a person should look at.

Every check is a pure function of the store's DataFrames (deals, entities,
metric observations) returning a tidy DataFrame of findings with the columns
:data:`FINDING_COLUMNS`, one row a finding:

* ``check``: the check's name (:data:`CHECKS`);
* ``severity``: ``error`` (almost certainly wrong and distorting figures),
  ``warning`` (probably wrong: a person decides), ``info`` (incomplete);
* ``ids``: the deal ids or entity ids the finding is about, ``", "``-joined,
  in the order the message names them;
* ``names``: their display names (entity names; a deal as ``payer -> payee``);
* ``message``: what was found, with the figures that triggered it;
* ``fix``: the ``dealgraph`` command that fixes it (shell-quoted ids).

The checks (thresholds, edge cases and why: ``docs/lint.md``):

* ``duplicate-deals`` -- two deals of one kind between one payer and one payee
  (entities that look alike count as one), dated within ``days`` days of each
  other, with amounts within ``tolerance`` (or both undisclosed);
* ``amount-conflict`` -- such a pair whose ``source`` differs and whose amounts
  differ: two sources report one deal with different figures;
* ``lookalike-entities`` -- two entities whose id, name or an alias are equal
  after :func:`dealgraph.loaders.names.name_key`, or similar above
  :data:`FUZZY_THRESHOLD`;
* ``round-without-valuation`` -- a round (as ``dealgraph query rounds`` groups
  them) with no post-money valuation;
* ``orphan-entity`` -- an entity no deal and no metric observation mentions.

Findings are ordered by check (in :data:`CHECKS` order), severity, then ids:
the same store gives the same lines.
"""

from __future__ import annotations

import csv
import io
import re
import shlex
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np
import pandas as pd

from dealgraph.errors import QueryError
from dealgraph.graph.schema import DEAL_COLUMNS, DEALS, ROUND_TYPES, UNDIRECTED_TYPES
from dealgraph.loaders.amounts import QUALIFIER_PREFIX
from dealgraph.loaders.names import CUTOFF, name_key
from dealgraph.queries.common import column_nums, column_texts, dates_of, empty_frame, money

FINDING_COLUMNS: tuple[str, ...] = ("check", "severity", "ids", "names", "message", "fix")
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")

DEFAULT_DAYS = 30
DEFAULT_TOLERANCE = 0.10
#: Relative slack when comparing amounts, so that binary rounding of a figure at
#: exactly the tolerance (100 vs 110 at 10 %) does not decide the finding, and
#: amounts closer than this count as equal.
_SLACK = 1e-9


# ---------------------------------------------------------------------------
# dates as day intervals
# ---------------------------------------------------------------------------


def day_interval(date_key, date_precision) -> tuple[np.ndarray, np.ndarray]:
    """First and last day (days since 1970-01-01) each partial date can mean:
    ``2025-12-18`` is one day, ``2025-12`` the 31 days of December, ``2025`` the year."""
    key = np.asarray(date_key, dtype=np.int64)
    prec = np.asarray(date_precision, dtype=np.int64)
    y, rest = np.divmod(key, 10000)
    m, d = np.divmod(rest, 100)
    m = np.where(prec >= 2, np.maximum(m, 1), 1)
    d = np.where(prec >= 3, np.maximum(d, 1), 1)
    month = (y - 1970) * 12 + (m - 1)
    first = month.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    start = first + d - 1
    span = np.where(prec >= 2, 1, 12)                      # months the date covers
    after = (month + span).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    end = np.where(prec >= 3, start, after - 1)
    return start, end


def day_gap(start_a, end_a, start_b, end_b) -> np.ndarray:
    """Days between two date intervals: 0 when they overlap (``2025-05`` and ``2025-05-20``)."""
    return np.maximum(0, np.maximum(np.asarray(start_b) - np.asarray(end_a),
                                    np.asarray(start_a) - np.asarray(end_b)))


# ---------------------------------------------------------------------------
# look-alike entities
# ---------------------------------------------------------------------------

#: The fuzzy score at or above which two entities look alike: the score and cutoff of
#: ``dealgraph add``'s "did you mean" (:func:`dealgraph.loaders.names.similar`):
#: 100 x rapidfuzz ``OSA.normalized_similarity`` of the two name keys, i.e. one minus
#: the edits (insertions, deletions, substitutions, swaps of neighbours) over the longer
#: key's length; 80 keeps one edit in five characters (``nvidai`` / ``nvidia`` 83,
#: ``meta`` / ``beta`` 75).
FUZZY_THRESHOLD = CUTOFF
#: Cells of one chunk of the all-pairs fuzzy comparison (float32: 4 bytes each).
_CELLS = 16_000_000
_DIGITS = re.compile(r"\d+")


def entity_texts(entities: pd.DataFrame) -> pd.DataFrame:
    """Every text an entity is known by (id, name, each alias) with its name key:
    columns entity, text, key (rows with an empty key left out, one row per entity and key)."""
    ids = column_texts(entities, "id")
    names = column_texts(entities, "name")
    aliases = column_texts(entities, "aliases")
    ent, txt = [], []
    for i, n, a in zip(ids.tolist(), names.tolist(), aliases.tolist()):
        for t in [n, i] + [x.strip() for x in a.split(";")]:
            if t:
                ent.append(i)
                txt.append(t)
    keys = [name_key(t) for t in txt]
    df = pd.DataFrame({"entity": pd.Series(ent, dtype=object), "text": pd.Series(txt, dtype=object),
                       "key": pd.Series(keys, dtype=object)})
    df = df[df["key"] != ""]
    return df.drop_duplicates(["entity", "key"]).reset_index(drop=True)


def lookalike_pairs(entities: pd.DataFrame, *, threshold: float = FUZZY_THRESHOLD) -> pd.DataFrame:
    """Pairs of entities that look like one another: columns a, b (ids, a < b), exact
    (some name key of a equals one of b), score (100 when exact, else the best fuzzy
    score), key (the equal key, or b's matching key), a_text, b_text (what matched).

    * exact: a text of each (id, name or alias) has the same
      :func:`~dealgraph.loaders.names.name_key` (case, accents, punctuation, spacing
      and suffixes such as Inc. / Corp. ignored);
    * fuzzy: the score of two keys (:data:`FUZZY_THRESHOLD`) >= ``threshold``, and the
      same numbers in both (``fund 1`` and ``fund 2`` are different funds, not a typo).

    Keys are compared all against all by rapidfuzz's ``cdist`` (native code on every
    core), within blocks of keys with the same numbers, in chunks of rows."""
    cols = ["a", "b", "exact", "score", "key", "a_text", "b_text"]
    t = entity_texts(entities)
    if len(t) == 0:
        return empty_frame(cols)
    found: dict[tuple[str, str], tuple] = {}

    def offer(ea, eb, exact, score, key, ta, tb):
        if ea == eb:
            return
        if ea > eb:
            ea, eb, ta, tb = eb, ea, tb, ta
        best = found.get((ea, eb))
        if best is None or (exact, score) > (best[0], best[1]):
            found[(ea, eb)] = (exact, score, key, ta, tb)

    # exact: entities sharing a key
    multi = t[t.duplicated("key", keep=False)].sort_values(["key", "entity"], kind="stable")
    for key, grp in multi.groupby("key", sort=True):
        rows = list(zip(grp["entity"], grp["text"]))
        for x in range(len(rows)):
            for y in range(x + 1, len(rows)):
                offer(rows[x][0], rows[y][0], True, 100.0, key, rows[x][1], rows[y][1])

    # fuzzy: distinct keys compared all against all
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    members: dict[str, list[tuple[str, str]]] = {}
    for e, x, k in zip(t["entity"].tolist(), t["text"].tolist(), t["key"].tolist()):
        members.setdefault(k, []).append((e, x))
    # only keys with the same digits can match: that is the rule, and it splits
    # numbered names (``startup 00017``) into blocks of one
    blocks: dict[tuple[str, ...], list[str]] = {}
    for k in members:
        blocks.setdefault(tuple(_DIGITS.findall(k)), []).append(k)
    for _, keys in sorted(blocks.items()):
        if len(keys) < 2:
            continue
        rows = max(1, _CELLS // len(keys))
        for lo in range(0, len(keys), rows):
            # rapidfuzz rounds a normalised cutoff: ask a little lower, keep what reaches it
            m = process.cdist(keys[lo:lo + rows], keys, scorer=OSA.normalized_similarity,
                              score_cutoff=max(threshold / 100 - 0.001, 0), dtype=np.float32, workers=-1)
            xs, ys = np.nonzero(m)
            for x, y in zip(xs.tolist(), ys.tolist()):
                if lo + x >= y:
                    continue
                score = 100 * OSA.normalized_similarity(keys[lo + x], keys[y])
                if score < threshold - 1e-6:
                    continue
                for ea, ta in members[keys[lo + x]]:
                    for eb, tb in members[keys[y]]:
                        offer(ea, eb, False, round(score, 1), keys[y], ta, tb)
    if not found:
        return empty_frame(cols)
    rows = [(a, b, *v) for (a, b), v in sorted(found.items())]
    return pd.DataFrame(rows, columns=cols)


# ---------------------------------------------------------------------------
# the shared analysis
# ---------------------------------------------------------------------------


def _q(x: str) -> str:
    return shlex.quote(str(x))


def _frame(rows: list[dict]) -> pd.DataFrame:
    if not rows:
        return empty_frame(list(FINDING_COLUMNS))
    return pd.DataFrame(rows, columns=list(FINDING_COLUMNS))


def _deal_kind(types: np.ndarray) -> np.ndarray:
    """The kind two deals must share to be the same deal: the type, except that the
    round types (funding_round, investment) are one kind."""
    out = types.astype(object).copy()
    out[np.isin(types, ROUND_TYPES)] = "round"
    return out


@dataclass
class Lint:
    """The store's tables and the thresholds; each check is a method returning findings.

    Built once per run so the checks share what they have in common (the entity
    lookalikes feed the duplicate search; both duplicate checks share the pairs)."""

    deals: pd.DataFrame
    entities: pd.DataFrame
    metrics: pd.DataFrame
    days: int = DEFAULT_DAYS
    tolerance: float = DEFAULT_TOLERANCE
    #: every candidate figure of the facts observations give (``queries.observations``), or None
    provenance: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if self.days < 0:
            raise QueryError(f"--days must be 0 or more, not {self.days}")
        if not self.tolerance >= 0:
            raise QueryError(f"--tolerance must be 0 or more, not {self.tolerance}")

    # -- entities --------------------------------------------------------
    @cached_property
    def names(self) -> dict[str, str]:
        e = self.entities
        return dict(zip(column_texts(e, "id").tolist(), column_texts(e, "name").tolist()))

    def name(self, ident: str) -> str:
        return self.names.get(ident, ident) if ident else "(no single payer)"

    @cached_property
    def usage(self) -> pd.Series:
        """Entity id -> number of deal sides and metric observations that mention it."""
        d = self.deals
        parts = [column_texts(d, "payer"), column_texts(d, "payee"), column_texts(self.metrics, "entity")]
        ids = np.concatenate(parts) if parts else np.empty(0, dtype=object)
        return pd.Series(ids[ids != ""], dtype=object).value_counts()

    def keeper(self, a: str, b: str) -> tuple[str, str]:
        """``(source, into)`` for merging two look-alike entities: into the one more
        deals and metrics mention; on a tie, into the id that sorts first."""
        ua, ub = int(self.usage.get(a, 0)), int(self.usage.get(b, 0))
        if ua > ub or (ua == ub and a < b):
            return b, a
        return a, b

    @cached_property
    def lookalike_pairs(self) -> pd.DataFrame:
        """Look-alike entity pairs: a, b (a < b), exact (name keys equal), score, what matched."""
        return lookalike_pairs(self.entities)

    @cached_property
    def canonical(self) -> dict[str, str]:
        """Entity id -> the id of its look-alike group's keeper (only ids in a group)."""
        pairs = self.lookalike_pairs
        if len(pairs) == 0:
            return {}
        import networkx as nx

        g = nx.Graph()
        g.add_edges_from(zip(pairs["a"], pairs["b"]))
        out: dict[str, str] = {}
        for comp in nx.connected_components(g):
            into = min(comp, key=lambda i: (-int(self.usage.get(i, 0)), i))
            out.update({i: into for i in comp})
        return out

    # -- deal pairs ------------------------------------------------------
    @cached_property
    def deal_pairs(self) -> pd.DataFrame:
        """Every pair of deals of one kind between one (canonical) payer and payee whose
        dates lie within ``days`` days, with amounts within ``tolerance`` or both
        undisclosed: positions i < j into :attr:`deals`, the gap in days and the
        relative amount difference (NaN when both are undisclosed).

        Deals are grouped by (payer, payee, kind) and sorted by first day within a
        group; a deal's partners are then the next few rows of its group, so the
        work is the number of pairs found, not the square of the deals."""
        d = self.deals
        n = len(d)
        empty = pd.DataFrame({"i": np.empty(0, np.int64), "j": np.empty(0, np.int64),
                              "gap": np.empty(0, np.int64), "diff": np.empty(0, float)})
        if n < 2:
            return empty
        canon = self.canonical
        payer, payee = column_texts(d, "payer"), column_texts(d, "payee")
        if canon:
            payer = np.array([canon.get(x, x) for x in payer], dtype=object)
            payee = np.array([canon.get(x, x) for x in payee], dtype=object)
        undirected = np.isin(column_texts(d, "type"), UNDIRECTED_TYPES) & (payer > payee)
        if undirected.any():  # a partnership's two parties in no order: A-B is B-A
            payer, payee = np.where(undirected, payee, payer), np.where(undirected, payer, payee)
        kind = _deal_kind(column_texts(d, "type"))
        group = pd.MultiIndex.from_arrays([payer, payee, kind]).factorize()[0]
        start, end = day_interval(d["date_key"].to_numpy(), d["date_precision"].to_numpy())
        order = np.lexsort((start, group))
        g, s, e = group[order], start[order], end[order]
        found_a, found_b = [], []
        active = np.arange(n - 1)
        k = 1
        while len(active):
            active = active[active + k < n]
            b = active + k
            ok = (g[active] == g[b]) & (s[b] - e[active] <= self.days)
            active = active[ok]
            found_a.append(active)
            found_b.append(active + k)
            k += 1
        a = np.concatenate(found_a) if found_a else np.empty(0, np.int64)
        b = np.concatenate(found_b) if found_b else np.empty(0, np.int64)
        i, j = order[a], order[b]
        swap = i > j
        i, j = np.where(swap, j, i), np.where(swap, i, j)
        amt = column_nums(d, "amount_usd")
        ai, aj = amt[i], amt[j]
        both_missing = np.isnan(ai) & np.isnan(aj)
        lo = np.fmin(np.abs(ai), np.abs(aj))
        diff = np.abs(ai - aj)
        within = diff <= (self.tolerance + _SLACK) * lo
        keep = both_missing | within
        rel = np.where(lo > 0, diff / np.where(lo > 0, lo, 1), np.where(diff == 0, 0.0, np.inf))
        out = pd.DataFrame({"i": i[keep], "j": j[keep],
                            "gap": day_gap(start[i], end[i], start[j], end[j])[keep],
                            "diff": np.where(both_missing, np.nan, rel)[keep]})
        return out.sort_values(["i", "j"], kind="stable").reset_index(drop=True)

    @cached_property
    def _paired(self) -> dict[int, dict]:
        """Position -> the fields the messages need, for the deals in some pair only
        (``filled``: how many of the CSV's deal columns the row fills in)."""
        p = self.deal_pairs
        pos = np.unique(np.concatenate([p["i"].to_numpy(), p["j"].to_numpy()]))
        d = self.deals.iloc[pos]
        cols = {c: column_texts(d, c) for c in ("deal_id", "type", "payer", "payee", "source", "amount_qualifier")}
        cols["amount_usd"] = column_nums(d, "amount_usd")
        cols["date"] = dates_of(d) if len(d) else np.empty(0, dtype=object)
        cols["source_key"] = np.array([" ".join(x.split()).casefold() for x in cols["source"]], dtype=object)
        filled = np.zeros(len(d), np.int64)
        for c in DEAL_COLUMNS:
            if c in d.columns:
                filled += d[c].notna().to_numpy(dtype=bool) & (column_texts(d, c) != "")
        cols["filled"] = filled
        return {int(x): dict(zip(cols, vals)) for x, *vals in zip(pos.tolist(), *cols.values())}

    @cached_property
    def _pair_is_conflict(self) -> np.ndarray:
        """Per deal pair: do the two sources differ while both amounts are known and differ?"""
        p, rows = self.deal_pairs, self._paired
        differ = p["diff"].to_numpy() > _SLACK
        other = np.array([rows[i]["source_key"] != rows[j]["source_key"] for i, j in zip(p["i"], p["j"])], dtype=bool)
        return other & differ if len(p) else np.zeros(0, dtype=bool)

    @staticmethod
    def _deal_label(r: dict) -> str:
        amount = (QUALIFIER_PREFIX.get(r["amount_qualifier"], "") + money(r["amount_usd"])
                  if not np.isnan(r["amount_usd"]) else "undisclosed")
        return f"{r['deal_id']} ({r['date']}, {r['type']}, {amount})"

    def _identical(self, i: int, j: int) -> bool:
        """Are deals i and j equal on every column a derived deal id is made from?"""
        d = self.deals
        for c in DEALS.identity:
            a, b = d[c].iloc[i], d[c].iloc[j]
            if (pd.isna(a) and pd.isna(b)) or (not pd.isna(a) and not pd.isna(b) and a == b):
                continue
            return False
        return True

    def _pair_findings(self, conflicts: bool) -> pd.DataFrame:
        p = self.deal_pairs
        sel = self._pair_is_conflict == conflicts
        rows = self._paired
        out = []
        for i, j, gap, diff in zip(p["i"][sel], p["j"][sel], p["gap"][sel], p["diff"][sel]):
            ri, rj = rows[i], rows[j]
            # keep the fuller row; on a tie, the deal id that sorts first
            first_i = (-ri["filled"], ri["deal_id"]) <= (-rj["filled"], rj["deal_id"])
            keep, drop = (i, j) if first_i else (j, i)
            rk, rd = rows[keep], rows[drop]
            pair = f"{self.name(ri['payer'])} -> {self.name(ri['payee'])}"
            if (ri["payer"], ri["payee"]) != (rj["payer"], rj["payee"]):
                pair += f" / {self.name(rj['payer'])} -> {self.name(rj['payee'])}"
            when = "the same date" if gap == 0 else f"{int(gap)} day{'s' if gap != 1 else ''} apart"
            both = f"{self._deal_label(ri)} and {self._deal_label(rj)}"
            if conflicts:
                message = (f"{pair}: {when}, sources disagree on the amount ({diff:.1%} apart): {both}; "
                           f"{ri['deal_id']} says {ri['source'] or '(no source)'}; "
                           f"{rj['deal_id']} says {rj['source'] or '(no source)'}")
                severity = "warning"
                fix = f"dealgraph deal delete {_q(rd['deal_id'])}  # or {_q(rk['deal_id'])}: keep the source you trust"
            else:
                same = self._identical(i, j)
                amounts = "both undisclosed" if np.isnan(diff) else (
                    "same amount" if diff <= _SLACK else f"amounts {diff:.1%} apart")
                message = (f"{pair}: {'identical rows' if same else 'likely the same deal'} "
                           f"({when}, {amounts}): {both}")
                severity = "error" if same else "warning"
                fix = f"dealgraph deal delete {_q(rd['deal_id'])}"
            out.append({"check": "amount-conflict" if conflicts else "duplicate-deals", "severity": severity,
                        "ids": f"{ri['deal_id']}, {rj['deal_id']}",
                        "names": f"{self.name(ri['payer'])} -> {self.name(ri['payee'])}; "
                                 f"{self.name(rj['payer'])} -> {self.name(rj['payee'])}",
                        "message": message, "fix": fix})
        return _frame(out)

    # -- the checks ------------------------------------------------------
    def duplicate_deals(self) -> pd.DataFrame:
        return self._pair_findings(conflicts=False)

    def amount_conflicts(self) -> pd.DataFrame:
        return pd.concat([self._pair_findings(conflicts=True), self._source_conflicts()], ignore_index=True)

    def _source_conflicts(self) -> pd.DataFrame:
        """A figure (deal field or entity metric at a date) whose sources -- the row's own
        value and its observations -- differ: a warning beyond ``tolerance`` (of the largest),
        info within it (but beyond rounding, :data:`_SLACK`)."""
        from dealgraph.queries.observations import disagreements

        out = []
        for r in disagreements(self.provenance, _SLACK).to_dict("records"):
            what = r["field"] + (f" as of {r['as_of']}" if r["as_of"] else "")
            deal = self.deals[self.deals["deal_id"] == r["subject"]]
            subject = (f"{self.name(str(deal['payer'].iloc[0]))} -> {self.name(str(deal['payee'].iloc[0]))}"
                       if len(deal) else self.name(r["subject"]))
            severity = "warning" if r["spread"] > self.tolerance + _SLACK else "info"
            out.append({"check": "amount-conflict", "severity": severity, "ids": r["subject"], "names": subject,
                        "message": f"{r['subject']} {what}: sources disagree ({r['spread']:.1%} apart); queries use "
                                   f"{r['chosen']}; also {r['others']}",
                        "fix": "dealgraph add SOURCES.csv  # an observation of higher confidence or later "
                               "publication decides (docs/queries.md#sources)"})
        return _frame(out)

    def lookalike_entities(self) -> pd.DataFrame:
        out = []
        for r in self.lookalike_pairs.itertuples(index=False):
            source, into = self.keeper(r.a, r.b)
            how = (f"equal once case, punctuation and suffixes are ignored ({r.key!r})" if r.exact
                   else f"{r.score:.0f}% similar")
            out.append({"check": "lookalike-entities", "severity": "error" if r.exact else "warning",
                        "ids": f"{r.a}, {r.b}", "names": f"{self.name(r.a)}; {self.name(r.b)}",
                        "message": f"{r.a_text!r} ({r.a}) and {r.b_text!r} ({r.b}): {how}; "
                                   f"{int(self.usage.get(r.a, 0))} vs {int(self.usage.get(r.b, 0))} "
                                   "deal sides and metrics",
                        "fix": f"dealgraph entity merge {_q(source)} {_q(into)}"})
        return _frame(out)

    def rounds_without_valuation(self) -> pd.DataFrame:
        from dealgraph.queries.metrics import metric_index
        from dealgraph.queries.returns import RoundTable

        d = self.deals
        d = d[(column_texts(d, "status") != "terminated")]
        if len(d) == 0:
            return _frame([])
        rt = RoundTable(d, metric_index(self.metrics))
        missing = np.flatnonzero(~rt.post_money.known)
        # valuation observations dated as the round: a hint, not a post-money
        m = self.metrics
        vals = m[column_texts(m, "metric") == "valuation"] if len(m) else m
        hint = set(zip(column_texts(vals, "entity").tolist(), vals["date_key"].tolist(),
                       vals["date_precision"].tolist())) if len(vals) else set()
        out = []
        for r in missing.tolist():
            ent, date = rt.entity[r], rt.date[r]
            ids = rt.deal_ids_text[r]
            amount = money(rt.amount_usd[r]) if not np.isnan(rt.amount_usd[r]) else "undisclosed amount"
            n_deals = int(rt.stop[r] - rt.start[r])
            message = (f"{self.name(ent)} ({ent}) round of {date} ({amount}, {n_deals} deal{'s' if n_deals > 1 else ''}): "
                       "no post-money valuation on its deals, nor a post_money_valuation observation of "
                       f"{ent} recorded for them or dated {date}")
            if (ent, int(rt.key[r]), int(rt.prec[r])) in hint:
                message += f" (a 'valuation' observation dated {date} exists: if it is this round's post-money, " \
                           "record it as post_money_valuation)"
            buf = io.StringIO()
            csv.writer(buf, lineterminator="").writerow([ent, "post_money_valuation", date, "VALUE", "USD", "SOURCE"])
            out.append({"check": "round-without-valuation", "severity": "info", "ids": ids,
                        "names": self.name(ent), "message": message,
                        "fix": f"dealgraph add FILE.csv  # a metrics file with the row: {buf.getvalue()}"})
        return _frame(out)

    def orphan_entities(self) -> pd.DataFrame:
        used = set(self.usage.index)
        out = []
        for ident in column_texts(self.entities, "id").tolist():
            if ident not in used:
                out.append({"check": "orphan-entity", "severity": "info", "ids": ident, "names": self.name(ident),
                            "message": f"{self.name(ident)!r} ({ident}): no deal and no metric observation mentions it",
                            "fix": f"dealgraph entity delete {_q(ident)}"})
        return _frame(out)


# ---------------------------------------------------------------------------
# the public functions
# ---------------------------------------------------------------------------

#: Check name -> (method of :class:`Lint`, one-line definition), in report order.
CHECKS: dict[str, tuple[Callable[[Lint], pd.DataFrame], str]] = {
    "duplicate-deals": (Lint.duplicate_deals, "two deals of one kind between one payer and payee, "
                        "dated within --days and with amounts within --tolerance"),
    "amount-conflict": (Lint.amount_conflicts, "such a pair reported by different sources with different amounts, "
                        "or one figure whose sources (observations) differ by more than --tolerance"),
    "lookalike-entities": (Lint.lookalike_entities, "two entities whose names or aliases look alike"),
    "round-without-valuation": (Lint.rounds_without_valuation, "a round with no post-money valuation"),
    "orphan-entity": (Lint.orphan_entities, "an entity no deal and no metric mentions"),
}


def lint(deals: pd.DataFrame, entities: pd.DataFrame, metrics: pd.DataFrame, *, days: int = DEFAULT_DAYS,
         tolerance: float = DEFAULT_TOLERANCE, checks=None, provenance: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every finding of ``checks`` (default: all of :data:`CHECKS`) on the tables, ordered
    by check, severity, then ids. ``metrics`` is ``store.metrics`` (the observations,
    deal columns included)."""
    names = list(CHECKS) if not checks else list(checks)
    unknown = [c for c in names if c not in CHECKS]
    if unknown:
        raise QueryError(f"unknown check {unknown[0]!r}; expected one of {', '.join(CHECKS)}")
    ctx = Lint(deals, entities, metrics, days=days, tolerance=tolerance, provenance=provenance)
    parts = [CHECKS[c][0](ctx) for c in CHECKS if c in names]
    df = pd.concat(parts, ignore_index=True) if parts else _frame([])
    if len(df) == 0:
        return _frame([])
    df["_c"] = df["check"].map({c: i for i, c in enumerate(CHECKS)})
    df["_s"] = df["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    df = df.sort_values(["_c", "_s", "ids", "fix"], kind="stable").drop(columns=["_c", "_s"])
    return df.reset_index(drop=True)


def lint_store(store, **options) -> pd.DataFrame:
    """:func:`lint` on a store's tables (the stored rows; the observations' disagreements too)."""
    from dealgraph.queries.observations import effective

    seen = effective(store)
    return lint(store.deals, store.entities, store.metrics, provenance=getattr(seen, "provenance", None), **options)


def summary(findings: pd.DataFrame) -> str:
    """``N findings: E errors, W warnings, I info`` for the report's last line."""
    counts = findings["severity"].value_counts() if len(findings) else pd.Series(dtype=int)
    n = len(findings)
    parts = []
    for s in SEVERITIES:
        k = int(counts.get(s, 0))
        parts.append(f"{k} {s}" + ("s" if s != "info" and k != 1 else ""))
    return f"{n} finding{'s' if n != 1 else ''}: " + ", ".join(parts)
