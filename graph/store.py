"""The deal store: one SQLite file holding entities, deals, metrics and FX rates.

``open_store()`` opens (creating on first use, seeded with the sample data) the
store at ``--db``, ``$DEALGRAPH_DB`` or the user's data directory. Reading gives
pandas DataFrames (``store.deals``, ``store.entities``, ``store.metrics``,
``store.fx``) and a networkx graph (``store.graph()``).

Writing (``add`` / ``import_frames``) is all-or-nothing: every file is validated
first; any problem means nothing is written. A valid batch is applied in one
SQLite transaction (``BEGIN IMMEDIATE``: concurrent adds queue and both land;
a process killed mid-way leaves the store as it was). New rows are inserted,
rows whose key exists with other values are updated (and reported field by
field), identical rows are left alone, so re-running an add is safe.

How tables are kept: column-wise, as a log of *segments*. A segment is a batch of
rows stored as Arrow IPC streams (lz4-compressed) in BLOBs of the ``segments``
table, at most :data:`PART_ROWS` rows a BLOB. An add appends one segment holding
just the rows it inserts or changes; a table is its segments in order, a row
replacing any earlier row with the same key. When a table would have more than
:data:`MAX_SEGMENTS` segments, or the new rows outnumber the old, the add writes
the whole table as one segment instead (compaction), so reading never merges a
long log and rewriting stays proportional to what was added. Why not a row per
deal: inserting a million rows through SQLite costs about six seconds and reading
them back twenty, against a few tenths of a second for columns -- and SQLite still
gives the single file, the atomic commit and the writer lock.

Removing rows (``deal delete``, ``entity delete``, ``entity merge``/``rename``, an undo
of an insert) rewrites the table as one segment without them -- the compaction ``add``
already does every :data:`MAX_SEGMENTS` adds -- in the same transaction. Not
tombstones: they would make every read of the table filter them out for ever after,
and the reading path stays as simple and as fast as it is; deletions are rare curation
edits, and rewriting even a million-deal table costs a few tenths of a second.

History: every write (add, import, edit, undo) is recorded in the same transaction in
the change log of :mod:`dealgraph.graph.history` (what it inserted, changed -- old and
new values -- and deleted), so ``undo`` can revert it exactly. The edits and undo are
the methods of :class:`dealgraph.graph.edit.Curation`, which :class:`Store` inherits.
"""

from __future__ import annotations

import json
import os
import sqlite3
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable
import queue
import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from dealgraph.graph import history
from dealgraph.graph.edit import Curation
from dealgraph.graph.schema import APPLY_ORDER, DEAL_METRIC_COLUMNS, DEALS, ENTITIES, TABLES, UNDIRECTED_TYPES
from dealgraph.loaders.amounts import format_amount, format_number
from dealgraph.loaders.csv import LoadError, Problem, Problems, read_tables
from dealgraph.loaders.resolve import EntityIndex, convert_to_usd, same_values
from dealgraph.loaders.arrow import equals, flat, mask_of, numbers
from dealgraph.loaders.validate import DERIVED, FAILED, FAILED_FX, across_files, strictly_increasing, validate_table

if TYPE_CHECKING:
    import networkx as nx

SAMPLE_FILES = ("entities.csv", "fx.csv", "deals.csv", "metrics.csv", "observations.csv")
SCHEMA_VERSION = 2  # 1: a SQLite row table per table (read and converted on first open)
PART_ROWS = 100_000  # rows per record batch of a segment
BLOB_BYTES = 2 << 20  # bytes per BLOB (SQLite's limit on one value is 1 GB)
MAX_SEGMENTS = 8
#: SQLite's largest page: a BLOB of a few MB is a few dozen pages, not a thousand,
#: which halves the cost of writing it.
PAGE_SIZE = 65536
_ARROW_TYPES = {"TEXT": pa.string(), "REAL": pa.float64(), "INTEGER": pa.int64()}
#: table -> column -> the narrower Arrow integer type its segments store it in.
_NARROWED = {name: {c: pa.type_for_alias(t) for c, t in table.narrowed.items()} for name, table in TABLES.items()}
_DICTIONARY = pa.dictionary(pa.int32(), pa.string())
_IPC = ipc.IpcWriteOptions(compression="lz4")


def default_path() -> Path:
    """``$DEALGRAPH_DB``, else ``deals.db`` in the user's data directory."""
    env = os.environ.get("DEALGRAPH_DB")
    if env:
        return Path(env)
    from platformdirs import user_data_dir
    return Path(user_data_dir("dealgraph")) / "deals.db"


def sample_files() -> list[Path]:
    """The sample data CSVs shipped in ``data/``, in apply order."""
    root = resources.files("dealgraph.data")
    return [Path(str(root / f)) for f in SAMPLE_FILES if (root / f).is_file()]


def open_store(path: str | os.PathLike | None = None, *, seed: bool = True) -> "Store":
    """Open the store at ``path`` (see :func:`default_path`), creating it on first use.

    A new store is built in a temporary file beside the target and linked into place
    atomically, so two processes starting at once never see a half-made store.
    ``seed=False`` creates it empty instead of loading the sample data.
    """
    path = Path(path) if path is not None else default_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".dealgraph-", suffix=".db", dir=path.parent)
        os.close(fd)
        try:
            fresh = Store(tmp)
            fresh._create_schema()
            fresh.command = "the sample data, loaded when the store was created"
            if seed:
                fresh.add(sample_files(), strict=True)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                try:
                    os.unlink(tmp + suffix)
                except FileNotFoundError:
                    pass
    return Store(path)


@dataclass
class FileSummary:
    """What one input file did (or would do) to the store."""

    path: str
    kind: str
    rows: int
    inserted: int = 0
    updated: list[tuple[str, list[str]]] = field(default_factory=list)  # key, changed fields
    unchanged: int = 0
    written: pa.Table | None = field(default=None, repr=False)  # the rows written (changed, then new)


@dataclass
class AddSummary:
    files: list[FileSummary] = field(default_factory=list)
    new_entities: list[tuple[str, str]] = field(default_factory=list)  # (id, name)
    dry_run: bool = False


