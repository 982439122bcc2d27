"""Correcting the store: merge, rename, alias and delete, undo, and the change log.

Each operation is a method of :class:`Curation` (which :class:`~dealgraph.graph.store.Store`
inherits) and runs as one SQLite transaction (``BEGIN IMMEDIATE``): it reads the
tables, plans the rows to upsert and the keys to delete (the ``plan_*`` functions
below, pure: Arrow tables in, rows out, :class:`~dealgraph.errors.EditError` when the
edit is refused), writes them, and records the change in the log
(:mod:`dealgraph.graph.history`), all before one COMMIT. ``dry_run=True`` does the same
and rolls back: the summary says what would change.

Definitions:

* **merge SOURCE INTO**: every deal whose payer or payee is SOURCE gets INTO instead,
  every metric observation of SOURCE becomes one of INTO, and SOURCE's entity row is
  deleted; its id, name and aliases become aliases of INTO (so files that name it still
  resolve). Refused when a deal between the two would then pay itself (payer = payee),
  or when SOURCE and INTO hold different values for the same observation.
* **rename ID NEW-ID**: the entity and every reference to it take the new id; the old
  id stays as an alias.
* **alias ID ALIAS**: one more name the entity answers to in files (refused when it
  already names another entity).
* **delete**: deals by id; an entity only when no deal or metric refers to it, unless
  ``cascade`` (then those go too).
* **undo**: see :mod:`dealgraph.graph.history`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc

from dealgraph.errors import EditError
from dealgraph.graph import history
from dealgraph.graph.schema import APPLY_ORDER, TABLES

#: A plan: table -> (rows to upsert or None, keys to delete or None, versions or None).
Plan = dict
LISTED = 20  # keys named in a report or a refusal before "and N more"


@dataclass
class TableReport:
    inserted: list[str] = field(default_factory=list)
    changed: list[tuple[str, list[str]]] = field(default_factory=list)  # key, changed columns
    deleted: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=lambda: [0, 0, 0])


@dataclass
class EditSummary:
    """What an edit or undo did (or, with ``dry_run``, would do)."""

    what: str
    tables: dict[str, TableReport] = field(default_factory=dict)
    change: int | None = None  # its id in the log (None: dry run, or nothing changed)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return any(sum(r.counts) for r in self.tables.values())


def label(key: str) -> str:
    """A key as the report shows it: composite keys joined by ``/``."""
    return key.replace("\x1f", "/")


def row_label(table: str, key: str) -> str:
    """``deal d1``, ``entity nvidia``, ``metric nvidia/revenue/2024/src``, ``fx rate EUR/2024``."""
    noun = {"deals": "deal", "entities": "entity", "metrics": "metric", "fx": "fx rate"}[table]
    return f"{noun} {label(key)}"


def _report(d: history.TableDelta) -> TableReport:
    r = TableReport(counts=d.counts())
    keys, ops = d.keys["key"].to_pylist(), d.keys["op"].to_pylist()
    r.inserted = [label(k) for k, o in zip(keys, ops) if o == history.INSERT][:LISTED]
    r.deleted = [label(k) for k, o in zip(keys, ops) if o == history.DELETE][:LISTED]
    changed = [k for k, o in zip(keys, ops) if o == history.CHANGE][:LISTED]
    if changed:
        old, new = d.old.slice(0, len(changed)).to_pylist(), d.new.slice(0, len(changed)).to_pylist()
        r.changed = [(label(k), [c for c in n if n[c] != o.get(c)]) for k, o, n in zip(changed, old, new)]
    return r


def _text(a) -> pa.Array:
    """A column as plain strings (dictionary columns decoded)."""
    a = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
    return a.cast(pa.string())


def _ids(entities: pa.Table) -> list[str]:
    return _text(entities["id"]).to_pylist()


def _row(entities: pa.Table, ident: str) -> dict:
    """The entity row of ``ident`` (an id, exactly); EditError when there is none."""
    ids = _ids(entities)
    if ident not in ids:
        from dealgraph.loaders.resolve import entity_lookup

        hint = entity_lookup(entities).get(ident.strip().lower())
        more = f" ({ident!r} is a name or alias of {hint!r}: give its id)" if hint else ""
        raise EditError(f"no entity with id {ident!r}{more}")
    return entities.slice(ids.index(ident), 1).to_pylist()[0]


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:LISTED])
    return shown + (f" and {len(items) - LISTED} more" if len(items) > LISTED else "")


def _with_aliases(row: dict, extra: list[str]) -> dict:
    """``row`` with ``extra`` appended to its ``;``-separated aliases (none twice, nor the
    entity's own id or name, compared case-insensitively)."""
    have = [a.strip() for a in (row.get("aliases") or "").split(";") if a.strip()]
    seen = {a.lower() for a in have} | {str(row["id"]).lower(), str(row["name"]).strip().lower()}
    for a in extra:
        a = a.strip()
        if a and a.lower() not in seen:
            have.append(a)
            seen.add(a.lower())
    return dict(row, aliases=";".join(have))


def _rows(table: str, rows: list[dict], like: pa.Table) -> pa.Table:
    """Python rows as an Arrow table of ``table``'s stored columns (the store conforms it)."""
    cols = TABLES[table].names
    return pa.table({c: pa.array([r.get(c) for r in rows], _text(like[c]).type if pa.types.is_dictionary(
        like.schema.field(c).type) else like.schema.field(c).type) for c in cols})


def _move_refs(t: dict[str, pa.Table], source: str, into: str, plan: Plan) -> None:
    """Re-point deals and metric observations from entity ``source`` to ``into`` (into ``plan``)."""
    deals = t["deals"]
    payer, payee = _text(deals["payer"]), _text(deals["payee"])
    pay_s, paid_s = pc.fill_null(pc.equal(payer, source), False), pc.fill_null(pc.equal(payee, source), False)
    self_pay = pc.or_(pc.and_(pay_s, pc.fill_null(pc.equal(payee, into), False)),
                      pc.and_(paid_s, pc.fill_null(pc.equal(payer, into), False)))
    if pc.any(self_pay).as_py():
        ids = _text(deals["deal_id"].filter(self_pay)).to_pylist()
        raise EditError(f"merging {source!r} into {into!r} would make {len(ids)} deal{'s' if len(ids) > 1 else ''} "
                        f"pay {'themselves' if len(ids) > 1 else 'itself'} (payer = payee): {_listed(ids)}; "
                        f"delete or correct {'them' if len(ids) > 1 else 'it'} first (dealgraph deal delete ID)")
    touched = pc.or_(pay_s, paid_s)
    if pc.any(touched).as_py():
        rows = deals.filter(touched)
        for c in ("payer", "payee"):
            col = _text(rows[c])
            rows = rows.set_column(rows.column_names.index(c), c,
                                   pc.if_else(pc.fill_null(pc.equal(col, source), False), into, col))
        from dealgraph.graph.store import parties_in_order

        plan["deals"] = (parties_in_order(rows), None, None)  # a partnership's parties stay in id order
    metrics = t["metrics"]
    mine = pc.fill_null(pc.equal(_text(metrics["entity"]), source), False)
    if pc.any(mine).as_py():
        from dealgraph.graph.store import _keys, _same

        old = metrics.filter(mine)
        moved = old.set_column(old.column_names.index("entity"), "entity",
                               pa.repeat(into, old.num_rows).cast(pa.string()))
        new_keys, all_keys = _keys(moved, "metrics"), _keys(metrics, "metrics")
        pos = pc.index_in(new_keys, value_set=all_keys)
        clash = pc.is_valid(pos)
        if pc.any(clash).as_py():  # INTO already has this observation: keep one if they agree
            theirs = metrics.take(pos.filter(clash))
            ours = moved.filter(clash)
            agree = pa.array([True] * ours.num_rows)
            for c in TABLES["metrics"].names:
                if c != "entity":
                    agree = pc.and_(agree, pa.array(_same(ours[c], theirs[c])))
            if not pc.all(agree).as_py():
                bad = [label(k) for k in new_keys.filter(clash).filter(pc.invert(agree)).to_pylist()]
                raise EditError(f"{source!r} and {into!r} hold different values for the same metric observation: "
                                f"{_listed(bad)}; correct one of them first")
            moved = moved.filter(pc.invert(clash))
        plan["metrics"] = (moved, _keys(old, "metrics"), None)


def plan_merge(t: dict[str, pa.Table], source: str, into: str) -> Plan:
    """See the module docstring: ``merge SOURCE INTO``."""
    src, dst = _row(t["entities"], source), _row(t["entities"], into)
    if source == into:
        raise EditError(f"cannot merge {source!r} into itself")
    plan: Plan = {}
    _move_refs(t, source, into, plan)
    extra = [src["name"], src["id"]] + (src.get("aliases") or "").split(";")
    plan["entities"] = (_rows("entities", [_with_aliases(dst, extra)], t["entities"]), pa.array([source]), None)
    return plan


def plan_rename(t: dict[str, pa.Table], ident: str, new_id: str) -> Plan:
    """See the module docstring: ``rename ID NEW-ID``."""
    from dealgraph.loaders.resolve import entity_lookup
    from dealgraph.loaders.validate import _SLUG_RE

    row = _row(t["entities"], ident)
    if not re.search(_SLUG_RE, new_id):
        raise EditError(f"id {new_id!r} is not a lowercase slug (letters a-z, digits, '-', '_', '.')")
    if new_id == ident:
        raise EditError(f"{ident!r} already has that id")
    owner = entity_lookup(t["entities"]).get(new_id)
    if owner is not None and owner != ident:
        raise EditError(f"{new_id!r} already names entity {owner!r}; to make them one, "
                        f"dealgraph entity merge {ident} {owner}")
    plan: Plan = {}
    _move_refs(t, ident, new_id, plan)
    renamed = _with_aliases(dict(row, id=new_id), [ident])
    plan["entities"] = (_rows("entities", [renamed], t["entities"]), pa.array([ident]), None)
    return plan


def plan_alias(t: dict[str, pa.Table], ident: str, alias: str) -> Plan:
    """See the module docstring: ``alias ID ALIAS``."""
    from dealgraph.loaders.resolve import entity_lookup

    row = _row(t["entities"], ident)
    alias = alias.strip()
    if not alias or ";" in alias:
        raise EditError(f"alias {alias!r} is empty or holds ';' (which separates aliases)")
    owner = entity_lookup(t["entities"]).get(alias.lower())
    if owner is not None and owner != ident:
        raise EditError(f"{alias!r} already names entity {owner!r}")
    if owner == ident:
        return {}  # it answers to that already: nothing changes
    return {"entities": (_rows("entities", [_with_aliases(row, [alias])], t["entities"]), None, None)}


def plan_delete_deals(t: dict[str, pa.Table], ids: list[str]) -> Plan:
    """See the module docstring: ``deal delete ID...``."""
    known = set(_text(t["deals"]["deal_id"]).to_pylist())
    unknown = [i for i in dict.fromkeys(ids) if i not in known]
    if unknown:
        raise EditError(f"no deal{'s' if len(unknown) > 1 else ''} with id{'s' if len(unknown) > 1 else ''} "
                        f"{_listed([repr(i) for i in unknown])}; nothing was deleted")
    return {"deals": (None, pa.array(list(dict.fromkeys(ids)), pa.string()), None)}


def plan_delete_entity(t: dict[str, pa.Table], ident: str, cascade: bool) -> Plan:
    """See the module docstring: ``entity delete ID [--cascade]``."""
    from dealgraph.graph.store import _keys

    _row(t["entities"], ident)
    deals = t["deals"]
    uses = pc.or_(pc.fill_null(pc.equal(_text(deals["payer"]), ident), False),
                  pc.fill_null(pc.equal(_text(deals["payee"]), ident), False))
    deal_ids = _text(deals["deal_id"].filter(uses)).to_pylist()
    metrics = t["metrics"].filter(pc.fill_null(pc.equal(_text(t["metrics"]["entity"]), ident), False))
    metric_keys = _keys(metrics, "metrics")
    if (deal_ids or metrics.num_rows) and not cascade:
        parts = []
        if deal_ids:
            parts.append(f"{len(deal_ids)} deal{'s' if len(deal_ids) > 1 else ''} ({_listed(sorted(deal_ids))})")
        if metrics.num_rows:
            n = metrics.num_rows
            parts.append(f"{n} metric observation{'s' if n > 1 else ''} "
                         f"({_listed(sorted(label(k) for k in metric_keys.to_pylist()))})")
        raise EditError(f"entity {ident!r} is used by {' and '.join(parts)}; delete those first, "
                        f"merge it into another entity, or use --cascade")
    plan: Plan = {"entities": (None, pa.array([ident]), None)}
    if deal_ids:
        plan["deals"] = (None, pa.array(deal_ids, pa.string()), None)
    if metrics.num_rows:
        plan["metrics"] = (None, metric_keys, None)
    return plan


class Curation:
    """The edits, undo and the log, as methods of :class:`~dealgraph.graph.store.Store`."""

    # -- edits ----------------------------------------------------------------------
    def merge(self, source: str, into: str, *, dry_run: bool = False) -> EditSummary:
        """Merge entity ``source`` into ``into`` (ids): see :func:`plan_merge`."""
        return self._edit(f"merge {source} into {into}", lambda t, con: plan_merge(t, source, into),
                          dry_run=dry_run, call=f"Store.merge({source!r}, {into!r})")

    def rename(self, ident: str, new_id: str, *, dry_run: bool = False) -> EditSummary:
        """Give entity ``ident`` the id ``new_id`` everywhere: see :func:`plan_rename`."""
        return self._edit(f"rename {ident} to {new_id}", lambda t, con: plan_rename(t, ident, new_id),
                          dry_run=dry_run, call=f"Store.rename({ident!r}, {new_id!r})")

    def alias(self, ident: str, alias: str, *, dry_run: bool = False) -> EditSummary:
        """Add ``alias`` to entity ``ident``'s names: see :func:`plan_alias`."""
        return self._edit(f"alias {alias!r} for {ident}", lambda t, con: plan_alias(t, ident, alias),
                          dry_run=dry_run, call=f"Store.alias({ident!r}, {alias!r})")

    def delete_deals(self, ids: list[str], *, dry_run: bool = False) -> EditSummary:
        """Delete deals by id: see :func:`plan_delete_deals`."""
        ids = list(ids)
        return self._edit(f"delete {len(ids)} deal{'s' if len(ids) != 1 else ''}",
                          lambda t, con: plan_delete_deals(t, ids), dry_run=dry_run,
                          call=f"Store.delete_deals({ids!r})")

    def delete_entity(self, ident: str, *, cascade: bool = False, dry_run: bool = False) -> EditSummary:
        """Delete an entity (and with ``cascade`` its deals and metrics): see :func:`plan_delete_entity`."""
        return self._edit(f"delete entity {ident}", lambda t, con: plan_delete_entity(t, ident, cascade),
                          dry_run=dry_run, call=f"Store.delete_entity({ident!r}, cascade={cascade})")

    def undo(self, change: int | None = None, *, dry_run: bool = False) -> EditSummary:
        """Revert change ``change`` of the log (default: the latest change in effect that is
        not itself an undo), exactly; recorded as a change. :class:`EditError` when a row it
        touched has been changed since (the message names the later change)."""
        target: list[int] = []
        undone_what: list[str] = []

        def plan(t, con) -> Plan:
            log = history.changes(con)
            cid = change if change is not None else history.default_target(log)
            target.append(cid)
            undone_what.extend(c.command for c in log if c.id == cid)
            out: Plan = {}
            for p in history.plan_undo(con, cid, log, row_label):
                import pandas as pd

                versions = pd.Series(p.restore_versions.to_pylist(), index=p.restore_keys.to_pylist(), dtype=object)
                out[p.table] = (p.restore, p.delete_keys, versions)
            return out
        summary = self._edit("undo", plan, dry_run=dry_run, call=f"Store.undo({'' if change is None else change})", undoes=target)
        summary.what = f"undo change {target[0]} ({undone_what[0]})"
        return summary

    # -- the log ---------------------------------------------------------------------
    def log(self) -> list[history.Change]:
        """Every recorded change, oldest first (see :class:`dealgraph.graph.history.Change`)."""
        con = self._connect()
        try:
            return history.changes(con)
        finally:
            con.close()

    def fact_history(self, table: str, key: str) -> list[history.FactEvent]:
        """Every change that touched one row (a deal id, an entity id), oldest first."""
        from dealgraph.graph.store import _keys

        con = self._connect()
        try:
            rows = self._load(con, table)[1]
            hit = rows.filter(pc.equal(_keys(rows, table), key))
            current = hit.to_pylist()[0] if hit.num_rows else None
            return history.fact_history(con, table, key, current)
        finally:
            con.close()

    # -- one transaction ---------------------------------------------------------------
    def _edit(self, what: str, make: Callable, *, dry_run: bool, call: str,
              undoes: list[int] | None = None) -> EditSummary:
        """Plan (``make(tables, con)``), write and record one edit in one transaction."""
        from dealgraph.graph.store import _ensure_schema, table_delta, write_rows

        summary = EditSummary(what, dry_run=dry_run)
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            _ensure_schema(con)
            tables = {name: self._load(con, name)[1] for name in APPLY_ORDER}
            plan = make(tables, con)
            deltas, after = [], {}
            for name in APPLY_ORDER:
                if name not in plan:
                    continue
                upserts, delete_keys, versions = plan[name]
                after[name], written, deleted = write_rows(con, name, tables[name], upserts, delete_keys)
                d = table_delta(name, tables[name], [written], deleted, versions)
                if d is not None:
                    deltas.append(d)
                    summary.tables[name] = _report(d)
            if dry_run or not deltas:
                con.execute("ROLLBACK")
                return summary
            summary.change = history.record_change(con, self.command or call, [], deltas,
                                                   undoes=undoes[0] if undoes else None)
            self._commit(con, {d.table: (self._generation(con, d.table), after[d.table]) for d in deltas})
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()
        return summary
