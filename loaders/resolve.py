"""What validation needs the store for: naming entities and converting currencies.

* :func:`resolve_refs` matches ``payer``/``payee``/``entity`` cells to entity ids,
  names or aliases, case-insensitively. Unknown names become new entities (kind
  ``company``), unless ``strict``.
* :func:`convert_to_usd` finds, for every non-USD row, the latest FX rate of its
  currency dated on or before the row's date (at their common precision).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealgraph.graph.dates import truncate_key
from dealgraph.loaders.validate import slugify


def entity_lookup(entities: pd.DataFrame) -> dict[str, str]:
    """lower-cased id, name and every alias -> entity id (ids win over names, names over aliases)."""
    look: dict[str, str] = {}
    for ident, name, aliases in entities[["id", "name", "aliases"]].itertuples(index=False, name=None):
        for a in str(aliases or "").split(";"):
            if a.strip():
                look.setdefault(a.strip().lower(), ident)
    for ident, name in entities[["id", "name"]].itertuples(index=False, name=None):
        look[str(name).strip().lower()] = ident
    for ident in entities["id"]:
        look[str(ident).lower()] = ident
    return look


def resolve_refs(refs: pd.Series, lookup: dict[str, str], *, strict: bool,
                 created: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """Entity ids for a column of references.

    Returns ``(ids, unknown)``: ``unknown`` is True where a reference matched no
    entity. Unless ``strict``, an unknown name is given a new id (its slug), recorded in
    ``created`` (id -> name) and added to ``lookup`` so later rows reuse it.
    """
    codes, uniques = pd.factorize(refs)  # a million rows name far fewer entities
    resolved = []
    for r in uniques:
        if r == "":
            resolved.append(None)
            continue
        key = r.strip().lower()
        ident = lookup.get(key)
        if ident is None and not strict:
            ident = lookup.get(slugify(r))
            if ident is None:
                ident = slugify(r)
                created[ident] = r.strip()
                lookup[key] = ident
                lookup[ident] = ident
        resolved.append(ident)
    table = np.array(resolved + [None], dtype=object)
    ids = pd.Series(table[codes], index=refs.index, dtype="string")
    unknown = (refs != "") & ids.isna()
    return ids.where(refs != "", pd.NA), unknown


def convert_to_usd(currency: pd.Series, date_key: np.ndarray, date_prec: np.ndarray,
                   fx: pd.DataFrame) -> tuple[np.ndarray, pd.Series, np.ndarray]:
    """``(usd_per_unit, rate_date, missing)`` for each row; USD rows get 1.0 and no date."""
    n = len(currency)
    rate = np.ones(n)
    rate_date = pd.Series(pd.NA, index=currency.index, dtype="string")
    missing = np.zeros(n, dtype=bool)
    cur = currency.to_numpy()
    for code in pd.unique(currency[currency != "USD"]):
        rows = np.flatnonzero(cur == code)
        table = fx[fx["currency"] == code]
        if table.empty:
            missing[rows] = True
            continue
        tk = table["date_key"].to_numpy()
        tp = table["date_precision"].to_numpy()
        for i in rows:  # non-USD rows are few; clarity over vectorisation
            p = np.minimum(tp, date_prec[i])
            ok = truncate_key(tk, p) <= truncate_key(np.full(len(tk), date_key[i]), p)
            if not ok.any():
                missing[i] = True
                continue
            j = np.flatnonzero(ok)[np.argmax(tk[ok])]
            rate[i] = table["usd_per_unit"].iloc[j]
            rate_date.iloc[i] = table["date"].iloc[j]
    return rate, rate_date, missing