class Store(Curation):
    """A dealgraph store (a SQLite file). Use :func:`open_store` to get one.

    ``command``: the command line recorded in the change log with each write (the CLI
    sets it; from Python the log says which method wrote). ``history = False``: adds
    write without recording (only the benchmark's bare baseline does this)."""

    history: bool = True
    command: str | None = None

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._columns: dict[str, tuple[int, pa.Table]] = {}  # table -> (generation, rows)
        self._frames: dict[str, tuple[int, pd.DataFrame]] = {}
        self._checked = False

    def __repr__(self) -> str:
        return f"<dealgraph Store {str(self.path)!r}>"

    # -- connection -------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=120, isolation_level=None)
        con.execute("PRAGMA busy_timeout=120000")
        if not self._checked:
            _upgrade(con, self.path)
            self._checked = True
        return con

    def _create_schema(self) -> None:
        con = self._connect()
        try:
            con.execute(f"PRAGMA page_size={PAGE_SIZE}")  # takes effect as the empty file gets its first table
            con.execute("BEGIN IMMEDIATE")
            _ensure_schema(con)
            con.execute("COMMIT")
        finally:
            con.close()

    def _commit(self, con: sqlite3.Connection, written: dict[str, tuple[int, pa.Table]]) -> None:
        """Commit a write: bump each written table's generation (table -> (generation read,
        rows now)), COMMIT, and keep the committed rows in memory (readers of this Store
        then need not reload them)."""
        for name in written:
            con.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = ?", (f"gen:{name}",))
        con.execute("COMMIT")
        for name, (gen, rows) in written.items():
            self._columns[name] = (gen + 1, rows)

    def _generation(self, con: sqlite3.Connection, name: str) -> int:
        """How many committed writes ``name`` has seen: the key of the copies in memory."""
        row = con.execute("SELECT value FROM meta WHERE key = ?", (f"gen:{name}",)).fetchone()
        return int(row[0]) if row else 0

    def _load(self, con: sqlite3.Connection, name: str) -> tuple[int, pa.Table]:
        """The table's generation and rows, read in one transaction of ``con``'s."""
        own = not con.in_transaction
        if own:
            con.execute("BEGIN")  # generation and segments from one snapshot of the file
        try:
            gen = self._generation(con, name)
            hit = self._columns.get(name)
            if hit and hit[0] == gen:
                return hit
            rows = _read_segments(con, name)
        finally:
            if own:
                con.execute("COMMIT")
        self._columns[name] = (gen, rows)
        return gen, rows

    # -- reading ----------------------------------------------------------
    def _table(self, name: str) -> pd.DataFrame:
        con = self._connect()
        try:
            gen, rows = self._load(con, name)
        finally:
            con.close()
        hit = self._frames.get(name)
        if hit and hit[0] == gen:
            return hit[1]
        df = to_frame(by_key(rows, name))
        self._frames[name] = (gen, df)
        return df

    def columns(self, name: str) -> pa.Table:
        """Store table ``name`` as an Arrow table (the columns of ``schema.TABLES[name]``,
        those declared ``encoded`` dictionary-encoded), in storage order; the DataFrames
        (``store.deals`` ...) are decoded and ordered by key."""
        con = self._connect()
        try:
            return self._load(con, name)[1]
        finally:
            con.close()

    @property
    def entities(self) -> pd.DataFrame:
        """One row per entity: id, name, kind, aliases, ticker, country, source, notes, extra."""
        return self._table("entities")

    @property
    def fx(self) -> pd.DataFrame:
        """FX rates: currency, date, usd_per_unit, source."""
        return self._table("fx")

    @property
    def deals(self) -> pd.DataFrame:
        """One row per deal (see the README's CSV reference), with ``*_usd`` columns
        for every money figure (the deal's FX rate applied)."""
        return with_usd(self._table("deals"))

    @property
    def metrics(self) -> pd.DataFrame:
        """Every metric observation: see :func:`observations`."""
        return observations(self._table("metrics"), self.deals)

    @property
    def observations(self) -> pd.DataFrame:
        """Every sourced observation (``observations`` files): subject, field, as_of, value, ...,
        source, url, published, confidence, quote. Which one a query uses: ``queries.observations``."""
        return self._table("observations")

    def graph(self, *, as_of: str | None = None, status=None) -> "nx.MultiDiGraph":
        """The deal graph: nodes are entity ids (entity columns as attributes), one
        edge per deal from payer to payee keyed by ``deal_id`` with every deal column
        as attributes. Rounds with no payer record valuations, not money edges, so
        they are not edges. Deals that move no money are edges too (what the views
        draw): a partnership from the smaller id to the other (its ``type`` says it is
        undirected, ``DEAL_TYPES[type].directed``), a warrant holder -> issuer; keep
        ``DEAL_TYPES[d["type"]].money`` edges for the money graph the queries read.
        ``as_of``/``status`` filter deals as queries do."""
        import networkx as nx

        from dealgraph.queries.filters import select_deals

        g = nx.MultiDiGraph()
        ents = self.entities.drop(columns=["extra"])
        g.add_nodes_from((r["id"], r) for r in _records(ents))
        deals = select_deals(self.deals, as_of=as_of, status=status)
        deals = deals[deals["payer"].notna()]
        g.add_edges_from((r["payer"], r["payee"], r["deal_id"], r) for r in _records(deals))
        return g

    # -- writing ----------------------------------------------------------
    def add(self, paths: Iterable[str | os.PathLike], *, strict: bool = False, dry_run: bool = False,
            encoding: str | None = None, progress: Callable[[str], None] | None = None,
            new_entities: Iterable[str] = (), as_new: bool = False) -> AddSummary:
        """Validate CSV files and xlsx workbooks (a table a sheet) of any kind (recognised
        by header) and apply them together.

        Raises :class:`~dealgraph.loaders.csv.LoadError` listing every problem, having
        written nothing. ``dry_run`` validates and reports what would change.
        ``new_entities``: payer/payee names to create although they are close to a
        known entity (refused with "did you mean" otherwise). ``as_new``: rows without
        a ``deal_id`` that match a stored deal on date, type, payer and payee are new
        deals (refused as probable edits of it otherwise).
        """
        tables, problems = [], Problems()
        paths = list(paths)
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=1)  # the checksums for the change log, while reading
        digests = [pool.submit(history.sha256_file, p) for p in paths] if self.history and not dry_run else []
        pool.shutdown(wait=False)
        for p in paths:
            if progress:
                progress(f"reading {p}")
            found, failed = read_tables(p, encoding=encoding)
            tables.extend(found)
            problems.extend(failed)
        try:
            batches = _validated(tables, problems, progress)
            files = lambda: history.file_list(paths, [d.result() for d in digests])  # noqa: E731
            return self._apply(batches, strict=strict, dry_run=dry_run, progress=progress, files=files,
                               what=f"Store.add({', '.join(repr(os.fspath(p)) for p in paths)})",
                               problems=problems, new_entities=new_entities, as_new=as_new)
        finally:
            for d in digests:
                d.cancel()

    def import_frames(self, frames: dict[str, pd.DataFrame], *, replace: bool = False, strict: bool = True,
                      origin: str = "<frames>") -> AddSummary:
        """Validate and apply frames in the CSV schema (text cells), as ``add`` does
        for files. ``replace=True`` empties the store first, in the same transaction."""
        from dealgraph.loaders.csv import CsvTable

        tables = []
        for kind in APPLY_ORDER:
            df = frames.get(kind)
            if df is None or len(df) == 0:
                continue
            df = df.astype("string").fillna("").reset_index(drop=True)
            cells = pa.table({str(c): pa.array(df[c].tolist(), pa.string()) for c in df.columns})
            t = CsvTable(f"{origin}/{kind}", kind, [str(c) for c in df.columns], cells)
            t._lines = list(range(2, len(df) + 2))
            tables.append(t)
        problems = Problems()
        batches = _validated(tables, problems)
        return self._apply(batches, strict=strict, dry_run=False, replace=replace, problems=problems,
                           what=f"Store.import_frames(origin={origin!r}, replace={replace})")

    def _apply(self, batches, *, strict: bool, dry_run: bool, replace: bool = False,
               progress: Callable[[str], None] | None = None, problems: Problems | None = None,
               new_entities: Iterable[str] = (), as_new: bool = False, files=lambda: [],
               what: str = "") -> AddSummary:
        """Resolve and write validated ``batches`` in one transaction. ``problems``: those
        found before (reading, validation); resolution's are added (not on a line that has
        one already) and, if there are any, all are raised together with nothing written."""
        problems = problems if problems is not None else Problems()
        batches = sorted(batches, key=lambda b: APPLY_ORDER.index(b[0].kind))
        con = self._connect()
        summary = AddSummary(dry_run=dry_run)
        try:
            con.execute("BEGIN IMMEDIATE")  # take the write lock before reading what we resolve against
            _ensure_schema(con)
            before: dict[str, pa.Table] = {}  # table -> rows before this change, for the log
            if replace:
                before = {name: self._load(con, name)[1] for name in APPLY_ORDER}
                con.execute("DELETE FROM segments")
            current: dict[str, tuple[int, pa.Table]] = {}  # table -> (generation, rows) as we write
            writes: dict[str, list[pa.Table]] = {}  # table -> the rows each write of it wrote

            def table_now(name: str) -> tuple[int, pa.Table]:
                if name not in current:
                    current[name] = (self._generation(con, name), empty_table(name)) if replace \
                        else self._load(con, name)
                return current[name]

            def with_incoming(kind: str) -> pa.Table:
                incoming = [conform(r, kind) for t, r in batches if t.kind == kind]
                return pa.concat_tables([table_now(kind)[1]] + incoming)

            entities, fx = with_incoming("entities"), with_incoming("fx")
            index = EntityIndex(entities, new_entities=new_entities)
            found = Problems()
            prepared = []
            deals = with_incoming("deals") if any(t.kind == "observations" for t, _ in batches) else None
            for t, rows in batches:
                if progress:
                    progress(f"resolving {t.path}")
                rows = _resolve(t, rows, index, fx, strict, found, table_now(t.kind)[1], deals)
                if t.kind == "deals" and not as_new:
                    found.extend(probable_edits(t, rows, table_now("deals")[1]))
                prepared.append((t, rows))
            problems.extend(found)
            if problems:
                raise LoadError(problems)
            created = index.created
            if created:
                summary.new_entities = sorted(created.items())
                n = len(created)
                cells = {c: [""] * n for c in ENTITIES.csv_columns}  # empty text, as validation gives
                cells.update(id=list(created), name=list(created.values()), kind=["company"] * n,
                             source=["created by dealgraph add from a deal's payer/payee"] * n)
                new = pa.table(cells)
                prepared.insert(0, (None, new))
            written: set[str] = set()
            for t, rows in prepared:
                kind = t.kind if t is not None else "entities"
                if t is not None and progress:
                    progress(f"writing {t.path}")
                gen, now = table_now(kind)
                before.setdefault(kind, now)
                fs, merged = _upsert(con, kind, rows, now)
                if fs.written is not None:
                    writes.setdefault(kind, []).append(fs.written)
                current[kind] = (gen, merged)
                written.add(kind)
                if t is not None:
                    fs.path, fs.rows = t.path, t.cells.num_rows
                    summary.files.append(fs)
            if dry_run:
                con.execute("ROLLBACK")
            else:
                changed = written | (set(APPLY_ORDER) if replace else set())
                if self.history:
                    deltas = [d for name in APPLY_ORDER if name in before and (
                              d := table_delta(name, before[name], writes.get(name, []),
                                               removed(name, before[name], table_now(name)[1]) if replace else None))]
                    if deltas:
                        kinds = {f.path: f.kind for f in summary.files}
                        listed = [dict(f, kind=kinds.get(f["name"], "")) for f in files()]
                        history.record_change(con, self.command or what, listed, deltas)
                self._commit(con, {table: table_now(table) for table in changed})
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()
        return summary

    # -- export -----------------------------------------------------------
    def export_frames(self) -> dict[str, pd.DataFrame]:
        """Every table as text in the CSV schema: adding these reproduces the store."""
        return frames_from_tables({kind: self._table(kind) for kind in APPLY_ORDER})

    def export_csv(self, outdir: str | os.PathLike, *, spreadsheet_safe: bool = False) -> list[Path]:
        """Write a CSV file per table (``entities.csv``, ``fx.csv``, ``deals.csv``, ``metrics.csv``,
        ``observations.csv``) to ``outdir``, each atomically. ``spreadsheet_safe`` neutralises cells a
        spreadsheet would run as a formula (leading ``= + - @``, tab, CR) with a ``'``.

        A table without rows gets no file (``add`` refuses a header-only file as a likely
        mistake), and an earlier export's file of that table is removed, so adding the
        directory's files reproduces the store exactly."""
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        written = []
        for kind, df in self.export_frames().items():
            target = outdir / f"{kind}.csv"
            if df.empty:
                target.unlink(missing_ok=True)
                continue
            if spreadsheet_safe:
                df = df.map(neutralise)
            fd, tmp = tempfile.mkstemp(prefix=f".{kind}-", suffix=".csv", dir=outdir)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                df.to_csv(f, index=False, lineterminator="\n")
            os.replace(tmp, target)
            written.append(target)
        return written


