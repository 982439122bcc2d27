"""Observations files (``subject,field,as_of,value,currency,source,url,published,confidence,quote,notes``):
one source's figure for a deal field or an entity metric.

:func:`observation_fields` reads a file's cells (what needs no store, as ``loaders.validate``
does for every kind); :func:`resolve_observations` checks them against the store and the
rest of the same ``add``:

* ``subject`` is a deal id (stored, or in a deals file of the same add) or an entity (id,
  name or alias; stored as its id). A deal id wins when a text is both. Unknown: refused
  with "did you mean".
* ``field``: for a deal, one of :data:`~dealgraph.graph.schema.OBSERVED_DEAL_FIELDS`; for an
  entity, one of :data:`~dealgraph.graph.schema.METRICS`.
* ``as_of``: the date an entity metric is at (required); empty for a deal field, which is
  at the deal's date.
* ``value``: an amount as ``loaders.amounts`` reads it (``$14.3bn``, ``~750m``); for
  ``stake_pct`` a percentage in (0, 100] (``49`` or ``49%``).
* ``currency``: a deal field's figure is in the deal's currency (empty means it; another is
  refused); an entity metric's defaults to USD and converts at the FX rate on or before
  ``as_of``, as metrics do.
* ``source`` (required: the publisher, and title if useful), ``url`` (``http(s)://``),
  ``published`` (a date, maybe partial), ``confidence`` (:data:`~dealgraph.graph.schema.CONFIDENCES`,
  default :data:`~dealgraph.graph.schema.DEFAULT_CONFIDENCE`), ``quote`` and ``notes`` as given.

The key is (subject, field, as_of, source): re-adding a file changes nothing, and a source's
corrected figure replaces its earlier one.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dealgraph.graph.schema import CONFIDENCES, DEFAULT_CONFIDENCE, DEFAULT_CURRENCY, METRICS, OBSERVED_DEAL_FIELDS
from dealgraph.loaders.arrow import flat, mask_of, numbers

_FIELDS = tuple(dict.fromkeys(OBSERVED_DEAL_FIELDS + METRICS))
_URL_RE = r"^https?://\S+$"


def observation_fields(c) -> pa.Table:
    """The typed columns of an observations file (``c``: a ``loaders.validate._Checker``)."""
    subject = c.required("subject")
    field = c.choice("field", _FIELDS, None)
    as_of, a_key, a_prec = c.date("as_of", required=False)
    published, p_key, p_prec = c.date("published", required=False)
    currency, mapped, codes = c.mapped("currency", lambda u: u.strip().upper())
    bad = np.array([m != "" and not (len(m) == 3 and m.isalpha() and m.isascii()) for m in mapped], dtype=bool)
    if bad.any():
        c.fail(bad[codes], "currency", lambda v: f"{v!r} is not an ISO 4217 currency code (e.g. USD, EUR)", currency)
    stake = mask_of(pc.equal(flat(field.cast(pa.string())), "stake_pct"))
    if stake.any():  # a stake is a percentage: '49%' reads as 49
        text = flat(c.raw("value"))
        text = pc.if_else(pa.array(stake), pc.utf8_rtrim(pc.utf8_trim_whitespace(text), characters="%"), text)
        c.cells = c.cells.set_column(c.cells.column_names.index("value"), "value", text)
    amount = c.amount("value", None)  # value, value_qualifier, value_low, value_high
    value = amount["value"]
    c.fail(pc.and_(pc.is_null(value), pc.equal(c.col("value"), "")), "value", "required value is empty")
    c.fail(stake & mask_of(pc.or_(pc.less_equal(value, 0), pc.greater(value, 100))), "value",
           "a stake must be in (0, 100]")
    source = c.required("source")
    url = c.col("url")
    c.fail(pc.and_(pc.not_equal(url, ""), pc.invert(pc.match_substring_regex(url, _URL_RE))), "url",
           lambda v: f"{v!r} is not a web address (http:// or https://)", url)
    return pa.table({
        "subject": subject, "field": field, "as_of": as_of, "as_of_key": pa.array(a_key),
        "as_of_precision": pa.array(a_prec), **amount,
        "currency": currency, "source": source, "url": url, "published": published,
        "published_key": pa.array(p_key), "published_precision": pa.array(p_prec),
        "confidence": c.choice("confidence", CONFIDENCES, DEFAULT_CONFIDENCE), "quote": c.raw("quote"),
        "notes": c.raw("notes"), "extra": c.extra(),
    })


def resolve_observations(t, rows: pa.Table, index, deals: pa.Table, fx: pa.Table, listed) -> pa.Table:
    """``rows`` (validated) with subjects as ids, currencies filled in and FX rates added;
    problems go to ``listed(mask, column, reason_of_row)``. ``deals``: the stored deals and
    those of the same add (``deal_id``, ``date_key``, ``date_precision``, ``currency``);
    ``index``: the batch's :class:`~dealgraph.loaders.resolve.EntityIndex`."""
    from dealgraph.loaders.names import closest, suggestion
    from dealgraph.loaders.resolve import convert_to_usd
    from dealgraph.loaders.validate import FAILED

    n = rows.num_rows
    ok = ~mask_of(rows[FAILED])
    subject = flat(rows["subject"])
    deal_ids = flat(deals["deal_id"].cast(pa.string())) if deals.num_rows else pa.array([], pa.string())
    at = pc.index_in(subject, value_set=deal_ids)
    is_deal = mask_of(pc.is_valid(at))
    keys = pc.utf8_lower(pc.utf8_trim_whitespace(subject))
    ent = index.ids.take(pc.index_in(keys, value_set=index.keys))
    is_entity = ~is_deal & mask_of(pc.is_valid(ent))
    subjects = subject.to_pylist()

    def unknown(i: int) -> str:
        s = subjects[i]
        near = index.near_misses(s)
        deal = closest(s, deal_ids.to_pylist()) if len(deal_ids) else None
        hint = f"did you mean the deal {deal!r}?" if deal else (suggestion(near) if near else "")
        return f"no deal id or entity {s!r}" + (f"; {hint}" if hint else " (by deal id, entity id, name or alias)")
    listed(~is_deal & ~is_entity, "subject", unknown)  # on every row, as entity names are

    field = flat(rows["field"].cast(pa.string())).to_pylist()
    deal_field = np.array([f in OBSERVED_DEAL_FIELDS for f in field], dtype=bool)
    metric_field = np.array([f in METRICS for f in field], dtype=bool)
    listed(is_deal & ~deal_field & ok, "field",
           lambda i: f"{field[i]!r} is not a deal field; for a deal give one of {', '.join(OBSERVED_DEAL_FIELDS)}")
    listed(is_entity & ~metric_field & ok, "field",
           lambda i: f"{field[i]!r} is not an entity metric; for an entity give one of {', '.join(METRICS)}")
    as_of_given = mask_of(pc.not_equal(flat(rows["as_of"].cast(pa.string())), ""))
    listed(is_deal & as_of_given & ok, "as_of", lambda i: "a deal field is at the deal's date: leave as_of empty")
    listed(is_entity & ~as_of_given & ok, "as_of", lambda i: f"an entity metric needs the date it is at "
                                                             f"(as_of, e.g. 2024 or 2025-06-30)")

    pos = pc.fill_null(at, 0).to_numpy()
    deal_currency = np.array(flat(deals["currency"].cast(pa.string())).to_pylist() if deals.num_rows else [""],
                             dtype=object)[pos]
    deal_key = (deals["date_key"].to_numpy() if deals.num_rows else np.zeros(1, np.int64))[pos]
    deal_prec = (deals["date_precision"].to_numpy() if deals.num_rows else np.zeros(1, np.int64))[pos]
    given = np.array(flat(rows["currency"].cast(pa.string())).to_pylist(), dtype=object)
    valid = np.array([len(g) == 3 and g.isalpha() and g.isascii() for g in given], dtype=bool)
    listed(is_deal & valid & (given != deal_currency), "currency",
           lambda i: f"a deal field is in the deal's currency ({deal_currency[i]}), not {given[i]}: "
                     f"give the figure in {deal_currency[i]} or leave currency empty")
    currency = np.where(given != "", given, np.where(is_deal, deal_currency, DEFAULT_CURRENCY))
    key = np.where(is_deal, deal_key, rows["as_of_key"].to_numpy())
    prec = np.where(is_deal, deal_prec, rows["as_of_precision"].to_numpy())
    check_fx = (is_deal | is_entity) & ok
    cur = pa.array(np.where(check_fx, currency, DEFAULT_CURRENCY).tolist(), pa.string())
    rate, _dates, missing = convert_to_usd(cur, key.astype(np.int64), prec.astype(np.int64), fx)
    listed(missing, "currency", lambda i: f"no FX rate for {currency[i]} on or before the figure's date; "
                                          f"add one in an fx file")
    ids = np.where(is_deal | ~is_entity, subjects, np.array(ent.to_pylist(), dtype=object)) if n else []
    rows = rows.set_column(rows.column_names.index("subject"), "subject", pa.array(list(ids), pa.string()))
    rows = rows.set_column(rows.column_names.index("currency"), "currency", pa.array(currency.tolist(), pa.string()))
    return rows.append_column("fx_rate", numbers(rate))
