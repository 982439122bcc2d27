"""What validation needs the store for: naming entities and converting currencies.

* :class:`EntityIndex` matches ``payer``/``payee``/``entity`` cells to entity ids,
  names or aliases, case-insensitively, a column at a time. Unknown names become
  new entities (kind ``company``), unless ``strict`` -- or unless the name is close to
  a known entity (:mod:`dealgraph.loaders.names`): then it is refused with ``did you
  mean ...?`` unless accepted as new (``new_entities``, the CLI's ``--new-entity``). :func:`entity_lookup` is the
  same rule for one name at a time (the CLI's ``show``).
* :func:`convert_to_usd` finds, for every non-USD row, the latest FX rate of its
  currency dated on or before the row's date (at their common precision).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dealgraph.graph.dates import truncate_key
from dealgraph.loaders.arrow import distinct, encoded, flat, mask_of
from dealgraph.loaders.names import Candidates, slugify, suggestion


def _column(table, name: str) -> list:
    """A column of a DataFrame or Arrow table as a Python list."""
    col = table[name]
    return col.to_pylist() if isinstance(col, (pa.Array, pa.ChunkedArray)) else col.tolist()


def entity_lookup(entities) -> dict[str, str]:
    """lower-cased id, name and every alias -> entity id (ids win over names, names over
    aliases). ``entities`` is a DataFrame or an Arrow table with id, name, aliases."""
    ids, names, aliases = (_column(entities, c) for c in ("id", "name", "aliases"))
    look: dict[str, str] = {}
    for ident, al in zip(ids, aliases):
        if al:
            for a in str(al).split(";"):
                if a.strip():
                    look.setdefault(a.strip().lower(), ident)
    for ident, name in zip(ids, names):
        look[str(name).strip().lower()] = ident
    for ident in ids:
        look[str(ident).lower()] = ident
    return look


class EntityIndex:
    """Every name an entity answers to, for matching a column of references at once.

    The keys are the lower-cased ids, names and aliases; an id wins over a name and a
    name over an alias, as in :func:`entity_lookup`. Names created during a batch
    are remembered in ``created`` (id -> name) so later references reuse them.
    """

    def __init__(self, entities: pa.Table, *, new_entities=()):
        self.entities = entities
        #: names accepted as new entities although close to a known one (``--new-entity``)
        self.accepted = {n.strip().lower() for n in new_entities}
        #: unknown name -> the known entities it is close to (see :meth:`near_misses`)
        self.near: dict[str, list[tuple[str, str, float]]] = {}
        self._candidates: Candidates | None = None
        ids = flat(entities["id"])
        names = pc.utf8_lower(pc.utf8_trim_whitespace(flat(entities["name"])))
        alias_lists = pc.split_pattern(pc.fill_null(flat(entities["aliases"]), ""), ";")
        alias_owner = ids.take(pc.list_parent_indices(alias_lists))
        aliases = pc.utf8_lower(pc.utf8_trim_whitespace(pc.list_flatten(alias_lists)))
        keep = pc.not_equal(aliases, "")
        # index_in takes a key's first occurrence: ids, then names (last one wins, as
        # in a dict), then aliases (first one wins).
        back = pa.array(np.arange(len(ids) - 1, -1, -1))
        self.keys = pa.concat_arrays([pc.utf8_lower(ids), names.take(back), aliases.filter(keep)])
        self.ids = pa.concat_arrays([ids, ids.take(back), alias_owner.filter(keep)])
        self.created: dict[str, str] = {}
        self._more: dict[str, str] = {}  # keys of entities created in this batch

    def resolve(self, refs: pa.Array, *, strict: bool) -> tuple[pa.Array, np.ndarray]:
        """Entity ids for a column of references (text, "" where empty).

        Returns ``(ids, unknown)``: ``ids`` (dictionary-encoded) is null where the reference
        is empty or matched nothing, and ``unknown`` is True where a reference matched no entity.
        Unless ``strict``, an unknown name is given a new entity: its slug as id.
        """
        return self.resolve_many([refs], strict=strict)[0]

    def resolve_many(self, columns: list, *, strict: bool) -> list[tuple[pa.Array, np.ndarray]]:
        """:meth:`resolve` for several columns: the distinct references of all of them
        are matched in one lookup (the table of keys is hashed once), then unknown names
        are settled column by column, in order."""
        encoded_columns = [encoded(c) for c in columns]  # a million rows name far fewer entities
        dictionaries = [d.dictionary for d in encoded_columns]
        keys = pc.utf8_lower(pc.utf8_trim_whitespace(pa.concat_arrays(dictionaries) if dictionaries
                                                     else pa.array([], pa.string())))
        found = self.ids.take(pc.index_in(keys, value_set=self.keys))
        out, start = [], 0
        for d in encoded_columns:
            out.append(self._settle(d, found.slice(start, len(d.dictionary)), strict))
            start += len(d.dictionary)
        return out

    def _settle(self, d: pa.DictionaryArray, found: pa.Array, strict: bool) -> tuple[pa.Array, np.ndarray]:
        """The column's ids from ``found`` (the id each distinct reference matched, or
        null), unmatched names settled by :meth:`_other`; and where a name stayed unknown."""
        uniques = d.dictionary
        named = ~mask_of(pc.equal(uniques, ""))
        missing = np.flatnonzero(mask_of(pc.is_null(found)) & named)
        if len(missing):
            refs = uniques.take(pa.array(missing)).to_pylist()
            slugs = [slugify(r) for r in refs]
            # one lookup of every slug (hashing the keys once, not once a name)
            by_slug = self.ids.take(pc.index_in(pa.array(slugs, pa.string()), value_set=self.keys)).to_pylist()
            resolved = found.to_pylist()
            for j, ref, slug, ident in zip(missing, refs, slugs, by_slug):
                resolved[j] = self._other(ref, slug, ident, strict)
            found = pa.array(resolved, pa.string())
        codes = d.indices.to_numpy(zero_copy_only=False)
        absent = mask_of(pc.is_null(found))
        unknown = (absent & named)[codes] if len(missing) else np.zeros(len(codes), dtype=bool)
        # The ids as a dictionary over the distinct references: no copy of a million strings.
        indices = pa.array(codes, pa.int32(), mask=absent[codes]) if absent.any() else pa.array(codes, pa.int32())
        return pa.DictionaryArray.from_arrays(indices, pc.fill_null(found, "")), unknown

    def _other(self, ref: str, slug: str, by_slug: str | None, strict: bool) -> str | None:
        """A reference no key matched: one created earlier in the batch, the entity its
        slug names (``by_slug``), or (unless ``strict``) a new entity with the slug as id."""
        key = ref.strip().lower()
        if key in self._more:
            return self._more[key]
        if by_slug is None and key not in self.accepted and self.near_misses(ref):
            return None  # refused: close to a known entity (did you mean ...?)
        if strict:
            return None
        ident = by_slug if by_slug is not None else self._more.get(slug)
        if ident is None:
            ident = slug
            self.created[ident] = ref.strip()
        self._more[key] = self._more[slug] = ident
        return ident


    def near_misses(self, ref: str) -> list[tuple[str, str, float]]:
        """The known entities (stored, or in this batch's entities files) ``ref`` is close
        to, best first (:func:`dealgraph.loaders.names.similar`); computed once a name."""
        name = ref.strip()
        if name not in self.near:
            if self._candidates is None:
                self._candidates = Candidates(self.entities)
            self.near[name] = self._candidates.similar(name)
        return self.near[name]

    def unknown_reason(self, ref: str, strict: bool) -> str:
        """Why the reference ``ref`` was refused: close to a known entity, or (``strict``) unknown."""
        name = ref.strip()
        near = self.near.get(name)
        if near:
            if strict:
                return f"unknown entity {name!r}: {suggestion(near)} (--strict: add new ones in an entities file first)"
            return (f"unknown entity {name!r}: {suggestion(near)} If it is a new entity, accept it with "
                    f"--new-entity {name!r} or add it in an entities file")
        return f"unknown entity {name!r} (--strict: add it in an entities file first)"


def same_values(a, b) -> np.ndarray:
    """Where two dictionary-encoded columns hold the same non-null value, compared on
    their codes: b's dictionary is mapped onto a's once, not a million strings twice.
    A dictionary may hold a value twice (two names resolved to one id): codes are
    compared through each value's first entry."""
    if not (pa.types.is_dictionary(a.type) and pa.types.is_dictionary(b.type)):
        return mask_of(pc.equal(flat(a), flat(b)))
    a, b = encoded(a), encoded(b)
    if not len(a.dictionary) or not len(b.dictionary):
        return np.zeros(len(a), dtype=bool)
    first = pc.index_in(a.dictionary, value_set=a.dictionary).to_numpy(zero_copy_only=False)
    to_a = pc.fill_null(pc.index_in(b.dictionary, value_set=a.dictionary), -1).to_numpy()  # -1: not among a's
    same = first[pc.fill_null(a.indices, 0).to_numpy()] == to_a[pc.fill_null(b.indices, 0).to_numpy()]
    if a.null_count or b.null_count:
        same &= mask_of(pc.and_(pc.is_valid(a), pc.is_valid(b)))
    return same


def convert_to_usd(currency: pa.Array, date_key: np.ndarray, date_prec: np.ndarray,
                   fx: pa.Table) -> tuple[np.ndarray, pa.Array, np.ndarray]:
    """``(usd_per_unit, rate_date, missing)`` for each row; USD rows get 1.0 and no date."""
    n = len(currency)
    rate = np.ones(n)
    missing = np.zeros(n, dtype=bool)
    codes, uniques = distinct(currency)
    if uniques in ([], ["USD"]):
        return rate, pa.nulls(n, pa.string()), missing
    rate_date = np.full(n, None, dtype=object)
    fx_cur = np.array(_column(fx, "currency"), dtype=object)
    fx_key = np.asarray(_column(fx, "date_key"), dtype=np.int64)
    fx_prec = np.asarray(_column(fx, "date_precision"), dtype=np.int64)
    fx_rate = np.asarray(_column(fx, "usd_per_unit"), dtype=float)
    fx_date = np.array(_column(fx, "date"), dtype=object)
    for j, code in enumerate(uniques):
        if code == "USD":
            continue
        rows = np.flatnonzero(codes == j)
        mine = np.flatnonzero(fx_cur == code)
        if not len(mine):
            missing[rows] = True
            continue
        tk, tp = fx_key[mine], fx_prec[mine]
        for i in rows:  # non-USD rows are few; clarity over vectorisation
            p = np.minimum(tp, date_prec[i])
            ok = truncate_key(tk, p) <= truncate_key(np.full(len(tk), date_key[i]), p)
            if not ok.any():
                missing[i] = True
                continue
            j_best = mine[np.flatnonzero(ok)[np.argmax(tk[ok])]]
            rate[i] = fx_rate[j_best]
            rate_date[i] = fx_date[j_best]
    return rate, pa.array(rate_date, pa.string()), missing