def _validated(tables, problems: Problems, progress: Callable[[str], None] | None = None) -> list:
    """``(table, typed rows)`` for each table; every validation problem (and the same key
    with other values in two files) is added to ``problems``, which the caller raises
    after resolution has added its own: every problem is listed in one run."""
    batches = []
    for t in tables:
        if progress:
            progress(f"validating {t.path}")
        rows, probs = validate_table(t)
        problems.extend(probs)
        batches.append((t, rows))
    problems.extend(across_files(batches))
    return batches


def with_usd(deals: pd.DataFrame) -> pd.DataFrame:
    """Add ``<figure>_usd`` for every money figure of a deals table (once; the
    table is cached, so this runs once per generation)."""
    for col in _FRAME_USD:
        for end in ("", "_low", "_high"):
            if col + "_usd" + end not in deals.columns:
                deals[col + "_usd" + end] = deals[col + end] * deals["fx_rate"]
    return deals


#: Deal figures whose USD value the table does not hold (``amount_usd`` it does).
_FRAME_USD = tuple(c for c in DEALS.amounts if c + "_usd" not in DEALS.names)


def observations(metrics: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """Every metric observation: the metrics table plus the figures deal rows carry
    (``target_revenue`` -> revenue of the payee, ``acquirer_market_cap`` -> market cap
    of the payer, ``post_money_valuation`` -> of the payee, each at the deal date,
    with ``deal_id`` set). ``deals`` needs the ``*_usd`` columns of :func:`with_usd`."""
    own = metrics.assign(deal_id=pd.NA)
    parts = [own]
    for col, (metric, side) in DEAL_METRIC_COLUMNS.items():
        d = deals[deals[col].notna()]
        parts.append(pd.DataFrame({
            "entity": d[side], "metric": metric, "date": d["date"], "source": d["source"],
            "date_key": d["date_key"], "date_precision": d["date_precision"], "value": d[col],
            "value_qualifier": d[col + "_qualifier"], "value_low": d[col + "_low"], "value_high": d[col + "_high"],
            "currency": d["currency"], "fx_rate": d["fx_rate"], "value_usd": d[col + "_usd"],
            "value_usd_low": d[col + "_usd_low"], "value_usd_high": d[col + "_usd_high"],
            "notes": "", "extra": "{}", "deal_id": d["deal_id"]}))
    parts = [p for p in parts if len(p)]
    if not parts:
        return own
    return pd.concat(parts, ignore_index=True).astype({"deal_id": "string"})


def frames_from_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The CSV-schema text frames (what ``dealgraph export`` writes) for store tables
    (``entities``, ``fx``, ``deals``, ``metrics`` in the columns of ``schema.TABLES``): amounts
    behind their qualifiers, other numbers in their shortest exact form, text as it is."""
    out = {}
    for kind in APPLY_ORDER:
        df = tables[kind]
        text = pd.DataFrame(index=df.index)
        table = TABLES[kind]
        for c in table.csv_columns:
            if c in table.amounts:
                text[c] = [format_amount(v, q, lo, hi) for v, q, lo, hi in
                           zip(df[c], df[c + "_qualifier"], df[c + "_low"], df[c + "_high"])]
            elif table.types[c] == "REAL":
                text[c] = [format_number(v) if pd.notna(v) else "" for v in df[c]]
            else:
                text[c] = df[c].astype("string").fillna("")
        if "extra" in df.columns:
            extras = [json.loads(e or "{}") for e in df["extra"].fillna("{}")]
            for k in sorted({k for e in extras for k in e}):
                text[k] = [e.get(k, "") for e in extras]
        out[kind] = text.reset_index(drop=True)
    return out


def neutralise(v: str) -> str:
    """``v`` with a ``'`` before it when a spreadsheet would run or reinterpret it (a leading
    ``= + - @``, tab or CR); anything else as it is."""
    return "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v


def _records(df: pd.DataFrame):
    """Rows as dicts with missing values as None (what networkx users expect)."""
    cols = list(df.columns)
    obj = df.astype(object).where(df.notna(), None)
    for row in obj.itertuples(index=False, name=None):
        yield dict(zip(cols, row))


# -- tables as Arrow and pandas ------------------------------------------------

def arrow_schema(name: str) -> pa.Schema:
    """The Arrow schema of store table ``name``: its columns in storage order, those
    declared ``encoded`` as dictionaries."""
    return pa.schema([(c.name, _DICTIONARY if c.encoded else _ARROW_TYPES[c.type]) for c in TABLES[name].columns])


def empty_table(name: str) -> pa.Table:
    return arrow_schema(name).empty_table()


def conform(rows: pa.Table, name: str) -> pa.Table:
    """``rows`` with exactly the columns of store table ``name`` in their Arrow types:
    derived columns computed (the product of their factors), absent columns empty (their
    ``default``, else null; 0 for INTEGER), other columns dropped. Segments are read
    through it too, so rows written with older types come out in today's."""
    n = rows.num_rows
    cols = []
    made: dict[str, pa.Array] = {}  # the bounds filled in here, which derived columns read
    for col, typ in zip(TABLES[name].columns, arrow_schema(name).types):
        c = col.name
        if col.derived:
            a, b = (made[x] if x in made else rows[x] if x in rows.column_names else pa.nulls(n, pa.float64())
                    for x in col.derived)
            a = pc.multiply(a, b)
        elif col.bound:
            a = made[c] = _bound(rows, c, *TABLES[name].bounds[c])
        elif c in rows.column_names:
            a = rows[c].cast(typ)
        elif col.default is not None:
            a = (pa.repeat(col.default, n) if n else pa.array([], pa.string())).cast(typ)
        else:
            a = pa.nulls(n, typ)
        if col.type == "INTEGER":
            a = pc.fill_null(a, 0)
        cols.append(a)
    return pa.Table.from_arrays(cols, schema=arrow_schema(name))


