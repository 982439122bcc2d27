"""The change log: every write to the store, recorded in the same transaction as the write.

A **change** is one committed write: an ``add``, an import (``neo4j pull``), an edit
(``entity merge/rename/alias/delete``, ``deal delete``) or an ``undo``. The
``changes`` table holds one row per change: its id (1, 2, ... in commit order), UTC
time, command line, input files (name and sha256) and counts per table; ``undoes``
names the change an undo reverted.

The ``change_rows`` table holds, per change and store table, what it did to rows, as
zstd-compressed Arrow IPC BLOBs (segments use lz4; zstd packs a million sorted keys into
3 MB rather than 8, in less time):

* ``keys``: one row per key the change touched -- ``key`` (the table's key, its columns
  joined by U+001F), ``op`` (:data:`INSERT`, :data:`CHANGE`, :data:`DELETE`) and
  ``version`` (see below; null when the row was deleted);
* ``old``: the full stored rows before the change, for each CHANGE and DELETE key, in
  ``keys`` order;
* ``new``: the full rows after, for each CHANGE key.

An inserted row's values are not copied into the log (that would double the store at
a million deals): they are the row's values in the store, or the ``old`` values of the
next change that touched it.

**Versions.** Each row's content carries a version: the id of the change that wrote that
content (0 for rows older than the log). An undo puts back the old content *with its
old version*, so "is this row still as change N left it?" is one comparison: the row's
current version (the ``version`` of the latest change that touched its key) equals
the version change N gave it. Undoing N is refused otherwise, naming the later change
that touched the row. Undoing an undo re-applies the change; undoing a change twice is
refused (its rows are no longer as it left them).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from dealgraph.errors import EditError
from dealgraph.graph.schema import APPLY_ORDER, TABLES

INSERT, CHANGE, DELETE = 1, 2, 3
OP_NAMES = {INSERT: "inserted", CHANGE: "changed", DELETE: "deleted"}
_KEYS_SCHEMA = pa.schema([("key", pa.string()), ("op", pa.int8()), ("version", pa.int32())])
_IPC = ipc.IpcWriteOptions(compression="zstd")  # keys compress 2.6x better than with lz4, and faster
BLOB_BYTES = 2 << 20


def ensure_schema(con: sqlite3.Connection) -> None:
    """The two history tables (idempotent; inside the caller's transaction)."""
    con.execute("CREATE TABLE IF NOT EXISTS changes (id INTEGER PRIMARY KEY, time TEXT NOT NULL, "
                "command TEXT NOT NULL, files TEXT NOT NULL, counts TEXT NOT NULL, undoes INTEGER)")
    con.execute("CREATE TABLE IF NOT EXISTS change_rows (change INTEGER NOT NULL, tbl TEXT NOT NULL, "
                "what TEXT NOT NULL, part INTEGER NOT NULL, data BLOB NOT NULL, "
                "PRIMARY KEY (change, tbl, what, part))")


def sha256_file(path) -> str:
    """The file's sha256 in hex (read in 1 MiB pieces; hashing releases the GIL)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def command_line(argv: list[str] | None = None) -> str:
    """``dealgraph entity merge a b``: the command as typed (arguments quoted when needed)."""
    import shlex

    argv = sys.argv if argv is None else argv
    return " ".join(["dealgraph"] + [shlex.quote(a) for a in argv[1:]])


# -- what one change did to one table ---------------------------------------------

@dataclass
class TableDelta:
    """What a change did to one table: ``keys`` (key, op, version) and the ``old`` rows
    of CHANGE and DELETE keys and ``new`` rows of CHANGE keys, as Arrow tables in stored
    form (see :func:`rows_for_log`), in ``keys`` order."""

    table: str
    keys: pa.Table
    old: pa.Table | None = None
    new: pa.Table | None = None

    def count(self, op: int) -> int:
        return int(pc.sum(pc.equal(self.keys["op"], op)).as_py() or 0) if self.keys.num_rows else 0

    def counts(self) -> list[int]:
        return [self.count(INSERT), self.count(CHANGE), self.count(DELETE)]


def keys_table(keys: pa.Array, op: int, version) -> pa.Table:
    """``keys`` all with ``op``; ``version`` one int for all, or an array (null: deleted)."""
    n = len(keys)
    v = pa.array(version, pa.int32()) if not isinstance(version, (int, type(None))) else \
        pa.repeat(pa.scalar(version, pa.int32()), n) if n else pa.array([], pa.int32())
    return pa.table([keys.cast(pa.string()) if n else pa.array([], pa.string()),
                     pa.repeat(pa.scalar(op, pa.int8()), n) if n else pa.array([], pa.int8()), v],
                    schema=_KEYS_SCHEMA)


@dataclass
class Change:
    """One change as the log lists it."""

    id: int
    time: str
    command: str
    files: list[dict]
    counts: dict[str, list[int]]  # table -> [inserted, changed, deleted]
    undoes: int | None

    def counts_text(self) -> str:
        parts = []
        for t in APPLY_ORDER:
            if t in self.counts:
                i, c, d = self.counts[t]
                bits = [f"{n} {w}" for n, w in ((i, "new"), (c, "changed"), (d, "deleted")) if n]
                parts.append(f"{t}: {', '.join(bits) or 'nothing'}")
        return "; ".join(parts) or "nothing changed"


def _blob(table: pa.Table) -> list[bytes]:
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema, options=_IPC) as w:
        w.write_table(table, max_chunksize=100_000)
    data = sink.getvalue().to_pybytes()
    return [data[i:i + BLOB_BYTES] for i in range(0, max(len(data), 1), BLOB_BYTES)]


def record_change(con: sqlite3.Connection, command: str, files: list[dict], deltas: list[TableDelta],
                  undoes: int | None = None) -> int:
    """Write one change (inside the caller's transaction); returns its id. A version of
    -1 in ``deltas`` means "this change's id" (see :func:`set_versions`)."""
    counts = {d.table: d.counts() for d in deltas}
    cur = con.execute("INSERT INTO changes (time, command, files, counts, undoes) VALUES (?, ?, ?, ?, ?)",
                      (datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), command,
                       json.dumps(files), json.dumps(counts), undoes))
    cid = cur.lastrowid
    deltas = set_versions(deltas, cid)
    for d in deltas:
        for what, t in (("keys", d.keys), ("old", d.old), ("new", d.new)):
            if t is not None and t.num_rows:
                for part, piece in enumerate(_blob(t)):
                    con.execute("INSERT INTO change_rows VALUES (?, ?, ?, ?, ?)", (cid, d.table, what, part, piece))
    return cid


def set_versions(deltas: list[TableDelta], cid: int) -> list[TableDelta]:
    """The deltas of an ordinary change (versions still unknown, as -1) with version ``cid``
    for every row it wrote: the id is only known once the change row exists."""
    out = []
    for d in deltas:
        v = d.keys["version"]
        fixed = pc.if_else(pc.equal(v, -1), pa.scalar(cid, pa.int32()), v)
        out.append(TableDelta(d.table, d.keys.set_column(2, "version", fixed), d.old, d.new))
    return out


def _read(con: sqlite3.Connection, cid: int, table: str, what: str) -> pa.Table | None:
    pieces = [r[0] for r in con.execute("SELECT data FROM change_rows WHERE change = ? AND tbl = ? AND what = ? "
                                        "ORDER BY part", (cid, table, what))]
    if not pieces:
        return None
    return ipc.open_stream(pa.py_buffer(b"".join(pieces))).read_all()


def delta(con: sqlite3.Connection, cid: int, table: str) -> TableDelta | None:
    keys = _read(con, cid, table, "keys")
    if keys is None:
        return None
    return TableDelta(table, keys, _read(con, cid, table, "old"), _read(con, cid, table, "new"))


def changes(con: sqlite3.Connection) -> list[Change]:
    """Every change, oldest first."""
    try:
        rows = con.execute("SELECT id, time, command, files, counts, undoes FROM changes ORDER BY id").fetchall()
    except sqlite3.OperationalError:
        return []  # a store from before the log: no changes recorded
    return [Change(i, t, c, json.loads(f), json.loads(n), u) for i, t, c, f, n, u in rows]


def all_keys(con: sqlite3.Connection, table: str) -> pd.DataFrame:
    """Every key row of ``table`` in the log: change, key, op, version, in change order."""
    parts = []
    try:
        cids = con.execute("SELECT DISTINCT change FROM change_rows WHERE tbl = ? AND what = 'keys' "
                           "ORDER BY change", (table,)).fetchall()
    except sqlite3.OperationalError:
        cids = []  # a store from before the log
    for (cid,) in cids:
        k = _read(con, cid, table, "keys")
        parts.append(k.append_column("change", pa.repeat(pa.scalar(cid, pa.int32()), k.num_rows)))
    if not parts:
        return pd.DataFrame({"key": pd.Series([], dtype=object), "op": pd.Series([], dtype="int8"),
                             "version": pd.Series([], dtype="Int32"), "change": pd.Series([], dtype="int32")})
    return pa.concat_tables(parts).to_pandas(types_mapper={pa.int32(): pd.Int32Dtype()}.get)


# -- undo ---------------------------------------------------------------------------

def undone(log: list[Change]) -> set[int]:
    """Ids of the changes whose effect is reverted now: undone by an undo that is itself
    in effect (an undo of an undo re-applies the change)."""
    by_target: dict[int, list[int]] = {}
    for c in log:
        if c.undoes is not None:
            by_target.setdefault(c.undoes, []).append(c.id)
    memo: dict[int, bool] = {}

    def is_undone(cid: int) -> bool:
        if cid not in memo:
            memo[cid] = False
            memo[cid] = any(not is_undone(u) for u in by_target.get(cid, []))
        return memo[cid]
    return {c.id for c in log if is_undone(c.id)}


def default_target(log: list[Change]) -> int:
    """What ``undo`` without an argument reverts: the latest change that is not an undo
    and is in effect."""
    gone = undone(log)
    for c in reversed(log):
        if c.undoes is None and c.id not in gone:
            return c.id
    raise EditError("nothing to undo: no change in the log is in effect")


@dataclass
class UndoPlan:
    """What reverting one change does to one table: keys to delete, old rows to put back
    (each with the version it goes back to)."""

    table: str
    delete_keys: pa.Array
    restore: pa.Table  # stored-form rows (CHANGE then DELETE keys of the undone change)
    restore_versions: pa.Array  # int32, one per restored row
    restore_keys: pa.Array
    restore_ops: np.ndarray  # the undone change's op per restored row (CHANGE or DELETE)


def plan_undo(con: sqlite3.Connection, target: int, log: list[Change], label) -> list[UndoPlan]:
    """The per-table plans that revert change ``target``; :class:`EditError` when a row it
    touched is no longer as it left it. ``label(table, key)`` names a row for messages."""
    by_id = {c.id: c for c in log}
    if target not in by_id:
        last = f"1 to {log[-1].id}" if log else "none yet"
        raise EditError(f"no change {target} in the log (changes: {last})")
    if target in undone(log):
        by = max(c.id for c in log if c.undoes == target and c.id not in undone(log))
        raise EditError(f"change {target} is already undone (by change {by})")
    plans = []
    for table in APPLY_ORDER:
        d = delta(con, target, table)
        if d is None:
            continue
        hist = all_keys(con, table)
        mine = d.keys.to_pandas(types_mapper={pa.int32(): pd.Int32Dtype()}.get)
        rel = hist[hist["key"].isin(set(mine["key"]))]
        later = rel[rel["change"] > target].groupby("key").tail(1).set_index("key")
        earlier = rel[rel["change"] < target].groupby("key").tail(1).set_index("key")
        cur = mine.set_index("key")["version"]
        now = later["version"].reindex(cur.index)
        has_later = later.index.intersection(cur.index)
        mismatch = [k for k in has_later if not _same_version(now[k], cur[k])]
        if mismatch:
            first = mismatch[0]
            by = by_id[int(later.loc[first, "change"])]
            if by.undoes == target:
                raise EditError(f"change {target} is already undone (by change {by.id})")
            n = len(mismatch) - 1
            more = f" and {n} more row{'s' if n > 1 else ''}" if n else ""
            how = "deleted" if int(later.loc[first, "op"]) == DELETE else "changed"
            raise EditError(f"cannot undo change {target}: {label(table, first)}{more} was {how} since by change "
                            f"{by.id} ({by.command}); undo change {by.id} first")
        ops = mine["op"].to_numpy()
        back = mine[ops != INSERT]
        versions = earlier["version"].reindex(back["key"]).fillna(0).astype("int32").to_numpy()
        plans.append(UndoPlan(table, pa.array(mine.loc[ops == INSERT, "key"].tolist(), pa.string()),
                              d.old if d.old is not None else None, pa.array(versions, pa.int32()),
                              pa.array(back["key"].tolist(), pa.string()), back["op"].to_numpy()))
    return plans


def _same_version(a, b) -> bool:
    if pd.isna(a) or pd.isna(b):
        return pd.isna(a) and pd.isna(b)
    return int(a) == int(b)


# -- one fact's history ----------------------------------------------------------------

@dataclass
class FactEvent:
    change: Change
    op: int
    fields: list[tuple[str, object, object]] = field(default_factory=list)  # changed (column, old, new)
    row: dict | None = None  # the row's values after (inserted, changed) or before (deleted)


def fact_history(con: sqlite3.Connection, table: str, key: str, current: dict | None) -> list[FactEvent]:
    """Every change that touched row ``key`` of ``table``, oldest first, with the row's
    values after it (the next change's ``old`` row, or ``current``)."""
    log = {c.id: c for c in changes(con)}
    hist = all_keys(con, table)
    hits = hist[hist["key"] == key]
    events: list[FactEvent] = []
    for cid, op in zip(hits["change"], hits["op"]):
        d = delta(con, int(cid), table)
        ks = d.keys["key"].to_pylist()
        others = [k for k, o in zip(ks, d.keys["op"].to_pylist()) if o != INSERT]
        changed = [k for k, o in zip(ks, d.keys["op"].to_pylist()) if o == CHANGE]
        old = d.old.slice(others.index(key), 1).to_pylist()[0] if key in others else None
        new = d.new.slice(changed.index(key), 1).to_pylist()[0] if key in changed else None
        ev = FactEvent(log[int(cid)], int(op), row=new if new is not None else old)
        if old is not None and new is not None:
            ev.fields = [(c, old[c], new.get(c)) for c in old if c in new and old[c] != new[c]]
        events.append(ev)
    for i, ev in enumerate(events):  # an inserted row's values: what the next change found, or now
        if ev.op == INSERT:
            nxt = events[i + 1] if i + 1 < len(events) else None
            ev.row = _before(con, nxt, table, key) if nxt is not None else current
    return events


def _before(con, ev: FactEvent, table: str, key: str) -> dict | None:
    d = delta(con, ev.change.id, table)
    ks = [k for k, o in zip(d.keys["key"].to_pylist(), d.keys["op"].to_pylist()) if o != INSERT]
    return d.old.slice(ks.index(key), 1).to_pylist()[0] if key in ks else None


def file_list(paths, digests) -> list[dict]:
    return [{"name": os.fspath(p), "sha256": h} for p, h in zip(paths, digests)]


def table_keys(table: str) -> tuple[str, ...]:
    return TABLES[table].key