def _reported(table: str, column: str) -> str:
    """The column a change is reported under: an interval's end under its figure
    (``amount_low`` -> ``amount``, ``amount_usd_high`` -> ``amount_usd``)."""
    t = TABLES[table]
    if column in t.bounds:
        return t.bounds[column][0]
    for end in ("_low", "_high"):
        if column.endswith(end) and column in t.derived and column[:-len(end)] in t.names:
            return column[:-len(end)]
    return column


def _qualifier_is(rows: pa.Table, amount: str, qualifier: str) -> np.ndarray:
    """Where ``amount``'s qualifier is ``qualifier`` (numpy mask; a missing column: nowhere)."""
    q = f"{amount}_qualifier"
    if q not in rows.column_names:
        return np.zeros(rows.num_rows, dtype=bool)
    col = rows[q]
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    return np.concatenate([equals(ch, qualifier) for ch in chunks] or [np.zeros(0, dtype=bool)])


def _floats(col) -> np.ndarray:
    """A float column as numpy, NaN for null (Arrow's own conversion: one pass, no fill kernel)."""
    if isinstance(col, pa.ChunkedArray):
        return np.concatenate([c.to_numpy(zero_copy_only=False) for c in col.chunks]) if col.num_chunks \
            else np.zeros(0)
    return col.to_numpy(zero_copy_only=False)


def _bound(rows: pa.Table, column: str, amount: str, end: str) -> pa.Array:
    """The ``end`` (low/high) of ``amount``'s interval: as given for a ``range`` figure,
    else what its figure and qualifier say (``loaders.amounts.interval_bounds``)."""
    n = rows.num_rows
    if amount not in rows.column_names:
        return pa.nulls(n, pa.float64())
    x = _floats(rows[amount])
    unknown = _qualifier_is(rows, amount, "up_to" if end == "low" else "at_least")
    is_range = _qualifier_is(rows, amount, "range")
    if is_range.any() and column in rows.column_names:
        given = _floats(rows[column].cast(pa.float64()))
        x = np.where(is_range, given, x)
        unknown &= ~is_range
    elif is_range.any():
        unknown |= is_range
    return numbers(np.where(unknown, np.nan, x)) if unknown.any() else numbers(x)


def by_key(rows: pa.Table, name: str) -> pa.Table:
    """``rows`` ordered by the table's key (byte order, as SQLite and Python order text),
    so what queries see -- and their ties -- never depends on the order of adds."""
    keys = _keys(rows, name)
    if strictly_increasing(keys):
        return rows  # already in order: the usual case for one big sorted file
    return rows.take(pc.sort_indices(keys))


def to_frame(rows: pa.Table) -> pd.DataFrame:
    """A store table as pandas: TEXT as ``string[pyarrow]`` (dictionary columns decoded),
    REAL float64 (NaN for missing), INTEGER int64."""
    for i, f in enumerate(rows.schema):
        if pa.types.is_dictionary(f.type):
            rows = rows.set_column(i, f.name, rows[f.name].cast(pa.string()))
    return rows.to_pandas(types_mapper=lambda t: pd.StringDtype("pyarrow") if t == pa.string() else None)


def as_table(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """``df`` with exactly the columns of store table ``name`` in their pandas dtypes
    (TEXT as string, REAL as float64 with NaN for missing, INTEGER as int64 with 0)."""
    df = df.reindex(columns=list(TABLES[name].names))
    for c, t in TABLES[name].types.items():
        if t == "TEXT":
            df[c] = df[c].astype("string")
        elif t == "REAL":
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
        else:
            df[c] = pd.to_numeric(df[c], errors="coerce").fillna(0).astype("int64")
    return df


def _keys(rows: pa.Table, name: str) -> pa.Array:
    """One key value per row (the key columns joined by U+001F when there are several)."""
    keys = TABLES[name].key
    if len(keys) == 1:
        return rows[keys[0]].combine_chunks() if rows.num_rows else pa.array([], pa.string())
    parts = [pc.fill_null(rows[k], "") for k in keys]
    return pc.binary_join_element_wise(*parts, "\x1f").combine_chunks() if rows.num_rows \
        else pa.array([], pa.string())


# -- segments ------------------------------------------------------------------

def _ensure_schema(con: sqlite3.Connection) -> None:
    """The segment table and bookkeeping rows (idempotent)."""
    con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    con.execute("CREATE TABLE IF NOT EXISTS segments (tbl TEXT NOT NULL, seq INTEGER NOT NULL, "
                "part INTEGER NOT NULL, nrows INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (tbl, seq, part))")
    con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    con.execute("INSERT OR IGNORE INTO meta VALUES ('store_id', ?)", (uuid.uuid4().hex,))
    for table in APPLY_ORDER:
        con.execute("INSERT OR IGNORE INTO meta VALUES (?, '0')", (f"gen:{table}",))
    history.ensure_schema(con)


def _upgrade(con: sqlite3.Connection, path: Path) -> None:
    """Convert a version-1 store (one SQLite row table per table, WAL journal and a
    snapshot cache beside it) to segments, in one transaction: nothing is lost if it
    is interrupted, and it runs once."""
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:
        return  # a new, empty file: _create_schema makes it
    if row is None or int(row[0]) >= SCHEMA_VERSION:
        return
    con.execute("BEGIN IMMEDIATE")
    try:
        if int(con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]) < SCHEMA_VERSION:
            _ensure_schema(con)
            present = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            for name in APPLY_ORDER:
                if name in present:
                    names = TABLES[name].names
                    cols = ", ".join(f'"{c}"' for c in names)
                    df = pd.DataFrame.from_records(con.execute(f"SELECT {cols} FROM {name}").fetchall(),
                                                   columns=list(names))
                    df = as_table(df, name).sort_values(list(TABLES[name].key), ignore_index=True)
                    rows = conform(pa.Table.from_pandas(df, preserve_index=False), name)
                    _write_segment(con, name, rows, replace=True)
                    con.execute(f"DROP TABLE {name}")
                    con.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = ?", (f"gen:{name}",))
            con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    try:
        con.execute("PRAGMA journal_mode=DELETE")  # one file again; large writes go to it once
        con.execute(f"PRAGMA page_size={PAGE_SIZE}")
        con.execute("VACUUM")  # rewrites the file with the new page size, dropping the old tables' pages
    except sqlite3.OperationalError:
        pass  # another connection has it open: it converts without these, a little slower
    shutil.rmtree(path.parent / f".{path.name}.cache", ignore_errors=True)


def _read_segments(con: sqlite3.Connection, name: str) -> pa.Table:
    """Table ``name``: its segments in order, a later row replacing an earlier one with its key."""
    segs: dict[int, list[bytes]] = {}
    for seq, data in con.execute("SELECT seq, data FROM segments WHERE tbl = ? ORDER BY seq, part", (name,)):
        segs.setdefault(seq, []).append(data)
    if not segs:
        return empty_table(name)
    tables = [conform(ipc.open_stream(pa.py_buffer(b"".join(pieces))).read_all(), name) for pieces in segs.values()]
    kept, later = [], []
    for t in reversed(tables):
        if later and t.num_rows:
            t = t.filter(pc.invert(pc.is_in(_keys(t, name), value_set=pa.concat_arrays(later))))
        later.append(_keys(t, name))
        kept.append(t)
    return pa.concat_tables(reversed(kept))


def _to_segment(rows: pa.Table, name: str) -> pa.Table:
    """``rows`` as a segment keeps them: without derived columns, ``narrowed`` integer
    columns in their narrower Arrow types (a tenth of the bytes to compress and write at
    a million deals)."""
    derived, narrowed, bounds = TABLES[name].derived, _NARROWED[name], TABLES[name].bounds
    if not derived and not narrowed:
        return rows
    keep = [c for c in rows.column_names if c not in derived]

    def stored(c: str):
        if c in narrowed:
            return rows[c].cast(narrowed[c])
        if c in bounds:  # only a range's ends: the others follow from the figure when read
            is_range = _qualifier_is(rows, bounds[c][0], "range")
            return pc.if_else(pa.array(is_range), rows[c], pa.scalar(None, pa.float64())) if is_range.any() \
                else pa.nulls(rows.num_rows, pa.float64())
        return rows[c]
    return pa.table({c: stored(c) for c in keep})


def _write_segment(con: sqlite3.Connection, name: str, rows: pa.Table, *, replace: bool = False) -> None:
    """Append ``rows`` as a new segment of ``name`` (``replace``: as its only segment).

    A segment is one lz4-compressed Arrow IPC stream (record batches of
    :data:`PART_ROWS` rows; a dictionary column's values written once), stored as
    BLOBs of :data:`BLOB_BYTES`. The stream is encoded on a second thread while SQLite
    stores the pieces already made (both release the GIL)."""
    if replace:
        con.execute("DELETE FROM segments WHERE tbl = ?", (name,))
    seq = con.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM segments WHERE tbl = ?", (name,)).fetchone()[0]
    pieces: queue.Queue = queue.Queue(maxsize=8)
    rows = _to_segment(rows, name)

    def encode() -> None:
        try:
            sink = _Pieces(pieces)
            with ipc.new_stream(sink, rows.schema, options=_IPC) as w:
                w.write_table(rows, max_chunksize=PART_ROWS)
            sink.flush(final=True)
        except BaseException as e:  # handed to the writing thread, which raises it
            pieces.put(e)

    worker = threading.Thread(target=encode, daemon=True)
    worker.start()
    part = 0
    while (piece := pieces.get()) is not _Pieces.END:
        if isinstance(piece, BaseException):
            raise piece
        con.execute("INSERT INTO segments VALUES (?, ?, ?, ?, ?)", (name, seq, part, rows.num_rows, piece))
        part += 1
    worker.join()


class _Pieces:
    """A write-only file that hands what it is given to a queue in pieces of BLOB_BYTES."""

    END = object()

    def __init__(self, out: queue.Queue):
        self.out, self.buf, self.closed = out, bytearray(), False

    def write(self, data) -> int:
        self.buf += data
        if len(self.buf) >= BLOB_BYTES:
            self.flush()
        return len(data)

    def flush(self, final: bool = False) -> None:
        if self.buf:
            self.out.put(bytes(self.buf))
            self.buf = bytearray()
        if final:
            self.out.put(self.END)

    def close(self) -> None:
        self.closed = True


def _segment_count(con: sqlite3.Connection, name: str) -> int:
    return con.execute("SELECT COUNT(DISTINCT seq) FROM segments WHERE tbl = ?", (name,)).fetchone()[0]


# -- applying a batch --------------------------------------------------------------

def _resolve(t, rows: pa.Table, index: EntityIndex, fx: pa.Table, strict: bool, problems: Problems,
             stored: pa.Table, deals: pa.Table | None = None) -> pa.Table:
    """Entity ids for references, the stored values of columns the file lacks (for rows
    the store has: see :func:`keep_stored`), and USD rates for non-USD rows; problems appended.
    ``deals``: the stored deals and the batch's, which observations name."""
    if t.kind not in ("deals", "metrics", "observations"):
        return keep_stored(t, rows, stored)

    def listed(mask: np.ndarray, column: str, reason, where: np.ndarray | None = None) -> None:
        failing = np.flatnonzero(mask if where is None else mask & where)
        problems.more += max(len(failing) - 50, 0)
        for i in failing[:50]:
            problems.append(t.problem(int(rows["_row"][int(i)].as_py()), column, reason(int(i))))

    if t.kind == "observations":
        from dealgraph.loaders.observations import resolve_observations

        return keep_stored(t, resolve_observations(t, rows, index, deals, fx, listed), stored)

    cols = ("payer", "payee") if t.kind == "deals" else ("entity",)
    for col, (ids, unknown) in zip(cols, index.resolve_many([rows[c] for c in cols], strict=strict)):
        names = rows[col]
        listed(unknown, col, lambda i: index.unknown_reason(names[i].as_py(), strict))
        rows = rows.set_column(rows.column_names.index(col), col, ids)
    if t.kind == "deals":
        rows = parties_in_order(rows)
    rows = keep_stored(t, rows, stored)
    if t.kind == "deals":
        undirected = _undirected(rows)
        listed(same_values(rows["payer"], rows["payee"]), "payee",
               lambda i: (f"a {rows['type'][i].as_py()} needs two different parties; both name "
                          f"{rows['payee'][i].as_py()}") if undirected[i] else
               f"payer and payee are the same entity ({rows['payee'][i].as_py()})")
    rate, rate_date, missing = convert_to_usd(rows["currency"], rows["date_key"].to_numpy(),
                                              rows["date_precision"].to_numpy(), fx)
    listed(missing, "currency", lambda i: f"no FX rate for {rows['currency'][i].as_py()} on or before "
                                          f"{rows['date'][i].as_py()}; add one in an fx file "
                                          f"({','.join(TABLES['fx'].csv_columns)})",
           where=~mask_of(rows[FAILED_FX]))  # a bad date or currency has no rate: said once
    rows = rows.append_column("fx_rate", numbers(rate))  # the USD figures follow from it (derived)
    if t.kind == "deals":
        rows = rows.append_column("fx_date", rate_date)
    return rows


def _undirected(rows: pa.Table) -> np.ndarray:
    """Where a deal row's type is undirected (a partnership), read off the type's dictionary."""
    typ = flat(rows["type"])
    if not pa.types.is_dictionary(typ.type):
        return mask_of(pc.is_in(typ, value_set=pa.array(UNDIRECTED_TYPES, pa.string())))
    hit = mask_of(pc.is_in(typ.dictionary, value_set=pa.array(UNDIRECTED_TYPES, pa.string())))
    return hit[pc.fill_null(typ.indices, 0).to_numpy()] & mask_of(pc.is_valid(typ)) if hit.any() \
        else np.zeros(len(typ), dtype=bool)


def parties_in_order(rows: pa.Table) -> pa.Table:
    """Deals of an undirected type (partnership) with their two resolved parties in id
    order (the smaller id as payer): ``A,B`` and ``B,A`` are one stored row, so re-adding
    either is idempotent and every comparison (edits, lint, exports) sees one pair.
    Other rows are untouched; without undirected rows nothing is copied."""
    swap = _undirected(rows)
    if not swap.any():
        return rows
    payer, payee = flat(rows["payer"]), flat(rows["payee"])
    plain = [a.cast(a.type.value_type) if pa.types.is_dictionary(a.type) else a for a in (payer, payee)]
    swap &= mask_of(pc.greater(plain[0], plain[1]))
    if not swap.any():
        return rows
    m = pa.array(swap)
    first, second = pc.if_else(m, plain[1], plain[0]), pc.if_else(m, plain[0], plain[1])
    rows = rows.set_column(rows.column_names.index("payer"), "payer", pc.dictionary_encode(first))
    return rows.set_column(rows.column_names.index("payee"), "payee", pc.dictionary_encode(second))


def keep_stored(t, rows: pa.Table, stored: pa.Table) -> pa.Table:
    """Rows of file ``t`` whose key the store holds keep the stored value of every CSV
    column the file lacks (an update file without ``notes`` leaves the notes alone); a
    column present with an empty cell clears the value. Columns outside the schema
    (``extra``) likewise: a file without any keeps them all, one with some sets (or, where
    empty, removes) those."""
    table = TABLES[t.kind]
    absent = [c for c in table.csv_columns if c not in t.header and c not in table.key]
    given = [c for c in t.header if c not in table.csv_columns]
    if not rows.num_rows or not stored.num_rows or (not absent and not given and "extra" not in table.names):
        return rows

    def plain(a):
        a = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
        return a.cast(a.type.value_type) if pa.types.is_dictionary(a.type) else a

    k_rows = _keys(pa.table({k: plain(rows[k]) for k in table.key}), t.kind)  # validated keys may be encoded
    k_cur = _keys(stored, t.kind)
    pos = None if k_rows.equals(k_cur) else pc.index_in(k_rows, value_set=k_cur)  # None: row i is stored row i
    exists = np.ones(rows.num_rows, dtype=bool) if pos is None else mask_of(pc.is_valid(pos))
    if not exists.any():
        return rows

    def old(c: str) -> pa.Array:
        return plain(stored[c]) if pos is None else plain(stored[c]).take(pos)
    cols = [x for c in absent for x in (c, f"{c}_qualifier", f"{c}_low", f"{c}_high") if x in rows.column_names]
    if "extra" in table.names and not given and not _all_empty_json(stored["extra"]):
        cols.append("extra")
    for c in cols:
        kept = old(c) if exists.all() else pc.if_else(pa.array(exists), old(c), plain(rows[c]))
        rows = rows.set_column(rows.column_names.index(c), c, kept)
    if "extra" in table.names and given:
        stored_extra, extra = old("extra").to_pylist(), plain(rows["extra"]).to_pylist()
        at = rows["_row"].to_pylist()
        for i in np.flatnonzero(exists):
            merged = json.loads(stored_extra[i] or "{}")
            for c in given:
                v = t.cells[c][at[i]].as_py()
                if v == "":
                    merged.pop(c, None)
                else:
                    merged[c] = v
            extra[i] = json.dumps(merged, ensure_ascii=False, sort_keys=True)
        rows = rows.set_column(rows.column_names.index("extra"), "extra", pa.array(extra, pa.string()))
    return rows


def _all_empty_json(extra) -> bool:
    """Is every value of an ``extra`` column ``{}`` (no extra columns stored)? Read off
    a dictionary column's values, not its rows."""
    chunks = extra.chunks if isinstance(extra, pa.ChunkedArray) else [extra]
    for c in chunks:
        values = c.dictionary if pa.types.is_dictionary(c.type) else c
        if len(c) and not pc.all(pc.equal(pc.unique(values), "{}")).as_py():
            return False
    return True


#: What makes a row without a ``deal_id`` a probable edit of a stored deal.
EDIT_MATCH = ("date", "type", "payer", "payee")


def probable_edits(t, rows: pa.Table, stored: pa.Table) -> Problems:
    """Rows without a ``deal_id`` (their id derived from content) that are not a stored
    deal but match one on :data:`EDIT_MATCH`: most likely that deal with a figure
    corrected, which adding would duplicate. Each is a problem naming the stored deal."""
    out = Problems()
    if DERIVED not in rows.column_names or not stored.num_rows or not pc.any(rows[DERIVED]).as_py():
        return out
    stored_ids = stored["deal_id"].combine_chunks()
    new = mask_of(rows[DERIVED]) & ~mask_of(rows[FAILED]) & ~mask_of(pc.is_in(rows["deal_id"], value_set=stored_ids))
    if not new.any():
        return out
    sub = rows.filter(pa.array(new))
    dates = pc.unique(sub["date"].cast(pa.string()))
    cand = stored.filter(pc.is_in(stored["date"].cast(pa.string()), value_set=dates))
    compare = [c for c in DEALS.identity if c in DEALS.csv_columns and c not in EDIT_MATCH]
    by_match: dict[tuple, list[dict]] = {}
    for r in cand.select(["deal_id", *EDIT_MATCH, *compare]).to_pylist():
        by_match.setdefault(tuple(r[c] for c in EDIT_MATCH), []).append(r)
    for r in sub.select(["_row", *EDIT_MATCH, *compare]).to_pylist():
        hits = by_match.get(tuple(r[c] for c in EDIT_MATCH))
        if not hits:
            continue
        if len(out) >= 50:
            out.more += 1
            continue
        first = hits[0]
        other = [c for c in compare if r[c] != first[c] and not (r[c] is None and first[c] is None)]
        also = f" (and {len(hits) - 1} more stored deal{'s' if len(hits) > 2 else ''} like it)" if len(hits) > 1 else ""
        out.append(t.problem(r["_row"], None, (
            f"probable edit of stored deal {first['deal_id']!r}{also}: the same {', '.join(EDIT_MATCH[:-1])} and "
            f"{EDIT_MATCH[-1]} but a different {', '.join(other) or 'value'}. To change that deal give its deal_id in a deal_id column; "
            f"to add this row as another deal, use --as-new")))
    return out


def _first_of_each_key(rows: pa.Table, name: str) -> pa.Table:
    """Drop repeated rows of a key (validation refused repeats with other values)."""
    keys = _keys(rows, name)
    if pc.count_distinct(keys).as_py() == rows.num_rows:
        return rows
    first = ~pd.Series(keys.to_pylist()).duplicated().to_numpy()
    return rows.filter(pa.array(first))


def _rows_at(table: pa.Table, positions: pa.Array) -> pa.Table:
    """``table.take(positions)``, as a slice when the positions are consecutive (a file
    re-added in the order it was stored), which copies nothing."""
    p = positions.to_numpy(zero_copy_only=False)
    if len(p) and p[-1] - p[0] == len(p) - 1 and (np.diff(p) == 1).all():
        return table.slice(int(p[0]), len(p))
    return table.take(positions)


def _same(a, b) -> np.ndarray:
    """Where two columns hold the same value, or are both null. Dictionary columns are
    compared on their codes (see ``same_values``), not decoded row by row."""
    if pa.types.is_dictionary(a.type) and pa.types.is_dictionary(b.type):
        same = same_values(a, b)
    else:
        same = mask_of(pc.equal(a, b))
    if a.null_count and b.null_count:
        same |= mask_of(pc.and_(pc.is_null(a), pc.is_null(b)))
    return same


def _upsert(con: sqlite3.Connection, table: str, rows: pa.Table,
            current: pa.Table, *, write: bool = True) -> tuple[FileSummary, pa.Table]:
    """Insert new rows and replace changed ones in ``table`` (inside the caller's
    transaction); identical rows are not written. ``current`` is the table's content
    now; returns the summary and the content after (``write=False``: only computes them).

    What is written is one segment: the changed rows, then the new ones, in file
    order -- the order they take in the table, after the rows that stay."""
    cols = TABLES[table].names
    keys = set(TABLES[table].key)
    rows = conform(rows, table)
    if not TABLES[table].unique_in_file:
        rows = _first_of_each_key(rows, table)
    fs = FileSummary("", table, rows.num_rows)
    k_rows, k_cur = _keys(rows, table), _keys(current, table)
    if not current.num_rows:
        pos, is_new = None, np.ones(rows.num_rows, dtype=bool)
    elif k_rows.equals(k_cur):  # the same keys in the same order: a file added again
        pos, is_new = None, np.zeros(rows.num_rows, dtype=bool)
    else:
        pos = pc.index_in(k_rows, value_set=k_cur)
        is_new = mask_of(pc.is_null(pos))
    new_rows = rows if is_new.all() else rows.filter(pa.array(is_new))
    changed_rows = rows.slice(0, 0)
    if not is_new.all():
        both = rows if not is_new.any() else rows.filter(pa.array(~is_new))
        old = current if pos is None else _rows_at(current, pos.filter(pa.array(~is_new)))
        changed = np.zeros(both.num_rows, dtype=bool)
        differs = {}  # column -> where it changed, for the columns that did
        for c in cols:
            if c not in keys and (d := ~_same(both[c], old[c])).any():
                differs[c] = d
                changed |= d
        if changed.any():
            changed_rows = both.filter(pa.array(changed))
            for i in np.flatnonzero(changed):
                key = "/".join(str(both[k][int(i)].as_py()) for k in TABLES[table].key)
                fs.updated.append((key, list(dict.fromkeys(_reported(table, c) for c, d in differs.items() if d[i]))))
    fs.inserted = new_rows.num_rows
    fs.unchanged = rows.num_rows - fs.inserted - changed_rows.num_rows
    if not new_rows.num_rows and not changed_rows.num_rows:
        return fs, current
    fs.written = pa.concat_tables([changed_rows, new_rows])
    kept = current
    if changed_rows.num_rows:
        kept = current.filter(pc.invert(pc.is_in(k_cur, value_set=_keys(changed_rows, table))))
    segment = pa.concat_tables([changed_rows, new_rows])
    merged = pa.concat_tables([kept, segment])
    if not write:
        return fs, merged
    if _segment_count(con, table) + 1 > MAX_SEGMENTS or segment.num_rows >= current.num_rows:
        _write_segment(con, table, merged, replace=True)  # compaction: the table as one segment
    else:
        _write_segment(con, table, segment)
    return fs, merged


# -- the change log's view of a write ------------------------------------------------

def table_delta(name: str, before: pa.Table, writes: list[pa.Table], deleted: pa.Table | None,
                versions: "pd.Series | None" = None) -> "history.TableDelta | None":
    """What a change did to table ``name``, for :mod:`~dealgraph.graph.history`: ``before``
    the table before the change, ``writes`` the rows each write of it wrote (a later write
    of a key wins), ``deleted`` the rows it removed. Rows written that equal what was
    there are left out. ``versions`` (key -> version) for rows an undo puts back;
    otherwise every written row gets the change's own id."""
    writes = [w for w in writes if w.num_rows]
    written = pa.concat_tables(writes) if writes else empty_table(name)
    if len(writes) > 1 and pc.count_distinct(_keys(written, name)).as_py() < written.num_rows:
        last = ~pd.Series(_keys(written, name).to_pylist()).duplicated(keep="last").to_numpy()
        written = written.filter(pa.array(last))
    kw = _keys(written, name)
    if before.num_rows and written.num_rows:
        pos = pc.index_in(kw, value_set=_keys(before, name))
        is_new = mask_of(pc.is_null(pos))
    else:
        pos, is_new = None, np.ones(written.num_rows, dtype=bool)
    ins_keys = kw if is_new.all() else kw.filter(pa.array(is_new))
    parts_keys, old, new = [], [], None
    if not is_new.all():
        both = written.filter(pa.array(~is_new))
        was = before.take(pos.filter(pa.array(~is_new)))
        differs = np.zeros(both.num_rows, dtype=bool)
        for c in TABLES[name].names:
            differs |= ~_same(both[c], was[c])
        both, was = both.filter(pa.array(differs)), was.filter(pa.array(differs))
        if both.num_rows:
            new = _to_segment(both, name)
            old.append(_to_segment(was, name))
            parts_keys.append((_keys(both, name), history.CHANGE))
    if deleted is not None and deleted.num_rows:
        old.append(_to_segment(deleted, name))
        parts_keys.append((_keys(deleted, name), history.DELETE))
    tables = [history.keys_table(ins_keys, history.INSERT, -1)] + [
        history.keys_table(k, op, None if op == history.DELETE else -1) for k, op in parts_keys]
    keys = pa.concat_tables(tables)
    if not keys.num_rows:
        return None
    if versions is not None:
        mapped = pd.Series(keys["key"].to_pylist()).map(versions).to_numpy(dtype=object)
        v = [None if op == history.DELETE else (int(m) if m is not None and not pd.isna(m) else -1)
             for op, m in zip(keys["op"].to_pylist(), mapped)]
        keys = keys.set_column(2, "version", pa.array(v, pa.int32()))
    return history.TableDelta(name, keys, pa.concat_tables(old) if old else None, new)


def removed(name: str, before: pa.Table, after: pa.Table) -> pa.Table:
    """The rows of ``before`` whose key ``after`` no longer holds."""
    if not before.num_rows:
        return before
    return before.filter(pc.invert(pc.is_in(_keys(before, name), value_set=_keys(after, name))))


def write_rows(con: sqlite3.Connection, name: str, current: pa.Table, upserts: pa.Table | None,
               delete_keys: pa.Array | None) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Delete the rows of ``delete_keys`` and upsert ``upserts`` in table ``name`` (inside
    the caller's transaction): a deletion rewrites the table as one segment (see the
    module docstring). Returns (the table after, the rows written, the rows deleted)."""
    deleted = current.slice(0, 0)
    base = current
    if delete_keys is not None and len(delete_keys):
        gone = pc.is_in(_keys(current, name), value_set=delete_keys.cast(pa.string()))
        deleted = current.filter(gone)
        base = current.filter(pc.invert(gone))
        if deleted.num_rows and not (upserts is not None and upserts.num_rows):
            _write_segment(con, name, base, replace=True)
    written = current.slice(0, 0)
    if upserts is not None and upserts.num_rows:
        if deleted.num_rows:  # one rewrite: the rows kept, then the upserted ones
            fs, after = _upsert(con, name, upserts, base, write=False)
            _write_segment(con, name, after, replace=True)
        else:
            fs, after = _upsert(con, name, upserts, base)
        if fs.written is not None:
            written = fs.written
        base = after
    return base, written, deleted
